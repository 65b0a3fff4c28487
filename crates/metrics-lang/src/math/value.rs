//! What metric math computes with: scalars, time series and arrays of time series, and the
//! operators between them (reference `cloudwatch.md` §3.2).
//!
//! Missing values: between two time series the result has a point wherever either has one,
//! and a missing value counts as 0 (arithmetic, comparison and logical operators alike). A
//! point whose result is not a finite number (a division by zero, `LOG(0)`, an overflow) is
//! dropped. A scalar with no value (the `AVG` of an empty series) makes every point it meets
//! disappear.

use super::parse::BinOp;
use std::sync::Arc;

/// The metric behind a series, for `PERIOD()` and `${PROP('…')}` labels.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricInfo {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// Dimensions, sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// The statistic queried.
    pub stat: String,
    /// The period queried, in seconds.
    pub period: i64,
}

/// One time series: points in ascending timestamp order, one per timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The default label (`${LABEL}`).
    pub label: String,
    /// `(timestamp ms, value)`, ascending, unique timestamps.
    pub points: Vec<(i64, f64)>,
    /// Period in seconds.
    pub period: i64,
    /// The metric queried, when the series comes straight from one.
    pub info: Option<Arc<MetricInfo>>,
}

impl Series {
    /// A series derived from `self` with other points (same label, period and metric).
    pub fn with_points(&self, points: Vec<(i64, f64)>) -> Series {
        Series { label: self.label.clone(), points, period: self.period, info: self.info.clone() }
    }

    /// The value at `ts`, if there is a point there.
    pub fn at(&self, ts: i64) -> Option<f64> {
        self.points.binary_search_by_key(&ts, |p| p.0).ok().map(|i| self.points[i].1)
    }
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number; NaN is a scalar with no value.
    Scalar(f64),
    /// A time series.
    Series(Series),
    /// An array of time series.
    Array(Vec<Series>),
    /// A quoted string argument.
    Text(String),
    /// An uppercase keyword argument.
    Keyword(String),
}

impl Value {
    /// The data type's name as AWS's docs abbreviate it.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "S",
            Value::Series(_) => "TS",
            Value::Array(_) => "TS[]",
            Value::Text(_) => "string",
            Value::Keyword(_) => "keyword",
        }
    }
}

/// An error in an expression, reported as `Error in expression <id>: <message>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MathError(pub String);

impl std::fmt::Display for MathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shorthand for an error result.
pub fn fail<T>(message: impl Into<String>) -> Result<T, MathError> {
    Err(MathError(message.into()))
}

/// `a op b` on two numbers; `None` when the result is not a finite number.
pub fn apply(op: BinOp, a: f64, b: f64) -> Option<f64> {
    let truth = |x: bool| if x { 1.0 } else { 0.0 };
    let v = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return None;
            }
            a / b
        }
        BinOp::Pow => a.powf(b),
        BinOp::Eq => truth(a == b),
        BinOp::Ne => truth(a != b),
        BinOp::Lt => truth(a < b),
        BinOp::Le => truth(a <= b),
        BinOp::Gt => truth(a > b),
        BinOp::Ge => truth(a >= b),
        BinOp::And => truth(a != 0.0 && b != 0.0),
        BinOp::Or => truth(a != 0.0 || b != 0.0),
    };
    v.is_finite().then_some(v)
}

/// `l op r` for any two values.
pub fn binary(op: BinOp, l: Value, r: Value) -> Result<Value, MathError> {
    Ok(match (l, r) {
        (Value::Scalar(a), Value::Scalar(b)) => {
            Value::Scalar(if a.is_nan() || b.is_nan() { f64::NAN } else { apply(op, a, b).unwrap_or(f64::NAN) })
        }
        (Value::Series(s), Value::Scalar(b)) => Value::Series(series_scalar(op, &s, b, false)),
        (Value::Scalar(a), Value::Series(s)) => Value::Series(series_scalar(op, &s, a, true)),
        (Value::Series(a), Value::Series(b)) => Value::Series(series_series(op, &a, &b)),
        (Value::Array(xs), Value::Scalar(b)) => Value::Array(xs.iter().map(|s| series_scalar(op, s, b, false)).collect()),
        (Value::Scalar(a), Value::Array(xs)) => Value::Array(xs.iter().map(|s| series_scalar(op, s, a, true)).collect()),
        (Value::Array(xs), Value::Series(b)) => Value::Array(xs.iter().map(|s| series_series(op, s, &b)).collect()),
        (Value::Series(a), Value::Array(xs)) => {
            Value::Array(xs.iter().map(|s| relabel(series_series(op, &a, s), s)).collect())
        }
        (Value::Array(_), Value::Array(_)) => return fail("operators cannot combine two arrays of time series"),
        (l, r) => return fail(format!("operator {op:?} cannot take a {} and a {}", l.kind(), r.kind())),
    })
}

