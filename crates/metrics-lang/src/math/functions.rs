//! The functions of metric math (reference `cloudwatch.md` §3.3), with their argument types.
//!
//! Decisions where AWS is silent (`docs/deviations.md`): `AVG` and `SUM` of an array count a
//! series' missing value as 0 (as documented for AVG); `MIN`, `MAX` and `STDDEV` of an array
//! use the values present. `STDDEV` is the population standard deviation. A scalar function of
//! an empty series has no value. `FILL(…, REPEAT)` fills a gap with the last value before it
//! and a leading gap with the first value; `FILL(…, LINEAR)` interpolates in time between the
//! values around a gap and extends the first/last value over leading/trailing gaps; both
//! leave an empty series empty. `SORT` puts series without data last, and keeps the array
//! order among equal keys.

use super::eval::{evaluate, Context};
use super::parse::Expr;
use super::value::{fail, MathError, Series, Value};
use chrono::{Datelike, Timelike};
use watchtrail_core::Timestamp;

type R = Result<Value, MathError>;
/// A point-by-point transform of one series' points.
type Transform = fn(&[(i64, f64)]) -> Vec<(i64, f64)>;

/// Calls function `name` with `args`.
pub fn call(name: &str, args: &[Expr], cx: &mut dyn Context) -> R {
    if name == "METRICS" {
        return metrics(args, cx);
    }
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        vals.push(evaluate(a, cx)?);
    }
    match name {
        "ABS" => elementwise(name, vals, f64::abs),
        "CEIL" => elementwise(name, vals, f64::ceil),
        "FLOOR" => elementwise(name, vals, f64::floor),
        "LOG" => elementwise(name, vals, f64::ln),
        "LOG10" => elementwise(name, vals, f64::log10),
        "AVG" | "MAX" | "MIN" | "SUM" | "STDDEV" => aggregate(name, vals, cx),
        "DATAPOINT_COUNT" => datapoint_count(vals, cx),
        "METRIC_COUNT" => match one(name, vals)? {
            Value::Array(xs) => Ok(Value::Scalar(xs.len() as f64)),
            Value::Series(_) => Ok(Value::Scalar(1.0)),
            other => type_error(name, &other, "TS[]"),
        },
        "DIFF" | "DIFF_TIME" | "RATE" | "RUNNING_SUM" => {
            let f: Transform = match name {
                "DIFF" => diff,
                "DIFF_TIME" => diff_time,
                "RATE" => rate,
                _ => running_sum,
            };
            per_series(name, one(name, vals)?, f)
        }
        "FILL" => fill(vals, cx),
        "IF" => if_(vals),
        "FIRST" | "LAST" => match one(name, vals)? {
            Value::Array(xs) => {
                let pick = if name == "FIRST" { xs.into_iter().next() } else { xs.into_iter().last() };
                Ok(Value::Series(pick.unwrap_or_else(|| empty(cx.default_period()))))
            }
            Value::Series(s) => Ok(Value::Series(s)),
            other => type_error(name, &other, "TS[]"),
        },
        "REMOVE_EMPTY" => match one(name, vals)? {
            Value::Array(xs) => Ok(Value::Array(xs.into_iter().filter(|s| !s.points.is_empty()).collect())),
            Value::Series(s) => Ok(Value::Array(if s.points.is_empty() { vec![] } else { vec![s] })),
            other => type_error(name, &other, "TS[]"),
        },
        "SLICE" => slice(vals),
        "SORT" => sort(vals),
        "MINUTE" | "HOUR" | "DAY" | "DATE" | "MONTH" | "YEAR" | "EPOCH" => {
            let v = one(name, vals)?;
            let grid = cx.grid();
            let f = |s: &Series| {
                let points = grid.slots(s.period).into_iter().map(|t| (t, date_part(name, t))).collect();
                s.with_points(points)
            };
            match v {
                Value::Series(s) => Ok(Value::Series(f(&s))),
                Value::Array(xs) => Ok(Value::Array(xs.iter().map(f).collect())),
                other => type_error(name, &other, "TS"),
            }
        }
        "PERIOD" => match one(name, vals)? {
            Value::Series(s) => Ok(Value::Scalar(s.period as f64)),
            other => type_error(name, &other, "TS"),
        },
        "TIME_SERIES" => match one(name, vals)? {
            Value::Scalar(x) => {
                let period = cx.default_period();
                let points = if x.is_nan() { Vec::new() } else { cx.grid().slots(period).into_iter().map(|t| (t, x)).collect() };
                Ok(Value::Series(Series { label: String::new(), points, period, info: None }))
            }
            other => type_error(name, &other, "S"),
        },
        "ANOMALY_DETECTION_BAND" => {
            arity(name, &vals, 1, 2)?;
            let stddevs = match vals.get(1) {
                None => 2.0,
                Some(Value::Scalar(k)) if k.is_finite() && *k > 0.0 => *k,
                Some(other) => return fail(format!("the second argument of {name} is a positive number of standard deviations, not {other:?}")),
            };
            let Value::Series(s) = &vals[0] else { return type_error(name, &vals[0], "TS") };
            match cx.anomaly_band() {
                Some(model) => model.band(s, stddevs).map(|b| Value::Array(b.to_vec())),
                None => fail("ANOMALY_DETECTION_BAND needs an anomaly detection model, which this server does not provide yet"),
            }
        }
        "SERVICE_QUOTA" | "INSIGHT_RULE_METRIC" | "LAMBDA" => fail(format!("the function {name} is not supported by this server")),
        _ => fail(format!("unknown function {name}")),
    }
}

