//! Aggregation of samples into per-period statistics.

use crate::api::Statistic;
use crate::exact::RawValues;
pub use watchtrail_metrics_lang::extended::{ExtendedStatistic, InvalidStatistic};
pub use watchtrail_metrics_lang::rounding::round_start;
use crate::chunk::Run;
use crate::model::{Sample, SampleValue};
use watchtrail_core::Timestamp;

/// Running SampleCount/Sum/Minimum/Maximum of one period. Raw values are not folded here;
/// percentile statistics read samples directly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    /// SampleCount.
    pub count: f64,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
}

impl Aggregate {
    fn empty() -> Self {
        Aggregate { count: 0.0, sum: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    /// Folds one sample in.
    pub fn add(&mut self, v: &SampleValue) {
        match v {
            SampleValue::Single(x) => self.add_parts(1.0, *x, *x, *x),
            SampleValue::Stats { count, sum, min, max } => self.add_parts(*count, *sum, *min, *max),
            SampleValue::Rolled(r) => self.add_parts(r.count, r.sum, r.min, r.max),
            SampleValue::Distribution(pairs) => {
                for (value, count) in pairs {
                    if *count > 0.0 {
                        self.add_parts(*count, value * count, *value, *value);
                    }
                }
            }
        }
    }

    #[inline]
    fn add_parts(&mut self, count: f64, sum: f64, min: f64, max: f64) {
        self.count += count;
        self.sum += sum;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
    }

    /// Folds single values in, in order (the same result as adding them one by one).
    #[inline]
    fn add_values(&mut self, values: &[f64]) {
        for &v in values {
            self.add_parts(1.0, v, v, v);
        }
    }

    /// Whether anything was folded in.
    pub fn is_empty(&self) -> bool {
        self.count <= 0.0
    }

    /// The value of a basic statistic.
    pub fn get(&self, s: Statistic) -> f64 {
        match s {
            Statistic::SampleCount => self.count,
            Statistic::Sum => self.sum,
            Statistic::Minimum => self.min,
            Statistic::Maximum => self.max,
            Statistic::Average => {
                if self.count > 0.0 {
                    self.sum / self.count
                } else {
                    0.0
                }
            }
        }
    }
}

/// Groups samples into periods of `period_ms` aligned to `start`, keeping only samples in
/// `[start, end)`. Returns `(period start, aggregate)` in time order, for periods with data.
pub fn bucket<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
    start: Timestamp,
    end: Timestamp,
    period_ms: i64,
) -> Vec<(Timestamp, Aggregate)> {
    let mut out = group(samples, start, end, period_ms, Aggregate::empty, Aggregate::add);
    out.retain(|(_, a)| !a.is_empty());
    out
}

/// Like [`bucket`], keeping each period's raw values (sorted) for extended statistics.
pub fn bucket_raw<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
    start: Timestamp,
    end: Timestamp,
    period_ms: i64,
) -> Vec<(Timestamp, RawValues)> {
    let mut out = group(samples, start, end, period_ms, RawValues::new, RawValues::add);
    out.iter_mut().for_each(|(_, r)| r.finish());
    out
}

/// Samples (in any order) grouped by period, each period's samples folded in input order
/// (so sums add in the same order as they arrived).
fn group<'a, T>(
    samples: impl IntoIterator<Item = &'a Sample>,
    start: Timestamp,
    end: Timestamp,
    period_ms: i64,
    empty: impl Fn() -> T,
    add: impl Fn(&mut T, &SampleValue),
) -> Vec<(Timestamp, T)> {
    let mut periods = Periods::new(start, end, period_ms);
    for s in samples {
        if let Some(acc) = periods.slot(s.ts, &empty) {
            add(acc, &s.value);
        }
    }
    periods.into_vec()
}

/// Periods a fold makes room for when its first period with data arrives: a day of one-minute
/// periods (a longer range grows from there).
const PERIODS_RESERVED: usize = 1440;

