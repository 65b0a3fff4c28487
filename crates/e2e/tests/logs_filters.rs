//! Filter patterns and metric filters through the official Rust SDKs: FilterLogEvents with
//! patterns of every kind, TestMetricFilter, Put/Describe/DeleteMetricFilter, and matching
//! events becoming CloudWatch datapoints per minute (read back with GetMetricData).

mod common;

use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use common::*;

async fn group_with(c: &aws_sdk_cloudwatchlogs::Client, g: &str, lines: &[(i64, &str)]) {
    c.create_log_group().log_group_name(g).send().await.expect("group");
    c.create_log_stream().log_group_name(g).log_stream_name("s").send().await.expect("stream");
    let events: Vec<InputLogEvent> = lines.iter().map(|(ts, m)| InputLogEvent::builder().timestamp(*ts).message(*m).build().expect("event")).collect();
    c.put_log_events().log_group_name(g).log_stream_name("s").set_log_events(Some(events)).send().await.expect("put");
}

#[tokio::test]
async fn filter_log_events_applies_every_kind_of_pattern() {
    let ts = start().await;
    let c = logs(&ts);
    let t = now_ms() - 60_000;
    let lines = [
        (t, r#"{"level":"ERROR","status":500,"path":"/api/a","latency":12.5}"#),
        (t + 1, r#"{"level":"INFO","status":200,"path":"/api/b","latency":3}"#),
        (t + 2, r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /index.html HTTP/1.0" 404 2326"#),
        (t + 3, r#"127.0.0.1 - bob [10/Oct/2000:13:55:37 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#),
        (t + 4, "ERROR Exception: connection refused"),
        (t + 5, "WARN disk almost full"),
    ];
    group_with(&c, "g", &lines).await;
    let filter = |p: &'static str| {
        let c = c.clone();
        async move {
            let out = c.filter_log_events().log_group_name("g").filter_pattern(p).send().await.unwrap_or_else(|e| panic!("{p}: {:?}", e.into_service_error()));
            out.events().iter().map(|e| e.timestamp().unwrap_or(0) - t).collect::<Vec<_>>()
        }
    };
    assert_eq!(filter("ERROR").await, [0, 4]);
    assert_eq!(filter("?WARN ?Exception").await, [4, 5]);
    assert_eq!(filter("ERROR -Exception").await, [0]);
    assert_eq!(filter(r#""connection refused""#).await, [4]);
    assert_eq!(filter("{ $.status >= 500 }").await, [0]);
    assert_eq!(filter(r#"{ $.path = "/api/*" && $.latency < 10 }"#).await, [1]);
    assert_eq!(filter("[ip, id, user, timestamp, request, status_code = 4*, size]").await, [2]);
    assert_eq!(filter("%disk|refused%").await, [4, 5]);
    assert_eq!(filter("").await, [0, 1, 2, 3, 4, 5]);
    let bad = c.filter_log_events().log_group_name("g").filter_pattern("{ $.a = ").send().await.expect_err("bad pattern");
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidParameterException"));
    let long = c.filter_log_events().log_group_name("g").filter_pattern("a".repeat(1025)).send().await.expect_err("long pattern");
    assert_eq!(long.into_service_error().meta().code(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn test_metric_filter_reports_matches_and_extracted_values() {
    let ts = start().await;
    let c = logs(&ts);
    let out = c
        .test_metric_filter()
        .filter_pattern("[ip, user, username, timestamp, request, status_code, bytes > 1000]")
        .log_event_messages(r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#)
        .log_event_messages(r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#)
        .log_event_messages(r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 493"#)
        .send()
        .await
        .expect("test");
    let numbers: Vec<i64> = out.matches().iter().map(|m| m.event_number()).collect();
    assert_eq!(numbers, [1, 2]);
    let values = out.matches()[1].extracted_values().expect("values");
    assert_eq!(values.get("$status_code").map(String::as_str), Some("500"));
    assert_eq!(values.get("$bytes").map(String::as_str), Some("5324"));
}

#[tokio::test]
async fn metric_filters_publish_per_minute_datapoints() {
    let ts = start().await;
    let c = logs(&ts);
    let cw = cloudwatch(&ts);
    let (_, now_s) = minute_now();
    let minute = (now_s - 600) * 1000;
    c.create_log_group().log_group_name("app").send().await.expect("group");
    c.create_log_stream().log_group_name("app").log_stream_name("s").send().await.expect("stream");
    let latency = MetricTransformation::builder().metric_name("Latency").metric_namespace("App").metric_value("$.latency").dimensions("Path", "$.path").unit(aws_sdk_cloudwatchlogs::types::StandardUnit::Milliseconds).build().expect("transformation");
    c.put_metric_filter().log_group_name("app").filter_name("latency").filter_pattern("{ $.latency = * }").metric_transformations(latency).send().await.expect("filter");
    let errors = MetricTransformation::builder().metric_name("Errors").metric_namespace("App").metric_value("1").default_value(0.0).build().expect("transformation");
    c.put_metric_filter().log_group_name("app").filter_name("errors").filter_pattern("{ $.level = \"ERROR\" }").metric_transformations(errors).send().await.expect("filter");
    let bad = MetricTransformation::builder().metric_name("X").metric_namespace("App").metric_value("1").default_value(0.0).dimensions("A", "$.a").build().expect("transformation");
    let refused = c.put_metric_filter().log_group_name("app").filter_name("bad").filter_pattern("x").metric_transformations(bad).send().await.expect_err("default with dimensions");
    assert_eq!(refused.into_service_error().meta().code(), Some("InvalidParameterException"));

    let described = c.describe_metric_filters().log_group_name("app").send().await.expect("describe");
    let names: Vec<&str> = described.metric_filters().iter().filter_map(|f| f.filter_name()).collect();
    assert_eq!(names, ["errors", "latency"]);
    let groups = c.describe_log_groups().send().await.expect("groups");
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(2));

    let line = |lvl: &str, path: &str, ms: f64| format!(r#"{{"level":"{lvl}","path":"{path}","latency":{ms}}}"#);
    let events = vec![
        (minute + 1_000, line("INFO", "/a", 10.0)),
        (minute + 2_000, line("ERROR", "/a", 30.0)),
        (minute + 3_000, line("INFO", "/b", 5.0)),
        (minute + 61_000, line("INFO", "/a", 20.0)),
    ];
    let evs: Vec<InputLogEvent> = events.iter().map(|(t, m)| InputLogEvent::builder().timestamp(*t).message(m).build().expect("event")).collect();
    c.put_log_events().log_group_name("app").log_stream_name("s").set_log_events(Some(evs)).send().await.expect("put");
    ts.server.logs().tick(watchtrail_core::Timestamp(now_ms())).await.expect("tick");
    // A second tick finds nothing new: nothing is published twice.
    ts.server.logs().tick(watchtrail_core::Timestamp(now_ms())).await.expect("tick");

    let q = |id: &str, name: &str, dims: &[(&str, &str)], stat: &str| {
        let mut m = Metric::builder().namespace("App").metric_name(name);
        for (k, v) in dims {
            m = m.dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name(*k).value(*v).build());
        }
        MetricDataQuery::builder().id(id).metric_stat(MetricStat::builder().metric(m.build()).period(60).stat(stat).build()).build()
    };
    let out = cw
        .get_metric_data()
        .start_time(at(minute / 1000))
        .end_time(at(minute / 1000 + 120))
        .scan_by(ScanBy::TimestampAscending)
        .metric_data_queries(q("a_avg", "Latency", &[("Path", "/a")], "Average"))
        .metric_data_queries(q("a_n", "Latency", &[("Path", "/a")], "SampleCount"))
        .metric_data_queries(q("b_sum", "Latency", &[("Path", "/b")], "Sum"))
        .metric_data_queries(q("err", "Errors", &[], "Sum"))
        .send()
        .await
        .expect("get metric data");
    let values = |id: &str| out.metric_data_results().iter().find(|r| r.id() == Some(id)).map(|r| r.values().to_vec()).unwrap_or_default();
    assert_eq!(values("a_avg"), [20.0, 20.0], "minute 1: 10 and 30; minute 2: 20");
    assert_eq!(values("a_n"), [2.0, 1.0]);
    assert_eq!(values("b_sum"), [5.0]);
    assert_eq!(values("err"), [1.0, 0.0], "the second minute had events and no error: the default value");

    c.delete_metric_filter().log_group_name("app").filter_name("errors").send().await.expect("delete");
    let gone = c.delete_metric_filter().log_group_name("app").filter_name("errors").send().await.expect_err("gone");
    assert_eq!(gone.into_service_error().meta().code(), Some("ResourceNotFoundException"));
}
