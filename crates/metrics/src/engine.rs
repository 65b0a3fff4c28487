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
use crate::chunk::{Run, Scratch};
use crate::model::{Sample, SeriesKey};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
pub use crate::log_part::EncodedSeriesKey;
use crate::head_sample::{encode_chunk, head_samples, HeadSample};
use crate::partition::{HeadKey, HeadSeries, LsnRun, Partition};
use crate::log_part::{decode_series_columns, encode_series_columns, group_by_series, SeriesBatch, WalBatch};
use watchtrail_core::{SharedClock, Timestamp};
use watchtrail_store::{
    BlobStore, Catalog, CommitEntry, CommitLog, KeyFilter, LogConsumer, OnDurable, PartKind, PartRef, Record, RecordRef, SegmentEncoder, SegmentStore, SqliteCatalog, StoreError, WalOptions,
};

/// Makes an encoded metrics part durable and runs `on_durable` on the log's writer thread
/// first. The store's own [`CommitLog`] is one; a gateway request transaction that commits the
/// request's activity record in the same log record is another.
pub trait Committer: Send + Sync {
    /// Commits `part` (a [`PartKind::MetricColumns`] payload); resolves with its LSN once
    /// durable.
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, std::result::Result<u64, String>>;
}

impl Committer for CommitLog {
    fn commit(&self, part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, std::result::Result<u64, String>> {
        let fut = self.append(&[PartRef { kind: PartKind::MetricColumns, bytes: &part }], Some(on_durable));
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
    /// Roll older data up into coarser resolutions ([`crate::rollup`]); `false` keeps every
    /// sample as stored until retention.
    pub rollup: bool,
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
            rollup: true,
            wal: WalOptions::default(),
        }
    }
}

/// Flushes in a row without a new sample after which a series' head buffer is released.
pub(crate) const IDLE_FLUSHES: u8 = 2;

type PartitionKey = (String, String);

