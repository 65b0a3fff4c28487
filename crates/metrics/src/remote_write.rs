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

use crate::engine::{Committer, EncodedSeriesKey};
use crate::head_sample::HeadSample;
use crate::error::{MetricsError, Result};
use crate::model::{Dimension, MetricKey, SeriesKey, Unit};
use crate::service::{MetricsService, Scope};
use crate::validate::{self, Param};
use std::collections::HashMap;
use std::sync::Arc;
use watchtrail_core::Timestamp;
use watchtrail_metrics_lang::remote_write as rw;

/// Namespace of series written without `?namespace=`.
pub const DEFAULT_NAMESPACE: &str = "Prometheus";
/// Samples per commit-log record: a large write is stored as several records, all durable
/// before the answer.
pub const SAMPLES_PER_COMMIT: usize = 50_000;

/// One series and its samples, as stored together.
pub(crate) type SeriesSamples = (Arc<EncodedSeriesKey>, Vec<HeadSample>);

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

/// Series the receiver has mapped, by namespace and label bytes as sent
/// ([`rw::RawWrite::identity`]): a label set seen before is neither decoded, mapped, checked
/// nor encoded again. Two generations of at most [`SeriesCache::GENERATION`] entries each:
/// when the current one is full it becomes the previous one, and a series found there moves
/// back; so a working set of series stays cached and memory stays bounded.
#[derive(Default)]
pub struct SeriesCache {
    current: HashMap<Box<[u8]>, Arc<EncodedSeriesKey>, foldhash::fast::RandomState>,
    previous: HashMap<Box<[u8]>, Arc<EncodedSeriesKey>, foldhash::fast::RandomState>,
}

impl SeriesCache {
    /// Entries per generation.
    pub const GENERATION: usize = 100_000;

    fn get(&mut self, id: &[u8]) -> Option<Arc<EncodedSeriesKey>> {
        if let Some(key) = self.current.get(id) {
            return Some(key.clone());
        }
        let (id, key) = self.previous.remove_entry(id)?;
        self.insert(id, key.clone());
        Some(key)
    }

    fn insert(&mut self, id: Box<[u8]>, key: Arc<EncodedSeriesKey>) {
        if self.current.len() >= Self::GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(id, key);
    }

    /// Series cached (both generations).
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Nothing cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The start of the cache keys of a request's series: account, region and namespace, each
/// followed by a byte none of them has; a series' key continues with its label bytes. (Per
/// account and region, so that a cached key's slot hint is always for the one partition it
/// is written to.)
fn cache_prefix(scope: &Scope, namespace: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for part in [&scope.account, &scope.region, namespace] {
        out.extend_from_slice(part.as_bytes());
        out.push(0xff);
    }
    out
}

/// What the labels of a series come to.
enum Mapped {
    /// The stored key.
    Key(EncodedSeriesKey),
    /// No `__name__`: every sample is refused.
    Unnamed(String),
    /// A name or dimension CloudWatch refuses: every value is refused (NaN and infinities
    /// are skipped as usual).
    Invalid(String),
}

fn series_key(namespace: &str, labels: Vec<rw::Label>) -> Mapped {
    let series = match rw::map_series(rw::TimeSeries { labels, samples: Vec::new() }) {
        Ok(s) => s,
        Err(why) => return Mapped::Unnamed(why),
    };
    let dims: Vec<Dimension> = series.dimensions.into_iter().map(|(n, v)| Dimension { name: n.into(), value: v.into() }).collect();
    let checked = validate::metric_name(Param::from("__name__"), &series.metric_name).and_then(|_| validate::dimensions(Param::from("labels"), &dims));
    if let Err(e) = checked {
        return Mapped::Invalid(format!("series {}: {e}", series.metric_name));
    }
    let key = SeriesKey { metric: MetricKey::new(namespace, series.metric_name.as_str(), dims), unit: Unit::None };
    Mapped::Key(EncodedSeriesKey::new(key))
}

impl MetricsService {
    /// Reads and checks a remote-write body: the entries to store and what was refused.
    /// The body is read in place ([`rw::RawWrite`]); a series' key comes from
    /// [`SeriesCache`] when its labels were seen before.
    pub(crate) fn prepare_remote_write(
        &self,
        scope: &Scope,
        namespace: &str,
        body: &[u8],
        content_encoding: Option<&str>,
        received: Timestamp,
    ) -> Result<(Vec<SeriesSamples>, RemoteWriteOutcome)> {
        validate::namespace(Param::from("namespace"), namespace)?;
        let req = rw::RawWrite::read_body(body, content_encoding).map_err(|e| MetricsError::InvalidParameterValue(e.0))?;
        let mut out = RemoteWriteOutcome { series: req.series().len(), ..Default::default() };
        // Each series' cached key, or (for a series not cached) its cache id, to insert with
        // the key once built.
        let mut id = cache_prefix(scope, namespace);
        let prefix = id.len();
        let cached: Vec<std::result::Result<Arc<EncodedSeriesKey>, Box<[u8]>>> = {
            let mut cache = self.remote_series.lock();
            req.series()
                .iter()
                .map(|s| {
                    id.truncate(prefix);
                    id.extend_from_slice(req.identity(s));
                    cache.get(&id).ok_or_else(|| id.as_slice().into())
                })
                .collect()
        };
        let mut new_keys = Vec::new();
        let mut entries = Vec::new();
        let (earliest, latest) = (received.millis() - validate::MAX_PAST_MS, received.millis() + validate::MAX_FUTURE_MS);
        let refuse = |out: &mut RemoteWriteOutcome, n: usize, why: String| {
            out.refused += n;
            out.first_refusal.get_or_insert(why);
        };
        for (s, cached) in req.series().iter().zip(cached) {
            let samples = req.samples(s);
            let finite = samples.iter().filter(|x| x.value.is_finite()).count();
            let key = match cached {
                Ok(key) => key,
                Err(id) => {
                    let labels = req.labels(s).map_err(|e| MetricsError::InvalidParameterValue(e.0))?;
                    match series_key(namespace, labels) {
                        Mapped::Key(key) => {
                            let key = Arc::new(key);
                            new_keys.push((id, key.clone()));
                            key
                        }
                        Mapped::Unnamed(why) => {
                            refuse(&mut out, samples.len(), why);
                            continue;
                        }
                        Mapped::Invalid(why) => {
                            out.skipped += samples.len() - finite;
                            refuse(&mut out, finite, why);
                            continue;
                        }
                    }
                }
            };
            out.skipped += samples.len() - finite;
            let mut kept = Vec::with_capacity(finite);
            for x in samples.iter().filter(|x| x.value.is_finite()) {
                let (t, v) = (x.timestamp, x.value);
                if t < earliest || t > latest {
                    refuse(&mut out, 1, format!("a sample of {} at {} ms is outside 2 weeks before to 2 hours after now", key.key().metric.name, t));
                    continue;
                }
                if v.abs() > validate::MAX_MAGNITUDE {
                    refuse(&mut out, 1, format!("a sample of {} has the value {v}, beyond CloudWatch's range", key.key().metric.name));
                    continue;
                }
                kept.push(HeadSample::Single { ts: Timestamp(t).floor_to(1000), value: v, resolution: 1 });
            }
            out.stored += kept.len();
            if !kept.is_empty() {
                entries.push((key, kept));
            }
        }
        if !new_keys.is_empty() {
            let mut cache = self.remote_series.lock();
            for (id, key) in new_keys {
                cache.insert(id, key);
            }
        }
        Ok((entries, out))
    }

