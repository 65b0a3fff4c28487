//! Rollup of older data into coarser resolutions (reference `cloudwatch.md` §1.5): data older
//! than 3 hours is kept at 1 minute, older than 15 days at 5 minutes, older than 63 days at 1
//! hour, and dropped after 455 days. [`crate::MetricStore::tick`] rewrites whole segments
//! once every sample in them is past a tier's age (rounded down to the tier's window, so a
//! stream keeps a few large rolled segments rather than one per flush); reads then see fewer,
//! coarser samples, and the period-by-age rules of every read path (§1.6) never ask for
//! finer periods than the data has.
//!
//! A rolled step keeps SampleCount, Sum, Minimum and Maximum exactly. For percentile-type
//! statistics it keeps the values with their counts: exactly while the step holds at most
//! [`MAX_EXACT_VALUES`] distinct values (every minute of 1-second data, every hour of 1-minute
//! data), otherwise one representative per logarithmic bucket `(γ^(i-1), γ^i]` with
//! `γ = (1 + α) / (1 - α)`, `α = 1 %`: every value is then represented within 1 % of itself,
//! so a percentile of such a step is within 1 % of the exact answer. The other
//! percentile-type statistics of a bucketed step are computed over the representatives, with
//! whole buckets kept or dropped at their bounds; they carry no stated bound.
//! Steps with an aggregated statistic set or a negative value keep no values (the
//! statistics are unavailable, §2.3).

use crate::model::{Rolled, Sample, SampleValue};
use watchtrail_core::Timestamp;
use watchtrail_store::{RecordRef, Rewriter, StoreError};

/// Distinct values a rolled step keeps exactly.
pub const MAX_EXACT_VALUES: usize = 1024;
/// Relative accuracy of values kept in logarithmic buckets.
pub const RELATIVE_ACCURACY: f64 = 0.01;

/// One rollup tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    /// The resolution data is rolled up to (ms).
    pub step_ms: i64,
    /// Data older than this is rolled (ms).
    pub after_ms: i64,
    /// Segments are rolled once their newest sample is older than `now - after_ms` rounded
    /// down to this window (ms).
    pub window_ms: i64,
    /// Segment level of rolled output (compaction works on level 0 only).
    pub level: u32,
}

/// The tiers, finest first.
pub const TIERS: [Tier; 3] = [
    Tier { step_ms: Timestamp::MINUTE, after_ms: 3 * Timestamp::HOUR, window_ms: Timestamp::DAY, level: 11 },
    Tier { step_ms: 5 * Timestamp::MINUTE, after_ms: 15 * Timestamp::DAY, window_ms: 7 * Timestamp::DAY, level: 12 },
    Tier { step_ms: Timestamp::HOUR, after_ms: 63 * Timestamp::DAY, window_ms: 28 * Timestamp::DAY, level: 13 },
];

impl Tier {
    /// Segments whose newest sample is older than this are rolled at `now`.
    pub fn cutoff(&self, now: Timestamp) -> i64 {
        (now.millis() - self.after_ms).div_euclid(self.window_ms) * self.window_ms
    }
}

/// The samples of one series within one step, being rolled up.
#[derive(Debug)]
struct Step {
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
    values: Option<Vec<(f64, f64)>>,
}

impl Step {
    fn new() -> Step {
        Step { count: 0.0, sum: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, values: Some(Vec::new()) }
    }

    fn parts(&mut self, count: f64, sum: f64, min: f64, max: f64) {
        self.count += count;
        self.sum += sum;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
    }

    fn value(&mut self, v: f64, count: f64) {
        if v < 0.0 {
            self.values = None;
        }
        if let Some(values) = &mut self.values {
            values.push((v, count));
            // Bound what one step holds while it accumulates.
            if values.len() > 8 * MAX_EXACT_VALUES {
                *values = compress(std::mem::take(values));
            }
        }
    }

    fn add(&mut self, v: &SampleValue) {
        match v {
            SampleValue::Single(x) => {
                self.parts(1.0, *x, *x, *x);
                self.value(*x, 1.0);
            }
            SampleValue::Stats { count, sum, min, max } => {
                self.parts(*count, *sum, *min, *max);
                match crate::exact::one_value_set(*count, *sum, *min, *max) {
                    Some((value, count)) => self.value(value, count),
                    None => self.values = None,
                }
            }
            SampleValue::Distribution(pairs) => {
                for &(v, c) in pairs {
                    if c > 0.0 {
                        self.parts(c, v * c, v, v);
                        self.value(v, c);
                    }
                }
            }
            SampleValue::Rolled(r) => {
                self.parts(r.count, r.sum, r.min, r.max);
                match &r.values {
                    Some(pairs) => pairs.iter().for_each(|&(v, c)| self.value(v, c)),
                    None => self.values = None,
                }
            }
        }
    }

