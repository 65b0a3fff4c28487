//! Registers the CloudWatch metrics operations with the wire gateway.

use crate::api::{GetMetricDataInput, GetMetricStatisticsInput, ListMetricsInput, PutMetricDataInput};
use crate::service::{MetricsService, Scope};
use watchtrail_wire::registry::OperationInfo;
use crate::engine::Committer;
use futures::future::BoxFuture;
use watchtrail_store::{OnDurable, PartKind};
use watchtrail_core::AwsError;
use watchtrail_wire::{ActivityTxn, DataWrite, RawRequest, Registry, RequestContext, Value, CLOUDWATCH};

/// PutMetricData accepts at most 1 MB per request as sent (gzip allowed).
pub const PUT_METRIC_DATA_MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Ceiling on a decompressed PutMetricData body.
pub const PUT_METRIC_DATA_MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// Commits metrics parts in the same log record as the request's activity record.
struct TxnCommitter<'a>(&'a ActivityTxn);

impl Committer for TxnCommitter<'_> {
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, Result<u64, String>> {
        self.0.commit(DataWrite { kind: PartKind::MetricColumns as u8, bytes: part, on_durable })
    }
}

fn scope(ctx: &RequestContext) -> Scope {
    Scope { account: ctx.account_id.to_string(), region: ctx.region.to_string() }
}

/// The activity journal keeps the namespace and the number of data, not the data itself.
fn summarize_put(v: &Value) -> serde_json::Value {
    serde_json::json!({
        "namespace": v.get("Namespace").and_then(Value::as_str),
        "metricDataCount": v.get("MetricData").and_then(Value::list_len).unwrap_or(0),
        "entityMetricDataCount": v.get("EntityMetricData").and_then(Value::list_len).unwrap_or(0),
    })
}

/// The same summary from the typed input (the awsJson fast path).
fn summarize_put_typed(input: &PutMetricDataInput) -> serde_json::Value {
    serde_json::json!({
        "namespace": input.namespace,
        "metricDataCount": input.metric_data.as_ref().map_or(0, Vec::len),
        "entityMetricDataCount": input.entity_metric_data.as_ref().map_or(0, Vec::len),
    })
}

/// A remote write may be this large as sent (snappy-compressed).
pub const REMOTE_WRITE_MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Registers PutMetricData, GetMetricStatistics, ListMetrics, GetMetricData and the
/// Prometheus remote-write receiver.
pub fn register(registry: &mut Registry, svc: MetricsService) {
    let s = svc.clone();
    registry.register_raw(
        &CLOUDWATCH,
        OperationInfo::new("RemoteWrite")
            .no_output()
            .max_bytes(REMOTE_WRITE_MAX_REQUEST_BYTES, watchtrail_metrics_lang::remote_write::MAX_DECODED_BYTES),
        move |ctx: RequestContext, raw: RawRequest| {
            let s = s.clone();
            async move {
                let namespace = crate::remote_write::namespace_from_query(raw.url_query.as_deref());
                let (entries, outcome) = s.prepare_remote_write(&scope(&ctx), &namespace, &raw.body, raw.content_encoding.as_deref(), ctx.received_at)?;
                let refusal = outcome.refusal();
                if let Some(e) = &refusal {
                    // What was stored stays stored; the record says what was refused.
                    ctx.activity.expect_error(400, e.code(), &e.message());
                }
                s.store_remote_write(&scope(&ctx), entries, &TxnCommitter(&ctx.activity)).await?;
                match refusal {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
        },
    );
    let s = svc.clone();
    registry.register_bulk(
        &CLOUDWATCH,
        OperationInfo::new("PutMetricData")
            .no_output()
            .max_bytes(PUT_METRIC_DATA_MAX_REQUEST_BYTES, PUT_METRIC_DATA_MAX_DECODED_BYTES)
            .summarized(summarize_put),
        summarize_put_typed,
        move |ctx: RequestContext, input: PutMetricDataInput| {
            let s = s.clone();
            async move { s.put_metric_data(&scope(&ctx), input, ctx.received_at, Some(&TxnCommitter(&ctx.activity))).await }
        },
    );
    let s = svc.clone();
    registry.register(&CLOUDWATCH, OperationInfo::new("GetMetricStatistics"), move |ctx: RequestContext, input: GetMetricStatisticsInput| {
        let s = s.clone();
        async move { s.get_metric_statistics(&scope(&ctx), input).await }
    });
    let s = svc.clone();
    registry.register(&CLOUDWATCH, OperationInfo::new("ListMetrics"), move |ctx: RequestContext, input: ListMetricsInput| {
        let s = s.clone();
        async move { s.list_metrics(&scope(&ctx), input) }
    });
    let s = svc;
    registry.register(&CLOUDWATCH, OperationInfo::new("GetMetricData"), move |ctx: RequestContext, input: GetMetricDataInput| {
        let s = s.clone();
        async move { s.get_metric_data(&scope(&ctx), input).await.map(watchtrail_wire::Value::from) }
    });
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_decode_paths_journal_the_same_summary() {
        let body = br#"{"Namespace":"NS","MetricData":[{"MetricName":"a","Value":1},{"MetricName":"b","Value":2}],"EntityMetricData":[{"MetricData":[]}]}"#;
        let typed: PutMetricDataInput = watchtrail_wire::codec::json_typed::from_slice(body).expect("fast path");
        let value = watchtrail_wire::codec::json::decode(body).expect("value path");
        assert_eq!(summarize_put_typed(&typed), summarize_put(&value));
        assert_eq!(summarize_put_typed(&typed)["metricDataCount"], 2);
    }
}
