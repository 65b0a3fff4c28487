//! The metric store: durable ingestion, the in-memory head, segment flushes and reads.
//!
//! Write path: a PutMetricData batch is encoded as one part of a commit record in the server's
//! shared [`CommitLog`] — through a [`Committer`], which may add the request's activity record
//! to the same commit — and acknowledged only once the log has fsynced it (group commit). The
//! log applies it to the in-memory head on its writer thread, in LSN order, before the LSN
//! becomes durable-visible; so every durable record is in the head or in a segment.
//! [`MetricStore::tick`] moves head samples into immutable segments (one stream per account
//! and region: `metrics/<account>/<region>`) together with a series index
//! (`metrics-index/<account>/<region>`), then checkpoints the log (the store is a
//! [`LogConsumer`]: it reports the LSN below which its records are all in segments).
//!
//! Read path: head samples plus segment samples for the series' exact key. A flush holds the
//! view lock exclusively while it swaps samples from the head into a segment, so a reader never
//! sees a sample twice or not at all.
//!
//! Recovery: the series index is read back from the index streams; metrics parts of log
//! records newer than the stream's persisted LSN are replayed into the head.

use crate::error::{MetricsError, Result};
use crate::model::{Sample, SeriesKey};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use watchtrail_core::{SharedClock, Timestamp};
use watchtrail_store::{
    BlobStore, Catalog, CommitEntry, CommitLog, KeyFilter, LogConsumer, OnDurable, PartKind, PartRef, Record, SegmentStore, SqliteCatalog, WalOptions,
};

/// Makes an encoded metrics part durable and runs `on_durable` on the log's writer thread
/// first. The store's own [`CommitLog`] is one; a gateway request transaction that commits the
/// request's activity record in the same log record is another.
pub trait Committer: Send + Sync {
    /// Commits `part` (a [`PartKind::Metrics`] payload); resolves with its LSN once durable.
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, std::result::Result<u64, String>>;
}

impl Committer for CommitLog {
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, std::result::Result<u64, String>> {
        let fut = self.append(&[PartRef { kind: PartKind::Metrics, bytes: &part }], Some(on_durable));
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    }
}

/// Tuning of the metric store.
#[derive(Clone, Debug)]
pub struct MetricStoreOptions {
    /// Flush when the head holds this many samples.
    pub flush_max_samples: usize,
    /// Flush when the oldest unflushed sample arrived this long ago (ms).
    pub flush_max_age_ms: i64,
    /// Segments whose newest sample is older than this are dropped (ms). CloudWatch keeps
    /// hourly data for 455 days.
    pub retention_ms: i64,
    /// Compact a stream once it has this many level-0 segments.
    pub compact_after_segments: usize,
    /// Log settings when the store opens its own log ([`MetricStore::open`]).
    pub wal: WalOptions,
}

impl Default for MetricStoreOptions {
    fn default() -> Self {
        MetricStoreOptions {
            flush_max_samples: 500_000,
            flush_max_age_ms: 10 * Timestamp::MINUTE,
            retention_ms: 455 * Timestamp::DAY,
            compact_after_segments: 8,
            wal: WalOptions::default(),
        }
    }
}

/// One WAL record: the samples of one PutMetricData call.
#[derive(Serialize, Deserialize)]
struct WalBatch {
    account: String,
    region: String,
    received: i64,
    entries: Vec<(SeriesKey, Sample)>,
}

/// What the head knows about one series.
#[derive(Default)]
pub(crate) struct SeriesState {
    /// When data for the series last arrived.
    pub last_ingest: Timestamp,
    /// Samples not yet in a segment, tagged with their WAL LSN.
    head: Vec<(u64, Sample)>,
    /// The series index entry changed since the last flush.
    index_dirty: bool,
}

type PartitionKey = (String, String);

#[derive(Default)]
pub(crate) struct Partition {
    pub series: BTreeMap<SeriesKey, SeriesState>,
}

struct Head {
    partitions: HashMap<PartitionKey, Partition>,
    samples: usize,
    oldest_unflushed: Option<Timestamp>,
    /// The lowest LSN of a sample still in the head (not yet in a segment).
    min_unflushed_lsn: Option<u64>,
}

