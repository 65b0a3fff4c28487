//! CloudWatch metrics: ingestion, storage layout, statistics, ListMetrics and GetMetricData.
//!
//! - [`model`]: what a metric and a stored sample are.
//! - [`api`]: the wire shapes of the operations.
//! - [`validate`]: every input rule and limit, with AWS's error codes.
//! - [`chunk`]: one series' samples encoded together (the storage unit in segments).
//! - [`engine`]: durable storage (WAL → head → segments) and reads.
//! - [`stats`]: period bucketing and statistics.
//! - [`rollup`]: older data rolled up into coarser resolutions.
//! - [`exact`]: extended statistics computed exactly over a period's raw values.
//! - [`metric_data`]: GetMetricData (MetricStat, metric math, SEARCH, labels, paging);
//!   [`page_cache`] keeps a result for its next pages.
//! - [`remote_write`]: the Prometheus remote-write receiver.
//! - [`service`]: the operations as plain Rust methods.
//! - [`extended`], [`math`]: the query languages, re-exported from `watchtrail-metrics-lang`.
//! - [`ops`]: registration with the wire gateway.

pub use watchtrail_metrics_lang::{extended, math};

pub mod api;
pub mod chunk;
pub mod engine;
pub mod error;
pub mod exact;
mod head_sample;
mod log_part;
mod partition;
pub mod metric_data;
pub mod model;
pub mod ops;
pub mod paging;
pub mod page_cache;
pub mod remote_write;
pub mod rollup;
pub mod service;
pub mod stats;
pub mod validate;

pub use engine::{Committer, FlushReport, MetricStore, MetricStoreOptions};
pub use error::MetricsError;
pub use service::{MetricsService, Scope};
