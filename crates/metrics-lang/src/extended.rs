//! Extended statistic names (reference `cloudwatch.md` §2.2): `pNN`, `tmNN`/`TM(a%:b%)`/
//! `TM(a:b)`, `IQM`, `wmNN`/`WM(...)`, `PR(n:m)`, `tcNN`/`TC(...)`, `tsNN`/`TS(...)`, parsed
//! into what they compute. Computing them is the statistics engine's job; this module only
//! decides which strings are statistics and what their bounds mean.
//!
//! The grammar is AWS's (`AnomalyDetectorMetricStat` in the CloudWatch API model): a lowercase
//! form takes one percentage, `\d{1,2}(\.\d{0,10})?` or `100`, as the upper bound; an
//! uppercase form takes a range `(lo:hi)` of percentages (`25%`) or of absolute values, either
//! end optional, up to 10 decimal places. Decisions where AWS is silent (`docs/deviations.md`):
//! both ends of a range cannot be omitted, `lo` must be below `hi`, absolute bounds may be
//! negative, and the undocumented `oNN`/`uNN` statistics and `_E`/`_L`/`_H` suffixes are
//! refused.

/// What an extended statistic computes over a period's raw values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtendedKind {
    /// `pNN`: the value below which NN % of the data lies.
    Percentile,
    /// `tmNN`, `TM(...)`, `IQM`: mean of the values inside the bounds.
    TrimmedMean,
    /// `tcNN`, `TC(...)`: number of values inside the bounds.
    TrimmedCount,
    /// `tsNN`, `TS(...)`: sum of the values inside the bounds (TM × TC).
    TrimmedSum,
    /// `wmNN`, `WM(...)`: mean after clamping values outside the bounds to them.
    WinsorizedMean,
    /// `PR(n:m)`: percentage of values inside the bounds.
    PercentileRank,
}

/// The bounds of an extended statistic; `None` is an open end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// Percentages of the data (0–100), by rank.
    Percent {
        /// Lower end (exclusive).
        lo: Option<f64>,
        /// Upper end (inclusive).
        hi: Option<f64>,
    },
    /// Absolute values: lower end exclusive, upper end inclusive.
    Value {
        /// Lower end (exclusive).
        lo: Option<f64>,
        /// Upper end (inclusive).
        hi: Option<f64>,
    },
}

/// A parsed extended statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtendedStatistic {
    /// What it computes.
    pub kind: ExtendedKind,
    /// Over which values. For [`ExtendedKind::Percentile`], `Percent { lo: None, hi: Some(p) }`.
    pub bounds: Bounds,
}

/// Why a string is not an extended statistic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStatistic(pub String);

impl std::fmt::Display for InvalidStatistic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most decimal places a bound may have.
const MAX_DECIMALS: usize = 10;

impl ExtendedStatistic {
    /// Parses an extended statistic name exactly as AWS spells it (case-sensitive).
    pub fn parse(s: &str) -> Result<ExtendedStatistic, InvalidStatistic> {
        let bad = |why: &str| InvalidStatistic(format!("{s:?} is not a valid extended statistic: {why}"));
        if s == "IQM" {
            return Ok(ExtendedStatistic {
                kind: ExtendedKind::TrimmedMean,
                bounds: Bounds::Percent { lo: Some(25.0), hi: Some(75.0) },
            });
        }
        for (prefix, kind) in [
            ("p", ExtendedKind::Percentile),
            ("tm", ExtendedKind::TrimmedMean),
            ("tc", ExtendedKind::TrimmedCount),
            ("ts", ExtendedKind::TrimmedSum),
            ("wm", ExtendedKind::WinsorizedMean),
        ] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    let pct = lowercase_percent(rest).ok_or_else(|| bad("expected a percentage from 0 to 100 with at most 10 decimal places"))?;
                    return Ok(ExtendedStatistic { kind, bounds: Bounds::Percent { lo: None, hi: Some(pct) } });
                }
            }
        }
        for (prefix, kind) in [
            ("TM(", ExtendedKind::TrimmedMean),
            ("TC(", ExtendedKind::TrimmedCount),
            ("TS(", ExtendedKind::TrimmedSum),
            ("WM(", ExtendedKind::WinsorizedMean),
            ("PR(", ExtendedKind::PercentileRank),
        ] {
            let Some(inner) = s.strip_prefix(prefix).and_then(|r| r.strip_suffix(')')) else { continue };
            let (lo, hi) = inner.split_once(':').ok_or_else(|| bad("a range needs a colon, as in TM(10%:90%)"))?;
            let (lo, hi) = (bound(lo).ok_or_else(|| bad("bad lower bound"))?, bound(hi).ok_or_else(|| bad("bad upper bound"))?);
            let percent = match (lo, hi) {
                (None, None) => return Err(bad("a range needs at least one bound")),
                (Some((_, p)), None) | (None, Some((_, p))) => p,
                (Some((_, a)), Some((_, b))) if a == b => a,
                _ => return Err(bad("both bounds must be percentages or both absolute values")),
            };
            let (lo, hi) = (lo.map(|(v, _)| v), hi.map(|(v, _)| v));
            if let (Some(a), Some(b)) = (lo, hi) {
                if a >= b {
                    return Err(bad("the lower bound must be below the upper bound"));
                }
            }
            let bounds = if percent {
                if kind == ExtendedKind::PercentileRank {
                    return Err(bad("PR takes absolute values, not percentages"));
                }
                if [lo, hi].into_iter().flatten().any(|p| !(0.0..=100.0).contains(&p)) {
                    return Err(bad("percentages run from 0 to 100"));
                }
                Bounds::Percent { lo, hi }
            } else {
                Bounds::Value { lo, hi }
            };
            return Ok(ExtendedStatistic { kind, bounds });
        }
        Err(bad("not one of pNN, tmNN, tcNN, tsNN, wmNN, IQM, TM(..), TC(..), TS(..), WM(..), PR(..)"))
    }
}

