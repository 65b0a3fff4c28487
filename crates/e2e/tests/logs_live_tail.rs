//! StartLiveTail through the official Rust SDK: the event stream starts with
//! `sessionStart`, then carries the events that arrive, filtered by stream, once a second,
//! and ends with `SessionTimeoutException` at the session limit.
//!
//! The SDK sends StartLiveTail to a `stream-` prefixed host and cannot be told not to; the
//! interceptor below points it back at the test server's address (as a hosts entry or
//! wildcard DNS would for a real deployment; see the README).

mod common;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, StartLiveTailResponseStream};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use common::*;
use std::time::Duration;

#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_signing(&self, ctx: &mut BeforeTransmitInterceptorContextMut<'_>, _rc: &RuntimeComponents, _cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let req = ctx.request_mut();
        let uri = req.uri().replace("://stream-", "://");
        req.set_uri(uri)?;
        Ok(())
    }
}

async fn start_with(live: watchtrail_logs::live_tail::LiveTailOptions) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path());
    cfg.live_tail = live;
    let server = watchtrail::Server::start(cfg).await.expect("server starts");
    TestServer { server, dir }
}

#[tokio::test]
async fn live_tail_streams_new_events_of_the_chosen_streams() {
    let ts = start_with(Default::default()).await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    for s in ["app-1", "app-2", "other"] {
        c.create_log_stream().log_group_name("g").log_stream_name(s).send().await.expect("stream");
    }
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g");
    let mut out = c
        .start_live_tail()
        .log_group_identifiers(&arn)
        .log_stream_name_prefixes("app-")
        .customize()
        .interceptor(NoHostPrefix)
        .send()
        .await
        .expect("start live tail");
    let first = out.response_stream.recv().await.expect("first message").expect("a message");
    let StartLiveTailResponseStream::SessionStart(start) = first else { panic!("sessionStart first, got {first:?}") };
    assert_eq!(start.log_group_identifiers(), [arn.clone()]);
    assert_eq!(start.log_stream_name_prefixes(), ["app-".to_string()]);
    assert!(start.session_id().is_some_and(|s| !s.is_empty()));

    let now = now_ms();
    for (s, n) in [("app-1", 3), ("other", 2), ("app-2", 2)] {
        let events: Vec<InputLogEvent> = (0..n).map(|i| InputLogEvent::builder().timestamp(now + i).message(format!("{s} line {i}")).build().expect("event")).collect();
        c.put_log_events().log_group_name("g").log_stream_name(s).set_log_events(Some(events)).send().await.expect("put");
    }
    let mut got = Vec::new();
    while got.len() < 5 {
        let msg = tokio::time::timeout(Duration::from_secs(20), out.response_stream.recv()).await.expect("an update within 20 s").expect("stream").expect("message");
        let StartLiveTailResponseStream::SessionUpdate(u) = msg else { panic!("sessionUpdate expected, got {msg:?}") };
        assert_eq!(u.session_metadata().map(|m| m.sampled()), Some(false));
        for e in u.session_results() {
            assert_eq!(e.log_group_identifier(), Some(arn.as_str()));
            assert!(e.ingestion_time().unwrap_or(0) >= now - 60_000);
            got.push(e.message().unwrap_or("").to_string());
        }
    }
    assert_eq!(got, ["app-1 line 0", "app-1 line 1", "app-1 line 2", "app-2 line 0", "app-2 line 1"]);
}

#[tokio::test]
async fn live_tail_ends_with_a_session_timeout() {
    let live = watchtrail_logs::live_tail::LiveTailOptions { update_interval: Duration::from_millis(200), timeout: Duration::from_millis(700), ..Default::default() };
    let ts = start_with(live).await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    let mut out = c.start_live_tail().log_group_identifiers("g").customize().interceptor(NoHostPrefix).send().await.expect("start");
    let mut updates = 0;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(20), out.response_stream.recv()).await.expect("a message within 20 s") {
            Ok(Some(StartLiveTailResponseStream::SessionStart(_))) => {}
            Ok(Some(StartLiveTailResponseStream::SessionUpdate(u))) => {
                assert!(u.session_results().is_empty());
                updates += 1;
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e,
        }
    };
    let se = end.into_service_error();
    assert!(se.is_session_timeout_exception(), "{se:?}");
    assert!(updates >= 1, "empty updates arrive until the limit");
}

#[tokio::test]
async fn live_tail_refuses_bad_requests_with_modeled_errors() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    c.create_log_group().log_group_name("h").send().await.expect("group");
    let missing = c.start_live_tail().log_group_identifiers("nope").customize().interceptor(NoHostPrefix).send().await.expect_err("missing group");
    assert_eq!(missing.into_service_error().meta().code(), Some("ResourceNotFoundException"));
    let two = c.start_live_tail().log_group_identifiers("g").log_group_identifiers("h").log_stream_names("s").customize().interceptor(NoHostPrefix).send().await.expect_err("names with two groups");
    assert_eq!(two.into_service_error().meta().code(), Some("InvalidParameterException"));
    let mut many = c.start_live_tail();
    for _ in 0..11 {
        many = many.log_group_identifiers("g");
    }
    let many = many.customize().interceptor(NoHostPrefix).send().await.expect_err("eleven groups");
    assert_eq!(many.into_service_error().meta().code(), Some("InvalidParameterException"));
}