/// Per-period accumulators for samples arriving one at a time, in any order: the periods
/// with data, in time order. Samples mostly arrive in time order (a series' chunks are), so
/// finding a sample's period is usually a look at the last one.
#[derive(Debug, Clone)]
pub struct Periods<T> {
    start: Timestamp,
    end: Timestamp,
    period_ms: i64,
    /// (period index from `start`, accumulator), sorted by index.
    items: Vec<(i64, T)>,
}

impl<T> Periods<T> {
    /// No periods yet; `period_ms` is clamped to at least 1.
    pub fn new(start: Timestamp, end: Timestamp, period_ms: i64) -> Self {
        Periods { start, end, period_ms: period_ms.max(1), items: Vec::new() }
    }

    /// The accumulator of the period holding `ts` (made with `empty` if it is new), or
    /// `None` when `ts` is outside `[start, end)`.
    pub fn slot(&mut self, ts: Timestamp, empty: impl FnOnce() -> T) -> Option<&mut T> {
        let index = self.index_of(ts)?;
        let at = self.position(index, empty);
        self.items.get_mut(at).map(|(_, acc)| acc)
    }

    /// The period index of `ts`, or `None` outside `[start, end)`.
    fn index_of(&self, ts: Timestamp) -> Option<i64> {
        (ts >= self.start && ts < self.end).then(|| (ts.millis() - self.start.millis()) / self.period_ms)
    }

    /// Where the accumulator of period `index` is in `items`, made with `empty` if new.
    fn position(&mut self, index: i64, empty: impl FnOnce() -> T) -> usize {
        match self.items.last() {
            Some((last, _)) if *last == index => self.items.len() - 1,
            Some((last, _)) if *last > index => match self.items.binary_search_by_key(&index, |(i, _)| *i) {
                Ok(at) => at,
                Err(at) => {
                    self.items.insert(at, (index, empty()));
                    at
                }
            },
            _ => {
                if self.items.capacity() == 0 {
                    // The first period with data: room for the range's periods (up to a day of
                    // one-minute periods) at once, rather than growing a page at a time.
                    self.items.reserve(self.span().min(PERIODS_RESERVED));
                }
                self.items.push((index, empty()));
                self.items.len() - 1
            }
        }
    }

    /// How many periods `[start, end)` holds.
    fn span(&self) -> usize {
        let ms = u64::try_from(self.end.millis().saturating_sub(self.start.millis())).unwrap_or(0);
        usize::try_from(ms.div_ceil(self.period_ms as u64)).unwrap_or(usize::MAX)
    }

    /// Every period with data: `(period start, accumulator)`, in time order.
    pub fn into_vec(self) -> Vec<(Timestamp, T)> {
        let (start, period_ms) = (self.start, self.period_ms);
        self.items.into_iter().map(|(i, acc)| (start.plus_millis(i * period_ms), acc)).collect()
    }
}

/// One statistic folded over samples as they arrive: the streaming form of [`Stat::points`]
/// (same points for the same samples in the same order), for reads that never collect a
/// series' samples (`MetricStore::visit_many`).
#[derive(Debug, Clone)]
pub enum StatFold {
    /// A basic statistic over running aggregates.
    Basic(Statistic, Periods<Aggregate>),
    /// An extended statistic over each period's raw values.
    Extended(ExtendedStatistic, Periods<RawValues>),
}

impl StatFold {
    /// Folds one sample in (ignored outside the range).
    pub fn add(&mut self, s: &Sample) {
        match self {
            StatFold::Basic(_, p) => {
                if let Some(acc) = p.slot(s.ts, Aggregate::empty) {
                    acc.add(&s.value);
                }
            }
            StatFold::Extended(_, p) => {
                if let Some(acc) = p.slot(s.ts, RawValues::new) {
                    acc.add(&s.value);
                }
            }
        }
    }

