//! Extended statistics computed exactly over a period's raw values (reference `cloudwatch.md`
//! §2.2–2.3). Every datum keeps what was sent (a value, a distribution, a statistic set), so a
//! period's values are known exactly and no sketch is needed; only data old enough to be
//! rolled up with more than 1,024 distinct values in one step is held in 1 % buckets
//! ([`crate::rollup`]).
//!
//! Definitions (AWS does not publish its algorithm; `docs/deviations.md`):
//! - **Percentile** `pNN` is the nearest-rank percentile: the smallest value `v` such that the
//!   values `≤ v` carry at least NN % of the period's weight (weight = count). `p0` is the
//!   minimum, `p100` the maximum; the answer is always a value that was sent.
//! - **Absolute bounds** `(a:b)` keep the values `a < v ≤ b` (lower exclusive, upper inclusive).
//! - **Percentage bounds** `(a%:b%)` keep, as whole values (ties are never split), the values
//!   whose share of the sorted data reaches into the window between a % and b % of the total
//!   count: a value occupying `[before, after]` of the cumulative count is kept when
//!   `after > a % × total` and `before < b % × total`. The upper end is therefore `v ≤ pb`
//!   (the same percentile as above), and the lower end drops exactly the values lying wholly in
//!   the lowest a %: `tm90` of 1..10 drops 10, `IQM` of 1..10 keeps 3..8, and the two ends are
//!   symmetric.
//! - **TM** is the mean of the values inside the bounds (none when no value is inside), **TC**
//!   their total count, **TS** their sum (so TS = TM × TC, and TC = TS = 0 when none is inside),
//!   **PR** their share of the whole as a percentage, **WM** the mean of all values after
//!   clamping those outside the bounds: to the bound itself for absolute bounds, to the
//!   smallest or largest value kept for percentages.
//!
//! Availability (§2.3): a period with a negative value, or with a statistic set that is not
//! `count` copies of one value (`Minimum = Maximum` and `Sum = Minimum × SampleCount`), has no
//! extended statistics.
//!
//! Accuracy: percentiles, TC and PR are exact (counts are compared without rounding for integer
//! counts below 2^53); TM, TS and WM are exact up to the double-precision rounding of one
//! compensated (Neumaier) sum.

use crate::extended::{Bounds, ExtendedKind, ExtendedStatistic};
use crate::model::SampleValue;

/// Relative tolerance for `Sum = Minimum × SampleCount` in a statistic set: clients compute the
/// sum in floating point (`0.1 × 3` is not `0.3`).
const STATISTIC_SET_SUM_TOLERANCE: f64 = 1e-9;

/// A statistic set that is `count` copies of one value (`Minimum = Maximum` and
/// `Sum = Minimum × SampleCount`, reference §2.3), as `(value, count)`; `None` for an
/// aggregated set, whose raw values are unknown.
pub fn one_value_set(count: f64, sum: f64, min: f64, max: f64) -> Option<(f64, f64)> {
    (min == max && (sum - min * count).abs() <= STATISTIC_SET_SUM_TOLERANCE * sum.abs()).then_some((min, count))
}

/// A period's raw values as `(value, count)` pairs; [`RawValues::finish`] sorts them.
#[derive(Clone, Debug, Default)]
pub struct RawValues {
    pairs: Vec<(f64, f64)>,
    total: f64,
    unavailable: bool,
    sorted: bool,
}

impl RawValues {
    /// No values yet.
    pub fn new() -> Self {
        RawValues::default()
    }

    /// Adds one sample's values. A negative value or an aggregated statistic set makes the
    /// period's extended statistics unavailable.
    pub fn add(&mut self, v: &SampleValue) {
        if self.unavailable {
            return;
        }
        match v {
            SampleValue::Single(x) => self.push(*x, 1.0),
            SampleValue::Stats {
                count,
                sum,
                min,
                max,
            } => match one_value_set(*count, *sum, *min, *max) {
                Some((value, count)) => self.push(value, count),
                None => self.unavailable = true,
            },
            SampleValue::Rolled(r) => match &r.values {
                Some(pairs) => self.add_pairs(pairs),
                None => self.unavailable = true,
            },
            SampleValue::Distribution(pairs) => self.add_pairs(pairs),
        }
    }

    fn add_pairs(&mut self, pairs: &[(f64, f64)]) {
        for &(value, count) in pairs {
            if count > 0.0 {
                self.push(value, count);
            }
        }
    }

    fn push(&mut self, value: f64, count: f64) {
        if value < 0.0 {
            self.unavailable = true;
            return;
        }
        self.pairs.push((value, count));
        self.total += count;
        self.sorted = false;
    }

