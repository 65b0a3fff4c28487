//! PutLogEvents' rule table (reference `logs.md` §4): each rule, sent through the official
//! Rust SDK, gives its exact error or its `rejectedLogEventsInfo` field, and the events that
//! were not refused are stored. Plus gzip request bodies and ignored sequence tokens.

mod common;
#[allow(dead_code)]
mod raw;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// What a row expects.
enum Expect {
    /// The whole call fails with this code and a message containing this text.
    Error(&'static str, &'static str),
    /// Accepted; `(tooNewStart, tooOldEnd, expiredEnd)` and the messages stored.
    Stored(Option<i32>, Option<i32>, Option<i32>, Vec<String>),
}

struct Row {
    rule: &'static str,
    /// `(offset from now in ms, message)`.
    events: Vec<(i64, String)>,
    retention: Option<i32>,
    expect: Expect,
}

fn stored(msgs: &[&str]) -> Vec<String> {
    msgs.iter().map(|m| m.to_string()).collect()
}

fn rows() -> Vec<Row> {
    let m = |s: &str| s.to_string();
    vec![
        Row { rule: "an empty batch", events: vec![], retention: None, expect: Expect::Error("InvalidParameterException", "Member must have length greater than or equal to 1") },
        Row {
            rule: "10,001 events",
            events: (0..10_001).map(|i| (-60_000, format!("{i}"))).collect(),
            retention: None,
            expect: Expect::Error("InvalidParameterException", "Member must have length less than or equal to 10000"),
        },
        Row {
            rule: "10,000 events are accepted",
            events: (0..10_000).map(|_| (-60_000, m("x"))).collect(),
            retention: None,
            expect: Expect::Stored(None, None, None, vec![m("x"); 10_000]),
        },
        Row { rule: "an empty message", events: vec![(-1, m("a")), (-1, m(""))], retention: None, expect: Expect::Error("InvalidParameterException", "logEvents.2.member.message") },
        Row {
            rule: "one event of exactly 1,048,576 bytes with its 26",
            events: vec![(-1, "a".repeat(1_048_550))],
            retention: None,
            expect: Expect::Stored(None, None, None, vec!["a".repeat(1_048_550)]),
        },
        Row {
            rule: "one event a byte over",
            events: vec![(-1, "a".repeat(1_048_551))],
            retention: None,
            expect: Expect::Error("InvalidParameterException", "Log event too large: 1048551 bytes exceeds limit of 1048550"),
        },
        Row {
            rule: "a batch a byte over 1,048,576 counting 26 per event",
            events: vec![(-2, "a".repeat(524_262)), (-1, "b".repeat(524_263))],
            retention: None,
            expect: Expect::Error("InvalidParameterException", "Upload too large: 1048577 bytes exceeds limit of 1048576"),
        },
        Row {
            rule: "multibyte characters count as their UTF-8 bytes",
            events: vec![(-1, "é".repeat(524_276))],
            retention: None,
            expect: Expect::Error("InvalidParameterException", "Log event too large: 1048552 bytes"),
        },
        Row {
            rule: "events out of chronological order",
            events: vec![(-10, m("later")), (-20, m("earlier"))],
            retention: None,
            expect: Expect::Error("InvalidParameterException", "must be in chronological order"),
        },
        Row {
            rule: "equal timestamps keep request order",
            events: vec![(-10, m("first")), (-10, m("second"))],
            retention: None,
            expect: Expect::Stored(None, None, None, stored(&["first", "second"])),
        },
        Row {
            rule: "a span of more than 24 hours",
            events: vec![(-DAY - 2, m("a")), (-1, m("b"))],
            retention: None,
            expect: Expect::Error("InvalidParameterException", "cannot span more than 24 hours"),
        },
        Row {
            rule: "a span of exactly 24 hours",
            events: vec![(-DAY - 1, m("a")), (-1, m("b"))],
            retention: None,
            expect: Expect::Stored(None, None, None, stored(&["a", "b"])),
        },
        Row {
            rule: "events more than 2 hours ahead are refused from the first of them",
            events: vec![(-1, m("ok")), (2 * HOUR + 60_000, m("new1")), (3 * HOUR, m("new2"))],
            retention: None,
            expect: Expect::Stored(Some(1), None, None, stored(&["ok"])),
        },
        Row {
            rule: "events more than 14 days old are refused up to the last of them",
            events: vec![(-15 * DAY, m("old1")), (-14 * DAY - 60_000, m("old2")), (-14 * DAY + 60 * 60_000, m("ok"))],
            retention: None,
            expect: Expect::Stored(None, Some(1), None, stored(&["ok"])),
        },
        Row {
            rule: "events older than the group's retention are refused as expired",
            events: vec![(-3 * DAY, m("exp1")), (-2 * DAY, m("exp2")), (-HOUR, m("ok"))],
            retention: Some(1),
            expect: Expect::Stored(None, None, Some(1), stored(&["ok"])),
        },
        Row {
            rule: "too old, expired and too new together; the old events' span does not count",
            events: vec![(-20 * DAY, m("old")), (-2 * DAY, m("expired")), (-HOUR, m("ok")), (3 * HOUR, m("new"))],
            retention: Some(1),
            expect: Expect::Stored(Some(3), Some(0), Some(1), stored(&["ok"])),
        },
        Row {
            rule: "every event refused: nothing stored, still an answer",
            events: vec![(-20 * DAY, m("old"))],
            retention: None,
            expect: Expect::Stored(None, Some(0), None, vec![]),
        },
    ]
}