    /// Folds a run of samples in, in order: the same as [`StatFold::add`] on each, with a
    /// chunk's single values folded in one tight loop.
    pub fn add_run(&mut self, run: Run<'_>) {
        match (self, run) {
            (StatFold::Basic(_, p), Run::Singles { ts, values, .. }) => {
                // Period by period: the samples from `i` on that fall in `i`'s period `[lo, hi)`
                // (in a run in time order, all of that period's) fold in as one slice, so a
                // run divides once per period, not once per sample.
                let mut i = 0;
                while let Some(&t) = ts.get(i) {
                    let Some(index) = p.index_of(Timestamp(t)) else {
                        i += 1;
                        continue;
                    };
                    // `index_of` subtracted without overflow, so `lo <= t`.
                    let lo = p.start.millis() + index * p.period_ms;
                    let hi = lo.saturating_add(p.period_ms).min(p.end.millis());
                    let n = ts[i..].iter().position(|&t| t < lo || t >= hi).unwrap_or(ts.len() - i);
                    let at = p.position(index, Aggregate::empty);
                    p.items[at].1.add_values(&values[i..(i + n).min(values.len())]);
                    i += n;
                }
            }
            (fold, run) => run.for_each(|s| fold.add(s)),
        }
    }

    /// One value per period with data, in time order (see [`Stat::points`]).
    pub fn points(self) -> Vec<(Timestamp, f64)> {
        match self {
            StatFold::Basic(b, p) => p.into_vec().into_iter().filter(|(_, a)| !a.is_empty()).map(|(t, a)| (t, a.get(b))).collect(),
            StatFold::Extended(e, p) => p
                .into_vec()
                .into_iter()
                .filter_map(|(t, mut raw)| {
                    raw.finish();
                    raw.compute(&e).map(|v| (t, v))
                })
                .collect(),
        }
    }
}

/// A statistic as a query names it: basic (`Average`) or extended (`p99`, `TM(10%:90%)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
    /// SampleCount, Sum, Average, Minimum or Maximum.
    Basic(Statistic),
    /// A percentile-type statistic, computed exactly from raw values.
    Extended(ExtendedStatistic),
}

impl Stat {
    /// Parses a `Stat` as `MetricStat.Stat` spells it.
    pub fn parse(s: &str) -> Result<Stat, InvalidStatistic> {
        match Statistic::parse(s) {
            Some(b) => Ok(Stat::Basic(b)),
            None => ExtendedStatistic::parse(s).map(Stat::Extended),
        }
    }

    /// One value per period with data, in time order; periods where the statistic is
    /// unavailable (reference §2.3) or undefined have no point.
    pub fn points<'a>(
        &self,
        samples: impl IntoIterator<Item = &'a Sample>,
        start: Timestamp,
        end: Timestamp,
        period_ms: i64,
    ) -> Vec<(Timestamp, f64)> {
        let mut fold = self.fold(start, end, period_ms);
        samples.into_iter().for_each(|s| fold.add(s));
        fold.points()
    }

    /// An empty fold of this statistic over periods of `period_ms` in `[start, end)`.
    pub fn fold(&self, start: Timestamp, end: Timestamp, period_ms: i64) -> StatFold {
        match self {
            Stat::Basic(b) => StatFold::Basic(*b, Periods::new(start, end, period_ms)),
            Stat::Extended(e) => StatFold::Extended(*e, Periods::new(start, end, period_ms)),
        }
    }
}

