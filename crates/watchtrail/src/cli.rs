//! The `watchtrail` command.

use crate::config::{FileConfig, ServerConfig, DEFAULT_DATA_DIR, DEFAULT_LISTEN};
use crate::server::Server;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use watchtrail_core::SystemClock;

/// Self-hosted CloudWatch, CloudWatch Logs, EventBridge and CloudTrail, wire-compatible with
/// the AWS CLI and SDKs.
#[derive(Debug, Parser)]
#[command(name = "watchtrail", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (every service and the console on one port).
    Serve(ServeArgs),
}

/// An on/off setting (`--auth`, `--rollup`).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Switch {
    /// On (the default of both).
    On,
    /// Off: for `--auth`, unsigned requests act as the account root (throwaway local use
    /// only); for `--rollup`, samples keep their resolution until retention.
    Off,
}

/// Settings of `watchtrail serve`. Each flag has an environment variable; a flag or variable
/// overrides the `--config` file, which overrides the default.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory [default: ./watchtrail-data].
    #[arg(long, env = "WATCHTRAIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:4590].
    #[arg(long, env = "WATCHTRAIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// TOML file with any of: data_dir, listen, auth (bool), account_id, log, wal_commit_delay_us.
    #[arg(long, env = "WATCHTRAIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// SigV4 authentication [default: on].
    #[arg(long, env = "WATCHTRAIL_AUTH", value_enum)]
    pub auth: Option<Switch>,
    /// 12-digit account id, fixed at first start [default: random].
    #[arg(long, env = "WATCHTRAIL_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Root access key id [default: generated at first start and stored in the data dir].
    #[arg(long, env = "WATCHTRAIL_ROOT_ACCESS_KEY_ID", hide_env_values = true)]
    pub root_access_key_id: Option<String>,
    /// Root secret access key (use the environment variable rather than the flag).
    #[arg(long, env = "WATCHTRAIL_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub root_secret_access_key: Option<String>,
    /// Log filter, e.g. `info` or `watchtrail=debug` [default: info].
    #[arg(long, env = "WATCHTRAIL_LOG")]
    pub log: Option<String>,
    /// WAL group-commit delay in microseconds: under concurrent writes, wait this long so more
    /// requests share one fsync; 0 disables [default: 300].
    #[arg(long, env = "WATCHTRAIL_WAL_COMMIT_DELAY_US")]
    pub wal_commit_delay_us: Option<u64>,
    /// Roll older metric data up to 1-minute, 5-minute and 1-hour steps as CloudWatch does;
    /// `off` keeps every sample at its resolution until retention (for benchmarks comparing
    /// raw storage) [default: on].
    #[arg(long, env = "WATCHTRAIL_ROLLUP", value_enum)]
    pub rollup: Option<Switch>,
}

/// Runs the command to completion.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let file = match &args.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let log = args.log.clone().or(file.log.clone()).unwrap_or_else(|| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| format!("invalid log filter {log:?}: {e}"))?)
        .with_writer(std::io::stderr)
        .init();
    let root_credentials = match (args.root_access_key_id, args.root_secret_access_key) {
        (Some(a), Some(s)) => Some((a, s)),
        (None, None) => None,
        _ => return Err("set both WATCHTRAIL_ROOT_ACCESS_KEY_ID and WATCHTRAIL_ROOT_SECRET_ACCESS_KEY, or neither".into()),
    };
    let listen = match args.listen.or(file.listen) {
        Some(l) => l,
        None => DEFAULT_LISTEN.parse().map_err(|e| format!("{e}"))?,
    };
    let cfg = ServerConfig {
        data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        listen,
        auth: match args.auth {
            Some(a) => a == Switch::On,
            None => file.auth.unwrap_or(true),
        },
        account_id: args.account_id.or(file.account_id),
        root_credentials,
        clock: Arc::new(SystemClock),
        background_jobs: true,
        print_credentials: true,
        metric_store: watchtrail_metrics::MetricStoreOptions {
            rollup: args.rollup.is_none_or(|r| r == Switch::On),
            ..Default::default()
        },
        log_store: Default::default(),
        live_tail: Default::default(),
        wal_commit_delay: std::time::Duration::from_micros(
            args.wal_commit_delay_us.or(file.wal_commit_delay_us).unwrap_or(crate::config::DEFAULT_WAL_COMMIT_DELAY_US),
        ),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let server = Server::start(cfg).await?;
        wait_for_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
