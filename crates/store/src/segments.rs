//! [`SegmentStore`]: segments in a [`BlobStore`], registered in a [`Catalog`].
//!
//! Ordering rules that keep the two consistent across crashes:
//! a new segment's blob is put before its catalog entry (a crash leaves at worst an orphan
//! blob, removed by [`SegmentStore::cleanup_orphans`]); a removed segment leaves the catalog
//! before its blob is deleted.

use crate::catalog::{Catalog, SegmentMeta};
use crate::error::{Result, StoreError};
use crate::objects::BlobStore;
use crate::segment::{merge_segments, BlockTest, KeyFilter, Record, RecordRef, SegmentBuilder, SegmentEncoder, SegmentReader, ThreadDecoder};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use watchtrail_core::{SharedClock, SystemClock};


/// What a new segment is built from.
enum SegmentInput {
    /// Records in any order (sorted by the builder).
    Unsorted(Vec<Record>),
    /// A segment already encoded (by a [`SegmentStore::encoder`]).
    Encoded(Vec<u8>),
    /// Every record of these segments, merged in this order (see [`merge_segments`]).
    Merge(Vec<Arc<SegmentReader>>),
}

/// Object path prefix under which every segment lives.
pub const SEGMENTS_PREFIX: &str = "segments";
const SCAN_RETRIES: usize = 3;

/// Which segments [`SegmentStore::compact`] merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Level whose segments are merged; outputs go to `level + 1`.
    pub level: u32,
    /// Fewest inputs worth a merge (1: a lone segment is rewritten at the next level, to
    /// store it at that level's compression).
    pub min_inputs: usize,
    /// Most inputs merged into one output.
    pub max_inputs: usize,
    /// Stop adding inputs to an output once their total size would exceed this; segments
    /// already this large are left alone.
    pub target_bytes: u64,
    /// When set, only segments lying within one window of this many milliseconds (aligned on
    /// the epoch) are merged, and only with segments of the same window, so that retention can
    /// still drop whole segments by age.
    pub time_window_ms: Option<i64>,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy {
            level: 0,
            min_inputs: 2,
            max_inputs: 16,
            target_bytes: 64 << 20,
            time_window_ms: None,
        }
    }
}

/// What one [`SegmentStore::compact`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Ids of the merged (and now deleted) input segments.
    pub inputs: Vec<String>,
    /// The segments written.
    pub outputs: Vec<SegmentMeta>,
    /// Records carried over (equal in and out).
    pub records: u64,
    /// Total size of the inputs.
    pub bytes_before: u64,
    /// Total size of the outputs.
    pub bytes_after: u64,
}

struct ReaderCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (Arc<SegmentReader>, u64)>,
}

impl ReaderCache {
    fn get(&mut self, id: &str) -> Option<Arc<SegmentReader>> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(id).map(|(r, t)| {
            *t = tick;
            r.clone()
        })
    }

    fn insert(&mut self, id: String, reader: Arc<SegmentReader>) {
        self.tick += 1;
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity && !self.entries.contains_key(&id) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
        self.entries.insert(id, (reader, self.tick));
    }
}

/// Segments of many streams: blobs plus catalog plus a small cache of opened readers.
pub struct SegmentStore {
    blobs: BlobStore,
    catalog: Arc<dyn Catalog>,
    builder: SegmentBuilder,
    clock: SharedClock,
    cache: Mutex<ReaderCache>,
    /// Held shared while blobs and catalog disagree (a blob put but not yet registered, or
    /// unregistered but not yet deleted); held exclusively by orphan cleanup.
    registering: tokio::sync::RwLock<()>,
}

impl std::fmt::Debug for SegmentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentStore")
            .field("blobs", &self.blobs)
            .finish_non_exhaustive()
    }
}