fn type_error(name: &str, got: &Value, want: &str) -> R {
    fail(format!("{name} takes a {want}, not a {}", got.kind()))
}

fn arity(name: &str, vals: &[Value], min: usize, max: usize) -> Result<(), MathError> {
    if vals.len() < min || vals.len() > max {
        let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        return fail(format!("{name} takes {want} arguments, not {}", vals.len()));
    }
    Ok(())
}

fn one(name: &str, mut vals: Vec<Value>) -> R {
    arity(name, &vals, 1, 1)?;
    Ok(vals.remove(0))
}

fn empty(period: i64) -> Series {
    Series { label: String::new(), points: Vec::new(), period, info: None }
}

fn metrics(args: &[Expr], cx: &mut dyn Context) -> R {
    match args {
        [] => cx.metrics(None).map(Value::Array),
        [Expr::Text(filter)] => cx.metrics(Some(filter)).map(Value::Array),
        _ => fail("METRICS takes no argument or one quoted string"),
    }
}

/// `f` on every value: a scalar, each point of a series, each series of an array.
fn elementwise(name: &str, vals: Vec<Value>, f: fn(f64) -> f64) -> R {
    let finite = |x: f64| Some(f(x)).filter(|v| v.is_finite());
    let map = |s: &Series| s.with_points(s.points.iter().filter_map(|&(t, v)| finite(v).map(|r| (t, r))).collect());
    match one(name, vals)? {
        Value::Scalar(x) => Ok(Value::Scalar(finite(x).unwrap_or(f64::NAN))),
        Value::Series(s) => Ok(Value::Series(map(&s))),
        Value::Array(xs) => Ok(Value::Array(xs.iter().map(map).collect())),
        other => type_error(name, &other, "TS or TS[]"),
    }
}

/// The aggregate of some values; NaN for none.
fn reduce(name: &str, values: &[f64], count_as: usize) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = values.iter().sum();
    match name {
        "SUM" => sum,
        "AVG" => sum / count_as as f64,
        "MIN" => values.iter().copied().fold(f64::INFINITY, f64::min),
        "MAX" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => {
            let n = values.len() as f64;
            let mean = sum / n;
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
        }
    }
}

fn aggregate(name: &str, vals: Vec<Value>, cx: &mut dyn Context) -> R {
    match one(name, vals)? {
        Value::Series(s) => {
            let values: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            Ok(Value::Scalar(reduce(name, &values, values.len())))
        }
        Value::Array(xs) => Ok(Value::Series(across(&xs, cx.default_period(), |present| {
            // AVG counts a series' missing value as 0 (documented); the others use the
            // values present.
            let v = reduce(name, present, xs.len());
            v.is_finite().then_some(v)
        }))),
        other => type_error(name, &other, "TS or TS[]"),
    }
}

/// A series over the union of the array's timestamps, `f` of the values present at each.
fn across(xs: &[Series], default_period: i64, f: impl Fn(&[f64]) -> Option<f64>) -> Series {
    let mut times: Vec<i64> = xs.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    times.sort_unstable();
    times.dedup();
    let mut cursors = vec![0usize; xs.len()];
    let mut present = Vec::with_capacity(xs.len());
    let mut points = Vec::with_capacity(times.len());
    for t in times {
        present.clear();
        for (s, c) in xs.iter().zip(cursors.iter_mut()) {
            if let Some(&(pt, v)) = s.points.get(*c) {
                if pt == t {
                    present.push(v);
                    *c += 1;
                }
            }
        }
        if let Some(v) = f(&present) {
            points.push((t, v));
        }
    }
    let period = xs.iter().map(|s| s.period).max().unwrap_or(default_period);
    Series { label: String::new(), points, period, info: None }
}