    /// Whether extended statistics can be computed: some values, none negative, no aggregated
    /// statistic set.
    pub fn available(&self) -> bool {
        !self.unavailable && self.total > 0.0
    }

    /// Sorts the values and merges equal ones; call once after the last [`RawValues::add`].
    pub fn finish(&mut self) {
        if self.sorted {
            return;
        }
        self.pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(self.pairs.len());
        for &(v, c) in &self.pairs {
            match merged.last_mut() {
                Some(last) if last.0 == v => last.1 += c,
                _ => merged.push((v, c)),
            }
        }
        self.pairs = merged;
        self.sorted = true;
    }

    /// The statistic's value, or `None` when it is unavailable for this period (see the module
    /// docs) or undefined (a trimmed mean with no value inside its bounds). A set not yet
    /// [finished](RawValues::finish) is sorted on a copy.
    pub fn compute(&self, stat: &ExtendedStatistic) -> Option<f64> {
        if !self.available() {
            return None;
        }
        if !self.sorted {
            let mut copy = self.clone();
            copy.finish();
            return copy.compute(stat);
        }
        if stat.kind == ExtendedKind::Percentile {
            let Bounds::Percent { hi, .. } = stat.bounds else {
                return None;
            };
            return Some(self.percentile(hi.unwrap_or(100.0)));
        }
        // Which pairs are inside the bounds, as a range of indexes into the sorted pairs.
        let (first, last) = match stat.bounds {
            Bounds::Value { lo, hi } => {
                let first = self
                    .pairs
                    .partition_point(|&(v, _)| lo.is_some_and(|l| v <= l));
                let last = self
                    .pairs
                    .partition_point(|&(v, _)| hi.is_none_or(|h| v <= h));
                (first, last.max(first))
            }
            Bounds::Percent { lo, hi } => self.rank_window(lo.unwrap_or(0.0), hi.unwrap_or(100.0)),
        };
        let inside = &self.pairs[first..last];
        let count: f64 = inside.iter().map(|p| p.1).sum();
        let mut sum = NeumaierSum::default();
        for &(v, c) in inside {
            sum.add(v * c);
        }
        match stat.kind {
            ExtendedKind::Percentile => unreachable!("handled above"),
            ExtendedKind::TrimmedMean => (count > 0.0).then(|| sum.value() / count),
            ExtendedKind::TrimmedCount => Some(count),
            ExtendedKind::TrimmedSum => Some(sum.value()),
            ExtendedKind::PercentileRank => Some(count * 100.0 / self.total),
            ExtendedKind::WinsorizedMean => {
                // Clamp to the bounds themselves for absolute bounds, to the outermost values
                // kept for percentages (no value is kept: nothing to clamp to).
                let (floor, ceiling) = match stat.bounds {
                    Bounds::Value { lo, hi } => (lo, hi),
                    Bounds::Percent { .. } => {
                        if inside.is_empty() {
                            return None;
                        }
                        (Some(inside[0].0), Some(inside[inside.len() - 1].0))
                    }
                };
                let mut all = NeumaierSum::default();
                for &(v, c) in &self.pairs {
                    let clamped = match (floor, ceiling) {
                        (Some(l), _) if v < l => l,
                        (_, Some(h)) if v > h => h,
                        _ => v,
                    };
                    all.add(clamped * c);
                }
                Some(all.value() / self.total)
            }
        }
    }

    /// The pairs inside percentage bounds `(lo % : hi %)`: those whose share of the sorted data
    /// overlaps the window, as whole values (ties are never split). A pair occupying
    /// `[before, after]` of the cumulative count is inside when `after > lo % × total` and
    /// `before < hi % × total`; products, not quotients, keep integer counts exact.
    fn rank_window(&self, lo: f64, hi: f64) -> (usize, usize) {
        let (lo_target, hi_target) = (lo * self.total, hi * self.total);
        let mut first = self.pairs.len();
        let mut last = 0;
        let mut before = 0.0;
        for (i, &(_, c)) in self.pairs.iter().enumerate() {
            let after = before + c;
            if before * 100.0 >= hi_target {
                break;
            }
            if after * 100.0 > lo_target {
                first = first.min(i);
                last = i + 1;
            }
            before = after;
        }
        if first < last {
            (first, last)
        } else {
            (0, 0)
        }
    }

    /// Nearest-rank percentile of sorted, merged pairs: the first value whose cumulative count
    /// reaches `p` % of the total. `cum × 100 ≥ p × total` keeps integer counts exact.
    fn percentile(&self, p: f64) -> f64 {
        let target = p * self.total;
        let mut cum = 0.0;
        for &(v, c) in &self.pairs {
            cum += c;
            if cum * 100.0 >= target {
                return v;
            }
        }
        self.pairs.last().map_or(f64::NAN, |l| l.0)
    }
}