/// Keeps `from`'s label and metric on a result computed from `from`.
fn relabel(mut s: Series, from: &Series) -> Series {
    s.label = from.label.clone();
    s.info = from.info.clone();
    s
}

fn series_scalar(op: BinOp, s: &Series, x: f64, scalar_first: bool) -> Series {
    if x.is_nan() {
        return s.with_points(Vec::new());
    }
    let points = s
        .points
        .iter()
        .filter_map(|&(t, v)| {
            let r = if scalar_first { apply(op, x, v) } else { apply(op, v, x) };
            r.map(|r| (t, r))
        })
        .collect();
    s.with_points(points)
}

/// Union of timestamps, a missing value counting as 0.
fn series_series(op: BinOp, a: &Series, b: &Series) -> Series {
    let mut points = Vec::with_capacity(a.points.len().max(b.points.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.points.len() || j < b.points.len() {
        let ta = a.points.get(i).map(|p| p.0);
        let tb = b.points.get(j).map(|p| p.0);
        let (t, x, y) = match (ta, tb) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                (x, a.points[i - 1].1, b.points[j - 1].1)
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                (x, a.points[i - 1].1, 0.0)
            }
            (Some(x), None) => {
                i += 1;
                (x, a.points[i - 1].1, 0.0)
            }
            (_, Some(y)) => {
                j += 1;
                (y, 0.0, b.points[j - 1].1)
            }
            (None, None) => unreachable!("loop condition"),
        };
        if let Some(v) = apply(op, x, y) {
            points.push((t, v));
        }
    }
    Series { label: a.label.clone(), points, period: a.period.max(b.period), info: a.info.clone() }
}

/// `-x`.
pub fn negate(v: Value) -> Result<Value, MathError> {
    binary(BinOp::Mul, v, Value::Scalar(-1.0)).map(|r| match r {
        // -(NaN) stays "no value"; -0 is 0.
        Value::Scalar(x) => Value::Scalar(x + 0.0),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(points: &[(i64, f64)]) -> Series {
        Series { label: "s".into(), points: points.to_vec(), period: 60, info: None }
    }

    #[test]
    fn the_documented_comparison_table() {
        // metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -]
        let m1 = ts(&[(0, 30.0), (1, 20.0), (2, 0.0), (3, 0.0)]);
        let m2 = ts(&[(0, 20.0), (2, 20.0)]);
        let lt = binary(BinOp::Lt, Value::Series(m1.clone()), Value::Series(m2.clone())).unwrap();
        let Value::Series(lt) = lt else { panic!() };
        assert_eq!(lt.points.iter().map(|p| p.1).collect::<Vec<_>>(), [0.0, 0.0, 1.0, 0.0]);
        let gt15 = |s: &Series| binary(BinOp::Gt, Value::Series(s.clone()), Value::Scalar(15.0)).unwrap();
        let both = binary(BinOp::And, gt15(&m1), gt15(&m2)).unwrap();
        let Value::Series(both) = both else { panic!() };
        assert_eq!(both.points.iter().map(|p| p.1).collect::<Vec<_>>(), [1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn division_by_zero_drops_the_point() {
        let a = ts(&[(0, 1.0), (1, 2.0), (2, 3.0)]);
        let b = ts(&[(0, 0.0), (1, 4.0)]);
        let Value::Series(r) = binary(BinOp::Div, Value::Series(a), Value::Series(b)).unwrap() else { panic!() };
        assert_eq!(r.points, [(1, 0.5)], "t0: 1/0 dropped, t2: 3/missing(0) dropped");
        assert!(binary(BinOp::Div, Value::Scalar(1.0), Value::Scalar(0.0)).unwrap() != Value::Scalar(0.0));
        assert!(binary(BinOp::Add, Value::Array(vec![]), Value::Array(vec![])).is_err());
    }
}
