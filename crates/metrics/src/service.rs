//! The CloudWatch metrics service: plain Rust methods, no HTTP types.

use crate::api::*;
use crate::engine::{Committer, MetricStore};
use crate::error::{MetricsError, Result};
use crate::model::{Dimension, MetricKey, Sample, SampleValue, SeriesKey, Unit};
use crate::exact::RawValues;
use crate::extended::ExtendedStatistic;
use crate::stats::{bucket, bucket_raw, period_serves_age, round_start, Aggregate};
use std::collections::BTreeMap;
use crate::{paging, validate};
use crate::metric_data::QueryPoints;
use crate::page_cache::PageCache;
use std::sync::Arc;
use watchtrail_core::{SharedClock, Timestamp};

/// ListMetrics page size.
pub const LIST_METRICS_PAGE: usize = 500;
/// Most queries in one GetMetricData.
pub const MAX_QUERIES: usize = 500;
/// Default and largest MaxDatapoints of GetMetricData.
pub const DEFAULT_MAX_DATAPOINTS: i64 = 100_800;
/// Metrics with no data for this long are left out of ListMetrics.
pub const LIST_METRICS_HORIZON_MS: i64 = 14 * Timestamp::DAY;

/// Who a call is for: account and region partition all metric data.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
}

/// CloudWatch metrics operations.
#[derive(Clone)]
pub struct MetricsService {
    pub(crate) store: Arc<MetricStore>,
    pub(crate) clock: SharedClock,
    /// GetMetricData results waiting for their next pages.
    pub(crate) pages: Arc<PageCache<Vec<QueryPoints>>>,
    /// Remote-write series mapped before, by their label bytes.
    pub(crate) remote_series: Arc<parking_lot::Mutex<crate::remote_write::SeriesCache>>,
}

impl MetricsService {
    /// A service over `store`.
    pub fn new(store: Arc<MetricStore>, clock: SharedClock) -> Self {
        MetricsService { store, clock, pages: Arc::default(), remote_series: Arc::default() }
    }

    /// The underlying store (for background ticks).
    pub fn store(&self) -> &Arc<MetricStore> {
        &self.store
    }

    /// PutMetricData: validates the whole request, then stores every datum durably.
    /// `committer` makes the samples durable: the request's activity transaction (data and
    /// audit record in one commit) or `None` for the store's log alone.
    pub async fn put_metric_data(&self, scope: &Scope, input: PutMetricDataInput, received: Timestamp, committer: Option<&dyn Committer>) -> Result<()> {
        validate::put_metric_data(&input, received)?;
        let data = input
            .metric_data
            .into_iter()
            .flatten()
            .chain(input.entity_metric_data.into_iter().flatten().flat_map(|e| e.metric_data));
        let mut entries = Vec::new();
        for d in data {
            let resolution: u8 = if d.storage_resolution == Some(1) { 1 } else { 60 };
            let ts = d.timestamp.unwrap_or(received).floor_to(resolution as i64 * 1000);
            let value = if let Some(v) = d.value {
                SampleValue::Single(v)
            } else if let Some(s) = d.statistic_values {
                SampleValue::Stats { count: s.sample_count, sum: s.sum, min: s.minimum, max: s.maximum }
            } else {
                let values = d.values.unwrap_or_default();
                let counts = d.counts.unwrap_or_else(|| vec![1.0; values.len()]);
                SampleValue::Distribution(values.into_iter().zip(counts).collect())
            };
            let key = SeriesKey {
                metric: MetricKey::new(input.namespace.clone(), d.metric_name, d.dimensions),
                unit: d.unit.unwrap_or_default(),
            };
            entries.push((key, Sample { ts, resolution, value }));
        }
        match committer {
            Some(c) => self.store.ingest_via(&scope.account, &scope.region, entries, c).await,
            None => self.store.ingest(&scope.account, &scope.region, entries).await,
        }
    }

