//! The HTTP server: one listener for every service, `GET /_watchtrail/health`,
//! `GET /metrics` (Prometheus text), background jobs, graceful shutdown.

use crate::config::ServerConfig;
use crate::credentials::{self, StaticCredentials};
use axum::extract::{ConnectInfo, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::atomic::AtomicU64;
use prometheus_client::registry::Registry as PromRegistry;
use std::net::SocketAddr;
use std::sync::Arc;
use watchtrail_core::{AccountId, Timestamp};
use watchtrail_logs::{LogStore, LogsService};
use watchtrail_metrics::{MetricStore, MetricsService};
use watchtrail_store::CommitLog;
use watchtrail_trail::{Journal, JournalOptions, JournalSink};
use watchtrail_wire::{AuthMode, Body, Gateway, GatewayConfig, IncomingRequest, Registry, ResponseBody};

/// Largest body the HTTP layer reads; operations apply their own, smaller ceilings.
pub const MAX_HTTP_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone)]
struct AppState {
    gateway: Gateway,
    prometheus: Arc<PromRegistry>,
    gauges: Arc<StorageGauges>,
    log: Arc<CommitLog>,
    metrics: MetricsService,
    logs: LogsService,
    started: Timestamp,
    account: AccountId,
}

/// Storage figures, refreshed from the commit log and the metric head on every scrape.
#[derive(Default)]
struct StorageGauges {
    wal_records: Family<WalLabel, Gauge>,
    wal_fsyncs: Family<WalLabel, Gauge>,
    wal_fsync_seconds: Family<WalLabel, Gauge<f64, AtomicU64>>,
    wal_max_batch_records: Family<WalLabel, Gauge>,
    wal_rotations: Family<WalLabel, Gauge>,
    wal_recycled_rotations: Family<WalLabel, Gauge>,
    metric_head_samples: Gauge,
    log_head_bytes: Gauge,
    log_segments_expired: Gauge,
    log_events_flushed: Gauge,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WalLabel {
    wal: &'static str,
}

impl StorageGauges {
    fn register(&self, prom: &mut PromRegistry) {
        let sub = prom.sub_registry_with_prefix("watchtrail");
        sub.register("wal_records", "Records appended to a WAL since start", self.wal_records.clone());
        sub.register("wal_fsyncs", "fsync calls of a WAL since start (one per group commit)", self.wal_fsyncs.clone());
        sub.register("wal_fsync_seconds", "Time spent in fsync by a WAL since start", self.wal_fsync_seconds.clone());
        sub.register("wal_max_batch_records", "Largest group commit of a WAL since start", self.wal_max_batch_records.clone());
        sub.register("wal_rotations", "Log files a WAL rotated to since start", self.wal_rotations.clone());
        sub.register("wal_recycled_rotations", "Rotations of a WAL into a recycled (checkpointed) file since start", self.wal_recycled_rotations.clone());
        sub.register("metric_head_samples", "Metric samples waiting in memory for the next segment flush", self.metric_head_samples.clone());
        sub.register("log_head_bytes", "Log message bytes waiting in memory for the next segment flush", self.log_head_bytes.clone());
        sub.register("log_segments_expired", "Log segments dropped since start because every event in them was past its group's retention", self.log_segments_expired.clone());
        sub.register("log_events_flushed", "Log events written from memory to segments since start", self.log_events_flushed.clone());
    }

    fn refresh(&self, log: &CommitLog, metrics: &MetricsService, logs: &LogsService) {
        self.log_head_bytes.set(logs.store().head_bytes() as i64);
        let totals = logs.store().totals();
        self.log_segments_expired.set(totals.expired_segments as i64);
        self.log_events_flushed.set(totals.flushed_events as i64);
        // One label value today; the label stays so that dashboards survive more logs later.
        let (l, st) = (WalLabel { wal: "commit" }, log.stats());
        self.wal_records.get_or_create(&l).set(st.records as i64);
        self.wal_fsyncs.get_or_create(&l).set(st.fsyncs as i64);
        self.wal_fsync_seconds.get_or_create(&l).set(st.fsync_nanos as f64 / 1e9);
        self.wal_max_batch_records.get_or_create(&l).set(st.max_batch_records as i64);
        self.wal_rotations.get_or_create(&l).set(st.rotations as i64);
        self.wal_recycled_rotations.get_or_create(&l).set(st.recycled as i64);
        self.metric_head_samples.set(metrics.store().head_samples() as i64);
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    account: AccountId,
    root_keys: credentials::KeyPair,
    journal: Arc<Journal>,
    metrics: MetricsService,
    logs: LogsService,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    jobs: Option<tokio::task::JoinHandle<()>>,
    /// Tells the background jobs to stop after their current step.
    jobs_stop: Arc<tokio::sync::Notify>,
    /// Print the CPU used on a clean stop (the CLI).
    print_stop: bool,
}

impl Server {
    /// Opens the data directory, wires every service and starts listening.
    pub async fn start(cfg: ServerConfig) -> Result<Server, String> {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| format!("cannot create data dir {}: {e}", cfg.data_dir.display()))?;
        let account = credentials::account_id(&cfg.data_dir, cfg.account_id.as_deref())?;
        let (root_keys, generated) = credentials::root_keys(&cfg.data_dir, cfg.root_credentials.clone())?;

