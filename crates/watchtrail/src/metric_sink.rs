//! Wiring: metric filters (logs) publish into the metric store, each batch of datapoints in
//! the same commit-log record as the Logs part that moves the filters' cursors.

use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::sync::Arc;
use watchtrail_core::Timestamp;
use watchtrail_logs::metric_filter::{FilterDatapoint, MetricSink};
use watchtrail_logs::Scope;
use watchtrail_metrics::model::{Dimension, MetricKey, Sample, SampleValue, SeriesKey, Unit};
use watchtrail_metrics::{Committer, MetricStore};
use watchtrail_store::{CommitLog, OnDurable, PartKind, PartRef};

/// Publishes metric filters' datapoints to the metric store.
pub struct FilterMetricSink {
    /// The metric store.
    pub metrics: Arc<MetricStore>,
    /// The shared commit log.
    pub log: Arc<CommitLog>,
}

/// Commits the metric part with the pending Logs part, in one record.
struct WithLogsPart {
    log: Arc<CommitLog>,
    logs: Mutex<Option<(Vec<u8>, OnDurable)>>,
}

impl Committer for WithLogsPart {
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, Result<u64, String>> {
        let fut = match self.logs.lock().take() {
            Some((logs_part, logs_durable)) => {
                let both: OnDurable = Box::new(move |lsn| {
                    on_durable(lsn);
                    logs_durable(lsn);
                });
                self.log.append(&[PartRef { kind: PartKind::MetricColumns, bytes: &part }, PartRef { kind: PartKind::Logs, bytes: &logs_part }], Some(both))
            }
            None => self.log.append(&[PartRef { kind: PartKind::MetricColumns, bytes: &part }], Some(on_durable)),
        };
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    }
}

fn unit(u: Option<&str>) -> Unit {
    u.and_then(|u| serde_json::from_value(serde_json::Value::String(u.to_string())).ok()).unwrap_or_default()
}

impl MetricSink for FilterMetricSink {
    fn publish(&self, scope: &Scope, points: Vec<FilterDatapoint>, logs_part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, Result<u64, String>> {
        let entries: Vec<(SeriesKey, Sample)> = points
            .into_iter()
            .map(|p| {
                let dims = p.dimensions.into_iter().map(|(name, value)| Dimension { name: name.into(), value: value.into() }).collect();
                let key = SeriesKey { metric: MetricKey::new(p.namespace, p.name, dims), unit: unit(p.unit.as_deref()) };
                (key, Sample { ts: Timestamp(p.minute), resolution: 60, value: SampleValue::Distribution(p.values) })
            })
            .collect();
        let metrics = self.metrics.clone();
        let committer = WithLogsPart { log: self.log.clone(), logs: Mutex::new(Some((logs_part, on_durable))) };
        let (account, region) = (scope.account.clone(), scope.region.clone());
        Box::pin(async move {
            metrics.ingest_via(&account, &region, entries, &committer).await.map_err(|e| e.to_string())?;
            // Nothing reached the metric store: the cursor still moves.
            let left = committer.logs.lock().take();
            match left {
                Some((logs_part, logs_durable)) => committer.log.append(&[PartRef { kind: PartKind::Logs, bytes: &logs_part }], Some(logs_durable)).await.map_err(|e| e.to_string()),
                None => Ok(committer.log.durable_lsn()),
            }
        })
    }
}