/// Whether data at this age can be served at this period (reference §1.6): older than 3 hours
/// needs a multiple of 60, older than 15 days a multiple of 300, older than 63 days a multiple
/// of 3600. When it cannot, no datapoints are returned (this is not an error).
pub fn period_serves_age(start: Timestamp, period_s: i64, now: Timestamp) -> bool {
    let age = now.millis() - start.millis();
    if age > 63 * Timestamp::DAY {
        period_s % 3600 == 0
    } else if age > 15 * Timestamp::DAY {
        period_s % 300 == 0
    } else if age > 3 * Timestamp::HOUR {
        period_s % 60 == 0
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(ts: i64, v: f64) -> Sample {
        Sample { ts: Timestamp(ts), resolution: 60, value: SampleValue::Single(v) }
    }

    #[test]
    fn buckets_align_to_start_and_respect_bounds() {
        let samples = vec![single(0, 1.0), single(59_999, 3.0), single(60_000, 10.0), single(120_000, 99.0)];
        let b = bucket(&samples, Timestamp(0), Timestamp(120_000), 60_000);
        assert_eq!(b.len(), 2, "end is exclusive");
        let first = b[0].1;
        assert_eq!(b[0].0, Timestamp(0));
        assert_eq!((first.count, first.sum, first.min, first.max), (2.0, 4.0, 1.0, 3.0));
        assert_eq!(first.get(Statistic::Average), 2.0);
    }

    #[test]
    fn statistic_sets_and_distributions_fold_exactly() {
        let mut a = Aggregate::empty();
        a.add(&SampleValue::Stats { count: 4.0, sum: 10.0, min: 1.0, max: 4.0 });
        a.add(&SampleValue::Distribution(vec![(2.0, 3.0), (10.0, 1.0)]));
        assert_eq!((a.count, a.sum, a.min, a.max), (8.0, 26.0, 1.0, 10.0));
    }

    proptest::proptest! {
        /// A chunk's run folds to exactly what its samples fold to one by one, in any order,
        /// for basic and extended statistics.
        #[test]
        fn runs_fold_as_their_samples_do(
            raw in proptest::collection::vec((proptest::prop_oneof![proptest::strategy::Strategy::prop_map(-4i64..28, |k| k * 15_000), -50_000i64..400_000], -1e6f64..1e6), 0..200),
            head in proptest::collection::vec((-50_000i64..400_000, -1e6f64..1e6), 0..20),
            period in proptest::prop_oneof![proptest::strategy::Just(1i64), proptest::strategy::Just(15_000i64), proptest::strategy::Just(60_000i64), 1_000i64..120_000],
            in_time_order: bool,
            start_ms in -10_000i64..10_000,
        ) {
            let mut raw = raw;
            if in_time_order {
                // As a chunk hands them over: many samples per period, period after period.
                raw.sort_by_key(|r| r.0);
            }
            let ts: Vec<i64> = raw.iter().map(|r| r.0).collect();
            let values: Vec<f64> = raw.iter().map(|r| r.1).collect();
            for stat in [Stat::parse("Sum").unwrap(), Stat::parse("Average").unwrap(), Stat::parse("Minimum").unwrap(), Stat::parse("p90").unwrap(), Stat::parse("TM(10%:90%)").unwrap()] {
                let (start, end) = (Timestamp(start_ms), Timestamp(start_ms + 300_000));
                let mut by_run = stat.fold(start, end, period);
                let mut one_by_one = stat.fold(start, end, period);
                for &(t, v) in &head {
                    by_run.add_run(Run::Sample(&single(t, v)));
                    one_by_one.add(&single(t, v));
                }
                by_run.add_run(Run::Singles { resolution: 60, ts: &ts, values: &values });
                for (&t, &v) in ts.iter().zip(&values) {
                    one_by_one.add(&single(t, v));
                }
                let bits = |p: Vec<(Timestamp, f64)>| p.into_iter().map(|(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
                proptest::prop_assert_eq!(bits(by_run.points()), bits(one_by_one.points()));
            }
        }
    }

    #[test]
    fn age_rules() {
        let now = Timestamp::from_secs(100 * 86_400);
        assert!(period_serves_age(now.plus_millis(-Timestamp::HOUR), 1, now));
        assert!(!period_serves_age(now.plus_millis(-4 * Timestamp::HOUR), 30, now));
        assert!(!period_serves_age(now.plus_millis(-20 * Timestamp::DAY), 60, now));
        assert!(period_serves_age(now.plus_millis(-20 * Timestamp::DAY), 300, now));
        assert!(!period_serves_age(now.plus_millis(-70 * Timestamp::DAY), 300, now));
    }
}