    fn finish(self, step_s: u32) -> SampleValue {
        SampleValue::Rolled(Box::new(Rolled { step_s, count: self.count, sum: self.sum, min: self.min, max: self.max, values: self.values.map(compress) }))
    }
}

/// Values with counts, sorted and merged; more than [`MAX_EXACT_VALUES`] distinct values go
/// into 1 %-wide logarithmic buckets (zero stays exact). Compressing twice changes nothing:
/// a bucket's representative lies in its own bucket.
pub fn compress(mut values: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(values.len());
    for (v, c) in values {
        match merged.last_mut() {
            Some(last) if last.0 == v => last.1 += c,
            _ => merged.push((v, c)),
        }
    }
    if merged.len() <= MAX_EXACT_VALUES {
        return merged;
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut current: Option<(i64, f64)> = None;
    for (v, c) in merged {
        let b = if v > 0.0 { bucket(v) } else { i64::MIN };
        match &mut current {
            Some((cb, cc)) if *cb == b => *cc += c,
            _ => {
                if let Some((cb, cc)) = current.take() {
                    out.push((representative(cb), cc));
                }
                current = Some((b, c));
            }
        }
    }
    if let Some((cb, cc)) = current {
        out.push((representative(cb), cc));
    }
    out
}

fn ln_gamma() -> f64 {
    ((1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)).ln()
}

/// The bucket `i` of a positive value: `γ^(i-1) < v ≤ γ^i`.
fn bucket(v: f64) -> i64 {
    (v.ln() / ln_gamma()).ceil() as i64
}

/// The value standing for bucket `i` (`i64::MIN`: zero): `2γ^i / (γ + 1)`, within
/// [`RELATIVE_ACCURACY`] of every value of the bucket.
fn representative(i: i64) -> f64 {
    if i == i64::MIN {
        return 0.0;
    }
    let gamma = ln_gamma().exp();
    let r = ((i as f64) * ln_gamma() + (2.0 / (gamma + 1.0)).ln()).exp();
    r.min(f64::MAX)
}

/// A [`Rewriter`] rolling every series' samples up into steps of `step_ms`. Input records are
/// chunks ([`crate::chunk`]) in (series, first timestamp) order; a series' chunks may overlap
/// in time (several flushes of one hour), so all of a series' samples are gathered, sorted and
/// then rolled; output chunks hold a day of steps each.
pub struct RollupRewriter {
    step_ms: i64,
    key: Option<Vec<u8>>,
    samples: Vec<Sample>,
}

impl RollupRewriter {
    /// Rolls into steps of `step_ms` (a whole number of seconds).
    pub fn new(step_ms: i64) -> RollupRewriter {
        RollupRewriter { step_ms, key: None, samples: Vec::new() }
    }

    fn emit(&mut self, out: &mut dyn FnMut(RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        let Some(key) = self.key.take() else { return Ok(()) };
        let mut samples = std::mem::take(&mut self.samples);
        samples.sort_by_key(|s| s.ts);
        let step_s = (self.step_ms / 1000) as u32;
        let mut rolled: Vec<Sample> = Vec::new();
        for run in samples.chunk_by(|a, b| a.ts.floor_to(self.step_ms) == b.ts.floor_to(self.step_ms)) {
            let mut step = Step::new();
            run.iter().for_each(|s| step.add(&s.value));
            rolled.push(Sample { ts: run[0].ts.floor_to(self.step_ms), resolution: 60, value: step.finish(step_s) });
        }
        for day in rolled.chunk_by(|a, b| a.ts.floor_to(Timestamp::DAY) == b.ts.floor_to(Timestamp::DAY)) {
            let bytes = crate::chunk::encode(day);
            out(RecordRef { key: &key, ts: day[0].ts.millis(), value: &bytes })?;
        }
        Ok(())
    }
}

impl Rewriter for RollupRewriter {
    fn record(&mut self, r: RecordRef<'_>, out: &mut dyn FnMut(RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        if self.key.as_deref() != Some(r.key) {
            self.emit(out)?;
            self.key = Some(r.key.to_vec());
        }
        crate::chunk::decode_range(r.value, Timestamp(i64::MIN), Timestamp(i64::MAX), &mut self.samples)
            .map_err(|e| StoreError::corruption("rollup input chunk", e.to_string()))
    }

    fn finish(&mut self, out: &mut dyn FnMut(RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        self.emit(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representatives_stay_within_one_percent_and_in_their_bucket() {
        let mut v = 1e-6;
        while v < 1e12 {
            let r = representative(bucket(v));
            assert!((r - v).abs() <= RELATIVE_ACCURACY * v * (1.0 + 1e-12), "{v} -> {r}");
            assert_eq!(bucket(r), bucket(v), "{v}");
            v *= 1.0137;
        }
        assert!(representative(bucket(f64::MAX)).is_finite());
    }

    #[test]
    fn few_distinct_values_stay_exact_many_are_bucketed_stably() {
        let few: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64 * 0.37, 1.0)).chain([(3.7, 2.0)]).collect();
        let c = compress(few);
        assert_eq!(c.len(), 1000, "3.7 merged with itself");
        assert_eq!(c.iter().map(|p| p.1).sum::<f64>(), 1002.0);
        let many: Vec<(f64, f64)> = (1..=5000).map(|i| (i as f64, 1.0)).chain([(0.0, 3.0)]).collect();
        let c = compress(many);
        assert!(c.len() < 400, "1% buckets over 1..5000: {}", c.len());
        assert_eq!(c[0], (0.0, 3.0), "zero stays exact");
        assert_eq!(c.iter().map(|p| p.1).sum::<f64>(), 5003.0, "no count lost");
        assert_eq!(compress(c.clone()), c, "compressing twice changes nothing");
    }

    #[test]
    fn steps_keep_exact_statistics_and_the_availability_rules() {
        let mut s = Step::new();
        s.add(&SampleValue::Single(2.0));
        s.add(&SampleValue::Distribution(vec![(1.0, 2.0), (5.0, 0.0)]));
        s.add(&SampleValue::Stats { count: 3.0, sum: 9.0, min: 3.0, max: 3.0 });
        let SampleValue::Rolled(r) = s.finish(60) else { panic!() };
        let Rolled { count, sum, min, max, values, step_s } = *r;
        assert_eq!((step_s, count, sum, min, max), (60, 6.0, 13.0, 1.0, 3.0));
        assert_eq!(values, Some(vec![(1.0, 2.0), (2.0, 1.0), (3.0, 3.0)]));
        let mut s = Step::new();
        s.add(&SampleValue::Stats { count: 2.0, sum: 3.0, min: 1.0, max: 2.0 });
        s.add(&SampleValue::Single(4.0));
        assert!(matches!(s.finish(60), SampleValue::Rolled(r) if r.values.is_none() && r.count == 3.0));
        let mut s = Step::new();
        s.add(&SampleValue::Single(-1.0));
        s.add(&SampleValue::Single(4.0));
        assert!(matches!(s.finish(300), SampleValue::Rolled(r) if r.values.is_none() && r.sum == 3.0 && r.min == -1.0));
    }

    proptest::proptest! {
        /// The accuracy bound of rolled data: every percentile of bucketed values is within
        /// 1 % of the exact answer over the raw values.
        #[test]
        fn bucketed_percentiles_are_within_one_percent(
            raw in proptest::collection::vec((0.001f64..1e6, 1u32..4), 1100..3000),
            skew in 0.2f64..3.0,
        ) {
            use crate::exact::RawValues;
            use crate::extended::ExtendedStatistic;
            let values: Vec<(f64, f64)> = raw.iter().map(|&(v, c)| (v.powf(skew).min(1e12), c as f64)).collect();
            let mut exact = RawValues::new();
            exact.add(&SampleValue::Distribution(values.clone()));
            exact.finish();
            let bucketed_pairs = compress(values);
            proptest::prop_assume!(bucketed_pairs.len() < raw.len(), "enough distinct values to bucket");
            let mut bucketed = RawValues::new();
            bucketed.add(&SampleValue::Rolled(Box::new(Rolled { step_s: 300, count: 0.0, sum: 0.0, min: 0.0, max: 0.0, values: Some(bucketed_pairs) })));
            bucketed.finish();
            for name in ["p0", "p0.1", "p1", "p10", "p25", "p33.3333333333", "p50", "p75", "p90", "p99", "p99.9", "p100"] {
                let stat = ExtendedStatistic::parse(name).unwrap();
                let (a, b) = (exact.compute(&stat).unwrap(), bucketed.compute(&stat).unwrap());
                proptest::prop_assert!((a - b).abs() <= RELATIVE_ACCURACY * a.abs() * (1.0 + 1e-9), "{}: exact {} bucketed {}", name, a, b);
            }
        }
    }

    #[test]
    fn tier_cutoffs_round_down_to_the_window() {
        let now = Timestamp(10 * Timestamp::DAY + 5 * Timestamp::HOUR);
        assert_eq!(TIERS[0].cutoff(now), 10 * Timestamp::DAY, "3 hours ago, rounded down to the day");
        let now = Timestamp(10 * Timestamp::DAY + 2 * Timestamp::HOUR);
        assert_eq!(TIERS[0].cutoff(now), 9 * Timestamp::DAY);
    }
}
