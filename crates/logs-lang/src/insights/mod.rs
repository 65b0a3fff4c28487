//! The Logs Insights query language: parse, then execute over log records.
