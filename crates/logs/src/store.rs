//! Where log events and the control plane live, and how they survive a crash.
//!
//! Write path: every change is a [`LogOp`] committed to the server's shared commit log
//! (with the request's activity record when it comes from a request), acknowledged after
//! fsync. The log applies it on its writer thread, in LSN order, before the LSN becomes
//! visible: to the [`State`] (groups, streams, settings) and, for events, to the in-memory
//! head.
//!
//! [`LogStore::tick`] moves head events into immutable segments, one segment stream per log
//! group (`logs/<account>/<region>/<group id>`; record key: the stream name, ts: the first
//! event's time, value: a chunk of the stream's events, see [`crate::chunk`]), saves a snapshot
//! of the state in the catalog, drops deleted groups' segments and whole segments past a
//! group's retention, and compacts.
//!
//! Reads take the head's events of the group, then visit the segments overlapping the
//! requested time range; head events the visited segments already hold (a flush registered
//! between the two: same UTC day, LSN at most the day's highest stored) are skipped, so an
//! event is seen exactly once. Flushes write one segment per UTC day of event time, and
//! compaction merges only within a day, so retention drops whole days.
//!
//! Recovery: the snapshot is restored, then every `Logs` part above the snapshot's LSN is
//! applied again; events go back to the head unless their group's segments hold their LSN.

use crate::chunk;
use crate::error::{internal, LogsError, Result};
use crate::log_part::{self, LogOp, Scope};
use crate::state::{AppliedEvents, State};
use base64::Engine;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use watchtrail_core::{SharedClock, Timestamp};
use watchtrail_store::{
    BlobStore, BlockTest, Catalog, CommitEntry, CommitLog, CompactionPolicy, SegmentBuilder, KeyFilter, LogConsumer, OnDurable, PartKind, PartRef, RecordRef, SegmentStore, SqliteCatalog,
};
use watchtrail_wire::{ActivityTxn, DataWrite};

/// The catalog setting holding the state snapshot (base64 of postcard).
const STATE_KEY: &str = "logs/state";

/// Tuning of the log store.
#[derive(Clone, Debug)]
pub struct LogStoreOptions {
    /// Flush when the head holds this many message bytes.
    pub flush_max_bytes: usize,
    /// Flush when the oldest unflushed event arrived this long ago (ms).
    pub flush_max_age_ms: i64,
    /// Compact a group's stream once it has this many level-0 segments.
    pub compact_after_segments: usize,
    /// ... or once its oldest level-0 segment is this old (ms).
    pub compact_after_ms: i64,
    /// Uncompressed bytes per segment block (a block is the unit a scan decompresses).
    pub block_bytes: usize,
    /// zstd level of flushed (level-0) segments: fast, on the ingest path.
    pub flush_zstd_level: i32,
    /// zstd level of compacted segments: what data is stored at for its life.
    pub zstd_level: i32,
}

impl Default for LogStoreOptions {
    fn default() -> Self {
        // Chunks in 1 MiB blocks at zstd 9 store nginx-style lines in about an eighth of
        // their size (level 6: 7.7x, bench/logs); flushes stay at level 1 on the ingest path,
        // compaction rewrites them.
        LogStoreOptions { flush_max_bytes: 64 << 20, flush_max_age_ms: 60_000, compact_after_segments: 8, compact_after_ms: 10 * 60_000, block_bytes: 1 << 20, flush_zstd_level: 1, zstd_level: 9 }
    }
}

/// One unflushed event.
#[derive(Debug, Clone)]
pub struct HeadEvent {
    /// Its stream.
    pub stream: Arc<str>,
    /// Event time (ms).
    pub ts: i64,
    /// Ingestion time (ms).
    pub ingested: i64,
    /// LSN of the PutLogEvents that stored it.
    pub lsn: u64,
    /// Index in that request.
    pub idx: u32,
    /// The message.
    /// (Kept as received: shrinking it to a `Box<str>` would copy every message once more.)
    pub message: String,
}

