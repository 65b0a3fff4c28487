//! Registers the CloudWatch Logs operations with the wire gateway.

use crate::api::*;
use crate::log_part::Scope;
use crate::service::{Caller, LogsService};
use watchtrail_wire::registry::OperationInfo;
use watchtrail_wire::{Registry, RequestContext, Value, LOGS};

/// PutLogEvents accepts a 1 MiB batch plus its JSON framing; this is the ceiling as sent.
pub const PUT_LOG_EVENTS_MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;
/// Ceiling on a decompressed PutLogEvents body (JSON escapes can triple a message).
pub const PUT_LOG_EVENTS_MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

fn scope(ctx: &RequestContext) -> Scope {
    Scope { account: ctx.account_id.to_string(), region: ctx.region.to_string() }
}

/// The journal keeps where events went and how many, never the messages.
fn summarize_put(v: &Value) -> serde_json::Value {
    serde_json::json!({
        "logGroupName": v.get("logGroupName").and_then(Value::as_str),
        "logStreamName": v.get("logStreamName").and_then(Value::as_str),
        "logEventCount": v.get("logEvents").and_then(Value::list_len).unwrap_or(0),
    })
}

/// The same summary from the typed input (the awsJson fast path).
fn summarize_put_typed(input: &PutLogEventsInput) -> serde_json::Value {
    serde_json::json!({
        "logGroupName": input.log_group_name,
        "logStreamName": input.log_stream_name,
        "logEventCount": input.log_events.len(),
    })
}

macro_rules! op {
    ($registry:expr, $svc:expr, $name:literal, $input:ty, no_output, |$s:ident, $c:ident, $i:ident| $body:expr) => {{
        let svc = $svc.clone();
        $registry.register(&LOGS, OperationInfo::new($name).no_output(), move |ctx: RequestContext, $i: $input| {
            let $s = svc.clone();
            async move {
                let $c = Caller { scope: scope(&ctx), txn: Some(&ctx.activity) };
                $body
            }
        });
    }};
    ($registry:expr, $svc:expr, $name:literal, $input:ty, |$s:ident, $c:ident, $i:ident| $body:expr) => {{
        let svc = $svc.clone();
        $registry.register(&LOGS, OperationInfo::new($name), move |ctx: RequestContext, $i: $input| {
            let $s = svc.clone();
            async move {
                let $c = Caller { scope: scope(&ctx), txn: Some(&ctx.activity) };
                $body
            }
        });
    }};
}

