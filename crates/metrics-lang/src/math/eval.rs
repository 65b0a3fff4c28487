//! Evaluation of one expression. Everything outside the expression (other queries, the
//! request's metrics, SEARCH results, the time range) comes through a [`Context`], so the
//! evaluator is synchronous and testable without a store.

use super::functions;
use super::parse::Expr;
use super::value::{binary, fail, negate, MathError, Series, Value};
use crate::rounding::round_start;
use watchtrail_core::Timestamp;

/// The request's time range: which timestamps a period has.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    /// StartTime as sent.
    pub start: Timestamp,
    /// EndTime (exclusive).
    pub end: Timestamp,
    /// The server's now (StartTime rounding depends on data age).
    pub now: Timestamp,
}

impl Grid {
    /// The period starts of `period_s` in the range, StartTime rounded as for a MetricStat.
    pub fn slots(&self, period_s: i64) -> Vec<i64> {
        let step = period_s.max(1) * 1000;
        let first = round_start(self.start, period_s.max(1), self.now).millis();
        let count = ((self.end.millis() - first).max(0) + step - 1) / step;
        // A grid is bounded by the datapoint limit of a request; refuse to build more.
        (0..count.min(MAX_GRID_SLOTS)).map(|k| first + k * step).collect()
    }
}

/// Most slots a non-sparse series (FILL, TIME_SERIES, date functions) may have: the
/// GetMetricData datapoint limit.
pub const MAX_GRID_SLOTS: i64 = 100_800;

/// The anomaly detection model behind `ANOMALY_DETECTION_BAND` (the alarms issue provides
/// one; until then the function reports that no model is available).
pub trait AnomalyBand {
    /// The band around `series`, `stddevs` wide: `[upper, lower]`.
    fn band(&self, series: &Series, stddevs: f64) -> Result<[Series; 2], MathError>;
}

/// Everything an expression can see besides itself.
pub trait Context {
    /// The request's time range.
    fn grid(&self) -> Grid;
    /// The result of another query, by Id.
    fn reference(&mut self, id: &str) -> Result<Value, MathError>;
    /// The request's MetricStat queries (not expressions) whose Id contains `filter` (all of
    /// them for `None`), in request order.
    fn metrics(&mut self, filter: Option<&str>) -> Result<Vec<Series>, MathError>;
    /// The result of the expression's SEARCH number `index`.
    fn search(&mut self, index: usize) -> Result<Vec<Series>, MathError>;
    /// The period of series made from nothing (`TIME_SERIES`): the query's Period, else the
    /// request's.
    fn default_period(&self) -> i64;
    /// The anomaly model, when one is available.
    fn anomaly_band(&self) -> Option<&dyn AnomalyBand> {
        None
    }
}

/// Evaluates `e`.
pub fn evaluate(e: &Expr, cx: &mut dyn Context) -> Result<Value, MathError> {
    match e {
        Expr::Number(n) => Ok(Value::Scalar(*n)),
        Expr::Text(s) => Ok(Value::Text(s.clone())),
        Expr::Keyword(k) => Ok(Value::Keyword(k.clone())),
        Expr::Ref(id) => cx.reference(id),
        Expr::Neg(x) => negate(evaluate(x, cx)?),
        Expr::Binary(op, l, r) => {
            let l = evaluate(l, cx)?;
            let r = evaluate(r, cx)?;
            binary(*op, l, r)
        }
        Expr::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match evaluate(item, cx)? {
                    Value::Series(s) => out.push(s),
                    Value::Array(xs) => out.extend(xs),
                    other => return fail(format!("an array holds time series, not a {}", other.kind())),
                }
            }
            Ok(Value::Array(out))
        }
        Expr::Search { index, .. } => cx.search(*index).map(Value::Array),
        Expr::Call(name, args) => functions::call(name, args, cx),
    }
}

/// What a query's expression produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// One time series (labelled with the query's Label, or its Id).
    Single(Series),
    /// An array (each labelled with its own label, after the query's Label when one is set).
    Array(Vec<Series>),
}

/// Evaluates a whole query's expression: the result must be a time series or an array of
/// them (reference §3.2: a scalar alone is invalid).
pub fn evaluate_query(e: &Expr, cx: &mut dyn Context) -> Result<Output, MathError> {
    match evaluate(e, cx)? {
        Value::Series(s) => Ok(Output::Single(s)),
        Value::Array(xs) => Ok(Output::Array(xs)),
        other => fail(format!("the result of an expression must be a time series or an array of time series, not a {}", other.kind())),
    }
}
