//! Logs Insights through the official Rust SDK: StartQuery runs in the background,
//! GetQueryResults shows its status, rows and statistics, @ptr leads to GetLogRecord,
//! DescribeQueries lists it, GetLogGroupFields samples the fields, and errors are modeled.

mod common;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryStatus};
use common::*;
use std::time::Duration;

async fn results(c: &aws_sdk_cloudwatchlogs::Client, id: &str) -> aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = c.get_query_results().query_id(id).send().await.expect("results");
        match out.status() {
            Some(QueryStatus::Complete) => return out,
            Some(QueryStatus::Running) | Some(QueryStatus::Scheduled) => {}
            other => panic!("query ended {other:?}"),
        }
        assert!(std::time::Instant::now() < deadline, "query did not complete in 30 s");
        // Polled the way clients poll; the query runs on the server's runtime meanwhile.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn table(out: &aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput, skip_ptr: bool) -> Vec<Vec<(String, String)>> {
    out.results()
        .iter()
        .map(|row| row.iter().filter(|f| !(skip_ptr && f.field() == Some("@ptr"))).map(|f| (f.field().unwrap_or("").to_string(), f.value().unwrap_or("").to_string())).collect())
        .collect()
}

#[tokio::test]
async fn queries_run_in_the_background_and_return_rows_and_statistics() {
    let ts = start().await;
    let c = logs(&ts);
    let (_, now_s) = minute_now();
    let base_s = now_s - 3600 - (now_s % 300);
    c.create_log_group().log_group_name("/app/api").send().await.expect("group");
    c.create_log_stream().log_group_name("/app/api").log_stream_name("i-1").send().await.expect("stream");
    let mut events = Vec::new();
    for i in 0..30i64 {
        let status = if i % 10 == 3 { 500 } else { 200 };
        let msg = format!(r#"{{"status":{status},"path":"/items/{i}","latency":{}}}"#, i * 2);
        events.push(InputLogEvent::builder().timestamp((base_s + i * 20) * 1000).message(msg).build().expect("event"));
    }
    c.put_log_events().log_group_name("/app/api").log_stream_name("i-1").set_log_events(Some(events)).send().await.expect("put");

    let q = c
        .start_query()
        .log_group_name("/app/api")
        .start_time(base_s)
        .end_time(base_s + 3600)
        .query_string("fields @timestamp, path, latency | filter status = 500 | sort @timestamp desc")
        .send()
        .await
        .expect("start");
    let out = results(&c, q.query_id().expect("id")).await;
    let rows = table(&out, true);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][1], ("path".to_string(), "/items/23".to_string()));
    assert_eq!(rows[2][2], ("latency".to_string(), "6".to_string()));
    let stats = out.statistics().expect("statistics");
    assert_eq!((stats.records_matched(), stats.records_scanned()), (3.0, 30.0));
    assert!(stats.bytes_scanned() > 0.0);

    // @ptr leads back to the whole event.
    let ptr = out.results()[0].iter().find(|f| f.field() == Some("@ptr")).and_then(|f| f.value()).expect("@ptr").to_string();
    let rec = c.get_log_record().log_record_pointer(&ptr).send().await.expect("record");
    let rec = rec.log_record().expect("fields");
    assert_eq!(rec.get("path").map(String::as_str), Some("/items/23"));
    assert_eq!(rec.get("@logStream").map(String::as_str), Some("i-1"));
    assert_eq!(rec.get("@log").map(String::as_str), Some(format!("{ACCOUNT}:/app/api").as_str()));

    // Aggregation by 5-minute bins.
    let q2 = c.start_query().log_group_name("/app/api").start_time(base_s).end_time(base_s + 3600).query_string("stats count(*) as n by bin(5m) as t | sort t").send().await.expect("start");
    let out = results(&c, q2.query_id().expect("id")).await;
    let counts: Vec<String> = table(&out, true).iter().map(|r| r.iter().find(|(f, _)| f == "n").map(|(_, v)| v.clone()).unwrap_or_default()).collect();
    assert_eq!(counts, ["15", "15"], "30 events 20 s apart from a 5-minute boundary: two full bins");

    let listed = c.describe_queries().log_group_name("/app/api").send().await.expect("describe");
    assert_eq!(listed.queries().len(), 2);
    assert!(listed.queries().iter().all(|q| q.status() == Some(&QueryStatus::Complete)));
    let stop = c.stop_query().query_id(q2.query_id().expect("id")).send().await.expect_err("already complete");
    assert_eq!(stop.into_service_error().meta().code(), Some("InvalidParameterException"));

    let fields = c.get_log_group_fields().log_group_name("/app/api").time(base_s + 600).send().await.expect("fields");
    let names: Vec<(&str, i32)> = fields.log_group_fields().iter().map(|f| (f.name().unwrap_or(""), f.percent())).collect();
    assert!(names.contains(&("status", 100)) && names.contains(&("@message", 100)), "{names:?}");
}

#[tokio::test]
async fn bad_queries_get_modeled_errors() {
    let ts = start().await;
    let c = logs(&ts);
    c.create_log_group().log_group_name("g").send().await.expect("group");
    let bad = c.start_query().log_group_name("g").start_time(0).end_time(10).query_string("fields @message | frobnicate").send().await.expect_err("malformed");
    assert_eq!(bad.into_service_error().meta().code(), Some("MalformedQueryException"));
    let none = c.start_query().start_time(0).end_time(10).query_string("fields @message").send().await.expect_err("no group");
    assert_eq!(none.into_service_error().meta().code(), Some("InvalidParameterException"));
    let missing = c.start_query().log_group_name("nope").start_time(0).end_time(10).query_string("fields @message").send().await.expect_err("missing group");
    assert_eq!(missing.into_service_error().meta().code(), Some("ResourceNotFoundException"));
    let unknown = c.get_query_results().query_id("no-such-query").send().await.expect_err("unknown id");
    assert_eq!(unknown.into_service_error().meta().code(), Some("ResourceNotFoundException"));
    let mut many = c.start_query().start_time(0).end_time(10).query_string("fields @message");
    for i in 0..51 {
        many = many.log_group_names(format!("g{i}"));
    }
    let many = many.send().await.expect_err("51 groups");
    assert_eq!(many.into_service_error().meta().code(), Some("InvalidParameterException"));
}