/// An event as a read sees it (borrowed from the head or a segment block).
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// Its stream.
    pub stream: &'a str,
    /// Event time (ms).
    pub ts: i64,
    /// Ingestion time (ms).
    pub ingested: i64,
    /// LSN of the PutLogEvents that stored it.
    pub lsn: u64,
    /// Index in that request.
    pub idx: u32,
    /// The message.
    pub message: &'a str,
}

impl EventRef<'_> {
    /// The event's place in a group's order: time, then arrival.
    pub fn position(&self) -> Position {
        Position { ts: self.ts, lsn: self.lsn, idx: self.idx }
    }
}

/// An event's place in its group: `(timestamp, LSN, index)`, unique and totally ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Event time (ms).
    pub ts: i64,
    /// LSN of its request.
    pub lsn: u64,
    /// Index in its request.
    pub idx: u32,
}

/// Which streams of a group a read covers.
#[derive(Debug, Clone)]
pub enum StreamSelect {
    /// Every stream.
    All,
    /// These streams (sorted, distinct).
    Names(Vec<String>),
    /// Streams whose names start with this.
    Prefix(String),
}

impl StreamSelect {
    fn key_filter(&self) -> KeyFilter {
        match self {
            StreamSelect::All => KeyFilter::All,
            StreamSelect::Names(n) if n.len() == 1 => KeyFilter::Exact(n[0].as_bytes().to_vec()),
            StreamSelect::Names(_) => KeyFilter::All,
            StreamSelect::Prefix(p) => KeyFilter::Prefix(p.as_bytes().to_vec()),
        }
    }

    fn matches(&self, stream: &str) -> bool {
        match self {
            StreamSelect::All => true,
            StreamSelect::Names(n) => n.binary_search_by(|x| x.as_str().cmp(stream)).is_ok(),
            StreamSelect::Prefix(p) => stream.starts_with(p.as_str()),
        }
    }
}

#[derive(Default)]
struct Head {
    /// Unflushed events per group id, in LSN order.
    groups: HashMap<u64, Vec<HeadEvent>>,
    /// Events a flush is writing, still visible to reads until their segment is registered.
    flushing: HashMap<u64, Arc<Vec<HeadEvent>>>,
    /// Message bytes in `groups`.
    bytes: usize,
    /// When the oldest event in `groups` arrived.
    oldest: Option<i64>,
}

impl Head {
    /// Adds the events `keep` accepts (by timestamp); each keeps its index in the request.
    fn add(&mut self, lsn: u64, e: AppliedEvents, now: i64, keep: impl Fn(i64) -> bool) {
        if !e.events.iter().any(|(ts, _)| keep(*ts)) {
            return;
        }
        let stream: Arc<str> = Arc::from(e.stream.as_str());
        let v = self.groups.entry(e.group).or_default();
        for (i, (ts, message)) in e.events.into_iter().enumerate() {
            if !keep(ts) {
                continue;
            }
            self.bytes += message.len();
            v.push(HeadEvent { stream: stream.clone(), ts, ingested: e.ingested, lsn, idx: e.first_index + i as u32, message });
        }
        self.oldest.get_or_insert(now);
    }

    fn min_lsn(&self) -> Option<u64> {
        let a = self.groups.values().filter_map(|v| v.first().map(|e| e.lsn));
        let b = self.flushing.values().filter_map(|v| v.iter().map(|e| e.lsn).min());
        a.chain(b).min()
    }
}

/// Sees the events of every PutLogEvents as it becomes durable, on the commit log's writer
/// thread (live tail): must be quick and must not block.
pub trait EventTap: Send + Sync {
    /// Events of `stream` in group `group`, ingested at `ingested`, as `(timestamp, message)`.
    fn events(&self, group: u64, stream: &str, ingested: i64, events: &[(i64, String)]);
}

struct Inner {
    /// Live taps; dropped ones are forgotten.
    taps: Mutex<Vec<std::sync::Weak<dyn EventTap>>>,
    state: Mutex<State>,
    head: Mutex<Head>,
    /// The first LSN applied to the state since its last snapshot.
    unsaved_since: Mutex<Option<u64>>,
    clock: SharedClock,
}