/// `\d{1,2}(\.\d{0,10})?|100` as a number.
fn lowercase_percent(s: &str) -> Option<f64> {
    if s == "100" {
        return Some(100.0);
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let ok = (1..=2).contains(&int.len()) && digits(int) && frac.is_none_or(|f| f.len() <= MAX_DECIMALS && digits(f));
    ok.then(|| s.trim_end_matches('.').parse().ok()).flatten()
}

/// One end of a range: empty (open), `N%` or `N`, where N is `-?\d+(\.\d{1,10})?`. Returns
/// the number and whether it was a percentage.
fn bound(s: &str) -> Option<Option<(f64, bool)>> {
    if s.is_empty() {
        return Some(None);
    }
    let (num, percent) = match s.strip_suffix('%') {
        Some(n) => (n, true),
        None => (s, false),
    };
    let unsigned = num.strip_prefix('-').unwrap_or(num);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| f.len() > MAX_DECIMALS || !digits(f)) {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    v.is_finite().then_some(Some((v, percent)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExtendedKind::*;

    fn pct(lo: Option<f64>, hi: Option<f64>) -> Bounds {
        Bounds::Percent { lo, hi }
    }

    fn val(lo: Option<f64>, hi: Option<f64>) -> Bounds {
        Bounds::Value { lo, hi }
    }

    #[test]
    fn valid_names_parse_to_what_they_compute() {
        let cases = [
            ("p99", Percentile, pct(None, Some(99.0))),
            ("p0", Percentile, pct(None, Some(0.0))),
            ("p100", Percentile, pct(None, Some(100.0))),
            ("p99.9", Percentile, pct(None, Some(99.9))),
            ("p5.", Percentile, pct(None, Some(5.0))),
            ("p99.1234567891", Percentile, pct(None, Some(99.1234567891))),
            ("tm90", TrimmedMean, pct(None, Some(90.0))),
            ("tc90", TrimmedCount, pct(None, Some(90.0))),
            ("ts99", TrimmedSum, pct(None, Some(99.0))),
            ("wm95", WinsorizedMean, pct(None, Some(95.0))),
            ("IQM", TrimmedMean, pct(Some(25.0), Some(75.0))),
            ("TM(10%:90%)", TrimmedMean, pct(Some(10.0), Some(90.0))),
            ("TM(:99%)", TrimmedMean, pct(None, Some(99.0))),
            ("TM(1%:)", TrimmedMean, pct(Some(1.0), None)),
            ("TM(150:1000)", TrimmedMean, val(Some(150.0), Some(1000.0))),
            ("TC(0.005:0.030)", TrimmedCount, val(Some(0.005), Some(0.03))),
            ("TS(80%:100%)", TrimmedSum, pct(Some(80.0), Some(100.0))),
            ("WM(:2000)", WinsorizedMean, val(None, Some(2000.0))),
            ("PR(:300)", PercentileRank, val(None, Some(300.0))),
            ("PR(100:2000)", PercentileRank, val(Some(100.0), Some(2000.0))),
            ("TM(-5:5)", TrimmedMean, val(Some(-5.0), Some(5.0))),
        ];
        for (name, kind, bounds) in cases {
            assert_eq!(ExtendedStatistic::parse(name), Ok(ExtendedStatistic { kind, bounds }), "{name}");
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        for name in [
            "", "p", "p100.0", "p101", "p123", "p99.12345678901", "P99", "pp99", "p-1", "p 99", "tm", "tx50",
            "iqm", "IQM ", "TM()", "TM(:)", "TM(10%90%)", "TM(10%:90)", "TM(90%:10%)", "TM(5:5)",
            "TM(10%:101%)", "PR(10%:90%)", "TM(1.12345678901:2)", "TM(a:b)", "TM(1e3:2e3)", "tm(10%:90%)",
            "TM(10%:90%", "o99", "u5", "p99_E", "p99_L", "TM(10%:90%)_H", "Average", "SampleCount",
        ] {
            assert!(ExtendedStatistic::parse(name).is_err(), "{name:?} should be refused");
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in "[pPtTmMcCsSwWrRIQ()%:.0-9-]{0,16}") {
            let _ = ExtendedStatistic::parse(&s);
        }
    }
}
