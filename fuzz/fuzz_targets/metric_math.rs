//! Metric math: any text either fails to parse with a position inside it, or parses and
//! evaluates (against a small fixed request) to an error or to series whose points are finite
//! and in strictly ascending time order. Never a panic, never unbounded work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_core::Timestamp;
use watchtrail_metrics_lang::math::{self, Context, Grid, MathError, Output, Series, Value};

struct Fixed;

fn series(label: &str, points: &[(i64, f64)]) -> Series {
    Series { label: label.into(), points: points.to_vec(), period: 60, info: None }
}

impl Context for Fixed {
    fn grid(&self) -> Grid {
        Grid { start: Timestamp(0), end: Timestamp(300_000), now: Timestamp(600_000) }
    }
    fn reference(&mut self, id: &str) -> Result<Value, MathError> {
        match id {
            "a" => Ok(Value::Series(series("A", &[(0, 10.0), (60_000, -2.5), (120_000, 0.0), (240_000, 1e300)]))),
            "b" => Ok(Value::Series(series("B", &[(60_000, 3.0), (180_000, -0.0)]))),
            "c" => Ok(Value::Array(vec![series("A", &[(0, 1.0)]), series("E", &[])])),
            _ => Err(MathError(format!("unknown Id {id}"))),
        }
    }
    fn metrics(&mut self, filter: Option<&str>) -> Result<Vec<Series>, MathError> {
        let all = vec![series("A", &[(0, 1.0), (60_000, 2.0)]), series("B", &[(120_000, 5.0)])];
        Ok(all.into_iter().filter(|s| filter.is_none_or(|f| s.label.contains(f))).collect())
    }
    fn search(&mut self, _index: usize) -> Result<Vec<Series>, MathError> {
        Ok(vec![series("i-1 CPUUtilization", &[(0, 4.0)])])
    }
    fn default_period(&self) -> i64 {
        60
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match math::parse(text) {
        Err(e) => assert!(e.at <= text.chars().count(), "error position {} past the end of {text:?}", e.at),
        Ok(expr) => {
            if let Ok(out) = math::evaluate_query(&expr, &mut Fixed) {
                let all = match out {
                    Output::Single(s) => vec![s],
                    Output::Array(xs) => xs,
                };
                for s in all {
                    assert!(s.points.windows(2).all(|w| w[0].0 < w[1].0), "points out of order for {text:?}: {:?}", s.points);
                    assert!(s.points.iter().all(|p| p.1.is_finite()), "a non-finite point for {text:?}: {:?}", s.points);
                }
            }
        }
    }
});