        // Development builds before the shared commit log kept one WAL per service; their
        // unflushed records would be ignored, so refuse rather than lose them silently.
        for legacy in [cfg.data_dir.join("metrics").join("wal"), cfg.data_dir.join("journal").join("wal")] {
            if legacy.exists() {
                return Err(format!(
                    "{} is a write-ahead log of an older development build (one WAL per service); this build keeps one commit log in {} and cannot read it. Start from an empty data directory.",
                    legacy.display(),
                    cfg.data_dir.join("wal").display()
                ));
            }
        }
        // One commit log for the whole server: a request's data and its activity record are
        // made durable together, with one fsync.
        let wal_opts = watchtrail_store::WalOptions { commit_delay: cfg.wal_commit_delay, ..Default::default() };
        let (log, entries) = CommitLog::open(&cfg.data_dir.join("wal"), wal_opts).map_err(|e| format!("cannot open the commit log: {e}"))?;
        let journal = Journal::open(&cfg.data_dir.join("journal"), log.clone(), &entries, JournalOptions::default()).await?;
        let store = MetricStore::open_shared(&cfg.data_dir.join("metrics"), cfg.clock.clone(), cfg.metric_store.clone(), log.clone(), &entries)
            .await
            .map_err(|e| format!("cannot open metric store: {e}"))?;
        let log_store = LogStore::open(&cfg.data_dir.join("logs"), cfg.clock.clone(), cfg.log_store.clone(), log.clone(), &entries)
            .await
            .map_err(|e| format!("cannot open log store: {e}"))?;
        drop(entries);
        let metrics = MetricsService::new(Arc::new(store), cfg.clock.clone());
        // Metric filters publish into the metric store.
        let sink = crate::metric_sink::FilterMetricSink { metrics: metrics.store().clone(), log: log.clone() };
        let logs = LogsService::new(Arc::new(log_store)).with_live_tail(cfg.live_tail.clone()).with_metric_sink(Arc::new(sink));

        let mut registry = Registry::new();
        watchtrail_metrics::ops::register(&mut registry, metrics.clone());
        watchtrail_logs::ops::register(&mut registry, logs.clone());
        let auth = if cfg.auth {
            AuthMode::SigV4(Arc::new(StaticCredentials::root(&account, &root_keys)))
        } else {
            tracing::warn!("authentication is disabled: every request acts as the account root; use only for throwaway local work");
            AuthMode::Disabled
        };
        let gateway = Gateway::new(
            registry,
            GatewayConfig { auth, account_id: account.clone(), clock: cfg.clock.clone(), journal: Arc::new(JournalSink(journal.clone())) },
        );
        let mut prom = PromRegistry::default();
        gateway.metrics().register(&mut prom);
        let gauges = Arc::new(StorageGauges::default());
        gauges.register(&mut prom);

