//! The activity journal: every API call the gateway sees, durable before the client gets an
//! answer.
//!
//! Records ride the server's shared [`CommitLog`] as [`PartKind::Activity`] parts — alone, or
//! in the same log record as the call's data (one fsync for both). Once durable they enter an
//! in-memory tail (recent records, for lookups within a second) and a pending list; [`Journal::tick`]
//! moves pending records into immutable segments of the stream [`ACTIVITY_STREAM`] (key: request
//! id, timestamp: request time, value: the record as JSON), after which the log may drop them.
//! The journal is a [`LogConsumer`]: it reports the LSN below which all its records are in
//! segments.

use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use watchtrail_core::{ActivityRecord, Timestamp};
use watchtrail_store::{BlobStore, Catalog, CommitEntry, CommitLog, KeyFilter, LogConsumer, OnDurable, PartKind, PartRef, Record, SegmentStore, SqliteCatalog};
use watchtrail_wire::{ActivitySink, DataWrite};

/// How many recent records are kept in memory.
pub const TAIL_CAPACITY: usize = 50_000;
/// The segment stream activity records are persisted to.
pub const ACTIVITY_STREAM: &str = "activity";

/// When [`Journal::tick`] persists pending records.
#[derive(Clone, Debug)]
pub struct JournalOptions {
    /// Persist once this many records are pending.
    pub flush_max_records: usize,
    /// Persist once the oldest pending record is this old (ms).
    pub flush_max_age_ms: i64,
    /// Compact once the stream has this many level-0 segments.
    pub compact_after_segments: usize,
    /// Persist once the oldest pending record is in a log file the log has moved on from:
    /// under a heavy write load the log then retires its files as fast as they fill (into
    /// spares that later rotations reuse), instead of growing new, zero-filled ones until
    /// the record count or age comes due.
    pub flush_behind_log_file: bool,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions { flush_max_records: 20_000, flush_max_age_ms: 30_000, compact_after_segments: 8, flush_behind_log_file: true }
    }
}

/// One record, as encoded in the log.
struct Entry {
    time: i64,
    request_id: String,
    json: Vec<u8>,
}

#[derive(Default)]
struct State {
    /// Durable in the log, not yet in a segment, with their LSNs; in LSN order.
    pending: VecDeque<(u64, Arc<Entry>)>,
    /// The most recent records, oldest first.
    tail: VecDeque<Arc<Entry>>,
}

impl State {
    fn push(&mut self, lsn: u64, entry: Arc<Entry>) {
        if self.tail.len() == TAIL_CAPACITY {
            self.tail.pop_front();
        }
        self.tail.push_back(entry.clone());
        self.pending.push_back((lsn, entry));
    }
}

struct SharedState(Mutex<State>);

impl LogConsumer for SharedState {
    fn persisted_lsn(&self, durable: u64) -> u64 {
        match self.0.lock().pending.front() {
            Some((lsn, _)) => lsn - 1,
            None => durable,
        }
    }
}

/// The durable activity journal.
pub struct Journal {
    log: Arc<CommitLog>,
    segments: SegmentStore,
    state: Arc<SharedState>,
    opts: JournalOptions,
    flushing: tokio::sync::Mutex<()>,
}

impl Journal {
    /// Opens the journal's segments under `dir` on the shared `log`, whose records at open are
    /// `entries`: activity parts not yet in segments become pending again (and fill the tail).
    pub async fn open(dir: &Path, log: Arc<CommitLog>, entries: &[CommitEntry], opts: JournalOptions) -> Result<Arc<Self>, String> {
        let err = |e: watchtrail_store::StoreError| format!("cannot open activity journal: {e}");
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let catalog: Arc<dyn Catalog> = Arc::new(SqliteCatalog::open(&dir.join("catalog.sqlite")).map_err(err)?);
        let segments = SegmentStore::new(BlobStore::local(&dir.join("segments")).map_err(err)?, catalog);
        let persisted = segments.max_lsn(ACTIVITY_STREAM).await.map_err(err)?;
        let mut state = State::default();
        let mut replayed = 0usize;
        for e in entries.iter().filter(|e| e.lsn > persisted) {
            for json in e.parts_of(PartKind::Activity) {
                match serde_json::from_slice::<ActivityRecord>(json) {
                    Ok(r) => {
                        state.push(e.lsn, Arc::new(Entry { time: r.time.millis(), request_id: r.request_id, json: json.to_vec() }));
                        replayed += 1;
                    }
                    Err(err) => tracing::warn!(lsn = e.lsn, error = %err, "skipping unreadable activity record"),
                }
            }
        }
        tracing::info!(replayed, persisted_lsn = persisted, "activity journal opened");
        let state = Arc::new(SharedState(Mutex::new(state)));
        let consumer: Arc<dyn LogConsumer> = state.clone();
        log.register(Arc::downgrade(&consumer));
        Ok(Arc::new(Journal { log, segments, state, opts, flushing: tokio::sync::Mutex::new(()) }))
    }

    /// The record with this request id, if it is among the recent records in memory.
    pub fn find(&self, request_id: &str) -> Option<ActivityRecord> {
        let entry = self.state.0.lock().tail.iter().rev().find(|e| e.request_id == request_id).cloned()?;
        serde_json::from_slice(&entry.json).ok()
    }

