//! Server settings. Precedence: command-line flag, then environment variable, then the TOML
//! file given with `--config`, then the built-in default.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use watchtrail_core::{SharedClock, SystemClock};
use watchtrail_metrics::MetricStoreOptions;

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./watchtrail-data";
/// Default listen address (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4590";

/// Settings as they may appear in the TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Where data lives.
    pub data_dir: Option<PathBuf>,
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// `true` to require SigV4 (the default), `false` to disable authentication.
    pub auth: Option<bool>,
    /// Account id to fix at first start.
    pub account_id: Option<String>,
    /// Log filter, e.g. `info` or `watchtrail=debug`.
    pub log: Option<String>,
    /// WAL group-commit delay in microseconds.
    pub wal_commit_delay_us: Option<u64>,
}

impl FileConfig {
    /// Reads a TOML file.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))
    }
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Listen address; port 0 picks an ephemeral port.
    pub listen: SocketAddr,
    /// Require SigV4.
    pub auth: bool,
    /// Account id requested for first start (`WATCHTRAIL_ACCOUNT_ID`).
    pub account_id: Option<String>,
    /// Root credentials given by the operator (`WATCHTRAIL_ROOT_ACCESS_KEY_ID` / `..._SECRET_...`).
    pub root_credentials: Option<(String, String)>,
    /// Time source (tests inject a manual clock).
    pub clock: SharedClock,
    /// Run the background scheduler (tests drive `tick` themselves when false).
    pub background_jobs: bool,
    /// Print the generated root credentials on first start, and the listen address.
    pub print_credentials: bool,
    /// Metric store tuning (flush thresholds, retention).
    pub metric_store: MetricStoreOptions,
    /// Log store tuning (flush thresholds, compaction).
    pub log_store: watchtrail_logs::LogStoreOptions,
    /// Live tail pacing and session limit.
    pub live_tail: watchtrail_logs::live_tail::LiveTailOptions,
    /// Group-commit delay of every WAL (see `WalOptions::commit_delay`).
    pub wal_commit_delay: std::time::Duration,
}

/// Default WAL group-commit delay: long enough for concurrent requests to share an fsync, far
/// below a request's own latency.
pub const DEFAULT_WAL_COMMIT_DELAY_US: u64 = 300;

impl ServerConfig {
    /// Defaults for a data directory: loopback on an ephemeral port, auth on, real clock,
    /// background jobs on.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            listen: "127.0.0.1:0".parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
            auth: true,
            account_id: None,
            root_credentials: None,
            clock: std::sync::Arc::new(SystemClock),
            background_jobs: true,
            print_credentials: false,
            metric_store: MetricStoreOptions::default(),
            log_store: Default::default(),
            live_tail: Default::default(),
            wal_commit_delay: std::time::Duration::from_micros(DEFAULT_WAL_COMMIT_DELAY_US),
        }
    }
}