/// Registers every Logs operation.
pub fn register(registry: &mut Registry, svc: LogsService) {
    op!(registry, svc, "CreateLogGroup", CreateLogGroupInput, no_output, |s, c, i| s.create_log_group(&c, i).await);
    op!(registry, svc, "DeleteLogGroup", LogGroupNameInput, no_output, |s, c, i| s.delete_log_group(&c, i).await);
    op!(registry, svc, "DescribeLogGroups", DescribeLogGroupsInput, |s, c, i| s.describe_log_groups(&c, i));
    op!(registry, svc, "CreateLogStream", LogStreamInput, no_output, |s, c, i| s.create_log_stream(&c, i).await);
    op!(registry, svc, "DeleteLogStream", LogStreamInput, no_output, |s, c, i| s.delete_log_stream(&c, i).await);
    op!(registry, svc, "DescribeLogStreams", DescribeLogStreamsInput, |s, c, i| s.describe_log_streams(&c, i));
    op!(registry, svc, "PutRetentionPolicy", PutRetentionPolicyInput, no_output, |s, c, i| s.put_retention_policy(&c, i).await);
    op!(registry, svc, "DeleteRetentionPolicy", LogGroupNameInput, no_output, |s, c, i| s.delete_retention_policy(&c, i).await);
    op!(registry, svc, "TagResource", TagResourceInput, no_output, |s, c, i| s.tag_resource(&c, i).await);
    op!(registry, svc, "UntagResource", UntagResourceInput, no_output, |s, c, i| s.untag_resource(&c, i).await);
    op!(registry, svc, "ListTagsForResource", ResourceArnInput, |s, c, i| s.list_tags_for_resource(&c, i));
    op!(registry, svc, "TagLogGroup", TagLogGroupInput, no_output, |s, c, i| s.tag_log_group(&c, i).await);
    op!(registry, svc, "UntagLogGroup", UntagLogGroupInput, no_output, |s, c, i| s.untag_log_group(&c, i).await);
    op!(registry, svc, "ListTagsLogGroup", LogGroupNameInput, |s, c, i| s.list_tags_log_group(&c, i));
    op!(registry, svc, "PutMetricFilter", crate::metric_filter::PutMetricFilterInput, no_output, |s, c, i| s.put_metric_filter(&c, i).await);
    op!(registry, svc, "DeleteMetricFilter", crate::metric_filter::DeleteMetricFilterInput, no_output, |s, c, i| s.delete_metric_filter(&c, i).await);
    op!(registry, svc, "DescribeMetricFilters", crate::metric_filter::DescribeMetricFiltersInput, |s, c, i| s.describe_metric_filters(&c, i));
    op!(registry, svc, "TestMetricFilter", crate::metric_filter::TestMetricFilterInput, |s, _c, i| s.test_metric_filter(i));
    op!(registry, svc, "StartQuery", crate::insights::StartQueryInput, |s, c, i| s.start_query(&c, i));
    op!(registry, svc, "GetQueryResults", crate::insights::GetQueryResultsInput, |s, c, i| s.get_query_results(&c, i));
    op!(registry, svc, "StopQuery", crate::insights::QueryIdInput, |s, c, i| s.stop_query(&c, i));
    op!(registry, svc, "DescribeQueries", crate::insights::DescribeQueriesInput, |s, c, i| s.describe_queries(&c, i));
    op!(registry, svc, "GetLogGroupFields", crate::insights::GetLogGroupFieldsInput, |s, c, i| s.get_log_group_fields(&c, i).await);
    op!(registry, svc, "GetLogRecord", crate::insights::GetLogRecordInput, |s, c, i| s.get_log_record(&c, i).await);
    op!(registry, svc, "GetLogEvents", GetLogEventsInput, |s, c, i| s.get_log_events(&c, i).await);
    op!(registry, svc, "FilterLogEvents", FilterLogEventsInput, |s, c, i| s.filter_log_events(&c, i).await);
    let s = svc.clone();
    registry.register(&LOGS, OperationInfo::new("StartLiveTail").no_output(), move |ctx: RequestContext, input: crate::live_tail::StartLiveTailInput| {
        let s = s.clone();
        async move {
            let c = Caller { scope: scope(&ctx), txn: Some(&ctx.activity) };
            let stream = s.start_live_tail(&c, &ctx.request_id, input)?;
            ctx.stream.set(watchtrail_wire::eventstream::CONTENT_TYPE, stream);
            Ok::<(), crate::LogsError>(())
        }
    });
    let s = svc;
    registry.register_bulk(
        &LOGS,
        OperationInfo::new("PutLogEvents")
            .max_bytes(PUT_LOG_EVENTS_MAX_REQUEST_BYTES, PUT_LOG_EVENTS_MAX_DECODED_BYTES)
            .summarized(summarize_put),
        summarize_put_typed,
        move |ctx: RequestContext, input: PutLogEventsInput| {
            let s = s.clone();
            async move {
                let c = Caller { scope: scope(&ctx), txn: Some(&ctx.activity) };
                s.put_log_events(&c, input).await
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_decode_paths_journal_the_same_summary() {
        let body = br#"{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"secret"},{"timestamp":2,"message":"x"}]}"#;
        let typed: PutLogEventsInput = watchtrail_wire::codec::json_typed::from_slice(body).expect("fast path");
        let value = watchtrail_wire::codec::json::decode(body).expect("value path");
        assert_eq!(summarize_put_typed(&typed), summarize_put(&value));
        assert_eq!(summarize_put(&value)["logEventCount"], 2);
        assert!(!summarize_put(&value).to_string().contains("secret"));
    }
}
