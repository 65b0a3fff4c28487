//! CloudWatch Logs' languages, as pure functions with no storage behind them (so they build
//! fast, fuzz cheaply and are tested without a server).
//!
//! - [`filter`]: filter patterns (terms, JSON, space-delimited, regex), one compiler shared by
//!   FilterLogEvents, metric filters, subscription filters and live tail.
//! - [`insights`]: the Logs Insights query language and its executor over log records.

pub mod filter;
pub mod insights;
mod number;