/// Escapes a stream name into one safe object path segment.
fn encode_stream(stream: &str) -> String {
    let mut out = String::with_capacity(stream.len());
    for b in stream.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sort_records(metas: &[SegmentMeta], per_segment: Vec<Vec<Record>>) -> Vec<Record> {
    // Concatenate in (max_lsn, id) order so that equal (key, ts) pairs keep write order,
    // then stable-sort by (key, ts).
    let mut order: Vec<usize> = (0..metas.len()).collect();
    order.sort_by(|&a, &b| (metas[a].max_lsn, &metas[a].id).cmp(&(metas[b].max_lsn, &metas[b].id)));
    let mut slots: Vec<Option<Vec<Record>>> = per_segment.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for i in order {
        if let Some(recs) = slots.get_mut(i).and_then(Option::take) {
            out.extend(recs);
        }
    }
    out.sort_by(Record::cmp_key_ts);
    out
}

impl SegmentStore {
    /// A store over `blobs` and `catalog`, with the default builder and the system clock.
    pub fn new(blobs: BlobStore, catalog: Arc<dyn Catalog>) -> Self {
        SegmentStore {
            blobs,
            catalog,
            builder: SegmentBuilder::default(),
            clock: Arc::new(SystemClock),
            cache: Mutex::new(ReaderCache {
                capacity: 64,
                tick: 0,
                entries: HashMap::new(),
            }),
            registering: tokio::sync::RwLock::new(()),
        }
    }

    /// Uses `clock` for `created_at`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `builder` for new segments.
    pub fn with_builder(mut self, builder: SegmentBuilder) -> Self {
        self.builder = builder;
        self
    }

    /// Keeps at most `n` opened readers in memory.
    pub fn with_cache_capacity(self, n: usize) -> Self {
        {
            let mut c = self.cache.lock();
            c.capacity = n;
            c.entries.clear();
        }
        self
    }

    /// The blob store.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The catalog.
    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    async fn cat<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Catalog) -> Result<T> + Send + 'static,
    {
        let catalog = self.catalog.clone();
        tokio::task::spawn_blocking(move || f(catalog.as_ref())).await?
    }

    /// Builds a segment of `records` at level `level`, puts its blob, caches its reader.
    /// The caller registers the returned meta (blob first, catalog second).
    async fn put_segment(
        &self,
        stream: &str,
        records: SegmentInput,
        max_lsn: u64,
        level: u32,
    ) -> Result<SegmentMeta> {
        let builder = self.builder.for_level(level);
        let (count, bytes, reader) = tokio::task::spawn_blocking(
            move || -> Result<(u64, Bytes, SegmentReader)> {
                let bytes = match records {
                    SegmentInput::Unsorted(r) => builder.build(r)?,
                    SegmentInput::Encoded(bytes) => bytes,
                    SegmentInput::Merge(inputs) => {
                        let refs: Vec<&SegmentReader> = inputs.iter().map(|r| r.as_ref()).collect();
                        let mut enc = builder.encoder(refs.iter().map(|r| r.byte_len()).sum())?;
                        merge_segments(&refs, |r| enc.push(r))?;
                        enc.finish()?
                    }
                };
                let bytes = Bytes::from(bytes);
                // Validates what was encoded here or elsewhere, and counts its records.
                let reader = SegmentReader::open(bytes.clone())?;
                if reader.record_count() == 0 {
                    return Err(StoreError::InvalidArgument(
                        "refusing to write an empty segment".into(),
                    ));
                }
                Ok((reader.record_count(), bytes, reader))
            },
        )
        .await??;
        let created_at = self.clock.now().millis();
        let id = format!("{created_at:013}-{}", uuid::Uuid::new_v4().simple());
        let meta = SegmentMeta {
            path: format!("{SEGMENTS_PREFIX}/{}/{id}.seg", encode_stream(stream)),
            id,
            stream: stream.to_string(),
            min_ts: reader.min_ts(),
            max_ts: reader.max_ts(),
            records: count,
            bytes: bytes.len() as u64,
            level,
            max_lsn,
            created_at,
        };
        self.blobs.put(&meta.path, bytes).await?;
        self.cache.lock().insert(meta.id.clone(), Arc::new(reader));
        Ok(meta)
    }

    /// Writes `records` as one new level-0 segment of `stream` holding WAL records up to
    /// `max_lsn`: blob first, then catalog entry.
    pub async fn write(
        &self,
        stream: &str,
        records: Vec<Record>,
        max_lsn: u64,
    ) -> Result<SegmentMeta> {
        self.write_input(stream, SegmentInput::Unsorted(records), max_lsn)
            .await
    }

    /// An encoder with this store's segment settings, for [`SegmentStore::write_encoded`]:
    /// records streamed in segment order, with no copy or sort of them all first.
    /// `capacity` is a hint for the encoded size in bytes.
    pub fn encoder(&self, capacity: usize) -> Result<SegmentEncoder> {
        // What it encodes is written as a level-0 segment.
        self.builder.for_level(0).encoder(capacity)
    }

    /// [`SegmentStore::write`] for a segment already encoded (by [`SegmentStore::encoder`]);
    /// the bytes are validated like any segment read back.
    pub async fn write_encoded(
        &self,
        stream: &str,
        bytes: Vec<u8>,
        max_lsn: u64,
    ) -> Result<SegmentMeta> {
        self.write_input(stream, SegmentInput::Encoded(bytes), max_lsn)
            .await
    }

    async fn write_input(
        &self,
        stream: &str,
        records: SegmentInput,
        max_lsn: u64,
    ) -> Result<SegmentMeta> {
        if stream.is_empty() {
            return Err(StoreError::InvalidArgument("stream name is empty".into()));
        }
        // (`put_segment` refuses an empty segment.)
        let _guard = self.registering.read().await;
        let meta = self.put_segment(stream, records, max_lsn, 0).await?;
        let m = meta.clone();
        self.cat(move |c| c.add_segment(&m)).await?;
        tracing::debug!(stream, id = %meta.id, records = meta.records, bytes = meta.bytes, "segment written");
        Ok(meta)
    }

    async fn reader(&self, meta: &SegmentMeta) -> Result<Arc<SegmentReader>> {
        if let Some(r) = self.cache.lock().get(&meta.id) {
            return Ok(r);
        }
        let bytes = self.blobs.get(&meta.path).await?;
        let id = meta.id.clone();
        let reader = tokio::task::spawn_blocking(move || {
            SegmentReader::open(bytes).map_err(|e| match e {
                StoreError::DataCorruption { detail, .. } => {
                    StoreError::corruption(format!("segment {id}"), detail)
                }
                other => other,
            })
        })
        .await??;
        let reader = Arc::new(reader);
        self.cache.lock().insert(meta.id.clone(), reader.clone());
        Ok(reader)
    }

    /// The segments of `stream` overlapping `[from_ts, to_ts)` with their readers. A
    /// compaction or retention may delete a blob between the listing and its read; the
    /// catalog already reflects that, so the listing is taken again.
    async fn overlapping_readers(&self, stream: &str, from_ts: i64, to_ts: i64) -> Result<Vec<(SegmentMeta, Arc<SegmentReader>)>> {
        let mut attempt = 0;
        'list: loop {
            let s = stream.to_string();
            let metas = self.cat(move |c| c.segments_overlapping(&s, from_ts, to_ts)).await?;
            let mut out = Vec::with_capacity(metas.len());
            for m in metas {
                match self.reader(&m).await {
                    Ok(r) => out.push((m, r)),
                    Err(StoreError::ObjectStore(object_store::Error::NotFound { .. })) if attempt < SCAN_RETRIES => {
                        attempt += 1;
                        tracing::debug!(stream, attempt, "segment vanished during scan, retrying");
                        continue 'list;
                    }
                    Err(e) => return Err(e),
                }
            }
            return Ok(out);
        }
    }

    /// Records of `stream` matching `filter` with `from_ts <= ts < to_ts`, sorted by
    /// `(key, ts)`; records with equal `(key, ts)` keep write order.
    pub async fn scan(
        &self,
        stream: &str,
        filter: &KeyFilter,
        from_ts: i64,
        to_ts: i64,
    ) -> Result<Vec<Record>> {
        let (metas, readers): (Vec<SegmentMeta>, Vec<Arc<SegmentReader>>) =
            self.overlapping_readers(stream, from_ts, to_ts).await?.into_iter().unzip();
        let filter = filter.clone();
        let per_segment = tokio::task::spawn_blocking(move || {
            readers
                .iter()
                .map(|r| r.scan(&filter, from_ts, to_ts))
                .collect::<Result<Vec<_>>>()
        })
        .await??;
        Ok(sort_records(&metas, per_segment))
    }

    /// Visits the records of `stream` whose key is one of `keys` (sorted ascending, distinct)
    /// with `from_ts <= ts < to_ts`, as `visit(&mut acc, index into keys, record)`, off the
    /// async runtime, and returns `acc`. Segments are visited in write order (each in `(key,
    /// ts)` order), each block decompressed at most once however many keys it holds (see
    /// [`SegmentReader::scan_keys`]).
    pub async fn scan_keys<T, F>(&self, stream: &str, keys: Vec<Vec<u8>>, from_ts: i64, to_ts: i64, acc: T, mut visit: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut T, usize, RecordRef<'_>) -> Result<()> + Send + 'static,
    {
        let mut segments = self.overlapping_readers(stream, from_ts, to_ts).await?;
        segments.sort_by(|(a, _), (b, _)| (a.max_lsn, &a.id).cmp(&(b.max_lsn, &b.id)));
        let readers: Vec<Arc<SegmentReader>> = segments.into_iter().map(|(_, r)| r).collect();
        tokio::task::spawn_blocking(move || {
            let mut acc = acc;
            for r in &readers {
                r.scan_keys(&keys, from_ts, to_ts, &mut |i, rec| visit(&mut acc, i, rec))?;
            }
            Ok(acc)
        })
        .await?
    }

    /// Visits the records of `stream` matching `filter` with `from_ts <= ts < to_ts` on
    /// `threads` threads, off the async runtime: the blocks to read are shared out as they are
    /// taken, each thread visits into its own accumulator (`make()`), and blocks whose
    /// decompressed bytes `block_may_match` refuses are skipped unparsed. Returns the
    /// accumulators (a caller merges them; records reach them in no particular order) and the
    /// segments visited (their LSNs and time ranges), so a reader that also holds unflushed
    /// records can skip those the segments already hold.
    #[allow(clippy::too_many_arguments)]
    pub async fn visit_parallel<T, M, F>(
        &self,
        stream: &str,
        filter: KeyFilter,
        from_ts: i64,
        to_ts: i64,
        block_may_match: Option<Arc<BlockTest>>,
        threads: usize,
        make: M,
        visit: F,
    ) -> Result<(Vec<T>, Vec<SegmentMeta>)>
    where
        T: Send + 'static,
        M: Fn() -> T + Send + Sync + 'static,
        F: Fn(&mut T, RecordRef<'_>) -> Result<()> + Send + Sync + 'static,
    {
        let segments = self.overlapping_readers(stream, from_ts, to_ts).await?;
        let (metas, readers): (Vec<SegmentMeta>, Vec<Arc<SegmentReader>>) = segments.into_iter().unzip();
        tokio::task::spawn_blocking(move || {
            let work: Vec<(usize, usize)> =
                readers.iter().enumerate().flat_map(|(r, reader)| reader.blocks_to_visit(&filter, from_ts, to_ts).into_iter().map(move |b| (r, b))).collect();
            let threads = threads.clamp(1, work.len().max(1));
            let next = std::sync::atomic::AtomicUsize::new(0);
            let run = || -> Result<T> {
                let mut acc = make();
                let mut decoder = ThreadDecoder::default();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(r, b)) = work.get(i) else { return Ok(acc) };
                    readers[r].visit_block(b, &filter, from_ts, to_ts, block_may_match.as_deref(), &mut decoder, &mut |rec| visit(&mut acc, rec))?;
                }
            };
            let accs: Vec<Result<T>> = std::thread::scope(|scope| {
                let others: Vec<_> = (1..threads).map(|_| scope.spawn(&run)).collect();
                let mut out = vec![run()];
                out.extend(others.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(StoreError::InvalidArgument("a scan thread panicked".into())))));
                out
            });
            Ok((accs.into_iter().collect::<Result<Vec<T>>>()?, metas))
        })
        .await?
    }

    /// Merges groups of small segments of `stream` at `policy.level` into larger ones at
    /// `level + 1`, keeping every record: output blob put, then one atomic catalog swap,
    /// then input blobs deleted.
    pub async fn compact(
        &self,
        stream: &str,
        policy: CompactionPolicy,
    ) -> Result<CompactionReport> {
        let s = stream.to_string();
        let mut candidates: Vec<SegmentMeta> = self
            .cat(move |c| c.segments(&s))
            .await?
            .into_iter()
            .filter(|m| m.level == policy.level && m.bytes < policy.target_bytes)
            .collect();
        // The window a segment lies in (all segments share one without a window).
        let window = |m: &SegmentMeta| policy.time_window_ms.filter(|w| *w > 0).map(|w| (m.min_ts.div_euclid(w), m.max_ts.div_euclid(w)));
        candidates.retain(|m| window(m).is_none_or(|(a, b)| a == b));
        candidates.sort_by(|a, b| (window(a), a.max_lsn, &a.id).cmp(&(window(b), b.max_lsn, &b.id)));

        let mut groups: Vec<Vec<SegmentMeta>> = Vec::new();
        let mut current: Vec<SegmentMeta> = Vec::new();
        let mut current_bytes = 0u64;
        for m in candidates {
            let full = current.len() >= policy.max_inputs.max(2)
                || (!current.is_empty() && current_bytes + m.bytes > policy.target_bytes)
                || current.last().is_some_and(|last| window(last) != window(&m));
            if full {
                groups.push(std::mem::take(&mut current));
                current_bytes = 0;
            }
            current_bytes += m.bytes;
            current.push(m);
        }
        groups.push(current);

        let mut report = CompactionReport::default();
        for group in groups
            .into_iter()
            .filter(|g| !g.is_empty() && g.len() >= policy.min_inputs.max(1))
        {
            self.compact_group(stream, &group, policy.level + 1, &mut report)
                .await?;
        }
        if !report.inputs.is_empty() {
            tracing::info!(
                stream,
                inputs = report.inputs.len(),
                outputs = report.outputs.len(),
                records = report.records,
                bytes_before = report.bytes_before,
                bytes_after = report.bytes_after,
                "compaction finished"
            );
        }
        Ok(report)
    }

    async fn compact_group(
        &self,
        stream: &str,
        group: &[SegmentMeta],
        level: u32,
        report: &mut CompactionReport,
    ) -> Result<()> {
        // Oldest first, so that records with equal (key, ts) keep write order.
        let mut ordered: Vec<&SegmentMeta> = group.iter().collect();
        ordered.sort_by(|a, b| (a.max_lsn, &a.id).cmp(&(b.max_lsn, &b.id)));
        let mut inputs = Vec::with_capacity(ordered.len());
        for m in ordered {
            inputs.push(self.reader(m).await?);
        }
        let count: u64 = inputs.iter().map(|r| r.record_count()).sum();
        let expected: u64 = group.iter().map(|m| m.records).sum();
        if count != expected {
            return Err(StoreError::corruption(
                format!("compaction of stream {stream}"),
                format!("inputs hold {count} records, catalog says {expected}"),
            ));
        }
        let max_lsn = group.iter().map(|m| m.max_lsn).max().unwrap_or(0);
        let guard = self.registering.read().await;
        let out = self
            .put_segment(stream, SegmentInput::Merge(inputs), max_lsn, level)
            .await?;
        let ids: Vec<String> = group.iter().map(|m| m.id.clone()).collect();
        let (remove, add) = (ids.clone(), vec![out.clone()]);
        let registered = if out.records != expected {
            Err(StoreError::corruption(
                format!("compaction of stream {stream}"),
                format!("merged {} records out of {expected}", out.records),
            ))
        } else {
            self.cat(move |c| c.replace_segments(&remove, &add)).await
        };
        if let Err(e) = registered {
            self.cache.lock().entries.remove(&out.id);
            if let Err(del) = self.blobs.delete(&out.path).await {
                tracing::warn!(path = %out.path, error = %del, "could not delete unregistered compaction output");
            }
            return Err(e);
        }
        for m in group {
            self.forget(m).await;
        }
        drop(guard);
        report.inputs.extend(ids);
        report.records += count;
        report.bytes_before += group.iter().map(|m| m.bytes).sum::<u64>();
        report.bytes_after += out.bytes;
        report.outputs.push(out);
        Ok(())
    }

    /// Drops the cached reader and deletes the blob of a segment already out of the catalog;
    /// a failed delete only leaves an orphan for [`SegmentStore::cleanup_orphans`].
    async fn forget(&self, m: &SegmentMeta) {
        self.cache.lock().entries.remove(&m.id);
        if let Err(e) = self.blobs.delete(&m.path).await {
            tracing::warn!(path = %m.path, error = %e, "could not delete segment blob, left as orphan");
        }
    }

    /// Drops whole segments of `stream` whose `max_ts < cutoff_ts` (catalog first, then
    /// blob). Returns how many were dropped.
    pub async fn apply_retention(&self, stream: &str, cutoff_ts: i64) -> Result<usize> {
        let s = stream.to_string();
        let old: Vec<SegmentMeta> = self
            .cat(move |c| c.segments(&s))
            .await?
            .into_iter()
            .filter(|m| m.max_ts < cutoff_ts)
            .collect();
        if old.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = old.iter().map(|m| m.id.clone()).collect();
        let _guard = self.registering.read().await;
        let removed = self.cat(move |c| c.remove_segments(&ids)).await?;
        for m in &old {
            self.forget(m).await;
        }
        tracing::info!(stream, cutoff_ts, removed, "retention dropped segments");
        Ok(removed)
    }

    /// Deletes segment blobs that no catalog entry points at; returns the deleted paths.
    pub async fn cleanup_orphans(&self) -> Result<Vec<String>> {
        let _exclusive = self.registering.write().await;
        let known: std::collections::HashSet<String> = self
            .cat(|c| {
                let mut paths = std::collections::HashSet::new();
                for stream in c.streams()? {
                    paths.extend(c.segments(&stream)?.into_iter().map(|m| m.path));
                }
                Ok(paths)
            })
            .await?;
        let mut deleted = Vec::new();
        for path in self.blobs.list(SEGMENTS_PREFIX).await? {
            if !known.contains(&path) {
                self.blobs.delete(&path).await?;
                deleted.push(path);
            }
        }
        if !deleted.is_empty() {
            tracing::info!(count = deleted.len(), "deleted orphan segment blobs");
        }
        Ok(deleted)
    }

    /// Highest WAL LSN persisted to segments of `stream`; replay can skip records at or
    /// below it.
    pub async fn max_lsn(&self, stream: &str) -> Result<u64> {
        let s = stream.to_string();
        self.cat(move |c| c.max_lsn(&s)).await
    }

    /// Every segment of `stream`.
    pub async fn segments(&self, stream: &str) -> Result<Vec<SegmentMeta>> {
        let s = stream.to_string();
        self.cat(move |c| c.segments(&s)).await
    }
}

