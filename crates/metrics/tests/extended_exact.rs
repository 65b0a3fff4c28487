//! Every extended statistic against a brute-force computation over the expanded multiset of
//! values, on many distributions and sizes, with values sent as single values, as
//! distributions with counts and as one-value statistic sets (reference `cloudwatch.md` §2).
//!
//! The oracle is written independently of `exact.rs`: it expands every count into copies,
//! sorts, and decides ranks with integer arithmetic on the percentage's decimal digits (scaled
//! by 10^10), so a rounding slip in the fast path shows up as a wrong value. The accuracy
//! claimed in the docs is checked: percentiles, TC and PR exactly; TM, TS and WM exactly when
//! the values are dyadic (sums are then exact in both), else to a relative 1e-9.

use watchtrail_metrics::exact::RawValues;
use watchtrail_metrics::extended::ExtendedStatistic;
use watchtrail_metrics::model::SampleValue;

/// SplitMix64: a small deterministic generator, so every run tests the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A percentage or a value as written in a statistic name, kept as text so the oracle can do
/// exact arithmetic on it.
#[derive(Clone, Debug)]
struct Num(String);

impl Num {
    fn f64(&self) -> f64 {
        self.0.parse().unwrap()
    }
    /// The percentage × 10^10 as an integer (at most 10 decimal places by the grammar).
    fn scaled(&self) -> i128 {
        let (int, frac) = self.0.split_once('.').unwrap_or((&self.0, ""));
        let frac = format!("{frac:0<10}");
        int.parse::<i128>().unwrap() * 10_000_000_000 + frac.parse::<i128>().unwrap()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    P,
    Tm,
    Tc,
    Ts,
    Wm,
    Pr,
}

#[derive(Clone, Debug)]
struct Spec {
    kind: Kind,
    lo: Option<Num>,
    hi: Option<Num>,
    percent: bool,
    /// Spell a percentage upper bound in the lowercase form (`tm90`).
    lowercase: bool,
}

impl Spec {
    fn name(&self) -> String {
        let (lower, upper) = match self.kind {
            Kind::P => ("p", ""),
            Kind::Tm => ("tm", "TM"),
            Kind::Tc => ("tc", "TC"),
            Kind::Ts => ("ts", "TS"),
            Kind::Wm => ("wm", "WM"),
            Kind::Pr => ("", "PR"),
        };
        if self.lowercase {
            return format!("{lower}{}", self.hi.as_ref().unwrap().0);
        }
        let pct = if self.percent { "%" } else { "" };
        let end = |n: &Option<Num>| {
            n.as_ref()
                .map(|n| format!("{}{pct}", n.0))
                .unwrap_or_default()
        };
        format!("{upper}({}:{})", end(&self.lo), end(&self.hi))
    }
}

fn pct_specs() -> Vec<Spec> {
    let n = |s: &str| Some(Num(s.to_string()));
    let mut out = Vec::new();
    for p in [
        "0",
        "0.1",
        "1",
        "5",
        "10",
        "25",
        "33.3333333333",
        "50",
        "66.6666666667",
        "75",
        "90",
        "95",
        "99",
        "99.9",
        "99.99",
        "100",
    ] {
        out.push(Spec {
            kind: Kind::P,
            lo: None,
            hi: n(p),
            percent: true,
            lowercase: true,
        });
    }
    for kind in [Kind::Tm, Kind::Tc, Kind::Ts, Kind::Wm] {
        for p in ["0", "1", "50", "90", "99", "99.9", "100"] {
            out.push(Spec {
                kind,
                lo: None,
                hi: n(p),
                percent: true,
                lowercase: true,
            });
        }
        for (lo, hi) in [
            ("10", "90"),
            ("25", "75"),
            ("", "50"),
            ("5", ""),
            ("0", "100"),
            ("1.5", "98.5"),
            ("50", "50.0000000001"),
            ("99", "100"),
        ] {
            let lo = if lo.is_empty() { None } else { n(lo) };
            let hi = if hi.is_empty() { None } else { n(hi) };
            out.push(Spec {
                kind,
                lo,
                hi,
                percent: true,
                lowercase: false,
            });
        }
    }
    out
}

/// Absolute-bound specs with bounds taken from the data (so ties sit exactly on the bounds).
fn value_specs(sorted: &[f64], spell: impl Fn(f64) -> String) -> Vec<Spec> {
    let at = |q: usize| Num(spell(sorted[(sorted.len() - 1) * q / 4]));
    let mut out = Vec::new();
    for kind in [Kind::Tm, Kind::Tc, Kind::Ts, Kind::Wm, Kind::Pr] {
        let ranges = [
            (Some(at(1)), Some(at(3))),
            (None, Some(at(2))),
            (Some(at(2)), None),
            (Some(at(0)), Some(at(4))),
        ];
        for (lo, hi) in ranges {
            if let (Some(l), Some(h)) = (&lo, &hi) {
                if l.f64() >= h.f64() {
                    continue;
                }
            }
            out.push(Spec {
                kind,
                lo,
                hi,
                percent: false,
                lowercase: false,
            });
        }
    }
    out
}

/// The statistic over the expanded, sorted values, by the documented definitions.
fn oracle(spec: &Spec, xs: &[f64]) -> Option<f64> {
    let n = xs.len() as i128;
    let scale: i128 = 10_000_000_000;
    // Nearest rank: the smallest r with r × 100 ≥ p × n.
    let percentile = |p: &Num| {
        let r = (1..=n).find(|r| r * 100 * scale >= p.scaled() * n).unwrap();
        xs[(r - 1) as usize]
    };
    if spec.kind == Kind::P {
        return Some(percentile(spec.hi.as_ref().unwrap()));
    }
    let kept: Vec<bool> = xs
        .iter()
        .map(|&v| {
            if spec.percent {
                let before = xs.partition_point(|&x| x < v) as i128;
                let after = xs.partition_point(|&x| x <= v) as i128;
                let lo_ok = spec
                    .lo
                    .as_ref()
                    .is_none_or(|lo| after * 100 * scale > lo.scaled() * n);
                let hi_ok = spec
                    .hi
                    .as_ref()
                    .is_none_or(|hi| before * 100 * scale < hi.scaled() * n);
                lo_ok && hi_ok
            } else {
                spec.lo.as_ref().is_none_or(|lo| v > lo.f64())
                    && spec.hi.as_ref().is_none_or(|hi| v <= hi.f64())
            }
        })
        .collect();
    let inside: Vec<f64> = xs
        .iter()
        .zip(&kept)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .collect();
    let count = inside.len() as f64;
    match spec.kind {
        Kind::P => unreachable!(),
        Kind::Tm => (!inside.is_empty()).then(|| exact_sum(&inside) / count),
        Kind::Tc => Some(count),
        Kind::Ts => Some(exact_sum(&inside)),
        Kind::Pr => Some(count * 100.0 / xs.len() as f64),
        Kind::Wm => {
            let (floor, ceiling) = if spec.percent {
                (inside.first().copied()?, inside.last().copied()?)
            } else {
                (
                    spec.lo.as_ref().map_or(f64::NEG_INFINITY, Num::f64),
                    spec.hi.as_ref().map_or(f64::INFINITY, Num::f64),
                )
            };
            let clamped: Vec<f64> = xs.iter().map(|v| v.clamp(floor, ceiling)).collect();
            Some(exact_sum(&clamped) / xs.len() as f64)
        }
    }
}

/// Whether every value is a multiple of 2^-10 small enough that sums are exact integers.
fn dyadic(xs: &[f64]) -> bool {
    xs.iter()
        .all(|v| (v * 1024.0).fract() == 0.0 && v.abs() < 2f64.powi(30))
}

/// The sum: exact (integer arithmetic) for dyadic values, naive otherwise.
fn exact_sum(xs: &[f64]) -> f64 {
    if dyadic(xs) {
        let total: i128 = xs.iter().map(|v| (v * 1024.0) as i128).sum();
        total as f64 / 1024.0
    } else {
        xs.iter().sum()
    }
}

/// How one test case's values are sent.
#[derive(Clone, Copy, Debug)]
enum Sending {
    Singles,
    Distributions,
    StatisticSets,
    Mixed,
}

fn samples(xs: &[f64], how: Sending, rng: &mut Rng) -> Vec<SampleValue> {
    // Group equal values (xs is sorted) so counts > 1 occur.
    let mut groups: Vec<(f64, f64)> = Vec::new();
    for &v in xs {
        match groups.last_mut() {
            Some(g) if g.0 == v => g.1 += 1.0,
            _ => groups.push((v, 1.0)),
        }
    }
    let mut out = Vec::new();
    for (i, &(v, c)) in groups.iter().enumerate() {
        let style = match how {
            Sending::Mixed => [
                Sending::Singles,
                Sending::Distributions,
                Sending::StatisticSets,
            ][rng.below(3) as usize],
            other => other,
        };
        match style {
            Sending::Singles | Sending::Mixed => {
                out.extend((0..c as usize).map(|_| SampleValue::Single(v)))
            }
            Sending::Distributions => {
                // Up to 150 pairs per distribution, a zero-count pair thrown in.
                if i % 150 == 0 {
                    out.push(SampleValue::Distribution(vec![(v + 1.0, 0.0)]));
                }
                match out.last_mut() {
                    Some(SampleValue::Distribution(pairs)) if pairs.len() < 150 => {
                        pairs.push((v, c))
                    }
                    _ => out.push(SampleValue::Distribution(vec![(v, c)])),
                }
            }
            Sending::StatisticSets => out.push(SampleValue::Stats {
                count: c,
                sum: v * c,
                min: v,
                max: v,
            }),
        }
    }
    // The order values arrive in must not matter.
    for i in (1..out.len()).rev() {
        out.swap(i, rng.below(i as u64 + 1) as usize);
    }
    out
}

type Generator = fn(&mut Rng) -> f64;

fn distributions() -> Vec<(&'static str, Generator)> {
    vec![
        ("uniform dyadic", |r| r.below(1 << 20) as f64 / 1024.0),
        ("small integers (many ties)", |r| r.below(11) as f64),
        ("constant", |_| 42.0),
        ("two points", |r| if r.below(10) < 7 { 1.0 } else { 1000.0 }),
        ("mostly zero", |r| {
            if r.below(10) < 9 {
                0.0
            } else {
                r.below(100) as f64
            }
        }),
        ("exponential", |r| -r.unit().ln() * 100.0),
        ("pareto (heavy tail)", |r| (1.0 - r.unit()).powf(-1.0 / 1.5)),
        ("normal, folded", |r| {
            let z = (-2.0 * r.unit().ln()).sqrt() * (std::f64::consts::TAU * r.unit()).cos();
            (50.0 + 10.0 * z).abs()
        }),
        ("bimodal latency", |r| {
            if r.below(2) == 0 {
                0.010 + 0.002 * r.unit()
            } else {
                0.250 + 0.05 * r.unit()
            }
        }),
        ("huge and tiny", |r| {
            if r.below(2) == 0 {
                1e300 * r.unit()
            } else {
                1e-300 * r.unit()
            }
        }),
    ]
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn every_statistic_matches_brute_force_on_many_distributions() {
    let mut rng = Rng(0x5EED);
    let sizes = [1usize, 2, 3, 4, 5, 7, 10, 20, 99, 100, 101, 1000, 2999];
    let mut checked = 0usize;
    for (dist, gen) in distributions() {
        for &n in &sizes {
            let mut xs: Vec<f64> = (0..n).map(|_| gen(&mut rng)).collect();
            xs.sort_by(f64::total_cmp);
            let spell = |v: f64| {
                if dyadic(&[v]) {
                    format!("{v}")
                } else {
                    format!("{v:.3}")
                }
            };
            let specs: Vec<Spec> = pct_specs()
                .into_iter()
                .chain(value_specs(&xs, spell))
                .collect();
            let mut cases = Vec::new();
            for spec in &specs {
                let name = spec.name();
                let Ok(stat) = ExtendedStatistic::parse(&name) else {
                    // A value bound spelled with more than 10 decimals is not a statistic.
                    assert!(!spec.percent, "{name} must parse");
                    continue;
                };
                cases.push((spec, name, stat, oracle(spec, &xs)));
            }
            for how in [
                Sending::Singles,
                Sending::Distributions,
                Sending::StatisticSets,
                Sending::Mixed,
            ] {
                let mut raw = RawValues::new();
                for s in samples(&xs, how, &mut rng) {
                    raw.add(&s);
                }
                raw.finish();
                assert!(raw.available(), "{dist} n={n} {how:?}");
                for (spec, name, stat, want) in &cases {
                    let (want, got) = (*want, raw.compute(stat));
                    let exact = matches!(spec.kind, Kind::P | Kind::Tc | Kind::Pr) || dyadic(&xs);
                    let ok = match (want, got) {
                        (Some(w), Some(g)) => close(w, g, if exact { 0.0 } else { 1e-9 }),
                        (None, None) => true,
                        _ => false,
                    };
                    assert!(
                        ok,
                        "{dist}, n={n}, sent as {how:?}: {name} = {got:?}, brute force {want:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 30_000, "only {checked} cases ran");
}

#[test]
fn any_negative_value_or_aggregated_set_makes_every_statistic_unavailable() {
    let mut rng = Rng(7);
    for n in [1usize, 10, 500] {
        let xs: Vec<f64> = (0..n).map(|_| rng.unit() * 100.0).collect();
        let negative = SampleValue::Single(-rng.unit());
        let aggregated = SampleValue::Stats {
            count: 2.0,
            sum: 3.0,
            min: 1.0,
            max: 2.0,
        };
        let negative_in_distribution = SampleValue::Distribution(vec![(5.0, 1.0), (-1.0, 2.0)]);
        let negative_set = SampleValue::Stats {
            count: 1.0,
            sum: -2.0,
            min: -2.0,
            max: -2.0,
        };
        for spoiler in [negative, aggregated, negative_in_distribution, negative_set] {
            let mut raw = RawValues::new();
            let at = rng.below(n as u64 + 1) as usize;
            for (i, &v) in xs.iter().enumerate() {
                if i == at {
                    raw.add(&spoiler);
                }
                raw.add(&SampleValue::Single(v));
            }
            if at == n {
                raw.add(&spoiler);
            }
            raw.finish();
            assert!(!raw.available());
            for spec in pct_specs() {
                let name = spec.name();
                assert_eq!(
                    raw.compute(&ExtendedStatistic::parse(&name).unwrap()),
                    None,
                    "{name} with {spoiler:?}"
                );
            }
        }
    }
}

proptest::proptest! {
    /// Scaling every count by a power of two changes TC and TS by that factor and nothing else:
    /// fractional counts are weights, as CloudWatch's `Counts` are doubles.
    #[test]
    fn counts_are_weights(pairs in proptest::collection::vec((0u32..1000, 1u32..20), 1..60), shift in 1i32..6) {
        let factor = 2f64.powi(-shift);
        let mut whole = RawValues::new();
        let mut scaled = RawValues::new();
        for &(v, c) in &pairs {
            whole.add(&SampleValue::Distribution(vec![(v as f64, c as f64)]));
            scaled.add(&SampleValue::Distribution(vec![(v as f64, c as f64 * factor)]));
        }
        whole.finish();
        scaled.finish();
        for spec in pct_specs() {
            let stat = ExtendedStatistic::parse(&spec.name()).unwrap();
            let (a, b) = (whole.compute(&stat), scaled.compute(&stat));
            let b = match spec.kind {
                Kind::Tc | Kind::Ts => b.map(|b| b / factor),
                _ => b,
            };
            proptest::prop_assert_eq!(a, b, "{}", spec.name());
        }
    }
}
