//! The Prometheus remote-write receiver: `POST /api/v1/write?namespace=NS` (protocol 1.0)
//! stores every sample as a high-resolution CloudWatch datum, under the label mapping of
//! [`watchtrail_metrics_lang::remote_write`] and PutMetricData's rules.
//!
//! - Namespace: the `namespace` URL parameter, else [`DEFAULT_NAMESPACE`].
//! - Each series is checked like a PutMetricData datum (metric name, at most 30 dimensions,
//!   ASCII names and values of CloudWatch's lengths); each sample like a value (magnitude)
//!   and a timestamp (2 weeks back to 2 hours ahead). What fails is refused; everything else
//!   is stored, durably, before the answer.
//! - Answer: 204 when everything was stored; 400 naming what was refused otherwise (Prometheus
//!   then drops the batch rather than retrying it; what was stored stays stored). The call's
//!   activity record says the same.
//! - Samples are stored at 1-second resolution (StorageResolution 1), unit `None`.

use crate::engine::Committer;
use crate::error::{MetricsError, Result};
use crate::model::{Dimension, MetricKey, Sample, SampleValue, SeriesKey, Unit};
use crate::service::{MetricsService, Scope};
use crate::validate::{self, Param};
use watchtrail_core::Timestamp;
use watchtrail_metrics_lang::remote_write as rw;

/// Namespace of series written without `?namespace=`.
pub const DEFAULT_NAMESPACE: &str = "Prometheus";
/// Samples per commit-log record: a large write is stored as several records, all durable
/// before the answer.
pub const SAMPLES_PER_COMMIT: usize = 50_000;

/// One series and its samples, as stored together.
pub type SeriesSamples = (SeriesKey, Vec<Sample>);

/// What one remote write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteWriteOutcome {
    /// Series in the request.
    pub series: usize,
    /// Samples stored.
    pub stored: usize,
    /// Samples skipped because their value was NaN (a staleness marker) or infinite.
    pub skipped: usize,
    /// Samples refused, with the first reason.
    pub refused: usize,
    /// Why the first refused sample or series was refused.
    pub first_refusal: Option<String>,
}

impl RemoteWriteOutcome {
    /// The error to answer with when something was refused.
    pub fn refusal(&self) -> Option<MetricsError> {
        (self.refused > 0).then(|| {
            MetricsError::InvalidParameterValue(format!(
                "stored {} samples, refused {} ({}); skipped {} NaN or infinite samples",
                self.stored,
                self.refused,
                self.first_refusal.as_deref().unwrap_or("invalid"),
                self.skipped
            ))
        })
    }
}

/// The namespace a URL query names (`namespace=...`, form-encoded), or the default.
pub fn namespace_from_query(query: Option<&str>) -> String {
    query
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "namespace").map(|(_, v)| v.into_owned()))
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

impl MetricsService {
    /// Reads and checks a remote-write body: the entries to store and what was refused.
    pub fn prepare_remote_write(
        &self,
        namespace: &str,
        body: &[u8],
        content_encoding: Option<&str>,
        received: Timestamp,
    ) -> Result<(Vec<SeriesSamples>, RemoteWriteOutcome)> {
        validate::namespace(Param::from("namespace"), namespace)?;
        let req = rw::decode(body, content_encoding).map_err(|e| MetricsError::InvalidParameterValue(e.0))?;
        let mut out = RemoteWriteOutcome { series: req.timeseries.len(), ..Default::default() };
        let mut entries = Vec::new();
        let (earliest, latest) = (received.millis() - validate::MAX_PAST_MS, received.millis() + validate::MAX_FUTURE_MS);
        let refuse = |out: &mut RemoteWriteOutcome, n: usize, why: String| {
            out.refused += n;
            out.first_refusal.get_or_insert(why);
        };
        for ts in req.timeseries {
            let samples = ts.samples.len();
            let series = match rw::map_series(ts) {
                Ok(s) => s,
                Err(why) => {
                    refuse(&mut out, samples, why);
                    continue;
                }
            };
            out.skipped += series.skipped;
            let dims: Vec<Dimension> = series.dimensions.into_iter().map(|(n, v)| Dimension { name: n.into(), value: v.into() }).collect();
            let checked = validate::metric_name(Param::from("__name__"), &series.metric_name).and_then(|_| validate::dimensions(Param::from("labels"), &dims));
            if let Err(e) = checked {
                refuse(&mut out, series.samples.len(), format!("series {}: {e}", series.metric_name));
                continue;
            }
            let key = SeriesKey { metric: MetricKey::new(namespace, series.metric_name.as_str(), dims), unit: Unit::None };
            let mut kept = Vec::with_capacity(series.samples.len());
            for (t, v) in series.samples {
                if t < earliest || t > latest {
                    refuse(&mut out, 1, format!("a sample of {} at {} ms is outside 2 weeks before to 2 hours after now", key.metric.name, t));
                    continue;
                }
                if v.abs() > validate::MAX_MAGNITUDE {
                    refuse(&mut out, 1, format!("a sample of {} has the value {v}, beyond CloudWatch's range", key.metric.name));
                    continue;
                }
                kept.push(Sample { ts: Timestamp(t).floor_to(1000), resolution: 1, value: SampleValue::Single(v) });
            }
            out.stored += kept.len();
            if !kept.is_empty() {
                entries.push((key, kept));
            }
        }
        Ok((entries, out))
    }

    /// Stores prepared series durably, in records of about [`SAMPLES_PER_COMMIT`] samples
    /// (whole series; one larger series is a record of its own).
    pub async fn store_remote_write(&self, scope: &Scope, series: Vec<SeriesSamples>, committer: &dyn Committer) -> Result<()> {
        let mut batch = Vec::new();
        let mut samples = 0;
        for s in series {
            samples += s.1.len();
            batch.push(s);
            if samples >= SAMPLES_PER_COMMIT {
                self.store.ingest_series_via(&scope.account, &scope.region, std::mem::take(&mut batch), committer).await?;
                samples = 0;
            }
        }
        self.store.ingest_series_via(&scope.account, &scope.region, batch, committer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_from_the_url() {
        assert_eq!(namespace_from_query(None), "Prometheus");
        assert_eq!(namespace_from_query(Some("namespace=Node%2FExporter&x=1")), "Node/Exporter");
        assert_eq!(namespace_from_query(Some("a=b&namespace=My+App")), "My App");
        assert_eq!(namespace_from_query(Some("namespace=%zz")), "%zz");
        assert_eq!(namespace_from_query(Some("namespace=50%")), "50%");
    }
}