/// Turns the records of some segments into the records of one new segment (a rollup, a
/// filter). It sees every input record in segment order (key, then time; equal records in
/// input order) and emits output records through `out`, also in segment order: the encoder
/// refuses anything else, so a wrong rewriter fails instead of writing a bad segment.
pub trait Rewriter: Send {
    /// One input record.
    fn record(&mut self, r: RecordRef<'_>, out: &mut dyn FnMut(RecordRef<'_>) -> Result<()>) -> Result<()>;
    /// After the last input record: emits whatever is pending.
    fn finish(&mut self, out: &mut dyn FnMut(RecordRef<'_>) -> Result<()>) -> Result<()>;
}

/// What one [`SegmentStore::rewrite`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RewriteReport {
    /// Input segments replaced.
    pub inputs: usize,
    /// Records read.
    pub records_in: u64,
    /// Records written (0: the inputs were removed and nothing replaced them).
    pub records_out: u64,
    /// Bytes of the inputs.
    pub bytes_before: u64,
    /// Bytes of the output.
    pub bytes_after: u64,
}

impl SegmentStore {
    /// Replaces `inputs` (segments of `stream`) by one segment at `level` holding what
    /// `rewriter` makes of their records: output blob put, then one atomic catalog swap, then
    /// input blobs deleted (the same crash rules as compaction). Readers see the inputs or the
    /// output, never both.
    pub async fn rewrite(
        &self,
        stream: &str,
        inputs: &[SegmentMeta],
        level: u32,
        mut rewriter: Box<dyn Rewriter>,
    ) -> Result<RewriteReport> {
        if inputs.is_empty() {
            return Ok(RewriteReport::default());
        }
        let mut ordered: Vec<&SegmentMeta> = inputs.iter().collect();
        ordered.sort_by(|a, b| (a.max_lsn, &a.id).cmp(&(b.max_lsn, &b.id)));
        let mut readers = Vec::with_capacity(ordered.len());
        for m in ordered {
            readers.push(self.reader(m).await?);
        }
        let builder = self.builder;
        let capacity: usize = readers.iter().map(|r| r.byte_len()).sum();
        let (bytes, records_in, records_out) = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, u64, u64)> {
            let refs: Vec<&SegmentReader> = readers.iter().map(|r| r.as_ref()).collect();
            let mut enc = builder.encoder(capacity)?;
            let mut written = 0u64;
            let mut emit = |o: RecordRef<'_>| -> Result<()> {
                written += 1;
                enc.push(o)
            };
            let read = merge_segments(&refs, |r| rewriter.record(r, &mut emit))?;
            rewriter.finish(&mut emit)?;
            Ok((enc.finish()?, read, written))
        })
        .await??;
        let expected: u64 = inputs.iter().map(|m| m.records).sum();
        if records_in != expected {
            return Err(StoreError::corruption(
                format!("rewrite of stream {stream}"),
                format!("inputs hold {records_in} records, catalog says {expected}"),
            ));
        }
        let max_lsn = inputs.iter().map(|m| m.max_lsn).max().unwrap_or(0);
        let ids: Vec<String> = inputs.iter().map(|m| m.id.clone()).collect();
        let guard = self.registering.read().await;
        let mut report = RewriteReport {
            inputs: inputs.len(),
            records_in,
            records_out,
            bytes_before: inputs.iter().map(|m| m.bytes).sum(),
            bytes_after: 0,
        };
        if records_out == 0 {
            let remove = ids.clone();
            self.cat(move |c| c.remove_segments(&remove)).await?;
        } else {
            let out = self.put_segment(stream, SegmentInput::Encoded(bytes), max_lsn, level).await?;
            report.bytes_after = out.bytes;
            let (remove, add) = (ids.clone(), vec![out.clone()]);
            if let Err(e) = self.cat(move |c| c.replace_segments(&remove, &add)).await {
                self.cache.lock().entries.remove(&out.id);
                if let Err(del) = self.blobs.delete(&out.path).await {
                    tracing::warn!(path = %out.path, error = %del, "could not delete unregistered rewrite output");
                }
                return Err(e);
            }
        }
        for m in inputs {
            self.forget(m).await;
        }
        drop(guard);
        tracing::info!(stream, level, inputs = report.inputs, records_in, records_out, "segments rewritten");
        Ok(report)
    }
}