impl Inner {
    fn apply(&self, lsn: u64, op: LogOp) {
        let applied = self.state.lock().apply(lsn, op);
        self.unsaved_since.lock().get_or_insert(lsn);
        if let Some(events) = applied {
            {
                let mut taps = self.taps.lock();
                if !taps.is_empty() {
                    taps.retain(|t| match t.upgrade() {
                        Some(t) => {
                            t.events(events.group, &events.stream, events.ingested, &events.events);
                            true
                        }
                        None => false,
                    });
                }
            }
            self.head.lock().add(lsn, events, self.clock.now().millis(), |_| true);
        }
    }
}

impl LogConsumer for Inner {
    fn persisted_lsn(&self, durable: u64) -> u64 {
        let mut upto = durable;
        if let Some(first) = *self.unsaved_since.lock() {
            upto = upto.min(first.saturating_sub(1));
        }
        if let Some(m) = self.head.lock().min_lsn() {
            upto = upto.min(m.saturating_sub(1));
        }
        upto
    }
}

/// What one [`LogStore::tick`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Events written to segments.
    pub flushed_events: usize,
    /// Segments dropped because every event in them is past its group's retention.
    pub expired_segments: usize,
    /// Segments dropped because their group was deleted.
    pub dropped_segments: usize,
}

/// The Logs store: control plane, unflushed events and segments.
pub struct LogStore {
    inner: Arc<Inner>,
    log: Arc<CommitLog>,
    segments: SegmentStore,
    catalog: Arc<dyn Catalog>,
    opts: LogStoreOptions,
    /// Serializes flushes (a tick and a shutdown flush).
    flush_lock: tokio::sync::Mutex<()>,
    /// What every tick did since the store opened.
    totals: Mutex<TickReport>,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore").finish_non_exhaustive()
    }
}

/// The segment stream of a group.
fn data_stream(scope: &Scope, group: u64) -> String {
    format!("logs/{}/{}/{group}", scope.account, scope.region)
}

/// Visits the events of one stored chunk record that lie in `[from, to)` and belong to
/// live streams (`live`: stream → the LSN it started at).
fn visit_chunk(rec: RecordRef<'_>, from: i64, to: i64, live: &HashMap<String, u64>, visit: &mut dyn FnMut(EventRef<'_>)) {
    let Ok(stream) = std::str::from_utf8(rec.key) else { return };
    let Some(&since) = live.get(stream) else { return };
    let Some(events) = chunk::ChunkIter::new(rec.ts, rec.value) else {
        tracing::error!(stream, "a stored log chunk is malformed; its events are skipped");
        return;
    };
    for e in events {
        if e.ts >= from && e.ts < to && e.lsn >= since {
            visit(EventRef { stream, ts: e.ts, ingested: e.ingested, lsn: e.lsn, idx: e.idx, message: e.message });
        }
    }
}

