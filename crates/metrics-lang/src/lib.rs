//! CloudWatch's query languages and ingest formats, as pure functions with no storage behind them (so they build
//! fast, fuzz cheaply and are tested without a server).
//!
//! - [`extended`]: extended statistic names (`p99`, `TM(10%:90%)` …) and their bounds.
//! - [`math`]: metric math (expressions, functions, SEARCH, dynamic labels).
//! - [`insights`]: Metrics Insights (`SELECT AVG(x) FROM ns …`).
//! - [`remote_write`]: Prometheus remote-write bodies and the label mapping.
//! - [`rounding`]: CloudWatch's StartTime rounding, shared by statistics and metric math.

pub mod extended;
pub mod insights;
pub mod math;
pub mod remote_write;
pub mod rounding;