#[tokio::test]
async fn every_put_log_events_rule_gives_its_error_or_its_rejection_field() {
    let ts = start().await;
    let c = logs(&ts);
    for (i, row) in rows().into_iter().enumerate() {
        let group = format!("rules-{i}");
        c.create_log_group().log_group_name(&group).send().await.expect("group");
        c.create_log_stream().log_group_name(&group).log_stream_name("s").send().await.expect("stream");
        if let Some(days) = row.retention {
            c.put_retention_policy().log_group_name(&group).retention_in_days(days).send().await.expect("retention");
        }
        let now = now_ms();
        let events: Vec<InputLogEvent> = row.events.iter().map(|(off, msg)| InputLogEvent::builder().timestamp(now + off).message(msg).build().expect("event")).collect();
        let res = c.put_log_events().log_group_name(&group).log_stream_name("s").set_log_events(Some(events)).send().await;
        match row.expect {
            Expect::Error(code, text) => {
                let e = res.err().unwrap_or_else(|| panic!("{}: accepted", row.rule)).into_service_error();
                assert_eq!(e.meta().code(), Some(code), "{}", row.rule);
                let msg = e.meta().message().unwrap_or("");
                assert!(msg.contains(text), "{}: message {msg:?} lacks {text:?}", row.rule);
                let got = c.filter_log_events().log_group_name(&group).send().await.expect("filter");
                assert!(got.events().is_empty(), "{}: a refused batch stored events", row.rule);
            }
            Expect::Stored(new, old, expired, msgs) => {
                let out = res.unwrap_or_else(|e| panic!("{}: {:?}", row.rule, e.into_service_error()));
                let info = out.rejected_log_events_info();
                let got = (info.and_then(|i| i.too_new_log_event_start_index()), info.and_then(|i| i.too_old_log_event_end_index()), info.and_then(|i| i.expired_log_event_end_index()));
                assert_eq!(got, (new, old, expired), "{}", row.rule);
                assert!(out.next_sequence_token().is_some(), "{}", row.rule);
                let mut seen = Vec::new();
                let mut pages = c.filter_log_events().log_group_name(&group).into_paginator().send();
                while let Some(p) = pages.next().await {
                    seen.extend(p.expect("page").events().iter().filter_map(|e| e.message().map(str::to_string)));
                }
                assert_eq!(seen.len(), msgs.len(), "{}", row.rule);
                assert!(seen == msgs, "{}: stored messages differ", row.rule);
            }
        }
    }
    let missing = c.put_log_events().log_group_name("nope").log_stream_name("s").log_events(InputLogEvent::builder().timestamp(now_ms()).message("m").build().expect("event")).send().await.expect_err("no group");
    let e = missing.into_service_error();
    assert_eq!((e.meta().code(), e.meta().message()), (Some("ResourceNotFoundException"), Some("The specified log group does not exist.")));
    let missing = c.put_log_events().log_group_name("rules-0").log_stream_name("nope").log_events(InputLogEvent::builder().timestamp(now_ms()).message("m").build().expect("event")).send().await.expect_err("no stream");
    let e = missing.into_service_error();
    assert_eq!((e.meta().code(), e.meta().message()), (Some("ResourceNotFoundException"), Some("The specified log stream does not exist.")));
}

#[tokio::test]
async fn gzip_bodies_and_any_sequence_token_are_accepted() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    c.create_log_stream().log_group_name("g").log_stream_name("s").send().await.expect("stream");
    let now = now_ms();
    let events: Vec<serde_json::Value> = (0..500).map(|i| serde_json::json!({"timestamp": now - 1000 + i, "message": format!("GET /index.html 200 {i}")})).collect();
    let body = serde_json::json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events, "sequenceToken": "not-a-real-token"}).to_string();
    let mut raw_client = raw::Client::new(&ts.server.endpoint(), AKID, SECRET);
    raw_client.service = "logs".into();
    let req = raw::Request::post("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Logs_20140328.PutLogEvents")
        .body(body.into_bytes())
        .gzip();
    let resp = raw_client.send(req).await.expect("send");
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let answer: serde_json::Value = serde_json::from_str(&resp.body_text()).expect("json");
    assert!(answer.get("nextSequenceToken").and_then(|t| t.as_str()).is_some(), "{answer}");
    assert!(answer.get("rejectedLogEventsInfo").is_none(), "{answer}");
    let got = c.get_log_events().log_group_name("g").log_stream_name("s").start_from_head(true).send().await.expect("get");
    assert_eq!(got.events().len(), 500);
    assert_eq!(got.events()[499].message(), Some("GET /index.html 200 499"));
}
