//! Retention and rollup (reference `cloudwatch.md` §1.5–1.6) driven through `tick(now)` with a
//! manual clock: as data ages past 3 hours, 15 days and 63 days its segments are rewritten at
//! 1 minute, 5 minutes and 1 hour; every statistic a period may still ask for is unchanged
//! (percentiles within 1 % where a step held too many distinct values to keep); periods finer
//! than the data's age allows return nothing; after 455 days the data is gone.

use std::sync::Arc;
use watchtrail_core::{Clock, ManualClock, Timestamp};
use watchtrail_metrics::api::{Datapoint, GetMetricStatisticsInput, Statistic};
use watchtrail_metrics::model::{MetricKey, Sample, SampleValue, SeriesKey, Unit};
use watchtrail_metrics::{MetricStore, MetricStoreOptions, MetricsService, Scope};

const T: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn key(name: &str) -> SeriesKey {
    SeriesKey { metric: MetricKey::new("Roll", name, vec![]), unit: Unit::None }
}

fn scope() -> Scope {
    Scope { account: ACCOUNT.into(), region: REGION.into() }
}

/// Two hours of 1-second data (100 distinct values a minute), two days of 1-minute values,
/// two days of 300-value distributions (so a 5-minute step holds 1,500 distinct values, more
/// than a step keeps exactly), and two days of aggregated statistic sets (no percentiles at
/// any age).
fn data() -> Vec<(SeriesKey, Sample)> {
    let mut out = Vec::new();
    for i in 0..7200i64 {
        let v = (i * 37 % 100) as f64 + 0.5;
        out.push((key("hires"), Sample { ts: Timestamp(T + i * 1000), resolution: 1, value: SampleValue::Single(v) }));
    }
    for m in 0..2 * 1440i64 {
        let ts = Timestamp(T + m * 60_000);
        out.push((key("minute"), Sample { ts, resolution: 60, value: SampleValue::Single((m % 7) as f64) }));
        let pairs = (0..300).map(|k| (1.0 + ((m * 300 + k) * 7919 % 100_003) as f64 * 0.013, 1.0 + (k % 3) as f64)).collect();
        out.push((key("dist"), Sample { ts, resolution: 60, value: SampleValue::Distribution(pairs) }));
        let c = 2.0 + (m % 5) as f64;
        out.push((key("sets"), Sample { ts, resolution: 60, value: SampleValue::Stats { count: c, sum: 3.0 * c, min: 1.0, max: 5.0 } }));
    }
    out
}

/// GetMetricStatistics over `[from, to)`, datapoints in time order.
async fn get(svc: &MetricsService, name: &str, from: i64, to: i64, period: i32, basic: bool) -> Vec<Datapoint> {
    let input = GetMetricStatisticsInput {
        namespace: "Roll".into(),
        metric_name: name.into(),
        dimensions: vec![],
        start_time: Timestamp(from),
        end_time: Timestamp(to),
        period,
        statistics: basic.then(|| vec![Statistic::SampleCount, Statistic::Sum, Statistic::Minimum, Statistic::Maximum]),
        extended_statistics: (!basic).then(|| vec!["p50".into(), "p99".into(), "p99.9".into()]),
        unit: None,
    };
    let mut d = svc.get_metric_statistics(&scope(), input).await.unwrap().datapoints;
    d.sort_by_key(|p| p.timestamp);
    d
}

async fn stats(svc: &MetricsService, name: &str, from: i64, to: i64, period: i32) -> Vec<Datapoint> {
    get(svc, name, from, to, period, true).await
}

async fn percentiles(svc: &MetricsService, name: &str, from: i64, to: i64, period: i32) -> Vec<(Timestamp, Option<std::collections::BTreeMap<String, f64>>)> {
    get(svc, name, from, to, period, false).await.into_iter().map(|p| (p.timestamp, p.extended_statistics)).collect()
}