    /// GetMetricStatistics.
    pub async fn get_metric_statistics(&self, scope: &Scope, input: GetMetricStatisticsInput) -> Result<GetMetricStatisticsOutput> {
        validate::namespace("Namespace".into(), &input.namespace)?;
        validate::metric_name("MetricName".into(), &input.metric_name)?;
        validate::dimensions("Dimensions".into(), &input.dimensions)?;
        let period = i64::from(input.period);
        validate::period("Period".into(), period)?;
        let (stats, extended) = match (&input.statistics, &input.extended_statistics) {
            (Some(_), Some(_)) => {
                return Err(MetricsError::InvalidParameterCombination(
                    "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.".into(),
                ))
            }
            (None, None) => {
                return Err(MetricsError::MissingParameter("The parameter Statistics or ExtendedStatistics is required.".into()))
            }
            (Some(s), None) => {
                if s.is_empty() || s.len() > 5 {
                    return Err(MetricsError::InvalidParameterValue(
                        "The collection Statistics must have between 1 and 5 members.".into(),
                    ));
                }
                (s.clone(), Vec::new())
            }
            (None, Some(e)) => {
                if e.is_empty() || e.len() > 10 {
                    return Err(MetricsError::InvalidParameterValue(
                        "The collection ExtendedStatistics must have between 1 and 10 members.".into(),
                    ));
                }
                let mut parsed = Vec::with_capacity(e.len());
                for (i, name) in e.iter().enumerate() {
                    let stat = ExtendedStatistic::parse(name).map_err(|why| {
                        MetricsError::InvalidParameterValue(format!(
                            "The value {name} for parameter ExtendedStatistics.member.{} is invalid: {why}.",
                            i + 1
                        ))
                    })?;
                    parsed.push((name.clone(), stat));
                }
                (Vec::new(), parsed)
            }
        };
        validate::time_range(input.start_time, input.end_time)?;
        let now = self.clock.now();
        let start = round_start(input.start_time, period, now);
        let period_ms = period * 1000;
        let requested = (input.end_time.millis() - start.millis() + period_ms - 1) / period_ms;
        if requested > validate::MAX_STATISTICS_DATAPOINTS {
            return Err(MetricsError::InvalidParameterCombination(format!(
                "You have requested up to {} datapoints, which exceeds the limit of {}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
                group_thousands(requested),
                group_thousands(validate::MAX_STATISTICS_DATAPOINTS)
            )));
        }
        let label = input.metric_name.clone();
        let metric = MetricKey::new(input.namespace, input.metric_name, input.dimensions);
        let mut datapoints = Vec::new();
        if period_serves_age(start, period, now) {
            let keys = self.series_for(scope, &metric, input.unit);
            let read = self.store.samples_many(&scope.account, &scope.region, &keys, start, input.end_time).await?;
            for (key, samples) in keys.iter().zip(read) {
                if extended.is_empty() {
                    for (ts, agg) in bucket(&samples, start, input.end_time, period_ms) {
                        datapoints.push(datapoint(ts, &agg, &stats, key.unit));
                    }
                } else {
                    datapoints.extend(bucket_raw(&samples, start, input.end_time, period_ms).into_iter().filter_map(
                        |(ts, raw)| extended_datapoint(ts, &raw, &extended, key.unit),
                    ));
                }
            }
        }
        Ok(GetMetricStatisticsOutput { label, datapoints })
    }

    /// The stored series of `metric`, restricted to `unit` when given.
    pub(crate) fn series_for(&self, scope: &Scope, metric: &MetricKey, unit: Option<Unit>) -> Vec<SeriesKey> {
        self.store.with_partition(&scope.account, &scope.region, |p| {
            let Some(p) = p else { return Vec::new() };
            let lo = SeriesKey { metric: metric.clone(), unit: Unit::Seconds };
            p.range_from(&lo)
                .take_while(|(k, _)| &k.metric == metric)
                .filter(|(k, _)| unit.is_none_or(|u| u == k.unit))
                .map(|(k, _)| k.clone())
                .collect()
        })
    }