/// The head, shared with the log's writer thread (which applies committed batches to it).
struct SharedHead(Mutex<Head>);

impl LogConsumer for SharedHead {
    fn persisted_lsn(&self, durable: u64) -> u64 {
        match self.0.lock().min_unflushed_lsn {
            Some(min) => min - 1,
            None => durable,
        }
    }
}

/// What a flush did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Samples written to segments.
    pub samples: usize,
    /// Segments written.
    pub segments: usize,
    /// WAL files removed by the checkpoint.
    pub wal_files_removed: usize,
}

/// Durable, queryable storage of metric samples.
pub struct MetricStore {
    clock: SharedClock,
    opts: MetricStoreOptions,
    log: Arc<CommitLog>,
    segments: SegmentStore,
    head: Arc<SharedHead>,
    view: tokio::sync::RwLock<()>,
    flushing: tokio::sync::Mutex<()>,
}

fn data_stream(p: &PartitionKey) -> String {
    format!("metrics/{}/{}", p.0, p.1)
}

fn index_stream(p: &PartitionKey) -> String {
    format!("metrics-index/{}/{}", p.0, p.1)
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(v).map_err(|e| MetricsError::Internal(format!("encode: {e}")))
}

fn decode<'a, T: Deserialize<'a>>(b: &'a [u8]) -> Result<T> {
    postcard::from_bytes(b).map_err(|e| MetricsError::Internal(format!("decode: {e}")))
}

fn internal(e: impl std::fmt::Display) -> MetricsError {
    MetricsError::Internal(e.to_string())
}

impl MetricStore {
    /// Opens (or creates) a store with a log of its own: log in `dir/wal`, the rest as in
    /// [`MetricStore::open_shared`]. For tests and tools; the server shares one log.
    pub async fn open(dir: &Path, clock: SharedClock, opts: MetricStoreOptions) -> Result<Self> {
        let (log, entries) = CommitLog::open(&dir.join("wal"), opts.wal).map_err(internal)?;
        Self::open_shared(dir, clock, opts, log, &entries).await
    }

    /// Opens (or creates) the store under `dir` (segments in `dir/segments`, catalog
    /// `dir/catalog.sqlite`) on the shared `log`, whose records at open are `entries`.
    /// Recovers the series index, replays the metrics parts not yet in segments and registers
    /// with the log as a consumer.
    pub async fn open_shared(dir: &Path, clock: SharedClock, opts: MetricStoreOptions, log: Arc<CommitLog>, entries: &[CommitEntry]) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(internal)?;
        let catalog: Arc<dyn Catalog> = Arc::new(SqliteCatalog::open(&dir.join("catalog.sqlite")).map_err(internal)?);
        let blobs = BlobStore::local(&dir.join("segments")).map_err(internal)?;
        let segments = SegmentStore::new(blobs, catalog.clone());