        let listener = tokio::net::TcpListener::bind(cfg.listen).await.map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        if generated && cfg.print_credentials {
            println!("Watchtrail generated root credentials for account {account} (stored in {} with mode 0600):", cfg.data_dir.join("root-credentials.json").display());
            println!("  export AWS_ACCESS_KEY_ID={}", root_keys.access_key_id);
            println!("  export AWS_SECRET_ACCESS_KEY={}", root_keys.secret_access_key);
            println!("  export AWS_REGION=us-east-1");
            println!("  export AWS_DEFAULT_REGION=us-east-1");
            println!("  export AWS_ENDPOINT_URL=http://{addr}");
        }
        let state = AppState {
            gateway,
            prometheus: Arc::new(prom),
            gauges,
            log: log.clone(),
            metrics: metrics.clone(),
            logs: logs.clone(),
            started: cfg.clock.now(),
            account: account.clone(),
        };
        let app = Router::new()
            .route("/_watchtrail/health", get(health))
            .route("/metrics", get(prometheus_metrics))
            .fallback(aws)
            .with_state(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http server failed");
            }
        });
        let jobs_stop = Arc::new(tokio::sync::Notify::new());
        let jobs = if cfg.background_jobs {
            let m = metrics.clone();
            let l = logs.clone();
            let j = journal.clone();
            let clock = cfg.clock.clone();
            let stop = jobs_stop.clone();
            Some(tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    // Stopped only between steps, never in the middle of a flush.
                    tokio::select! {
                        _ = every.tick() => {}
                        _ = stop.notified() => break,
                    }
                    if let Err(e) = m.store().tick(clock.now()).await {
                        tracing::error!(error = %e, "metric store maintenance failed");
                    }
                    if let Err(e) = l.tick(clock.now()).await {
                        tracing::error!(error = %e, "log store maintenance failed");
                    }
                    if let Err(e) = j.tick(clock.now()).await {
                        tracing::error!(error = %e, "activity journal maintenance failed");
                    }
                }
            }))
        } else {
            None
        };
        if cfg.print_credentials {
            // Machine-readable: scripts that start the server on port 0 read the address here.
            println!("watchtrail listening on http://{addr}");
        }
        tracing::info!(%addr, %account, auth = cfg.auth, data_dir = %cfg.data_dir.display(), "watchtrail serving");
        Ok(Server { addr, account, root_keys, journal, metrics, logs, shutdown: Some(tx), task: Some(task), jobs, jobs_stop, print_stop: cfg.print_credentials })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>` for `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The account served.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The root key pair.
    pub fn root_keys(&self) -> &credentials::KeyPair {
        &self.root_keys
    }

    /// The activity journal.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// The metrics service (tests drive its store's `tick`).
    pub fn metrics(&self) -> &MetricsService {
        &self.metrics
    }

    /// The logs service (tests drive its store's `tick`).
    pub fn logs(&self) -> &LogsService {
        &self.logs
    }

    /// Stops serving without flushing anything beyond what is already durable (the WAL), the
    /// way a crash would leave the data directory; for recovery tests.
    pub async fn stop_without_flush(mut self) {
        self.stop_serving().await;
    }

    async fn stop_serving(&mut self) {
        if let Some(j) = self.jobs.take() {
            // `notify_one` keeps the permit if the loop is mid-step, so it stops right after.
            self.jobs_stop.notify_one();
            let _ = j.await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Stops accepting connections, finishes in-flight requests, flushes the metric head
    /// and the pending activity records to segments, and closes the commit log, which then
    /// keeps no bytes (everything in it is in segments; see `Wal::close_retiring`).
    pub async fn shutdown(mut self) -> Result<(), String> {
        self.stop_serving().await;
        self.metrics.store().flush().await.map_err(|e| format!("final flush failed: {e}"))?;
        self.logs.flush().await.map_err(|e| format!("final log flush failed: {e}"))?;
        self.journal.flush().await.map_err(|e| format!("final journal flush failed: {e}"))?;
        let emptied = self.metrics.store().log().close_retiring().map_err(|e| format!("closing the commit log failed: {e}"))?;
        let cpu = process_cpu_seconds();
        tracing::info!(commit_log_emptied = emptied, cpu_seconds = cpu, "watchtrail stopped");
        if self.print_stop {
            // Machine-readable, like the listening line: benchmarks count the CPU a load cost
            // through to its final flush and compaction.
            println!("watchtrail stopped (cpu {cpu:.3} s)");
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(j) = self.jobs.take() {
            j.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// User plus system CPU seconds of this process (Linux `/proc/self/stat`; 0 elsewhere).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 after the command name; the
    // kernel's USER_HZ is 100 on every Linux configuration that matters.
    (ticks(11) + ticks(12)) / 100.0
}

async fn health(State(s): State<AppState>) -> impl IntoResponse {
    let body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "account": s.account.as_str(),
        "startedAt": s.started.to_iso8601(),
    });
    ([(http::header::CONTENT_TYPE, "application/json")], body.to_string())
}

async fn prometheus_metrics(State(s): State<AppState>) -> impl IntoResponse {
    s.gauges.refresh(&s.log, &s.metrics, &s.logs);
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &s.prometheus) {
        tracing::error!(error = %e, "prometheus encoding failed");
    }
    ([(http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], out)
}

async fn aws(State(s): State<AppState>, ConnectInfo(remote): ConnectInfo<SocketAddr>, req: axum::extract::Request) -> http::Response<axum::body::Body> {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_HTTP_BODY_BYTES).await {
        Ok(b) => Body::Complete(b),
        Err(_) => Body::TooLarge { limit: MAX_HTTP_BODY_BYTES },
    };
    let incoming = IncomingRequest { method: parts.method, uri: parts.uri, headers: parts.headers, body, remote };
    s.gateway.handle_streaming(incoming).await.map(|b| match b {
        ResponseBody::Full(b) => axum::body::Body::from(b),
        ResponseBody::Stream(st) => axum::body::Body::from_stream(futures::StreamExt::map(st, Ok::<Bytes, std::convert::Infallible>)),
    })
}
