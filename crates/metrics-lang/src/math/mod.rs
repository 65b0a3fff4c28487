//! Metric math (reference `cloudwatch.md` §3): the expression language of GetMetricData and
//! metric-math alarms.
//!
//! - [`parse`]: text → [`parse::Expr`], with positions in errors.
//! - [`value`]: scalars, time series, arrays and the operators between them.
//! - [`eval`]: evaluation of one expression, given the other queries' results.
//! - [`functions`]: every function of the reference.
//! - [`search`]: `SEARCH(…)`: its query language and how it matches metrics.
//! - [`labels`]: default and dynamic labels (`${AVG}`, `${PROP('Dim.Host')}` …).
//!
//! Decisions where AWS is silent are listed in `docs/deviations.md`.

pub mod eval;
pub mod functions;
pub mod labels;
pub mod parse;
pub mod search;
pub mod value;

pub use eval::{evaluate_query, AnomalyBand, Context, Grid, Output};
pub use parse::{parse, Expr};
pub use value::{MathError, MetricInfo, Series, Value};