struct Head {
    partitions: HashMap<PartitionKey, Partition>,
    /// Series buffers emptied by earlier flushes: a flush hands one to each series whose
    /// buffer it takes whole, so buffers go round instead of being allocated (and the
    /// kernel zeroing their pages) flush after flush.
    spare_buffers: Vec<Vec<HeadSample>>,
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

/// The data stream of a partition: records are chunks of one series' samples
/// ([`crate::chunk`]), keyed by the series and the chunk's first timestamp.
fn data_stream(p: &PartitionKey) -> String {
    format!("series/{}/{}", p.0, p.1)
}

/// Raw samples are chunked by the hour they fall in.
const RAW_CHUNK_MS: i64 = Timestamp::HOUR;
/// The longest time a chunk covers after its first sample (rolled-up chunks cover a day):
/// a read for `[from, to)` scans chunks starting from `from` minus this.
pub(crate) const MAX_CHUNK_SPAN_MS: i64 = Timestamp::DAY;

fn index_stream(p: &PartitionKey) -> String {
    format!("metrics-index/{}/{}", p.0, p.1)
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(v).map_err(|e| MetricsError::Internal(format!("encode: {e}")))
}

pub(crate) fn decode<'a, T: Deserialize<'a>>(b: &'a [u8]) -> Result<T> {
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

        if let Some(legacy) = catalog.streams().map_err(internal)?.into_iter().find(|s| s.starts_with("metrics/")) {
            return Err(MetricsError::Internal(format!(
                "the segments of stream {legacy} were written by an older development build (one record per sample); this build stores chunks of samples and cannot read them. Start from an empty data directory."
            )));
        }
        let mut head = Head { partitions: HashMap::new(), spare_buffers: Vec::new(), samples: 0, oldest_unflushed: None, min_unflushed_lsn: None };
        // Series index.
        for stream in catalog.streams().map_err(internal)? {
            let Some(rest) = stream.strip_prefix("metrics-index/") else { continue };
            let Some((account, region)) = rest.split_once('/') else { continue };
            let pkey = (account.to_string(), region.to_string());
            let records = segments.scan(&stream, &KeyFilter::All, i64::MIN, i64::MAX).await.map_err(internal)?;
            let part = head.partitions.entry(pkey).or_default();
            for r in records {
                let key: SeriesKey = decode(&r.key)?;
                let st = part.state_mut(key);
                st.last_ingest = st.last_ingest.max(Timestamp(r.ts));
            }
        }
        // WAL replay, skipping what segments already hold.
        let mut persisted: HashMap<PartitionKey, u64> = HashMap::new();
        let mut replayed = 0usize;
        for entry in entries {
            let legacy = entry.parts_of(PartKind::Metrics).map(|p| decode::<WalBatch>(p).map(SeriesBatch::from));
            let grouped = entry.parts_of(PartKind::MetricSeries).map(decode::<SeriesBatch>);
            let columns = entry.parts_of(PartKind::MetricColumns).map(decode_series_columns);
            for batch in legacy.chain(grouped).chain(columns) {
                let batch = batch?;
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
                    let series = batch.series.into_iter().map(|(key, samples)| (key, head_samples(samples))).collect();
                    head.apply(entry.lsn, pkey, Timestamp(batch.received), series);
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
        self.ingest_series_via(account, region, group_by_series(entries), committer).await
    }

    /// [`MetricStore::ingest_via`] for samples already grouped by series (each key once).
    pub async fn ingest_series_via(&self, account: &str, region: &str, series: Vec<(SeriesKey, Vec<Sample>)>, committer: &dyn Committer) -> Result<()> {
        let series = series.into_iter().map(|(key, samples)| (Arc::new(EncodedSeriesKey::new(key)), head_samples(samples))).collect();
        self.ingest_encoded_via(account, region, series, committer).await
    }

    /// [`MetricStore::ingest_series_via`] for series whose keys are encoded already.
    pub(crate) async fn ingest_encoded_via(&self, account: &str, region: &str, series: Vec<(Arc<EncodedSeriesKey>, Vec<HeadSample>)>, committer: &dyn Committer) -> Result<()> {
        if series.iter().all(|(_, s)| s.is_empty()) {
            return Ok(());
        }
        let received = self.clock.now().millis();
        let payload = encode_series_columns(account, region, received, &series)?;
        let head = self.head.clone();
        let pkey = (account.to_string(), region.to_string());
        committer
            .commit(payload, Box::new(move |lsn| head.0.lock().apply(lsn, pkey, Timestamp(received), series)))
            .await
            .map_err(MetricsError::Internal)?;
        Ok(())
    }

    /// Every sample of the series `key` in `[from, to)`, head and segments, unordered.
    pub async fn samples(&self, account: &str, region: &str, key: &SeriesKey, from: Timestamp, to: Timestamp) -> Result<Vec<Sample>> {
        let mut all = self.samples_many(account, region, std::slice::from_ref(key), from, to).await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Every sample of each series of `keys` in `[from, to)`, head and segments, unordered:
    /// one list per key, in the order of `keys`. See [`MetricStore::visit_many`].
    pub async fn samples_many(&self, account: &str, region: &str, keys: &[SeriesKey], from: Timestamp, to: Timestamp) -> Result<Vec<Vec<Sample>>> {
        self.visit_many(account, region, keys, from, to, vec![Vec::new(); keys.len()], |out: &mut Vec<Vec<Sample>>, i, run: Run<'_>| {
            run.for_each(|s| out[i].push(s.clone()))
        })
        .await
    }

    /// Calls `visit(&mut state, index into keys, run)` with every sample of each series of
    /// `keys` in `[from, to)` and returns `state`: head samples first (one by one), then each
    /// segment's in write order (within a series and segment, in time order; a chunk's single
    /// values as one [`Run::Singles`]).
    ///
    /// The series are read together, and nothing is collected on the way: one catalog
    /// listing, each segment block decompressed at most once however many of the series it
    /// holds (series of one metric name sort next to each other, so a SEARCH over a hundred
    /// hosts reads a few blocks per segment, not a hundred), and each chunk's samples handed
    /// over as they are decoded, so a caller that folds them into statistics as they come
    /// never holds a series' samples in memory.
    pub async fn visit_many<S, F>(&self, account: &str, region: &str, keys: &[SeriesKey], from: Timestamp, to: Timestamp, state: S, mut visit: F) -> Result<S>
    where
        S: Send + 'static,
        F: FnMut(&mut S, usize, Run<'_>) + Send + 'static,
    {
        let _view = self.view.read().await;
        let pkey = (account.to_string(), region.to_string());
        let mut state = state;
        {
            let head = self.head.0.lock();
            if let Some(p) = head.partitions.get(&pkey) {
                for (i, key) in keys.iter().enumerate() {
                    for s in p.get(key).map_or(&[][..], |st| &st.head[..]) {
                        if s.ts() >= from && s.ts() < to {
                            s.with(|s| visit(&mut state, i, Run::Sample(s)));
                        }
                    }
                }
            }
        }
        // Segment keys in byte order, each with the indices it feeds (a key asked twice feeds both).
        let mut encoded: Vec<(Vec<u8>, usize)> = keys.iter().enumerate().map(|(i, k)| Ok((encode(k)?, i))).collect::<Result<_>>()?;
        encoded.sort();
        let mut sorted: Vec<Vec<u8>> = Vec::with_capacity(encoded.len());
        let mut targets: Vec<Vec<usize>> = Vec::with_capacity(encoded.len());
        for (k, i) in encoded {
            match targets.last_mut() {
                Some(t) if sorted.last() == Some(&k) => t.push(i),
                _ => {
                    sorted.push(k);
                    targets.push(vec![i]);
                }
            }
        }
        let (state, _, _) = self
            .segments
            .scan_keys(
                &data_stream(&pkey),
                sorted,
                from.millis().saturating_sub(MAX_CHUNK_SPAN_MS),
                to.millis(),
                (state, visit, Scratch::default()),
                move |(state, visit, scratch): &mut (S, F, Scratch), k, record| {
                    let targets = targets.get(k).map_or(&[][..], |t| &t[..]);
                    crate::chunk::decode_runs(record.value, from, to, scratch, |run| targets.iter().for_each(|&i| visit(state, i, run)))
                        .map_err(|e| StoreError::corruption("metric chunk", e.to_string()))
                },
            )
            .await
            .map_err(internal)?;
        Ok(state)
    }

    /// Calls `f` with the series of a partition (for listing and matching).
    pub(crate) fn with_partition<R>(&self, account: &str, region: &str, f: impl FnOnce(Option<&Partition>) -> R) -> R {
        let head = self.head.0.lock();
        f(head.partitions.get(&(account.to_string(), region.to_string())))
    }

    /// Background step: flush the head when it is large or old, then apply retention, roll
    /// old segments up into coarser resolutions ([`crate::rollup`]) and compact.
    /// Deterministic for a given `now`.
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
    ///
    /// The head lock is held only to take the samples out (moving vectors, no encoding), so
    /// the log's writer thread, which applies new commits to the head, is never held up by
    /// a flush. Readers wait on the view lock until the samples are in a segment.
    ///
    /// Cancellation: if the future is dropped, samples not yet in a segment go back into the
    /// head (never lost). A drop while a segment write is finishing can put back samples that
    /// did reach it, which a later flush then writes again; the server therefore never cancels
    /// a flush (its background jobs stop between steps).
    pub async fn flush(&self) -> Result<FlushReport> {
        let _one = self.flushing.lock().await;
        let _view = self.view.write().await;
        // Every record up to the durable LSN is in the head already.
        let watermark = self.log.durable_lsn();
        let taken = self.head.0.lock().take_flushable(watermark);
        // From here on, whatever has not reached a segment goes back into the head, even if
        // this future is dropped at one of its awaits.
        let work = TakenWork { head: self.head.clone(), parts: taken };
        let mut report = FlushReport::default();
        let mut failure = None;
        for part in &work.parts {
            match self.flush_partition(part, watermark).await {
                Ok((samples, segments)) => {
                    report.samples += samples;
                    report.segments += segments;
                    let flushed = std::mem::take(&mut *part.taken.lock());
                    // Emptied outside the head lock (dropping samples is a pass over them).
                    let buffers: Vec<Vec<HeadSample>> = flushed
                        .series
                        .into_iter()
                        .map(|mut s| {
                            s.samples.clear();
                            s.samples
                        })
                        .collect();
                    self.head.0.lock().recycle(buffers);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let restored = work.restore();
        let mut h = self.head.0.lock();
        if restored == 0 {
            h.min_unflushed_lsn = h.min_lsn();
        }
        // (Otherwise the lowest unflushed LSN keeps its old, lower value: the log keeps every
        // record a restored sample came from.)
        h.oldest_unflushed = if h.samples > 0 { Some(self.clock.now()) } else { None };
        drop(h);
        if let Some(e) = failure {
            return Err(e);
        }
        report.wal_files_removed = self.log.checkpoint().map_err(internal)?;
        tracing::debug!(samples = report.samples, segments = report.segments, watermark, "metric head flushed");
        Ok(report)
    }

    /// Writes one partition's taken samples: the series index first (after a crash between
    /// the two writes, the WAL replay restores the data and the index already names its
    /// series), then the data. Returns `(samples, segments)` written.
    async fn flush_partition(&self, part: &TakenPartition, watermark: u64) -> Result<(usize, usize)> {
        let taken = part.taken.clone();
        let samples = taken.lock().samples();
        // About 16 bytes per sample before compression; the output is smaller.
        let encoder = self.segments.encoder(samples * 16 + 4096).map_err(internal)?;
        let (data, index) = tokio::task::spawn_blocking(move || {
            // A panic must not lose the samples: they stay in `taken` for the restore.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| encode_partition(&mut taken.lock(), encoder)))
                .unwrap_or_else(|_| Err(MetricsError::Internal("encoding a flush panicked".into())))
        })
        .await
        .map_err(internal)??;
        let mut segments = 0;
        if !index.is_empty() {
            self.segments.write(&index_stream(&part.key), index, watermark).await.map_err(internal)?;
            segments += 1;
        }
        let mut samples = 0;
        if let Some(data) = data {
            self.segments.write_encoded(&data_stream(&part.key), data.bytes, watermark).await.map_err(internal)?;
            samples = data.samples;
            segments += 1;
        }
        Ok((samples, segments))
    }

    async fn maintain(&self, now: Timestamp) -> Result<()> {
        let streams: Vec<PartitionKey> = self.head.0.lock().partitions.keys().cloned().collect();
        for pkey in streams {
            let stream = data_stream(&pkey);
            // A segment's newest chunk may hold samples up to a chunk span after its start.
            self.segments.apply_retention(&stream, now.millis() - self.opts.retention_ms - MAX_CHUNK_SPAN_MS).await.map_err(internal)?;
            // Coarsest first: a segment old enough for several tiers is rolled once.
            let tiers = if self.opts.rollup { &crate::rollup::TIERS[..] } else { &[] };
            for tier in tiers.iter().rev() {
                let cutoff = tier.cutoff(now);
                let due: Vec<_> = self
                    .segments
                    .segments(&stream)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .filter(|m| m.level < tier.level && m.max_ts.saturating_add(MAX_CHUNK_SPAN_MS) < cutoff)
                    .collect();
                if !due.is_empty() {
                    let rewriter = Box::new(crate::rollup::RollupRewriter::new(tier.step_ms));
                    self.segments.rewrite(&stream, &due, tier.level, rewriter).await.map_err(internal)?;
                }
            }
            for s in [stream, index_stream(&pkey)] {
                let level0 = self.segments.segments(&s).await.map_err(internal)?.iter().filter(|m| m.level == 0).count();
                if level0 >= self.opts.compact_after_segments {
                    // No view lock: a reader sees the inputs or the output (one catalog swap),
                    // and a scan that loses an input blob lists the segments again.
                    self.segments.compact(&s, Default::default()).await.map_err(internal)?;
                }
            }
        }
        Ok(())
    }

    /// The data segments of one account and region, as the catalog lists them (for tests and
    /// diagnostics: levels show which rollup tier a segment is at).
    pub async fn data_segments(&self, account: &str, region: &str) -> Result<Vec<watchtrail_store::SegmentMeta>> {
        self.segments.segments(&data_stream(&(account.to_string(), region.to_string()))).await.map_err(internal)
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

/// A series taken out of the head for a flush.
struct TakenSeries {
    key: Arc<EncodedSeriesKey>,
    last_ingest: Timestamp,
    /// Its samples, in LSN order (a flush encodes a sorted copy of a series whose samples
    /// are not in time order): the series' own buffer when the flush took all of them.
    samples: Vec<HeadSample>,
    /// The log records of those samples.
    lsns: Vec<LsnRun>,
}

/// What a flush took out of one partition.
#[derive(Default)]
struct Taken {
    series: Vec<TakenSeries>,
}

impl Taken {
    fn samples(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }
}

/// The taken series of one partition (shared with the blocking task that encodes them).
struct TakenPartition {
    key: PartitionKey,
    taken: Arc<Mutex<Taken>>,
}

/// The samples one flush took out of the head. Whatever is still here when it is dropped —
/// after a failed segment write, or when the flush future is cancelled — goes back into the
/// head, so that no acknowledged sample is ever missing from both head and segments.
struct TakenWork {
    head: Arc<SharedHead>,
    parts: Vec<TakenPartition>,
}

impl TakenWork {
    /// Puts back every sample not yet handed over; returns how many.
    fn restore(&self) -> usize {
        let mut restored = 0;
        for part in &self.parts {
            // Waits for an encoder still running on a blocking thread (a cancelled flush).
            let taken = std::mem::take(&mut *part.taken.lock());
            if taken.series.is_empty() {
                continue;
            }
            restored += taken.samples();
            self.head.0.lock().restore(part.key.clone(), taken);
        }
        restored
    }
}

impl Drop for TakenWork {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The data segment of a partition's flush: its bytes and how many samples it holds.
struct EncodedData {
    bytes: Vec<u8>,
    samples: usize,
}

/// Encodes a partition's taken series: the data segment, streamed into `data` (series in key
/// order, each series' samples by time; stable, so equal times keep arrival order), `None`
/// when no series has samples; and the series index records.
fn encode_partition(taken: &mut Taken, mut data: SegmentEncoder) -> Result<(Option<EncodedData>, Vec<Record>)> {
    let Taken { series } = taken;
    let mut keyed: Vec<(&[u8], usize)> = series.iter().enumerate().map(|(i, s)| (s.key.bytes(), i)).collect();
    keyed.sort_unstable();
    let mut index = Vec::with_capacity(keyed.len());
    let mut samples = 0;
    let (mut ts, mut values, mut sorted) = (Vec::new(), Vec::new(), Vec::new());
    for (kb, i) in keyed {
        let s = &series[i];
        let mut series_samples = &s.samples[..];
        if !series_samples.is_sorted_by_key(HeadSample::ts) {
            // Sorted apart: the taken samples stay in LSN order, as a restore needs them.
            sorted.clear();
            sorted.extend_from_slice(series_samples);
            sorted.sort_by_key(HeadSample::ts);
            series_samples = &sorted;
        }
        // One chunk per hour the series has samples in.
        let mut rest = series_samples;
        while let Some(first) = rest.first() {
            let hour_end = first.ts().floor_to(RAW_CHUNK_MS).millis().saturating_add(RAW_CHUNK_MS);
            // (At least the first: an hour that ends past the last timestamp still holds it.)
            let (run, after) = rest.split_at(rest.partition_point(|x| x.ts().millis() < hour_end).max(1));
            let bytes = encode_chunk(run, &mut ts, &mut values);
            data.push(RecordRef { key: kb, ts: first.ts().millis(), value: &bytes }).map_err(internal)?;
            rest = after;
        }
        samples += series_samples.len();
        index.push(Record { key: kb.to_vec(), ts: s.last_ingest.millis(), value: Vec::new() });
    }
    let data = if samples > 0 { Some(EncodedData { bytes: data.finish().map_err(internal)?, samples }) } else { None };
    Ok((data, index))
}

impl Head {
    fn apply<K: HeadKey>(&mut self, lsn: u64, pkey: PartitionKey, received: Timestamp, series: Vec<(K, Vec<HeadSample>)>) {
        let part = self.partitions.entry(pkey).or_default();
        let mut n = 0;
        for (key, samples) in series {
            let st = part.state_mut(key);
            st.last_ingest = st.last_ingest.max(received);
            st.index_dirty = true;
            st.idle_flushes = 0;
            n += samples.len();
            st.push(lsn, samples);
        }
        self.samples += n;
        if self.oldest_unflushed.is_none() {
            self.oldest_unflushed = Some(received);
        }
        if n > 0 && self.min_unflushed_lsn.is_none_or(|m| lsn < m) {
            self.min_unflushed_lsn = Some(lsn);
        }
    }

    /// Takes every sample with `lsn <= watermark` out of the head, with the series whose
    /// index entry must be written. Samples of a series are in LSN order, so the flushable
    /// ones are a prefix; they move into one buffer per partition (an emptied one of an
    /// earlier flush when there is one), and each series keeps its own buffer for what comes
    /// next.
    fn take_flushable(&mut self, watermark: u64) -> Vec<TakenPartition> {
        let mut work = Vec::new();
        let mut taken_samples = 0usize;
        for (pkey, part) in &mut self.partitions {
            let mut taken = Taken::default();
            for HeadSeries { key, state: st } in &mut part.series {
                debug_assert_eq!(st.lsns.iter().map(|r| r.len).sum::<usize>(), st.head.len());
                let runs = st.lsns.partition_point(|r| r.lsn <= watermark);
                let n: usize = st.lsns[..runs].iter().map(|r| r.len).sum();
                if st.head.is_empty() {
                    st.idle_flushes = st.idle_flushes.saturating_add(1);
                    if st.idle_flushes >= IDLE_FLUSHES {
                        st.head = Vec::new();
                        st.lsns = Vec::new();
                    }
                }
                if n == 0 && !st.index_dirty {
                    continue;
                }
                let samples = if n > 0 && n == st.head.len() {
                    // All of them: the buffer itself, and a spare one for what comes next.
                    std::mem::replace(&mut st.head, self.spare_buffers.pop().unwrap_or_default())
                } else {
                    let mut b = if n > 0 { self.spare_buffers.pop().unwrap_or_default() } else { Vec::new() };
                    b.extend(st.head.drain(..n));
                    b
                };
                let lsns = st.lsns.drain(..runs).collect();
                st.index_dirty = !st.head.is_empty();
                taken_samples += n;
                taken.series.push(TakenSeries { key: key.clone(), last_ingest: st.last_ingest, samples, lsns });
            }
            if !taken.series.is_empty() {
                work.push(TakenPartition { key: pkey.clone(), taken: Arc::new(Mutex::new(taken)) });
            }
        }
        self.samples -= taken_samples.min(self.samples);
        work
    }

    /// Puts back samples taken by [`Head::take_flushable`] that did not reach a segment, in
    /// front of anything that arrived since (keeping the LSN order).
    fn restore(&mut self, pkey: PartitionKey, taken: Taken) {
        let p = self.partitions.entry(pkey).or_default();
        self.samples += taken.samples();
        for series in taken.series {
            let TakenSeries { key, mut samples, mut lsns, .. } = series;
            let st = p.state_mut(key);
            samples.append(&mut st.head);
            st.head = samples;
            lsns.append(&mut st.lsns);
            st.lsns = lsns;
            st.index_dirty = true;
        }
    }

    /// Keeps a flush's emptied series buffers for the next flushes: at most as many as it
    /// returns, since the next flush hands out about as many as this one took.
    fn recycle(&mut self, buffers: Vec<Vec<HeadSample>>) {
        let before = self.spare_buffers.len();
        self.spare_buffers.extend(buffers.into_iter().filter(|b| b.capacity() > 0));
        let returned = self.spare_buffers.len() - before;
        self.spare_buffers.truncate(returned);
    }

    /// The lowest LSN of any sample in the head.
    fn min_lsn(&self) -> Option<u64> {
        self.partitions.values().flat_map(|p| &p.series).filter_map(|s| s.state.min_lsn()).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricKey, SampleValue, Unit};
    use crate::partition::SeriesState;

    fn one_series(ts: i64) -> Vec<(SeriesKey, Vec<HeadSample>)> {
        let key = SeriesKey { metric: MetricKey::new("NS", "m", vec![]), unit: Unit::None };
        vec![(key, head_samples((0..10).map(|i| Sample { ts: Timestamp(ts + i), resolution: 1, value: SampleValue::Single(i as f64) }).collect()))]
    }

    fn head_of(head: &Head) -> &SeriesState {
        &head.partitions.values().next().unwrap().series[0].state
    }

    #[test]
    fn series_buffers_go_round_and_an_idle_series_lets_its_go() {
        let mut head = Head { partitions: HashMap::new(), spare_buffers: Vec::new(), samples: 0, oldest_unflushed: None, min_unflushed_lsn: None };
        let pkey = || ("1".to_string(), "r".to_string());
        // A flush that writes its segment: takes, then hands the emptied buffers back.
        let flush = |head: &mut Head, watermark: u64| -> Vec<*const HeadSample> {
            let taken = head.take_flushable(watermark);
            let flushed = taken.first().map(|t| std::mem::take(&mut *t.taken.lock())).unwrap_or_default();
            let ptrs = flushed.series.iter().map(|s| s.samples.as_ptr()).collect();
            head.recycle(flushed.series.into_iter().map(|mut s| {
                s.samples.clear();
                s.samples
            }).collect());
            ptrs
        };
        head.apply(1, pkey(), Timestamp(0), one_series(0));
        let first = head_of(&head).head.as_ptr();
        assert_eq!(flush(&mut head, 1), vec![first], "taken whole, not copied");
        assert!(head_of(&head).head.is_empty());
        assert_eq!(head.spare_buffers.len(), 1, "the emptied buffer is kept for the next flush");
        head.apply(2, pkey(), Timestamp(0), one_series(100));
        let second = head_of(&head).head.as_ptr();
        assert_eq!(flush(&mut head, 2), vec![second]);
        assert_eq!(head_of(&head).head.as_ptr(), first, "the series goes on in the first buffer");
        head.apply(3, pkey(), Timestamp(0), one_series(200));
        assert_eq!(head_of(&head).head.as_ptr(), first);
        assert_eq!(flush(&mut head, 3), vec![first]);
        assert_eq!(head_of(&head).head.as_ptr(), second, "and then in the second");
        assert_eq!(head.spare_buffers.len(), 1);
        // Two flushes with nothing new: the series' buffer is released.
        assert!(flush(&mut head, 3).is_empty());
        assert!(head_of(&head).head.capacity() > 0, "one idle flush keeps it");
        flush(&mut head, 3);
        assert_eq!(head_of(&head).head.capacity(), 0);
        assert_eq!(head.samples, 0);
    }

    #[test]
    fn samples_keep_their_records_lsn_through_a_flush_that_fails() {
        let mut head = Head { partitions: HashMap::new(), spare_buffers: Vec::new(), samples: 0, oldest_unflushed: None, min_unflushed_lsn: None };
        let pkey = || ("1".to_string(), "r".to_string());
        let runs = |head: &Head| head_of(head).lsns.iter().map(|r| (r.lsn, r.len)).collect::<Vec<_>>();
        let times = |head: &Head| head_of(head).head.iter().map(|s| s.ts().millis()).collect::<Vec<_>>();
        // Later records carry earlier times: LSN order is not time order.
        head.apply(3, pkey(), Timestamp(0), one_series(500));
        head.apply(5, pkey(), Timestamp(0), one_series(100));
        head.apply(5, pkey(), Timestamp(0), one_series(300));
        head.apply(8, pkey(), Timestamp(0), one_series(0));
        assert_eq!(runs(&head), vec![(3, 10), (5, 20), (8, 10)], "one run per record");
        assert_eq!(head.min_lsn(), Some(3));
        let before = times(&head);
        // A flush up to LSN 5 takes the first two records' samples, and its encoding (which
        // sorts by time) leaves them as taken.
        let taken = head.take_flushable(5);
        assert_eq!(taken[0].taken.lock().samples(), 30);
        assert_eq!(head.min_lsn(), Some(8));
        assert_eq!(runs(&head), vec![(8, 10)]);
        let encoder = watchtrail_store::SegmentBuilder::new().encoder(0).unwrap();
        let (data, _) = encode_partition(&mut taken[0].taken.lock(), encoder).unwrap();
        assert_eq!(data.unwrap().samples, 30);
        // The segment write fails: everything goes back in front, in LSN order.
        let t = std::mem::take(&mut *taken[0].taken.lock());
        head.restore(pkey(), t);
        assert_eq!(runs(&head), vec![(3, 10), (5, 20), (8, 10)]);
        assert_eq!(times(&head), before);
        assert_eq!(head.min_lsn(), Some(3));
        assert_eq!(head.samples, 40);
        // A flush up to LSN 3 takes exactly the first record's samples.
        let taken = head.take_flushable(3);
        let first: Vec<i64> = taken[0].taken.lock().series[0].samples.iter().map(|s| s.ts().millis()).collect();
        assert_eq!(first, (500..510).collect::<Vec<_>>());
        assert_eq!(runs(&head), vec![(5, 20), (8, 10)]);
    }


}