fn datapoint_count(vals: Vec<Value>, cx: &mut dyn Context) -> R {
    match one("DATAPOINT_COUNT", vals)? {
        Value::Series(s) => Ok(Value::Scalar(s.points.len() as f64)),
        Value::Array(xs) => Ok(Value::Series(across(&xs, cx.default_period(), |present| Some(present.len() as f64)))),
        other => type_error("DATAPOINT_COUNT", &other, "TS or TS[]"),
    }
}

fn per_series(name: &str, v: Value, f: Transform) -> R {
    match v {
        Value::Series(s) => Ok(Value::Series(s.with_points(f(&s.points)))),
        Value::Array(xs) => Ok(Value::Array(xs.iter().map(|s| s.with_points(f(&s.points))).collect())),
        other => type_error(name, &other, "TS or TS[]"),
    }
}

fn pairwise(points: &[(i64, f64)], f: impl Fn((i64, f64), (i64, f64)) -> f64) -> Vec<(i64, f64)> {
    points.windows(2).filter_map(|w| Some(f(w[0], w[1])).filter(|v| v.is_finite()).map(|v| (w[1].0, v))).collect()
}

fn diff(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    pairwise(points, |a, b| b.1 - a.1)
}

fn diff_time(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    pairwise(points, |a, b| (b.0 - a.0) as f64 / 1000.0)
}

fn rate(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    pairwise(points, |a, b| (b.1 - a.1) / ((b.0 - a.0) as f64 / 1000.0))
}

fn running_sum(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut total = 0.0;
    points.iter().map(|&(t, v)| {
        total += v;
        (t, total)
    }).collect()
}

fn fill(vals: Vec<Value>, cx: &mut dyn Context) -> R {
    arity("FILL", &vals, 2, 2)?;
    let mut it = vals.into_iter();
    let (target, filler) = (it.next().unwrap_or(Value::Scalar(f64::NAN)), it.next().unwrap_or(Value::Scalar(f64::NAN)));
    match &filler {
        Value::Scalar(_) | Value::Series(_) => {}
        Value::Keyword(k) if k == "REPEAT" || k == "LINEAR" => {}
        other => return fail(format!("the second argument of FILL is a number, a time series, REPEAT or LINEAR, not {other:?}")),
    }
    let grid = cx.grid();
    let one = |s: &Series| -> Series {
        let slots = grid.slots(s.period);
        let mut points = s.points.clone();
        for t in slots {
            if s.at(t).is_some() {
                continue;
            }
            let value = match &filler {
                Value::Scalar(x) => Some(*x).filter(|x| !x.is_nan()),
                Value::Series(f) => f.at(t),
                Value::Keyword(k) if k == "REPEAT" => before(&s.points, t).or_else(|| after(&s.points, t)).map(|p| p.1),
                _ => match (before(&s.points, t), after(&s.points, t)) {
                    (Some(a), Some(b)) => Some(a.1 + (b.1 - a.1) * (t - a.0) as f64 / (b.0 - a.0) as f64),
                    (Some(a), None) => Some(a.1),
                    (None, Some(b)) => Some(b.1),
                    (None, None) => None,
                },
            };
            if let Some(v) = value {
                points.push((t, v));
            }
        }
        points.sort_by_key(|p| p.0);
        s.with_points(points)
    };
    match target {
        Value::Series(s) => Ok(Value::Series(one(&s))),
        Value::Array(xs) => Ok(Value::Array(xs.iter().map(one).collect())),
        other => type_error("FILL", &other, "TS or TS[]"),
    }
}

/// The last point before `t`.
fn before(points: &[(i64, f64)], t: i64) -> Option<(i64, f64)> {
    let i = points.partition_point(|p| p.0 < t);
    i.checked_sub(1).map(|i| points[i])
}

/// The first point after `t`.
fn after(points: &[(i64, f64)], t: i64) -> Option<(i64, f64)> {
    let i = points.partition_point(|p| p.0 <= t);
    points.get(i).copied()
}

