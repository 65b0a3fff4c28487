//! CloudWatch Logs: log groups and streams, PutLogEvents, event storage, GetLogEvents and
//! FilterLogEvents, retention.
//!
//! - [`service`]: the control plane and PutLogEvents as plain methods; [`read`]: the reads.
//! - [`store`]: the commit-log ops, the in-memory head, segments per log group, snapshots,
//!   retention (`tick(now)`).
//! - [`ops`]: registration with the gateway (awsJson 1.1, `Logs_20140328`).

pub mod api;
pub mod chunk;
pub mod error;
pub mod filter;
pub mod insights;
pub mod live_tail;
pub mod log_part;
pub mod metric_filter;
pub mod names;
pub mod ops;
pub mod paging;
pub mod read;
pub mod service;
pub mod state;
pub mod store;

pub use error::LogsError;
pub use log_part::Scope;
pub use service::{Caller, LogsService};
pub use store::{LogStore, LogStoreOptions, TickReport};