        let mut head = Head { partitions: HashMap::new(), samples: 0, oldest_unflushed: None, min_unflushed_lsn: None };
        // Series index.
        for stream in catalog.streams().map_err(internal)? {
            let Some(rest) = stream.strip_prefix("metrics-index/") else { continue };
            let Some((account, region)) = rest.split_once('/') else { continue };
            let pkey = (account.to_string(), region.to_string());
            let records = segments.scan(&stream, &KeyFilter::All, i64::MIN, i64::MAX).await.map_err(internal)?;
            let part = head.partitions.entry(pkey).or_default();
            for r in records {
                let key: SeriesKey = decode(&r.key)?;
                let st = part.series.entry(key).or_default();
                st.last_ingest = st.last_ingest.max(Timestamp(r.ts));
            }
        }
        // WAL replay, skipping what segments already hold.
        let mut persisted: HashMap<PartitionKey, u64> = HashMap::new();
        let mut replayed = 0usize;
        for entry in entries {
            for part in entry.parts_of(PartKind::Metrics) {
                let batch: WalBatch = decode(part)?;
                let pkey = (batch.account.clone(), batch.region.clone());
                let max = match persisted.get(&pkey) {
                    Some(m) => *m,
                    None => {
                        let m = catalog.max_lsn(&data_stream(&pkey)).map_err(internal)?;
                        persisted.insert(pkey.clone(), m);
                        m
                    }
                };
                if entry.lsn > max {
                    head.apply(entry.lsn, batch);
                    replayed += 1;
                }
            }
        }
        tracing::info!(replayed, partitions = head.partitions.len(), "metric store opened");
        let head = Arc::new(SharedHead(Mutex::new(head)));
        let consumer: Arc<dyn LogConsumer> = head.clone();
        log.register(Arc::downgrade(&consumer));
        Ok(MetricStore {
            clock,
            opts,
            log,
            segments,
            head,
            view: tokio::sync::RwLock::new(()),
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// Durably records samples for `(account, region)` through the store's log; returns once
    /// they are fsynced.
    pub async fn ingest(&self, account: &str, region: &str, entries: Vec<(SeriesKey, Sample)>) -> Result<()> {
        self.ingest_via(account, region, entries, self.log.as_ref()).await
    }

    /// Durably records samples through `committer`; returns once they are fsynced and in the
    /// head.
    pub async fn ingest_via(&self, account: &str, region: &str, entries: Vec<(SeriesKey, Sample)>, committer: &dyn Committer) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let batch = WalBatch { account: account.to_string(), region: region.to_string(), received: self.clock.now().millis(), entries };
        let payload = encode(&batch)?;
        let head = self.head.clone();
        committer
            .commit(payload, Box::new(move |lsn| head.0.lock().apply(lsn, batch)))
            .await
            .map_err(MetricsError::Internal)?;
        Ok(())
    }

    /// Every sample of the series `key` in `[from, to)`, head and segments, unordered.
    pub async fn samples(&self, account: &str, region: &str, key: &SeriesKey, from: Timestamp, to: Timestamp) -> Result<Vec<Sample>> {
        let _view = self.view.read().await;
        let pkey = (account.to_string(), region.to_string());
        let mut out = Vec::new();
        {
            let head = self.head.0.lock();
            if let Some(st) = head.partitions.get(&pkey).and_then(|p| p.series.get(key)) {
                out.extend(st.head.iter().filter(|(_, s)| s.ts >= from && s.ts < to).map(|(_, s)| s.clone()));
            }
        }
        let records = self
            .segments
            .scan(&data_stream(&pkey), &KeyFilter::Exact(encode(key)?), from.millis(), to.millis())
            .await
            .map_err(internal)?;
        for r in records {
            out.push(decode(&r.value)?);
        }
        Ok(out)
    }

    /// Calls `f` with the series of a partition (for listing and matching).
    pub(crate) fn with_partition<R>(&self, account: &str, region: &str, f: impl FnOnce(Option<&Partition>) -> R) -> R {
        let head = self.head.0.lock();
        f(head.partitions.get(&(account.to_string(), region.to_string())))
    }

    /// Background step: flush the head when it is large or old, then compact and apply
    /// retention. Deterministic for a given `now`.
    pub async fn tick(&self, now: Timestamp) -> Result<FlushReport> {
        let due = {
            let h = self.head.0.lock();
            h.samples >= self.opts.flush_max_samples
                || h.oldest_unflushed.is_some_and(|t| now.millis() - t.millis() >= self.opts.flush_max_age_ms)
        };
        let report = if due { self.flush().await? } else { FlushReport::default() };
        self.maintain(now).await?;
        Ok(report)
    }

    /// Moves every head sample covered by the applied watermark into segments and checkpoints
    /// the WAL.
    pub async fn flush(&self) -> Result<FlushReport> {
        let _one = self.flushing.lock().await;
        let _view = self.view.write().await;
        // Snapshot what to write: every record up to the durable LSN is in the head already.
        let watermark = self.log.durable_lsn();
        let work = {
            let h = self.head.0.lock();
            let mut work: Vec<(PartitionKey, Vec<Record>, Vec<Record>)> = Vec::new();
            for (pkey, part) in &h.partitions {
                let mut data = Vec::new();
                let mut index = Vec::new();
                for (key, st) in &part.series {
                    let flushable: Vec<&Sample> = st.head.iter().filter(|(l, _)| *l <= watermark).map(|(_, s)| s).collect();
                    if flushable.is_empty() && !st.index_dirty {
                        continue;
                    }
                    let kb = encode(key)?;
                    index.push(Record { key: kb.clone(), ts: st.last_ingest.millis(), value: Vec::new() });
                    for s in flushable {
                        data.push(Record { key: kb.clone(), ts: s.ts.millis(), value: encode(s)? });
                    }
                }
                if !data.is_empty() || !index.is_empty() {
                    work.push((pkey.clone(), data, index));
                }
            }
            work
        };
        let mut report = FlushReport::default();
        for (pkey, data, index) in work {
            // Index first: after a crash between the two writes, the WAL replay restores the
            // data and the index already names its series.
            if !index.is_empty() {
                self.segments.write(&index_stream(&pkey), index, watermark).await.map_err(internal)?;
                report.segments += 1;
            }
            if !data.is_empty() {
                report.samples += data.len();
                self.segments.write(&data_stream(&pkey), data, watermark).await.map_err(internal)?;
                report.segments += 1;
            }
            // This partition's samples are durable in a segment now: drop them from the head at
            // once, so that a failure on a later partition cannot make the next flush write
            // them twice.
            let mut h = self.head.0.lock();
            let mut dropped = 0usize;
            if let Some(part) = h.partitions.get_mut(&pkey) {
                for st in part.series.values_mut() {
                    let before = st.head.len();
                    st.head.retain(|(l, _)| *l > watermark);
                    dropped += before - st.head.len();
                    st.index_dirty = !st.head.is_empty();
                }
            }
            h.samples -= dropped.min(h.samples);
        }
        {
            // Once, after every partition (if one failed above, the old, lower mark stays:
            // the checkpoint is only more cautious).
            let mut h = self.head.0.lock();
            h.oldest_unflushed = if h.samples > 0 { Some(self.clock.now()) } else { None };
            h.min_unflushed_lsn = h.min_lsn();
        }
        report.wal_files_removed = self.log.checkpoint().map_err(internal)?;
        tracing::debug!(samples = report.samples, segments = report.segments, watermark, "metric head flushed");
        Ok(report)
    }

    async fn maintain(&self, now: Timestamp) -> Result<()> {
        let streams: Vec<PartitionKey> = self.head.0.lock().partitions.keys().cloned().collect();
        for pkey in streams {
            let stream = data_stream(&pkey);
            self.segments.apply_retention(&stream, now.millis() - self.opts.retention_ms).await.map_err(internal)?;
            for s in [stream, index_stream(&pkey)] {
                let level0 = self.segments.segments(&s).await.map_err(internal)?.iter().filter(|m| m.level == 0).count();
                if level0 >= self.opts.compact_after_segments {
                    let _view = self.view.write().await;
                    self.segments.compact(&s, Default::default()).await.map_err(internal)?;
                }
            }
        }
        Ok(())
    }

    /// The commit log the store writes to.
    pub fn log(&self) -> &Arc<CommitLog> {
        &self.log
    }

    /// Samples waiting in the head for the next flush.
    pub fn head_samples(&self) -> usize {
        self.head.0.lock().samples
    }

    /// Stops the log's writer after flushing outstanding appends (the log is shared: only
    /// for stores that own theirs).
    pub fn close(self) {
        self.log.close();
    }
}

impl Head {
    fn apply(&mut self, lsn: u64, batch: WalBatch) {
        let received = Timestamp(batch.received);
        let part = self.partitions.entry((batch.account, batch.region)).or_default();
        let n = batch.entries.len();
        for (key, sample) in batch.entries {
            let st = part.series.entry(key).or_default();
            st.last_ingest = st.last_ingest.max(received);
            st.index_dirty = true;
            st.head.push((lsn, sample));
        }
        self.samples += n;
        if self.oldest_unflushed.is_none() {
            self.oldest_unflushed = Some(received);
        }
        if n > 0 && self.min_unflushed_lsn.is_none_or(|m| lsn < m) {
            self.min_unflushed_lsn = Some(lsn);
        }
    }

    /// The lowest LSN of any sample in the head.
    fn min_lsn(&self) -> Option<u64> {
        self.partitions.values().flat_map(|p| p.series.values()).filter_map(|st| st.head.first().map(|(l, _)| *l)).min()
    }
}
