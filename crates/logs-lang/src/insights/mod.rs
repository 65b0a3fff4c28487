//! The Logs Insights query language: parse, then execute over log records.
//!
//! ```
//! use watchtrail_logs_lang::insights::{LogRecord, Query};
//!
//! let q = Query::parse("filter status >= 500 | stats count(*) as errors by host").unwrap();
//! let mut ex = q.executor(None);
//! ex.push(&LogRecord {
//!     timestamp: 1_700_000_000_000,
//!     ingestion_time: 1_700_000_000_100,
//!     message: r#"{"status": 503, "host": "web-1"}"#,
//!     log_stream: "s1",
//!     log_group: "123456789012:app",
//!     ptr: "p1",
//! });
//! assert_eq!(ex.finish(), vec![vec![("host".to_string(), "web-1".to_string()), ("errors".to_string(), "1".to_string())]]);
//! ```
//!
//! Files: `lexer` (tokens), `parser` → `ast`, `plan` (streaming front and the rest),
//! `eval` (rows, fields, expressions), `functions`, `aggregate`, `executor`, `value` (compare,
//! render), `time` (periods and timestamp text).

mod aggregate;
mod ast;
mod error;
mod eval;
mod executor;
mod functions;
mod lexer;
mod parser;
mod plan;
#[cfg(test)]
mod tests;
mod time;
mod value;

use std::sync::Arc;

pub use error::QueryError;

/// StartQuery's default `limit` (the `limit` command page: "If you omit limit, the query will
/// return as many as 10,000 log events").
pub const DEFAULT_LIMIT: usize = 10_000;

/// The log groups a query selects with `SOURCE logGroups(…)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    /// `namePrefix: [...]` (at most 5): log groups whose names start with one of these; empty
    /// selects every log group.
    pub name_prefixes: Vec<String>,
    /// `class: 'STANDARD' | 'INFREQUENT_ACCESS'` (also `logGroupClass`); `None` means STANDARD.
    pub log_group_class: Option<String>,
    /// `accountIdentifiers: [...]` (at most 20); empty means every account the caller sees.
    pub account_identifiers: Vec<String>,
}

/// A compiled query.
#[derive(Clone, Debug)]
pub struct Query {
    source: Option<Source>,
    plan: Arc<plan::Plan>,
}

impl Query {
    /// Parses a query. Errors carry an AWS-style message and the character offsets of the
    /// offending text (`queryCompileError.location`).
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let parsed = parser::parse(text)?;
        let plan = plan::plan(parsed.commands, &parsed.spans)?;
        Ok(Query {
            source: parsed.source,
            plan: Arc::new(plan),
        })
    }

    /// The `SOURCE logGroups(…)` the query starts with, if any.
    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// Starts an execution. `limit` is StartQuery's `limit` (`None`: [`DEFAULT_LIMIT`]); a
    /// `limit` command in the query lowers it further, never raises it.
    pub fn executor(&self, limit: Option<usize>) -> Executor {
        Executor {
            state: executor::State::new(self.plan.clone(), limit.unwrap_or(DEFAULT_LIMIT)),
        }
    }

    /// Whether result rows carry `@ptr` (every query without `stats`).
    pub fn returns_ptr(&self) -> bool {
        self.plan.returns_ptr
    }
}

/// One log event as the executor reads it.
#[derive(Clone, Copy, Debug)]
pub struct LogRecord<'a> {
    /// `@timestamp`, epoch milliseconds.
    pub timestamp: i64,
    /// `@ingestionTime`, epoch milliseconds.
    pub ingestion_time: i64,
    /// `@message`.
    pub message: &'a str,
    /// `@logStream`.
    pub log_stream: &'a str,
    /// `@log`: `<account-id>:<log-group-name>`.
    pub log_group: &'a str,
    /// `@ptr`, an opaque value chosen by the service; it should be unique per event, since it
    /// breaks ties in the output order.
    pub ptr: &'a str,
}

/// One execution of a query. Records may be pushed in any order and executors of the same
/// query merged; the result only depends on the set of records.
#[derive(Clone, Debug)]
pub struct Executor {
    state: executor::State,
}

impl Executor {
    /// Feeds one record.
    pub fn push(&mut self, record: &LogRecord) {
        self.state.push(eval::RecRef {
            timestamp: record.timestamp,
            ingestion_time: record.ingestion_time,
            message: record.message,
            log_stream: record.log_stream,
            log_group: record.log_group,
            ptr: record.ptr,
        });
    }

    /// Combines another executor of the same query, fed a disjoint set of records.
    pub fn merge(&mut self, other: Executor) {
        self.state.merge(other.state);
    }

    /// The result rows so far.
    pub fn snapshot(&self) -> Vec<Row> {
        self.state.clone().finish()
    }

    /// The final result rows.
    pub fn finish(self) -> Vec<Row> {
        self.state.finish()
    }

    /// `recordsMatched`: records that passed every command before the first `stats`, `limit`
    /// or `dedup` (for a stats query, the records aggregated), counted once each.
    pub fn records_matched(&self) -> u64 {
        self.state.records_matched()
    }
}

/// One result row: (field name, value as AWS renders it), in column order; fields the row does
/// not have are left out.
pub type Row = Vec<(String, String)>;

/// The field names GetLogGroupFields reports for one message: the JSON fields Logs Insights
/// discovers (dot notation for nested objects, an index for array elements, `@@name` for a
/// top-level key `@name`, at most 200). System fields are not included.
pub fn discover_fields(message: &str) -> Vec<String> {
    eval::flatten_message(message)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The fields Logs Insights discovers in one message with their values as text
/// (GetLogRecord): the names of [`discover_fields`], in the same order.
pub fn discover_field_values(message: &str) -> Vec<(String, String)> {
    eval::flatten_message(message)
        .into_iter()
        .map(|(name, value)| (name, value.render()))
        .collect()
}