async fn levels(store: &MetricStore, name: &str) -> (Vec<u8>, usize) {
    let s = store.samples(ACCOUNT, REGION, &key(name), Timestamp(0), Timestamp(i64::MAX / 4)).await.unwrap();
    let steps: std::collections::BTreeSet<u8> = s
        .iter()
        .map(|x| match x.value {
            SampleValue::Rolled(ref r) => (r.step_s / 60).min(255) as u8,
            _ => 0,
        })
        .collect();
    (steps.into_iter().collect(), s.len())
}

/// Same timestamps, counts, minima and maxima; sums equal up to the rounding of adding the
/// same numbers in another order.
fn assert_same(got: &[Datapoint], want: &[Datapoint], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: datapoints");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.timestamp, g.sample_count, g.minimum, g.maximum), (w.timestamp, w.sample_count, w.minimum, w.maximum), "{what}");
        assert_close(g.sum.unwrap(), w.sum.unwrap(), 1e-12, what);
    }
}

fn assert_close(a: f64, b: f64, rel: f64, what: &str) {
    assert!((a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-9, "{what}: {a} vs {b}");
}

#[tokio::test]
async fn statistics_survive_every_tier_and_reads_follow_the_age_rules() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T + 2 * Timestamp::DAY)));
    let store = Arc::new(MetricStore::open(dir.path(), clock.clone(), MetricStoreOptions::default()).await.unwrap());
    let svc = MetricsService::new(store.clone(), clock.clone());
    store.ingest(ACCOUNT, REGION, data()).await.unwrap();
    store.flush().await.unwrap();
    let day = Timestamp::DAY;
    let (hour, two_days) = (T + Timestamp::HOUR, T + 2 * day);

    // Answers before any rollup, at each period a later age still allows.
    let hires_60 = stats(&svc, "hires", T, T + 2 * Timestamp::HOUR, 60).await;
    assert_eq!(hires_60.len(), 120);
    let mut before = Vec::new();
    for (name, period) in [("minute", 300), ("dist", 300), ("sets", 300), ("minute", 3600), ("dist", 3600), ("sets", 3600), ("hires", 3600)] {
        before.push((name, period, stats(&svc, name, T, two_days, period).await));
    }
    let p_hires = percentiles(&svc, "hires", T, hour, 60).await;
    let p_minute = percentiles(&svc, "minute", T, two_days, 3600).await;
    let p_dist = percentiles(&svc, "dist", T, two_days, 3600).await;
    assert!(p_dist.iter().all(|(_, e)| e.as_ref().is_some_and(|m| m.len() == 3)));
    assert!(percentiles(&svc, "sets", T, two_days, 3600).await.is_empty(), "statistic sets have no percentiles");

    // 3 days later: everything is older than 3 hours (and than the day window): 1-minute
    // steps. 1-second periods are refused by age; 1-minute answers are unchanged, percentiles
    // exact (a minute holds at most 100 distinct values).
    clock.set(Timestamp(T + 3 * day + 4 * Timestamp::HOUR));
    store.tick(clock.now()).await.unwrap();
    assert_eq!(levels(&store, "hires").await, (vec![1], 120), "7200 one-second samples, 120 one-minute steps");
    assert_eq!(levels(&store, "minute").await, (vec![1], 2880));
    assert_same(&stats(&svc, "hires", T, T + 2 * Timestamp::HOUR, 60).await, &hires_60, "hires at 60 s after the 1-minute rollup");
    assert!(stats(&svc, "hires", T, T + Timestamp::HOUR, 10).await.is_empty(), "10-second periods only for the last 3 hours");
    assert_eq!(percentiles(&svc, "hires", T, hour, 60).await, p_hires, "exact after the first rollup");

    // 30 days later: 5-minute steps. 1-minute periods are refused; 5-minute and hourly
    // answers unchanged; percentiles exact where a step kept every value, within 1 % where
    // 1,500 distinct values were bucketed.
    clock.set(Timestamp(T + 30 * day));
    store.tick(clock.now()).await.unwrap();
    assert_eq!(levels(&store, "minute").await, (vec![5], 576));
    assert_eq!(levels(&store, "hires").await, (vec![5], 24));
    assert!(stats(&svc, "minute", T, T + day, 60).await.is_empty(), "1-minute periods only for 15 days");
    for (name, period, want) in &before {
        assert_same(&stats(&svc, name, T, two_days, *period).await, want, &format!("{name} at {period} s after the 5-minute rollup"));
    }
    assert_eq!(percentiles(&svc, "minute", T, two_days, 3600).await, p_minute, "7 distinct values stay exact");
    let got = percentiles(&svc, "dist", T, two_days, 3600).await;
    assert_eq!(got.len(), p_dist.len());
    for ((t, a), (_, b)) in got.iter().zip(&p_dist) {
        for (stat, exact) in b.as_ref().unwrap() {
            assert_close(a.as_ref().unwrap()[stat], *exact, 0.01, &format!("{stat} at {t:?}"));
        }
    }

    // 100 days later: hourly steps; 5-minute periods refused, hourly answers unchanged.
    clock.set(Timestamp(T + 100 * day));
    store.tick(clock.now()).await.unwrap();
    assert_eq!(levels(&store, "minute").await, (vec![60], 48));
    assert!(stats(&svc, "minute", T, two_days, 300).await.is_empty(), "5-minute periods only for 63 days");
    for (name, period, want) in &before {
        if *period == 3600 {
            assert_same(&stats(&svc, name, T, two_days, *period).await, want, &format!("{name} hourly after the hourly rollup"));
        }
    }
    let got = percentiles(&svc, "dist", T, two_days, 3600).await;
    for ((_, a), (_, b)) in got.iter().zip(&p_dist) {
        for (stat, exact) in b.as_ref().unwrap() {
            assert_close(a.as_ref().unwrap()[stat], *exact, 0.01, stat);
        }
    }
    assert!(percentiles(&svc, "sets", T, two_days, 3600).await.is_empty(), "still no percentiles for statistic sets");

    // The rolled segments are few: one per tier that ran, nothing left at a lower level.
    let segs = store.data_segments(ACCOUNT, REGION).await.unwrap();
    assert!(!segs.is_empty() && segs.iter().all(|m| m.level == 13), "{:?}", segs.iter().map(|m| m.level).collect::<Vec<_>>());

    // A restart reads the rolled data the same way.
    drop(svc);
    Arc::try_unwrap(store).ok().expect("one owner").close();
    let store = Arc::new(MetricStore::open(dir.path(), clock.clone(), MetricStoreOptions::default()).await.unwrap());
    let svc = MetricsService::new(store.clone(), clock.clone());
    for (name, period, want) in &before {
        if *period == 3600 {
            assert_same(&stats(&svc, name, T, two_days, *period).await, want, &format!("{name} hourly after a restart"));
        }
    }

    // After 455 days the data is gone.
    clock.set(Timestamp(T + 2 * day + 456 * day));
    store.tick(clock.now()).await.unwrap();
    assert!(store.data_segments(ACCOUNT, REGION).await.unwrap().is_empty());
    assert_eq!(levels(&store, "minute").await, (vec![], 0));
}

#[tokio::test]
async fn with_rollup_off_samples_keep_their_resolution_until_retention() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T + 2 * Timestamp::DAY)));
    let opts = MetricStoreOptions { rollup: false, ..Default::default() };
    let store = MetricStore::open(dir.path(), clock.clone(), opts).await.unwrap();
    store.ingest(ACCOUNT, REGION, data()).await.unwrap();
    store.flush().await.unwrap();
    clock.set(Timestamp(T + 100 * Timestamp::DAY));
    store.tick(clock.now()).await.unwrap();
    assert_eq!(levels(&store, "hires").await, (vec![0], 7200), "every 1-second sample is still there");
    assert!(store.data_segments(ACCOUNT, REGION).await.unwrap().iter().all(|m| m.level < 11));
    clock.set(Timestamp(T + 2 * Timestamp::DAY + 456 * Timestamp::DAY));
    store.tick(clock.now()).await.unwrap();
    assert!(store.data_segments(ACCOUNT, REGION).await.unwrap().is_empty(), "retention still applies");
}