    /// The record with this request id, from memory or from segments.
    pub async fn find_durable(&self, request_id: &str) -> Result<Option<ActivityRecord>, String> {
        if let Some(r) = self.find(request_id) {
            return Ok(Some(r));
        }
        let pending = self.state.0.lock().pending.iter().find(|(_, e)| e.request_id == request_id).map(|(_, e)| e.clone());
        if let Some(e) = pending {
            return serde_json::from_slice(&e.json).map(Some).map_err(|e| e.to_string());
        }
        let found = self
            .segments
            .scan(ACTIVITY_STREAM, &KeyFilter::Exact(request_id.as_bytes().to_vec()), i64::MIN, i64::MAX)
            .await
            .map_err(|e| e.to_string())?;
        match found.first() {
            Some(r) => serde_json::from_slice(&r.value).map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }

    /// Records durable in the log but not yet in segments.
    pub fn pending(&self) -> usize {
        self.state.0.lock().pending.len()
    }

    /// Background step: persists pending records when there are many, the oldest is old or
    /// sits in a log file the log has moved on from, and compacts the stream after a flush (only flushes add segments). Deterministic for a
    /// given `now`.
    pub async fn tick(&self, now: Timestamp) -> Result<usize, String> {
        // The first LSN of the file being written, read before the journal's lock (never
        // one lock inside the other).
        let current_file = if self.opts.flush_behind_log_file { self.log.files().last().copied() } else { None };
        let due = {
            let st = self.state.0.lock();
            let behind = |lsn: u64| current_file.is_some_and(|current| lsn < current);
            st.pending.len() >= self.opts.flush_max_records || st.pending.front().is_some_and(|&(lsn, ref e)| now.millis() - e.time >= self.opts.flush_max_age_ms || behind(lsn))
        };
        if !due {
            return Ok(0);
        }
        let n = self.flush().await?;
        let level0 = self.segments.segments(ACTIVITY_STREAM).await.map_err(|e| e.to_string())?.iter().filter(|m| m.level == 0).count();
        if level0 >= self.opts.compact_after_segments {
            self.segments.compact(ACTIVITY_STREAM, Default::default()).await.map_err(|e| e.to_string())?;
        }
        Ok(n)
    }

    /// Persists every pending record to a segment, then lets the log checkpoint. Returns how
    /// many records were written.
    pub async fn flush(&self) -> Result<usize, String> {
        let _one = self.flushing.lock().await;
        let batch: Vec<(u64, Arc<Entry>)> = self.state.0.lock().pending.iter().cloned().collect();
        let Some(&(max_lsn, _)) = batch.last() else { return Ok(0) };
        let records = batch.iter().map(|(_, e)| Record { key: e.request_id.as_bytes().to_vec(), ts: e.time, value: e.json.clone() }).collect();
        self.segments.write(ACTIVITY_STREAM, records, max_lsn).await.map_err(|e| e.to_string())?;
        {
            // Only this flush removes from the front, and appends only go to the back.
            let mut st = self.state.0.lock();
            st.pending.drain(..batch.len());
        }
        self.log.checkpoint().map_err(|e| e.to_string())?;
        tracing::debug!(records = batch.len(), max_lsn, "activity records persisted");
        Ok(batch.len())
    }
}

/// Appends through a shared handle: the gateway's [`ActivitySink`].
pub struct JournalSink(pub Arc<Journal>);

impl JournalSink {
    /// Encodes `record` for the log.
    fn entry(record: &ActivityRecord) -> Result<Arc<Entry>, String> {
        let json = serde_json::to_vec(record).map_err(|e| e.to_string())?;
        Ok(Arc::new(Entry { time: record.time.millis(), request_id: record.request_id.clone(), json }))
    }

    /// Commits `entry` (if any) and `write` (if any) as one log record; once durable, the
    /// write's own step runs, then the entry joins the journal.
    fn commit(&self, entry: Option<Arc<Entry>>, write: Option<DataWrite>) -> BoxFuture<'static, Result<u64, String>> {
        let (data, data_step) = match write {
            Some(DataWrite { kind, bytes, on_durable }) => match PartKind::from_u8(kind) {
                Some(kind) => (Some((kind, bytes)), Some(on_durable)),
                None => return Box::pin(async move { Err(format!("unknown commit part kind {kind}")) }),
            },
            None => (None, None),
        };
        let mut parts = Vec::with_capacity(2);
        if let Some(e) = &entry {
            parts.push(PartRef { kind: PartKind::Activity, bytes: &e.json });
        }
        if let Some((kind, bytes)) = &data {
            parts.push(PartRef { kind: *kind, bytes });
        }
        let state = self.0.state.clone();
        let journal_entry = entry.clone();
        let step: OnDurable = Box::new(move |lsn| {
            if let Some(f) = data_step {
                f(lsn);
            }
            if let Some(e) = journal_entry {
                state.0.lock().push(lsn, e);
            }
        });
        let fut = self.0.log.append(&parts, Some(step));
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    }
}

impl ActivitySink for JournalSink {
    fn append(&self, record: &ActivityRecord) -> BoxFuture<'static, Result<(), String>> {
        let fut = match Self::entry(record) {
            Ok(e) => self.commit(Some(e), None),
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        Box::pin(async move { fut.await.map(|_| ()) })
    }

    fn append_with(&self, record: &ActivityRecord, write: DataWrite) -> BoxFuture<'static, Result<u64, String>> {
        match Self::entry(record) {
            Ok(e) => self.commit(Some(e), Some(write)),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn append_data(&self, write: DataWrite) -> BoxFuture<'static, Result<u64, String>> {
        self.commit(None, Some(write))
    }
}