impl LogStore {
    /// Opens (or creates) the store under `dir` (segments in `dir/segments`, catalog
    /// `dir/catalog.sqlite`) on the shared `log`, whose records at open are `entries`:
    /// restores the snapshot, replays the newer `Logs` parts and registers as a consumer.
    pub async fn open(dir: &Path, clock: SharedClock, opts: LogStoreOptions, log: Arc<CommitLog>, entries: &[CommitEntry]) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(internal)?;
        let catalog: Arc<dyn Catalog> = Arc::new(SqliteCatalog::open(&dir.join("catalog.sqlite")).map_err(internal)?);
        let blobs = BlobStore::local(&dir.join("segments")).map_err(internal)?;
        let builder = SegmentBuilder::new().block_bytes(opts.block_bytes).zstd_level(opts.zstd_level).flush_zstd_level(opts.flush_zstd_level);
        let segments = SegmentStore::new(blobs, catalog.clone()).with_clock(clock.clone()).with_builder(builder);
        let mut state = match catalog.get_setting(STATE_KEY).map_err(internal)? {
            Some(text) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(internal)?;
                State::restore(&bytes).map_err(|e| LogsError::Internal(format!("the logs state snapshot cannot be read: {e}")))?
            }
            None => State::default(),
        };
        let snapshot_lsn = state.applied_lsn;
        let mut head = Head::default();
        let mut persisted: HashMap<u64, HashMap<i64, u64>> = HashMap::new();
        let now = clock.now().millis();
        let mut replayed = 0usize;
        for entry in entries {
            for part in entry.parts_of(PartKind::Logs) {
                let op = log_part::decode(part)?;
                if entry.lsn <= snapshot_lsn {
                    // The state has it; its events may still be unflushed.
                    if let LogOp::Events { scope, group, stream, ingested, first_index, events } = op {
                        let stream_lsn = state.stream_since(group, &stream);
                        if stream_lsn.is_some_and(|since| entry.lsn >= since) {
                            let per_day = seg_max_lsn(&catalog, &mut persisted, &scope, group)?;
                            head.add(entry.lsn, AppliedEvents { group, stream, ingested, first_index, events }, now, |ts| !stored(&per_day, ts, entry.lsn));
                        }
                    }
                    continue;
                }
                let scope = match &op {
                    LogOp::Events { scope, group, .. } => Some((scope.clone(), *group)),
                    _ => None,
                };
                replayed += 1;
                if let Some(applied) = state.apply(entry.lsn, op) {
                    let (scope, group) = scope.expect("events ops carry their scope");
                    let per_day = seg_max_lsn(&catalog, &mut persisted, &scope, group)?;
                    head.add(entry.lsn, applied, now, |ts| !stored(&per_day, ts, entry.lsn));
                }
            }
        }
        let unsaved = (state.applied_lsn > snapshot_lsn).then_some(snapshot_lsn + 1);
        tracing::info!(replayed, groups = state.group_ids().len(), head_bytes = head.bytes, "log store opened");
        let inner = Arc::new(Inner { taps: Mutex::new(Vec::new()), state: Mutex::new(state), head: Mutex::new(head), unsaved_since: Mutex::new(unsaved), clock });
        log.register(Arc::downgrade(&inner) as std::sync::Weak<dyn LogConsumer>);
        Ok(LogStore { inner, log, segments, catalog, opts, flush_lock: tokio::sync::Mutex::new(()), totals: Mutex::new(TickReport::default()) })
    }

    /// The shared commit log.
    pub fn log(&self) -> &Arc<CommitLog> {
        &self.log
    }

    /// Reads the state under its lock.
    pub fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.state.lock())
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Commits `op` (with the request's activity record when `txn` is given) and applies it
    /// once durable; resolves with its LSN.
    pub async fn commit(&self, op: LogOp, txn: Option<&ActivityTxn>) -> Result<u64> {
        let bytes = log_part::encode(&op)?;
        let inner = self.inner.clone();
        let on_durable: OnDurable = Box::new(move |lsn| inner.apply(lsn, op));
        match txn {
            Some(t) => t.commit(DataWrite { kind: PartKind::Logs as u8, bytes, on_durable }).await.map_err(internal),
            None => self.log.append(&[PartRef { kind: PartKind::Logs, bytes: &bytes }], Some(on_durable)).await.map_err(internal),
        }
    }

    /// The events of each group with metric filters that its filters have not seen yet (all
    /// still in the head), with the LSN of the last one.
    pub fn unfiltered_events(&self) -> Vec<(u64, Vec<HeadEvent>, u64)> {
        let filtered = self.inner.state.lock().filtered_groups();
        if filtered.is_empty() {
            return Vec::new();
        }
        let h = self.inner.head.lock();
        let mut out = Vec::new();
        for (id, cursor) in filtered {
            let Some(v) = h.groups.get(&id) else { continue };
            let from = v.partition_point(|e| e.lsn <= cursor);
            if from < v.len() {
                out.push((id, v[from..].to_vec(), v[v.len() - 1].lsn));
            }
        }
        out
    }

    /// The on-durable step that applies `op` (for a record another service commits with a
    /// Logs part in it, such as metric filters' datapoints with the filter cursor).
    pub fn applier(&self, op: LogOp) -> OnDurable {
        let inner = self.inner.clone();
        Box::new(move |lsn| inner.apply(lsn, op))
    }

    /// Adds a tap that sees every durable PutLogEvents from now on, until it is dropped.
    pub fn tap(&self, tap: std::sync::Weak<dyn EventTap>) {
        self.inner.taps.lock().push(tap);
    }

    /// Message bytes waiting in memory for the next flush.
    pub fn head_bytes(&self) -> usize {
        self.inner.head.lock().bytes
    }

    /// Visits the events of group `id` in `scope` from the chosen streams with
    /// `from <= ts < to` that belong to live streams (not to a deleted stream of the same
    /// name), each exactly once and in no particular order. Stored blocks are read on every
    /// core: each thread visits into its own accumulator (`make()`), `merge` folds them into
    /// one, and the head's events are visited into it last. Blocks whose bytes
    /// `block_may_match` refuses are skipped (it may only refuse blocks none of whose events
    /// the caller wants).
    #[allow(clippy::too_many_arguments)]
    pub async fn visit_events_parallel<T, M, F, G>(
        &self,
        scope: &Scope,
        id: u64,
        streams: StreamSelect,
        from: i64,
        to: i64,
        block_may_match: Option<Arc<BlockTest>>,
        make: M,
        visit: F,
        mut merge: G,
    ) -> Result<T>
    where
        T: Send + 'static,
        M: Fn() -> T + Send + Sync + 'static,
        F: Fn(&mut T, EventRef<'_>) + Send + Sync + 'static,
        G: FnMut(&mut T, T),
    {
        if to <= from {
            return Ok(make());
        }
        let (live, head) = self.live_and_head(id, &streams, from, to);
        let Some(live) = live else { return Ok(make()) };
        let live = Arc::new(live);
        let visit = Arc::new(visit);
        let (l, v) = (live.clone(), visit.clone());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (accs, visited) = self
            .segments
            .visit_parallel(&data_stream(scope, id), streams.key_filter(), from.saturating_sub(chunk::CHUNK_SPAN_MS), to, block_may_match, threads, make, move |acc, rec| {
                visit_chunk(rec, from, to, &l, &mut |e| v(acc, e));
                Ok(())
            })
            .await
            .map_err(internal)?;
        let mut accs = accs.into_iter();
        let Some(mut acc) = accs.next() else { return Err(LogsError::Internal("a scan returned no accumulator".into())) };
        for other in accs {
            merge(&mut acc, other);
        }
        let per_day = max_lsn_per_day(&visited);
        for e in head.iter().filter(|e| !stored(&per_day, e.ts, e.lsn)) {
            visit(&mut acc, EventRef { stream: &e.stream, ts: e.ts, ingested: e.ingested, lsn: e.lsn, idx: e.idx, message: &e.message });
        }
        Ok(acc)
    }

    /// The live streams of group `id` the selection covers (with the LSN each started at;
    /// `None` when the group is gone) and the head's events of them in `[from, to)`.
    fn live_and_head(&self, id: u64, streams: &StreamSelect, from: i64, to: i64) -> (Option<HashMap<String, u64>>, Vec<HeadEvent>) {
        let live: HashMap<String, u64> = {
            let st = self.inner.state.lock();
            let Some((_, g)) = st.group_by_id(id) else { return (None, Vec::new()) };
            g.streams.iter().filter(|(n, _)| streams.matches(n)).map(|(n, s)| (n.clone(), s.created_lsn)).collect()
        };
        let head: Vec<HeadEvent> = {
            let h = self.inner.head.lock();
            let mut out = Vec::new();
            let pick = |e: &&HeadEvent| e.ts >= from && e.ts < to && live.get(&*e.stream).is_some_and(|since| e.lsn >= *since);
            if let Some(v) = h.groups.get(&id) {
                out.extend(v.iter().filter(pick).cloned());
            }
            if let Some(v) = h.flushing.get(&id) {
                out.extend(v.iter().filter(pick).cloned());
            }
            out
        };
        (Some(live), head)
    }

    /// Background maintenance at `now`: drops deleted groups' segments and segments past
    /// retention, flushes the head when it is large or old enough (always with `force`),
    /// saves the state snapshot, compacts, and checkpoints the commit log.
    pub async fn tick_with(&self, now: Timestamp, force: bool) -> Result<TickReport> {
        let _flush = self.flush_lock.lock().await;
        let mut report = TickReport::default();
        // Deleted groups.
        let dropped: Vec<u64> = self.inner.state.lock().dropped.clone();
        if !dropped.is_empty() {
            let streams = self.catalog.streams().map_err(internal)?;
            for id in &dropped {
                let suffix = format!("/{id}");
                for s in streams.iter().filter(|s| s.starts_with("logs/") && s.ends_with(&suffix)) {
                    report.dropped_segments += self.segments.apply_retention(s, i64::MAX).await.map_err(internal)?;
                }
            }
            {
                let mut st = self.inner.state.lock();
                st.dropped.retain(|d| !dropped.contains(d));
            }
            self.inner.unsaved_since.lock().get_or_insert(self.log.durable_lsn());
        }
        // Retention.
        let groups = self.inner.state.lock().group_ids();
        for (id, scope, days) in &groups {
            if let Some(days) = days {
                // A record's time is its chunk's first event: a segment is wholly expired when
                // its last record started a chunk span before the cutoff.
                let cutoff = now.millis() - *days as i64 * Timestamp::DAY - chunk::CHUNK_SPAN_MS;
                let n = self.segments.apply_retention(&data_stream(scope, *id), cutoff).await.map_err(internal)?;
                if n > 0 {
                    tracing::info!(group = id, account = %scope.account, region = %scope.region, days, segments = n, "log retention dropped expired segments");
                }
                report.expired_segments += n;
            }
        }
        // Flush.
        let due = {
            let h = self.inner.head.lock();
            !h.groups.is_empty() && (force || h.bytes >= self.opts.flush_max_bytes || h.oldest.is_some_and(|o| now.millis() - o >= self.opts.flush_max_age_ms))
        };
        if due {
            report.flushed_events = self.flush_head(&groups).await?;
        }
        let unsaved = self.inner.unsaved_since.lock().is_some();
        if unsaved && (due || force || report.dropped_segments > 0) {
            self.save_state().await?;
        }
        for (id, scope, _) in &groups {
            let s = data_stream(scope, *id);
            let level0: Vec<_> = self.segments.segments(&s).await.map_err(internal)?.into_iter().filter(|m| m.level == 0).collect();
            // Flushes are fast and lightly compressed; compaction stores them at the storage
            // level: once enough of them piled up, once the oldest is old enough, and on a
            // clean stop (a forced tick), even a lone one.
            let old = level0.iter().any(|m| now.millis() - m.created_at >= self.opts.compact_after_ms);
            if !level0.is_empty() && (level0.len() >= self.opts.compact_after_segments || old || force) {
                // Per UTC day, as flushes write them, so retention drops whole days.
                let policy = CompactionPolicy { time_window_ms: Some(Timestamp::DAY), min_inputs: 1, ..CompactionPolicy::default() };
                self.segments.compact(&s, policy).await.map_err(internal)?;
            }
        }
        self.log.checkpoint().map_err(internal)?;
        {
            let mut t = self.totals.lock();
            t.flushed_events += report.flushed_events;
            t.expired_segments += report.expired_segments;
            t.dropped_segments += report.dropped_segments;
        }
        Ok(report)
    }

    /// What every tick did since the store opened (for `/metrics`).
    pub fn totals(&self) -> TickReport {
        self.totals.lock().clone()
    }

    /// [`LogStore::tick_with`] without forcing a flush.
    pub async fn tick(&self, now: Timestamp) -> Result<TickReport> {
        self.tick_with(now, false).await
    }

    /// Flushes everything and saves the state (a clean shutdown).
    pub async fn flush(&self) -> Result<()> {
        self.tick_with(self.inner.clock.now(), true).await.map(|_| ())
    }

    async fn flush_head(&self, groups: &[(u64, Scope, Option<i32>)]) -> Result<usize> {
        // A group with metric filters keeps the events the filters have not seen yet.
        let filtered = self.inner.state.lock().filtered_groups();
        let taken: Vec<(u64, Arc<Vec<HeadEvent>>)> = {
            let mut h = self.inner.head.lock();
            let ids: Vec<u64> = h.groups.keys().copied().collect();
            let mut out = Vec::new();
            for id in ids {
                let Some(mut v) = h.groups.remove(&id) else { continue };
                if let Some(&cursor) = filtered.get(&id) {
                    let cut = v.partition_point(|e| e.lsn <= cursor);
                    let rest = v.split_off(cut);
                    if !rest.is_empty() {
                        h.groups.insert(id, rest);
                    }
                }
                if v.is_empty() {
                    continue;
                }
                let v = Arc::new(v);
                h.flushing.insert(id, v.clone());
                out.push((id, v));
            }
            h.bytes = h.groups.values().flat_map(|v| v.iter()).map(|e| e.message.len()).sum();
            h.oldest = if h.groups.is_empty() { None } else { h.oldest };
            out
        };
        let scopes: HashMap<u64, Scope> = groups.iter().map(|(id, s, _)| (*id, s.clone())).collect();
        let mut flushed = 0;
        let mut failure = None;
        for (id, events) in &taken {
            let Some(scope) = scopes.get(id) else { continue }; // deleted since: nothing to keep
            if failure.is_some() {
                break;
            }
            // One segment per UTC day of event time, so that compaction and retention work
            // day by day.
            let evs = events.clone();
            let encoders: Vec<_> = {
                let mut days: Vec<i64> = evs.iter().map(|e| e.ts.div_euclid(Timestamp::DAY)).collect();
                days.sort_unstable();
                days.dedup();
                days.into_iter().map(|d| self.segments.encoder(events.len() * 16).map(|enc| (d, enc))).collect::<watchtrail_store::Result<_>>().map_err(internal)?
            };
            let encoded = tokio::task::spawn_blocking(move || -> watchtrail_store::Result<Vec<(i64, Vec<u8>, u64)>> {
                let mut order: Vec<&HeadEvent> = evs.iter().collect();
                // (lsn, idx) is unique, so an unstable sort gives the one order.
                order.sort_unstable_by(|a, b| (a.ts.div_euclid(Timestamp::DAY), &*a.stream, a.ts, a.lsn, a.idx).cmp(&(b.ts.div_euclid(Timestamp::DAY), &*b.stream, b.ts, b.lsn, b.idx)));
                let mut value = Vec::new();
                let mut out = Vec::new();
                let mut rest: &[&HeadEvent] = &order;
                for (day, mut enc) in encoders {
                    let n = rest.partition_point(|e| e.ts.div_euclid(Timestamp::DAY) == day);
                    let (today, later) = rest.split_at(n);
                    rest = later;
                    let max_lsn = today.iter().map(|e| e.lsn).max().unwrap_or(0);
                    // Each stream's events of the day, as chunks.
                    let mut i = 0;
                    while i < today.len() {
                        let run = today[i..].partition_point(|e| e.stream == today[i].stream);
                        let events = &today[i..i + run];
                        for r in chunk::cut(events, |e| e.ts, |e| e.message.len()) {
                            let part: Vec<chunk::ChunkEvent<'_>> =
                                events[r].iter().map(|e| chunk::ChunkEvent { ts: e.ts, ingested: e.ingested, lsn: e.lsn, idx: e.idx, message: &e.message }).collect();
                            chunk::encode(&part, &mut value);
                            enc.push(RecordRef { key: today[i].stream.as_bytes(), ts: part[0].ts, value: &value })?;
                        }
                        i += run;
                    }
                    out.push((day, enc.finish()?, max_lsn));
                }
                Ok(out)
            })
            .await
            .map_err(internal)?;
            let mut written: Vec<i64> = Vec::new();
            let res = match encoded {
                Ok(segments) => {
                    let mut res = Ok(());
                    for (day, bytes, max_lsn) in segments {
                        res = self.segments.write_encoded(&data_stream(scope, *id), bytes, max_lsn).await.map(|_| ());
                        if res.is_err() {
                            break;
                        }
                        written.push(day);
                    }
                    res
                }
                Err(e) => Err(e),
            };
            if let Err(e) = res {
                // The days already written stay written: only the others go back.
                let mut h = self.inner.head.lock();
                if let Some(v) = h.flushing.get_mut(id) {
                    let rest: Vec<HeadEvent> = v.iter().filter(|e| !written.contains(&e.ts.div_euclid(Timestamp::DAY))).cloned().collect();
                    flushed += v.len() - rest.len();
                    *v = Arc::new(rest);
                }
                failure = Some(e);
            } else {
                flushed += events.len();
                self.inner.head.lock().flushing.remove(id);
            }
        }
        // Whatever did not reach a segment goes back to the head.
        let mut h = self.inner.head.lock();
        let left: Vec<u64> = h.flushing.keys().copied().collect();
        for id in left {
            if let Some(v) = h.flushing.remove(&id) {
                let mut back: Vec<HeadEvent> = Arc::try_unwrap(v).unwrap_or_else(|a| (*a).clone());
                if scopes.contains_key(&id) {
                    h.bytes += back.iter().map(|e| e.message.len()).sum::<usize>();
                    let newer = h.groups.remove(&id).unwrap_or_default();
                    back.extend(newer);
                    h.groups.insert(id, back);
                    h.oldest.get_or_insert(self.inner.clock.now().millis());
                }
            }
        }
        drop(h);
        match failure {
            Some(e) => Err(internal(e)),
            None => Ok(flushed),
        }
    }

    async fn save_state(&self) -> Result<()> {
        let (bytes, lsn) = {
            let st = self.inner.state.lock();
            (st.snapshot().map_err(internal)?, st.applied_lsn)
        };
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        let catalog = self.catalog.clone();
        tokio::task::spawn_blocking(move || catalog.put_setting(STATE_KEY, &text)).await.map_err(internal)?.map_err(internal)?;
        let mut unsaved = self.inner.unsaved_since.lock();
        let applied = self.inner.state.lock().applied_lsn;
        *unsaved = (applied > lsn).then_some(lsn + 1);
        Ok(())
    }
}

/// The highest LSN stored per UTC day of event time, from segments' metadata. A flush writes
/// one segment per day with every event of that day up to its LSN, and compaction merges only
/// within a day, so an event of day `d` is in a segment exactly when its LSN is at most the
/// day's figure.
pub(crate) fn max_lsn_per_day<'a>(segments: impl IntoIterator<Item = &'a watchtrail_store::SegmentMeta>) -> HashMap<i64, u64> {
    let mut out: HashMap<i64, u64> = HashMap::new();
    for m in segments {
        let e = out.entry(m.min_ts.div_euclid(Timestamp::DAY)).or_default();
        *e = (*e).max(m.max_lsn);
    }
    out
}

/// Whether an event is already in a segment, per [`max_lsn_per_day`].
fn stored(per_day: &HashMap<i64, u64>, ts: i64, lsn: u64) -> bool {
    per_day.get(&ts.div_euclid(Timestamp::DAY)).is_some_and(|m| lsn <= *m)
}

fn seg_max_lsn(catalog: &Arc<dyn Catalog>, cache: &mut HashMap<u64, HashMap<i64, u64>>, scope: &Scope, group: u64) -> Result<HashMap<i64, u64>> {
    if let Some(m) = cache.get(&group) {
        return Ok(m.clone());
    }
    let m = max_lsn_per_day(&catalog.segments(&data_stream(scope, group)).map_err(internal)?);
    cache.insert(group, m.clone());
    Ok(m)
}