    /// Stores prepared series durably, in records of about [`SAMPLES_PER_COMMIT`] samples
    /// (whole series; one larger series is a record of its own).
    pub(crate) async fn store_remote_write(&self, scope: &Scope, series: Vec<SeriesSamples>, committer: &dyn Committer) -> Result<()> {
        let mut batch = Vec::new();
        let mut samples = 0;
        for s in series {
            samples += s.1.len();
            batch.push(s);
            if samples >= SAMPLES_PER_COMMIT {
                self.store.ingest_encoded_via(&scope.account, &scope.region, std::mem::take(&mut batch), committer).await?;
                samples = 0;
            }
        }
        self.store.ingest_encoded_via(&scope.account, &scope.region, batch, committer).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Sample, SampleValue};
    use crate::engine::{MetricStore, MetricStoreOptions};
    use proptest::prelude::*;
    use prost::Message;

    const NOW: i64 = 1_767_225_600_000;

    /// The receiver as it was before the in-place reader and the cache (prost's owned
    /// messages, every series mapped and checked anew): what `prepare_remote_write` must
    /// still answer.
    fn prepare_by_prost(namespace: &str, body: &[u8], received: Timestamp) -> Result<(Vec<(SeriesKey, Vec<Sample>)>, RemoteWriteOutcome)> {
        let req = rw::decode(body, None).map_err(|e| MetricsError::InvalidParameterValue(e.0))?;
        let mut out = RemoteWriteOutcome { series: req.timeseries.len(), ..Default::default() };
        let mut entries = Vec::new();
        let (earliest, latest) = (received.millis() - validate::MAX_PAST_MS, received.millis() + validate::MAX_FUTURE_MS);
        for ts in req.timeseries {
            let samples = ts.samples.len();
            let series = match rw::map_series(ts) {
                Ok(s) => s,
                Err(why) => {
                    out.refused += samples;
                    out.first_refusal.get_or_insert(why);
                    continue;
                }
            };
            out.skipped += series.skipped;
            let dims: Vec<Dimension> = series.dimensions.into_iter().map(|(n, v)| Dimension { name: n.into(), value: v.into() }).collect();
            let checked = validate::metric_name(Param::from("__name__"), &series.metric_name).and_then(|_| validate::dimensions(Param::from("labels"), &dims));
            if let Err(e) = checked {
                out.refused += series.samples.len();
                out.first_refusal.get_or_insert(format!("series {}: {e}", series.metric_name));
                continue;
            }
            let key = SeriesKey { metric: MetricKey::new(namespace, series.metric_name.as_str(), dims), unit: Unit::None };
            let mut kept = Vec::new();
            for (t, v) in series.samples {
                if t < earliest || t > latest {
                    out.refused += 1;
                    out.first_refusal.get_or_insert(format!("a sample of {} at {} ms is outside 2 weeks before to 2 hours after now", key.metric.name, t));
                } else if v.abs() > validate::MAX_MAGNITUDE {
                    out.refused += 1;
                    out.first_refusal.get_or_insert(format!("a sample of {} has the value {v}, beyond CloudWatch's range", key.metric.name));
                } else {
                    kept.push(Sample { ts: Timestamp(t).floor_to(1000), resolution: 1, value: SampleValue::Single(v) });
                }
            }
            out.stored += kept.len();
            if !kept.is_empty() {
                entries.push((key, kept));
            }
        }
        Ok((entries, out))
    }