/// Compensated summation (Neumaier's variant of Kahan's), so a mean over many values carries
/// one rounding, not one per value.
#[derive(Default)]
struct NeumaierSum {
    sum: f64,
    compensation: f64,
}

impl NeumaierSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[f64]) -> RawValues {
        let mut r = RawValues::new();
        for v in values {
            r.add(&SampleValue::Single(*v));
        }
        r.finish();
        r
    }

    fn get(r: &RawValues, name: &str) -> Option<f64> {
        r.compute(&ExtendedStatistic::parse(name).expect(name))
    }

    #[test]
    fn one_to_ten() {
        let r = of(&[7.0, 1.0, 4.0, 10.0, 2.0, 9.0, 3.0, 8.0, 6.0, 5.0]);
        assert_eq!(get(&r, "p0"), Some(1.0));
        assert_eq!(get(&r, "p10"), Some(1.0));
        assert_eq!(get(&r, "p10.0000000001"), Some(2.0));
        assert_eq!(get(&r, "p50"), Some(5.0));
        assert_eq!(get(&r, "p90"), Some(9.0));
        assert_eq!(get(&r, "p100"), Some(10.0));
        assert_eq!(get(&r, "tm90"), Some(5.0), "1..9");
        assert_eq!(get(&r, "tc90"), Some(9.0));
        assert_eq!(get(&r, "ts90"), Some(45.0));
        assert_eq!(get(&r, "TM(10%:90%)"), Some(5.5), "2..9");
        assert_eq!(get(&r, "TC(10%:90%)"), Some(8.0));
        assert_eq!(get(&r, "IQM"), Some(5.5), "3..8 reach into the middle half");
        assert_eq!(get(&r, "TC(25%:75%)"), Some(6.0));
        assert_eq!(get(&r, "wm90"), Some(5.4), "10 clamped to 9");
        assert_eq!(get(&r, "WM(10%:90%)"), Some(5.5), "1 -> 2, 10 -> 9");
        assert_eq!(get(&r, "WM(2:5)"), Some(4.1), "1,2 -> 2; 6..10 -> 5");
        assert_eq!(get(&r, "tm0"), None, "nothing is below 0 %");
        assert_eq!(get(&r, "tc0"), Some(0.0));
        assert_eq!(get(&r, "PR(:3)"), Some(30.0));
        assert_eq!(get(&r, "PR(3:5)"), Some(20.0), "3 is excluded, 5 included");
        assert_eq!(get(&r, "TM(3:5)"), Some(4.5));
        assert_eq!(get(&r, "TC(100:200)"), Some(0.0));
        assert_eq!(get(&r, "TS(100:200)"), Some(0.0));
        assert_eq!(get(&r, "TM(100:200)"), None, "no value inside");
    }

    #[test]
    fn availability_rules() {
        let mut r = RawValues::new();
        r.add(&SampleValue::Single(1.0));
        r.add(&SampleValue::Single(-0.5));
        r.finish();
        assert!(!r.available(), "a negative value");
        assert_eq!(get(&r, "p50"), None);

        let mut r = RawValues::new();
        r.add(&SampleValue::Stats {
            count: 4.0,
            sum: 10.0,
            min: 1.0,
            max: 4.0,
        });
        assert!(!r.available(), "an aggregated statistic set");

        let mut r = RawValues::new();
        r.add(&SampleValue::Stats {
            count: 3.0,
            sum: 0.3,
            min: 0.1,
            max: 0.1,
        });
        r.add(&SampleValue::Stats {
            count: 1.0,
            sum: 7.0,
            min: 7.0,
            max: 7.0,
        });
        r.add(&SampleValue::Distribution(vec![(2.0, 0.0), (5.0, 2.0)]));
        r.finish();
        assert!(r.available(), "one-value sets and a distribution");
        assert_eq!(get(&r, "p50"), Some(0.1), "weights 3,2,1 of 0.1,5,7");
        assert_eq!(get(&r, "p51"), Some(5.0));
        assert_eq!(get(&r, "tc100"), Some(6.0));
        assert_eq!(get(&r, "p0"), Some(0.1), "a zero count is not a value");

        assert!(!RawValues::new().available(), "no values");
        let zero = of(&[0.0, -0.0]);
        assert!(zero.available(), "negative zero is not negative");
    }

    #[test]
    fn unsorted_values_are_sorted_on_demand() {
        let mut r = RawValues::new();
        for v in [3.0, 1.0, 2.0] {
            r.add(&SampleValue::Single(v));
        }
        assert_eq!(get(&r, "p50"), Some(2.0));
    }
}