/// `IF(condition, trueValue[, falseValue])` with the documented missing-value rules.
fn if_(vals: Vec<Value>) -> R {
    arity("IF", &vals, 2, 3)?;
    let mut it = vals.into_iter();
    let cond = it.next().unwrap_or(Value::Scalar(f64::NAN));
    let yes = it.next().unwrap_or(Value::Scalar(f64::NAN));
    let no = it.next();
    for branch in std::iter::once(&yes).chain(no.as_ref()) {
        if !matches!(branch, Value::Scalar(_) | Value::Series(_)) {
            return fail(format!("the values of IF are numbers or time series, not a {}", branch.kind()));
        }
    }
    let per_point = |c: &Series| -> Series {
        let mut points = Vec::with_capacity(c.points.len());
        for &(t, cv) in &c.points {
            let v = if cv != 0.0 {
                match &yes {
                    // TRUE and no point in the true series: 0 (documented).
                    Value::Series(s) => Some(s.at(t).unwrap_or(0.0)),
                    Value::Scalar(x) => Some(*x).filter(|x| !x.is_nan()),
                    _ => None,
                }
            } else {
                match &no {
                    Some(Value::Series(s)) => s.at(t),
                    Some(Value::Scalar(x)) => Some(*x).filter(|x| !x.is_nan()),
                    _ => None,
                }
            };
            if let Some(v) = v {
                points.push((t, v));
            }
        }
        let base = match &yes {
            Value::Series(s) => s,
            _ => c,
        };
        Series { label: base.label.clone(), points, period: c.period, info: base.info.clone() }
    };
    match cond {
        Value::Scalar(c) => {
            if c != 0.0 && !c.is_nan() {
                Ok(yes)
            } else {
                Ok(no.unwrap_or(Value::Series(empty(60))))
            }
        }
        Value::Series(c) => Ok(Value::Series(per_point(&c))),
        Value::Array(cs) => Ok(Value::Array(cs.iter().map(per_point).collect())),
        other => type_error("IF", &other, "S or TS condition"),
    }
}

/// A scalar argument that must be a whole number ≥ 0.
fn index_arg(name: &str, v: &Value) -> Result<usize, MathError> {
    match v {
        Value::Scalar(x) if *x >= 0.0 && x.fract() == 0.0 && *x <= 1e9 => Ok(*x as usize),
        other => fail(format!("{name} takes whole numbers from 0, not {other:?}")),
    }
}

fn slice(vals: Vec<Value>) -> R {
    arity("SLICE", &vals, 2, 3)?;
    let Value::Array(xs) = &vals[0] else { return type_error("SLICE", &vals[0], "TS[]") };
    let start = index_arg("SLICE", &vals[1])?.min(xs.len());
    let end = match vals.get(2) {
        Some(v) => index_arg("SLICE", v)?.min(xs.len()),
        None => xs.len(),
    };
    Ok(Value::Array(if start < end { xs[start..end].to_vec() } else { Vec::new() }))
}

fn sort(vals: Vec<Value>) -> R {
    arity("SORT", &vals, 3, 4)?;
    let Value::Array(xs) = &vals[0] else { return type_error("SORT", &vals[0], "TS[]") };
    let func = match &vals[1] {
        Value::Keyword(k) if ["AVG", "MIN", "MAX", "SUM"].contains(&k.as_str()) => k.clone(),
        other => return fail(format!("SORT sorts by AVG, MIN, MAX or SUM, not {other:?}")),
    };
    let descending = match &vals[2] {
        Value::Keyword(k) if k == "ASC" => false,
        Value::Keyword(k) if k == "DESC" => true,
        other => return fail(format!("the sort order is ASC or DESC, not {other:?}")),
    };
    let limit = match vals.get(3) {
        Some(v) => index_arg("SORT", v)?,
        None => usize::MAX,
    };
    let mut keyed: Vec<(f64, &Series)> = xs
        .iter()
        .map(|s| {
            let values: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            (reduce(&func, &values, values.len()), s)
        })
        .collect();
    keyed.sort_by(|a, b| match (a.0.is_nan(), b.0.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if descending => b.0.total_cmp(&a.0),
        _ => a.0.total_cmp(&b.0),
    });
    Ok(Value::Array(keyed.into_iter().take(limit).map(|(_, s)| s.clone()).collect()))
}

/// `MINUTE` … `EPOCH` of a timestamp, in UTC. `DAY` is 1 (Monday) to 7 (Sunday).
fn date_part(name: &str, t: i64) -> f64 {
    let Some(dt) = Timestamp(t).to_datetime() else { return f64::NAN };
    match name {
        "MINUTE" => dt.minute() as f64,
        "HOUR" => dt.hour() as f64,
        "DAY" => dt.weekday().number_from_monday() as f64,
        "DATE" => dt.day() as f64,
        "MONTH" => dt.month() as f64,
        "YEAR" => dt.year() as f64,
        _ => t.div_euclid(1000) as f64,
    }
}