    fn arb_body() -> impl Strategy<Value = Vec<u8>> {
        let name = prop_oneof![Just("__name__".to_string()), Just("__tmp".to_string()), Just("job".to_string()), Just("instance".to_string()), "[a-z ]{0,3}"];
        let value = prop_oneof![Just("node_load1".to_string()), Just("host-1:9100".to_string()), "\\PC{0,4}"];
        let label = (name, value).prop_map(|(name, value)| rw::Label { name, value });
        let value = prop_oneof![8 => -1e6..1e6f64, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY), 1 => Just(1e300), 1 => any::<f64>()];
        let at = prop_oneof![4 => NOW - 3_600_000..NOW, 1 => NOW - 30 * 86_400_000..NOW + 86_400_000];
        let sample = (value, at).prop_map(|(value, timestamp)| rw::Sample { value, timestamp });
        let series = (proptest::collection::vec(label, 0..4), proptest::collection::vec(sample, 0..4)).prop_map(|(labels, samples)| rw::TimeSeries { labels, samples });
        // A few distinct series, repeated: the same label bytes again and again.
        (proptest::collection::vec(series, 1..4), proptest::collection::vec(0usize..8, 0..8))
            .prop_map(|(distinct, picks)| rw::WriteRequest { timeseries: picks.iter().map(|&i| distinct[i % distinct.len()].clone()).collect() }.encode_to_vec())
    }

    fn seen(entries: Vec<SeriesSamples>) -> Vec<(SeriesKey, Vec<Sample>)> {
        entries.into_iter().map(|(k, s)| (k.key().clone(), s.iter().map(HeadSample::to_sample).collect())).collect()
    }

    #[test]
    fn cached_and_uncached_writes_prepare_as_prost_did() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let clock: watchtrail_core::SharedClock = Arc::new(watchtrail_core::ManualClock::new(Timestamp(NOW)));
        let store = rt.block_on(MetricStore::open(dir.path(), clock.clone(), MetricStoreOptions::default())).unwrap();
        let svc = MetricsService::new(Arc::new(store), clock);
        let scope = Scope { account: "123456789012".into(), region: "us-east-1".into() };
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&arb_body(), |body| {
                let expected = prepare_by_prost("Node", &body, Timestamp(NOW));
                // Twice: the second time every valid series comes from the cache.
                for _ in 0..2 {
                    let got = svc.prepare_remote_write(&scope, "Node", &body, None, Timestamp(NOW)).map(|(e, o)| (seen(e), o));
                    prop_assert_eq!(format!("{got:?}"), format!("{expected:?}"));
                }
                Ok(())
            })
            .unwrap();
        assert!(!svc.remote_series.lock().is_empty(), "the valid series were cached");
    }

    #[test]
    fn the_series_cache_keeps_two_generations() {
        let key = Arc::new(EncodedSeriesKey::new(SeriesKey { metric: MetricKey::new("NS", "m", vec![]), unit: Unit::None }));
        let mut cache = SeriesCache::default();
        let n = SeriesCache::GENERATION;
        for i in 0..3 * n {
            cache.insert(i.to_le_bytes().as_slice().into(), key.clone());
        }
        assert_eq!(cache.len(), 2 * n, "two full generations at most");
        assert!(cache.get(&0usize.to_le_bytes()).is_none(), "the oldest generation is gone");
        let old = n + 1;
        assert!(cache.get(&old.to_le_bytes()).is_some(), "the previous generation is still found");
        assert!(cache.current.contains_key(old.to_le_bytes().as_slice()), "and moves to the current one");
    }

    #[test]
    fn namespace_from_the_url() {
        assert_eq!(namespace_from_query(None), "Prometheus");
        assert_eq!(namespace_from_query(Some("namespace=Node%2FExporter&x=1")), "Node/Exporter");
        assert_eq!(namespace_from_query(Some("a=b&namespace=My+App")), "My App");
        assert_eq!(namespace_from_query(Some("namespace=%zz")), "%zz");
        assert_eq!(namespace_from_query(Some("namespace=50%")), "50%");
    }
}
