//! CloudWatch Logs through the official `aws-sdk-cloudwatchlogs` (awsJson 1.1): log groups,
//! streams, PutLogEvents, GetLogEvents, FilterLogEvents, retention, tags, and recovery.

mod common;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};
use common::*;

fn ev(ts: i64, msg: &str) -> InputLogEvent {
    InputLogEvent::builder().timestamp(ts).message(msg).build().expect("event")
}

async fn put(c: &aws_sdk_cloudwatchlogs::Client, g: &str, s: &str, events: Vec<InputLogEvent>) -> aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsOutput {
    c.put_log_events().log_group_name(g).log_stream_name(s).set_log_events(Some(events)).send().await.expect("put")
}

#[tokio::test]
async fn log_groups_are_created_listed_paged_and_deleted() {
    let ts = start().await;
    let c = logs(&ts);
    for name in ["/app/web", "/app/api", "/app/worker", "/sys/kernel", "Other-Group_1.#x"] {
        c.create_log_group().log_group_name(name).send().await.expect("create");
    }
    let dup = c.create_log_group().log_group_name("/app/web").send().await.expect_err("duplicate");
    assert_eq!(dup.into_service_error().meta().code(), Some("ResourceAlreadyExistsException"));
    let bad = c.create_log_group().log_group_name("bad name").send().await.expect_err("bad name");
    let se = bad.into_service_error();
    assert_eq!(se.meta().code(), Some("InvalidParameterException"));
    assert!(se.meta().message().unwrap_or("").contains("logGroupName"), "{:?}", se.meta().message());

    let all = c.describe_log_groups().send().await.expect("describe");
    let names: Vec<&str> = all.log_groups().iter().filter_map(|g| g.log_group_name()).collect();
    assert_eq!(names, ["/app/api", "/app/web", "/app/worker", "/sys/kernel", "Other-Group_1.#x"]);
    let g = &all.log_groups()[0];
    assert_eq!(g.arn(), Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/api:*").as_str()));
    assert_eq!(g.log_group_arn(), Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/api").as_str()));
    assert!(g.creation_time().unwrap_or(0) > 0);
    assert_eq!(g.stored_bytes(), Some(0));

    let prefixed = c.describe_log_groups().log_group_name_prefix("/app/").send().await.expect("prefix");
    assert_eq!(prefixed.log_groups().len(), 3);
    let pattern = c.describe_log_groups().log_group_name_pattern("OTHER").send().await.expect("pattern");
    assert_eq!(pattern.log_groups().iter().filter_map(|g| g.log_group_name()).collect::<Vec<_>>(), ["Other-Group_1.#x"]);
    let both = c.describe_log_groups().log_group_name_prefix("/a").log_group_name_pattern("a").send().await.expect_err("exclusive");
    assert_eq!(both.into_service_error().meta().code(), Some("InvalidParameterException"));

    // Pages of two, in order, through the paginator.
    let mut pages = c.describe_log_groups().limit(2).into_paginator().send();
    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    while let Some(p) = pages.next().await {
        let p = p.expect("page");
        page_sizes.push(p.log_groups().len());
        seen.extend(p.log_groups().iter().filter_map(|g| g.log_group_name().map(str::to_string)));
    }
    assert_eq!(page_sizes, [2, 2, 1]);
    assert_eq!(seen, names);
    let over = c.describe_log_groups().limit(51).send().await.expect_err("limit");
    assert_eq!(over.into_service_error().meta().code(), Some("InvalidParameterException"));

    c.delete_log_group().log_group_name("/app/web").send().await.expect("delete");
    let gone = c.delete_log_group().log_group_name("/app/web").send().await.expect_err("gone");
    assert_eq!(gone.into_service_error().meta().code(), Some("ResourceNotFoundException"));
    assert_eq!(c.describe_log_groups().send().await.expect("describe").log_groups().len(), 4);
}

#[tokio::test]
async fn streams_order_by_name_or_last_event_and_page() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    let missing = c.create_log_stream().log_group_name("nope").log_stream_name("s").send().await.expect_err("no group");
    assert_eq!(missing.into_service_error().meta().code(), Some("ResourceNotFoundException"));
    for s in ["b", "a", "c", "a-2"] {
        c.create_log_stream().log_group_name("g").log_stream_name(s).send().await.expect("stream");
    }
    let dup = c.create_log_stream().log_group_name("g").log_stream_name("a").send().await.expect_err("dup");
    assert_eq!(dup.into_service_error().meta().code(), Some("ResourceAlreadyExistsException"));
    let bad = c.create_log_stream().log_group_name("g").log_stream_name("a:b").send().await.expect_err("colon");
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidParameterException"));

    let now = now_ms();
    put(&c, "g", "c", vec![ev(now - 3000, "c1")]).await;
    put(&c, "g", "a", vec![ev(now - 2000, "a1"), ev(now - 1000, "a2")]).await;
    put(&c, "g", "b", vec![ev(now - 5000, "b1")]).await;

    let by_name = c.describe_log_streams().log_group_name("g").send().await.expect("by name");
    let names: Vec<&str> = by_name.log_streams().iter().filter_map(|s| s.log_stream_name()).collect();
    assert_eq!(names, ["a", "a-2", "b", "c"]);
    let a = &by_name.log_streams()[0];
    assert_eq!((a.first_event_timestamp(), a.last_event_timestamp()), (Some(now - 2000), Some(now - 1000)));
    assert!(a.last_ingestion_time().unwrap_or(0) >= now - 60_000);
    assert_eq!(a.arn(), Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:a").as_str()));
    assert_eq!(by_name.log_streams()[1].last_event_timestamp(), None);

    let by_time = c.describe_log_streams().log_group_name("g").order_by(OrderBy::LastEventTime).descending(true).send().await.expect("by time");
    let names: Vec<&str> = by_time.log_streams().iter().filter_map(|s| s.log_stream_name()).collect();
    assert_eq!(names, ["a", "c", "b", "a-2"]);
    let prefix = c.describe_log_streams().log_group_identifier(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g")).log_stream_name_prefix("a").send().await.expect("prefix");
    assert_eq!(prefix.log_streams().len(), 2);
    let conflict = c.describe_log_streams().log_group_name("g").order_by(OrderBy::LastEventTime).log_stream_name_prefix("a").send().await.expect_err("conflict");
    assert_eq!(conflict.into_service_error().meta().code(), Some("InvalidParameterException"));

    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let p = c.describe_log_streams().log_group_name("g").descending(true).limit(3).set_next_token(token.clone()).send().await.expect("page");
        seen.extend(p.log_streams().iter().filter_map(|s| s.log_stream_name().map(str::to_string)));
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["c", "b", "a-2", "a"]);

    c.delete_log_stream().log_group_name("g").log_stream_name("a").send().await.expect("delete stream");
    // A stream recreated under the same name starts empty.
    c.create_log_stream().log_group_name("g").log_stream_name("a").send().await.expect("recreate");
    let events = c.get_log_events().log_group_name("g").log_stream_name("a").start_from_head(true).send().await.expect("get");
    assert!(events.events().is_empty());
}

#[tokio::test]
async fn get_log_events_pages_forward_and_backward_with_tokens() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    c.create_log_stream().log_group_name("g").log_stream_name("s").send().await.expect("stream");
    let base = now_ms() - 60_000;
    let events: Vec<InputLogEvent> = (0..25).map(|i| ev(base + i * 10, &format!("event {i}"))).collect();
    put(&c, "g", "s", events).await;
    let msgs = |o: &aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput| o.events().iter().filter_map(|e| e.message().map(str::to_string)).collect::<Vec<_>>();

    // Default: the latest events.
    let tail = c.get_log_events().log_group_name("g").log_stream_name("s").limit(10).send().await.expect("tail");
    assert_eq!(msgs(&tail), (15..25).map(|i| format!("event {i}")).collect::<Vec<_>>());
    // Backward from there.
    let before = c.get_log_events().log_group_name("g").log_stream_name("s").limit(10).next_token(tail.next_backward_token().unwrap()).send().await.expect("back");
    assert_eq!(msgs(&before), (5..15).map(|i| format!("event {i}")).collect::<Vec<_>>());
    // From the head, forward to the end; the end returns the same token.
    let mut token = None;
    let mut all = Vec::new();
    loop {
        let p = c.get_log_events().log_group_name("g").log_stream_name("s").start_from_head(true).limit(7).set_next_token(token.clone()).send().await.expect("fwd");
        let next = p.next_forward_token().map(str::to_string);
        if p.events().is_empty() {
            assert_eq!(next, token, "the same token at the end of the stream");
            break;
        }
        all.extend(msgs(&p));
        token = next;
    }
    assert_eq!(all, (0..25).map(|i| format!("event {i}")).collect::<Vec<_>>());
    // Time range: [start, end).
    let range = c.get_log_events().log_group_name("g").log_stream_name("s").start_time(base + 50).end_time(base + 100).start_from_head(true).send().await.expect("range");
    assert_eq!(msgs(&range), (5..10).map(|i| format!("event {i}")).collect::<Vec<_>>());
    assert!(range.events()[0].ingestion_time().unwrap_or(0) >= base);
    let missing = c.get_log_events().log_group_name("g").log_stream_name("nope").send().await.expect_err("no stream");
    assert_eq!(missing.into_service_error().meta().code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn filter_log_events_interleaves_streams_and_pages() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    let base = now_ms() - 600_000;
    for (s, offset) in [("s1", 0), ("s2", 5), ("t1", 7)] {
        c.create_log_stream().log_group_name("g").log_stream_name(s).send().await.expect("stream");
        let events: Vec<InputLogEvent> = (0..10).map(|i| ev(base + i * 10 + offset, &format!("{s} {i}"))).collect();
        put(&c, "g", s, events).await;
    }
    let all = c.filter_log_events().log_group_name("g").send().await.expect("filter");
    assert_eq!(all.events().len(), 30);
    let times: Vec<i64> = all.events().iter().filter_map(|e| e.timestamp()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "interleaved in time order");
    assert_eq!(all.events()[0].log_stream_name(), Some("s1"));
    assert_eq!(all.events()[1].log_stream_name(), Some("s2"));
    assert!(all.next_token().is_none());
    let ids: std::collections::HashSet<&str> = all.events().iter().filter_map(|e| e.event_id()).collect();
    assert_eq!(ids.len(), 30);

    let prefixed = c.filter_log_events().log_group_name("g").log_stream_name_prefix("s").send().await.expect("prefix");
    assert_eq!(prefixed.events().len(), 20);
    let named = c.filter_log_events().log_group_name("g").log_stream_names("t1").log_stream_names("s2").start_time(base + 40).end_time(base + 65).send().await.expect("named");
    let got: Vec<&str> = named.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(got, ["s2 4", "t1 4", "s2 5", "t1 5", "s2 6"], "endTime (s2 6 at base + 65) is inclusive");
    let both = c.filter_log_events().log_group_name("g").log_stream_names("s1").log_stream_name_prefix("s").send().await.expect_err("exclusive");
    assert_eq!(both.into_service_error().meta().code(), Some("InvalidParameterException"));

    // The paginator walks pages of 4 and sees every event once, in order.
    let mut pages = c.filter_log_events().log_group_name("g").limit(4).into_paginator().send();
    let mut seen = Vec::new();
    while let Some(p) = pages.next().await {
        seen.extend(p.expect("page").events().iter().filter_map(|e| e.message().map(str::to_string)));
    }
    let expected: Vec<String> = all.events().iter().filter_map(|e| e.message().map(str::to_string)).collect();
    assert_eq!(seen, expected);

    // Descending order needs a start time from 2024 on.
    let desc = c.filter_log_events().log_group_name("g").start_time(base).start_from_head(false).limit(3).send().await.expect("desc");
    let got: Vec<&str> = desc.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(got, ["t1 9", "s2 9", "s1 9"]);
    let old = c.filter_log_events().log_group_name("g").start_from_head(false).send().await.expect_err("desc without start");
    assert_eq!(old.into_service_error().meta().code(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn retention_and_tags_are_kept_per_group() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").tags("team", "sre").send().await.expect("group");
    c.put_retention_policy().log_group_name("g").retention_in_days(14).send().await.expect("retention");
    let bad = c.put_retention_policy().log_group_name("g").retention_in_days(2).send().await.expect_err("bad days");
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidParameterException"));
    let g = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(14));
    c.delete_retention_policy().log_group_name("g").send().await.expect("delete retention");
    let g = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(g.log_groups()[0].retention_in_days(), None);

    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g");
    c.tag_resource().resource_arn(&arn).tags("env", "prod").send().await.expect("tag");
    c.untag_resource().resource_arn(&arn).tag_keys("team").send().await.expect("untag");
    let tags = c.list_tags_for_resource().resource_arn(&arn).send().await.expect("tags");
    assert_eq!(tags.tags().map(|t| t.len()), Some(1));
    assert_eq!(tags.tags().and_then(|t| t.get("env")).map(String::as_str), Some("prod"));
    let other = c.list_tags_for_resource().resource_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:nope")).send().await.expect_err("missing");
    assert_eq!(other.into_service_error().meta().code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn events_survive_a_restart_from_the_log_and_from_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = now_ms() - 60_000;
    {
        let server = watchtrail::Server::start(config(dir.path())).await.expect("start");
        let c = logs_with(&server.endpoint());
        c.create_log_group().log_group_name("g").send().await.expect("group");
        c.create_log_stream().log_group_name("g").log_stream_name("s").send().await.expect("stream");
        put(&c, "g", "s", (0..5).map(|i| ev(base + i, &format!("flushed {i}"))).collect()).await;
        server.logs().store().flush().await.expect("flush");
        put(&c, "g", "s", (5..8).map(|i| ev(base + i, &format!("in the log {i}"))).collect()).await;
        c.put_retention_policy().log_group_name("g").retention_in_days(30).send().await.expect("retention");
        // A crash: nothing beyond the commit log.
        server.stop_without_flush().await;
    }
    let server = watchtrail::Server::start(config(dir.path())).await.expect("restart");
    let c = logs_with(&server.endpoint());
    let got = c.get_log_events().log_group_name("g").log_stream_name("s").start_from_head(true).send().await.expect("get");
    let msgs: Vec<&str> = got.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(msgs, ["flushed 0", "flushed 1", "flushed 2", "flushed 3", "flushed 4", "in the log 5", "in the log 6", "in the log 7"]);
    let g = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(30));
    let s = c.describe_log_streams().log_group_name("g").send().await.expect("streams");
    assert_eq!(s.log_streams()[0].last_event_timestamp(), Some(base + 7));
    // Flushing after the restart writes each event once.
    server.logs().store().flush().await.expect("flush");
    let again = c.filter_log_events().log_group_name("g").send().await.expect("filter");
    assert_eq!(again.events().len(), 8);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn delivery_class_groups_keep_one_day_and_refuse_insights() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("d").log_group_class(aws_sdk_cloudwatchlogs::types::LogGroupClass::Delivery).send().await.expect("group");
    let g = c.describe_log_groups().send().await.expect("describe");
    assert_eq!(g.log_groups()[0].log_group_class(), Some(&aws_sdk_cloudwatchlogs::types::LogGroupClass::Delivery));
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(1));
    let change = c.put_retention_policy().log_group_name("d").retention_in_days(7).send().await.expect_err("fixed retention");
    assert_eq!(change.into_service_error().meta().code(), Some("InvalidParameterException"));
    let q = c.start_query().log_group_name("d").start_time(0).end_time(10).query_string("fields @message").send().await.expect_err("no insights");
    assert_eq!(q.into_service_error().meta().code(), Some("InvalidOperationException"));
    let bad = c.create_log_group().log_group_name("x").log_group_class(aws_sdk_cloudwatchlogs::types::LogGroupClass::from("COLD")).send().await.expect_err("unknown class");
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidParameterException"));
}