    /// ListMetrics.
    pub fn list_metrics(&self, scope: &Scope, input: ListMetricsInput) -> Result<ListMetricsOutput> {
        if let Some(ns) = &input.namespace {
            validate::namespace("Namespace".into(), ns)?;
        }
        if let Some(n) = &input.metric_name {
            validate::metric_name("MetricName".into(), n)?;
        }
        validate::dimension_filters(&input.dimensions)?;
        if let Some(acct) = &input.owning_account {
            if acct != &scope.account {
                // Only one account is served: another owner has no metrics here.
                return Ok(ListMetricsOutput { metrics: Vec::new(), next_token: None, owning_accounts: None });
            }
        }
        let after: Option<MetricKey> = match &input.next_token {
            Some(t) => Some(paging::decode_token(t, "list-metrics").ok_or_else(|| {
                MetricsError::InvalidParameterValue("The value for parameter NextToken is invalid.".into())
            })?),
            None => None,
        };
        let now = self.clock.now();
        let horizon = match input.recently_active {
            Some(RecentlyActive::Pt3h) => now.millis() - 3 * Timestamp::HOUR,
            None => now.millis() - LIST_METRICS_HORIZON_MS,
        };
        let (metrics, more) = self.store.with_partition(&scope.account, &scope.region, |p| {
            let mut out: Vec<MetricKey> = Vec::new();
            let mut more = false;
            let Some(p) = p else { return (out, more) };
            for (key, st) in p.iter() {
                if after.as_ref().is_some_and(|a| &key.metric <= a) {
                    continue;
                }
                if out.last() == Some(&key.metric) {
                    continue;
                }
                if st.last_ingest.millis() < horizon || !matches_filters(&key.metric, &input) {
                    continue;
                }
                if out.len() == LIST_METRICS_PAGE {
                    more = true;
                    break;
                }
                out.push(key.metric.clone());
            }
            (out, more)
        });
        // A metric with several units appears once per unit in the head; the same metric can
        // also pass the filters through a later unit after an earlier one failed the horizon.
        let mut metrics = metrics;
        metrics.dedup();
        let next_token = if more { metrics.last().map(|k| paging::encode_token(k, "list-metrics")) } else { None };
        let owning_accounts = if input.include_linked_accounts == Some(true) {
            Some(vec![scope.account.clone(); metrics.len()])
        } else {
            None
        };
        let metrics = metrics
            .into_iter()
            .map(|k| Metric { namespace: k.namespace.into(), metric_name: k.name.into(), dimensions: k.dimensions })
            .collect();
        Ok(ListMetricsOutput { metrics, next_token, owning_accounts })
    }
}

fn datapoint(ts: Timestamp, agg: &Aggregate, stats: &[crate::api::Statistic], unit: Unit) -> Datapoint {
    use crate::api::Statistic as S;
    let pick = |s: S| if stats.contains(&s) { Some(agg.get(s)) } else { None };
    Datapoint {
        timestamp: ts,
        sample_count: pick(S::SampleCount),
        average: pick(S::Average),
        sum: pick(S::Sum),
        minimum: pick(S::Minimum),
        maximum: pick(S::Maximum),
        unit,
        extended_statistics: None,
    }
}

/// A datapoint of extended statistics; the statistics unavailable for the period are left
/// out, and a period where none is available has no datapoint.
fn extended_datapoint(ts: Timestamp, raw: &RawValues, stats: &[(String, ExtendedStatistic)], unit: Unit) -> Option<Datapoint> {
    let values: BTreeMap<String, f64> =
        stats.iter().filter_map(|(name, stat)| raw.compute(stat).map(|v| (name.clone(), v))).collect();
    (!values.is_empty()).then_some(Datapoint {
        timestamp: ts,
        sample_count: None,
        average: None,
        sum: None,
        minimum: None,
        maximum: None,
        unit,
        extended_statistics: Some(values),
    })
}

fn matches_filters(key: &MetricKey, input: &ListMetricsInput) -> bool {
    if input.namespace.as_ref().is_some_and(|n| n != key.namespace) {
        return false;
    }
    if input.metric_name.as_ref().is_some_and(|n| n != key.name) {
        return false;
    }
    input.dimensions.iter().all(|f| {
        key.dimensions
            .iter()
            .any(|d: &Dimension| d.name == f.name && f.value.as_ref().is_none_or(|v| v == d.value))
    })
}

fn group_thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(group_thousands(2880), "2,880");
        assert_eq!(group_thousands(100_800), "100,800");
    }
}
