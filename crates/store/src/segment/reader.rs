//! Validating and scanning segment bytes.

use super::{BlockMeta, KeyFilter, Record, RecordRef, BLOCK_HEADER_LEN, MAX_BLOCK_BYTES};
use super::{SEGMENT_HEADER_LEN, SEGMENT_MAGIC, SEGMENT_TRAILER_LEN, SEGMENT_VERSION};
use crate::bloom::{Bloom, MAX_BLOOM_HASHES};
use crate::codec::{unzigzag, Reader};
use crate::error::{Result, StoreError};
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};

/// A test over a decompressed block's bytes: `false` means no record of the block can be
/// wanted, so it is not parsed (see [`SegmentReader::visit_block`]).
pub type BlockTest = dyn Fn(&[u8]) -> bool + Send + Sync;

/// A validated, read-only view of one segment's bytes.
pub struct SegmentReader {
    data: Bytes,
    blocks: Vec<BlockMeta>,
    bloom: Bloom,
    version: u16,
    min_ts: i64,
    max_ts: i64,
    record_count: u64,
    distinct_keys: u64,
    blocks_decoded: AtomicU64,
    blocks_skipped: AtomicU64,
}

impl std::fmt::Debug for SegmentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentReader")
            .field("bytes", &self.data.len())
            .field("blocks", &self.blocks.len())
            .field("records", &self.record_count)
            .field("min_ts", &self.min_ts)
            .field("max_ts", &self.max_ts)
            .finish()
    }
}

fn bad(detail: impl Into<String>) -> StoreError {
    StoreError::corruption("segment", detail)
}

fn range(start: u64, len: u64, limit: usize) -> Result<std::ops::Range<usize>> {
    let start = usize::try_from(start).map_err(|_| bad("offset out of range"))?;
    let len = usize::try_from(len).map_err(|_| bad("length out of range"))?;
    let end = start
        .checked_add(len)
        .ok_or_else(|| bad("offset overflow"))?;
    if end > limit {
        return Err(bad(format!(
            "section {start}..{end} exceeds its bound {limit}"
        )));
    }
    Ok(start..end)
}

impl SegmentReader {
    /// Validates magic, version, trailer, index, bloom filter and every block checksum.
    /// Malformed input yields [`StoreError::DataCorruption`], never a panic.
    pub fn open(data: Bytes) -> Result<SegmentReader> {
        let len = data.len();
        if len < SEGMENT_HEADER_LEN + SEGMENT_TRAILER_LEN {
            return Err(bad(format!("{len} bytes is too short for a segment")));
        }
        let mut head = Reader::new(&data);
        if head.array::<5>() != Some(SEGMENT_MAGIC) {
            return Err(bad("bad header magic"));
        }
        let version = head.u16().ok_or_else(|| bad("truncated header"))?;
        if version != SEGMENT_VERSION {
            return Err(bad(format!("unsupported segment format version {version}")));
        }
        let trailer_start = len - SEGMENT_TRAILER_LEN;
        let trailer = &data[trailer_start..];
        if trailer[84..] != SEGMENT_MAGIC {
            return Err(bad("bad trailer magic"));
        }
        let mut t = Reader::new(trailer);
        let field = || bad("truncated trailer");
        let t_version = t.u16().ok_or_else(field)?;
        let _flags = t.u16().ok_or_else(field)?;
        let min_ts = t.i64().ok_or_else(field)?;
        let max_ts = t.i64().ok_or_else(field)?;
        let record_count = t.u64().ok_or_else(field)?;
        let distinct_keys = t.u64().ok_or_else(field)?;
        let index_offset = t.u64().ok_or_else(field)?;
        let index_len = t.u64().ok_or_else(field)?;
        let index_crc = t.u32().ok_or_else(field)?;
        let bloom_offset = t.u64().ok_or_else(field)?;
        let bloom_len = t.u64().ok_or_else(field)?;
        let bloom_k = t.u32().ok_or_else(field)?;
        let bloom_crc = t.u32().ok_or_else(field)?;
        let trailer_crc = t.u32().ok_or_else(field)?;
        if crc32c::crc32c(&trailer[..80]) != trailer_crc {
            return Err(bad("trailer checksum mismatch"));
        }
        if t_version != version {
            return Err(bad(format!(
                "trailer version {t_version} differs from header version {version}"
            )));
        }
        let index_range = range(index_offset, index_len, trailer_start)?;
        let bloom_range = range(bloom_offset, bloom_len, trailer_start)?;
        if index_range.start < SEGMENT_HEADER_LEN
            || bloom_range.start != index_range.end
            || bloom_range.end != trailer_start
        {
            return Err(bad(
                "index and bloom sections are not adjacent to the trailer",
            ));
        }
        let index_bytes = &data[index_range.clone()];
        if crc32c::crc32c(index_bytes) != index_crc {
            return Err(bad("index checksum mismatch"));
        }
        let bloom_bytes = &data[bloom_range];
        if crc32c::crc32c(bloom_bytes) != bloom_crc {
            return Err(bad("bloom filter checksum mismatch"));
        }
        if bloom_k > MAX_BLOOM_HASHES || (bloom_k == 0) != bloom_bytes.is_empty() {
            return Err(bad(format!(
                "invalid bloom filter ({bloom_k} hashes, {} bytes)",
                bloom_bytes.len()
            )));
        }

        let blocks = parse_index(index_bytes, index_range.start)?;
        let mut total = 0u64;
        for (i, b) in blocks.iter().enumerate() {
            let r = range(b.offset, u64::from(b.len), index_range.start)?;
            let block = &data[r];
            let raw_len: [u8; 4] = block[..4].try_into().map_err(|_| bad("short block"))?;
            let stored =
                u32::from_le_bytes(block[4..8].try_into().map_err(|_| bad("short block"))?);
            if crc32c::crc32c_append(crc32c::crc32c(&raw_len), &block[BLOCK_HEADER_LEN..]) != stored
            {
                return Err(bad(format!("block {i} checksum mismatch")));
            }
            total += u64::from(b.records);
        }
        if total != record_count {
            return Err(bad(format!(
                "index holds {total} records, trailer says {record_count}"
            )));
        }
        if let (Some(lo), Some(hi)) = (
            blocks.iter().map(|b| b.min_ts).min(),
            blocks.iter().map(|b| b.max_ts).max(),
        ) {
            if lo != min_ts || hi != max_ts {
                return Err(bad("trailer time range disagrees with the index"));
            }
        }
        Ok(SegmentReader {
            bloom: Bloom::from_parts(bloom_bytes.to_vec(), bloom_k),
            data,
            blocks,
            version,
            min_ts,
            max_ts,
            record_count,
            distinct_keys,
            blocks_decoded: AtomicU64::new(0),
            blocks_skipped: AtomicU64::new(0),
        })
    }

    /// Format version of this segment.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Smallest record timestamp (0 for an empty segment).
    pub fn min_ts(&self) -> i64 {
        self.min_ts
    }

    /// Largest record timestamp (0 for an empty segment).
    pub fn max_ts(&self) -> i64 {
        self.max_ts
    }

    /// Number of records.
    pub fn record_count(&self) -> u64 {
        self.record_count
    }

    /// Number of distinct keys.
    pub fn distinct_keys(&self) -> u64 {
        self.distinct_keys
    }

    /// Number of compressed blocks.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Size of the segment in bytes.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// How many blocks scans of this reader have decompressed so far (to observe skipping).
    pub fn blocks_decoded(&self) -> u64 {
        self.blocks_decoded.load(Ordering::Relaxed)
    }

    /// False only when no record has this key (bloom filter; false positives possible).
    pub fn may_contain_key(&self, key: &[u8]) -> bool {
        self.bloom.may_contain(key)
    }

    /// Records matching `filter` with `from_ts <= ts < to_ts`, in `(key, ts)` order.
    pub fn scan(&self, filter: &KeyFilter, from_ts: i64, to_ts: i64) -> Result<Vec<Record>> {
        if to_ts <= from_ts {
            return Ok(Vec::new());
        }
        self.scan_inclusive(filter, from_ts, to_ts - 1)
    }

    /// Every record of the segment, in `(key, ts)` order.
    pub fn read_all(&self) -> Result<Vec<Record>> {
        self.scan_inclusive(&KeyFilter::All, i64::MIN, i64::MAX)
    }

    fn scan_inclusive(&self, filter: &KeyFilter, lo: i64, hi: i64) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        if let KeyFilter::Exact(k) = filter {
            if !self.may_contain_key(k) {
                return Ok(out);
            }
        }
        self.scan_blocks(filter, lo, hi, &mut ThreadDecoder::default(), &mut out).map(|_| out)
    }

    fn scan_blocks(&self, filter: &KeyFilter, lo: i64, hi: i64, decoder: &mut ThreadDecoder, out: &mut Vec<Record>) -> Result<()> {
        for (i, b) in self.blocks.iter().enumerate() {
            if filter.is_past(&b.first_key) {
                break;
            }
            if b.max_ts < lo || b.min_ts > hi || !filter.may_overlap(&b.first_key, &b.last_key) {
                continue;
            }
            let decoder = decoder.get()?;
            decoder.decode(self, i)?;
            out.extend(
                decoder
                    .records()
                    .filter(|r| r.ts >= lo && r.ts <= hi && filter.matches(r.key))
                    .map(|r| Record { key: r.key.to_vec(), ts: r.ts, value: r.value.to_vec() }),
            );
        }
        Ok(())
    }

    /// The blocks a visit of `filter` and `[from_ts, to_ts)` reads, in order: those whose key
    /// and time bounds may hold a wanted record.
    pub fn blocks_to_visit(&self, filter: &KeyFilter, from_ts: i64, to_ts: i64) -> Vec<usize> {
        if to_ts <= from_ts {
            return Vec::new();
        }
        if let KeyFilter::Exact(k) = filter {
            if !self.may_contain_key(k) {
                return Vec::new();
            }
        }
        let (lo, hi) = (from_ts, to_ts - 1);
        let mut out = Vec::new();
        for (i, b) in self.blocks.iter().enumerate() {
            if filter.is_past(&b.first_key) {
                break;
            }
            if b.max_ts < lo || b.min_ts > hi || !filter.may_overlap(&b.first_key, &b.last_key) {
                continue;
            }
            out.push(i);
        }
        out
    }

    /// Visits the records of one block (one of [`SegmentReader::blocks_to_visit`]) matching
    /// `filter` with `from_ts <= ts < to_ts`, lending each one (no copy), decoded with the
    /// caller's `decoder` (one per thread). A decompressed block whose bytes
    /// `block_may_match` refuses is not parsed (a caller looking for literal text passes a
    /// test that the text occurs in them).
    #[allow(clippy::too_many_arguments)]
    pub fn visit_block(
        &self,
        i: usize,
        filter: &KeyFilter,
        from_ts: i64,
        to_ts: i64,
        block_may_match: Option<&BlockTest>,
        decoder: &mut ThreadDecoder,
        visit: &mut dyn FnMut(RecordRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let (lo, hi) = (from_ts, to_ts.saturating_sub(1));
        let decoder = decoder.get()?;
        decoder.decompress(self, i)?;
        if block_may_match.is_some_and(|test| !test(&decoder.raw)) {
            self.blocks_skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        decoder.parse(self, i)?;
        for r in decoder.records() {
            if r.ts >= lo && r.ts <= hi && filter.matches(r.key) {
                visit(r)?;
            }
        }
        Ok(())
    }

    /// Blocks a visit decompressed and then skipped unparsed.
    pub fn blocks_skipped(&self) -> u64 {
        self.blocks_skipped.load(Ordering::Relaxed)
    }

    /// Visits the records whose key is one of `keys` (sorted ascending, distinct) with
    /// `from_ts <= ts < to_ts`, in `(key, ts)` order, as `visit(index into keys, record)`.
    ///
    /// Many series read together (a SEARCH, a GROUP BY) usually sit in the same few blocks:
    /// each block is decompressed at most once however many of the keys it holds, blocks
    /// holding none of them are skipped by binary search over the index, and records are
    /// lent, not copied.
    pub fn scan_keys<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        from_ts: i64,
        to_ts: i64,
        visit: &mut dyn FnMut(usize, RecordRef<'_>) -> Result<()>,
    ) -> Result<()> {
        if to_ts <= from_ts || keys.is_empty() {
            return Ok(());
        }
        if keys.windows(2).any(|w| w[0].as_ref() >= w[1].as_ref()) {
            return Err(StoreError::InvalidArgument("scan_keys needs sorted, distinct keys".into()));
        }
        let (lo, hi) = (from_ts, to_ts - 1);
        let wanted: Vec<usize> = (0..keys.len()).filter(|&i| self.may_contain_key(keys[i].as_ref())).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.scan_key_blocks(keys, &wanted, lo, hi, &mut ThreadDecoder::default(), visit)
    }

    fn scan_key_blocks<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        wanted: &[usize],
        lo: i64,
        hi: i64,
        decoder: &mut ThreadDecoder,
        visit: &mut dyn FnMut(usize, RecordRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let key = |w: usize| keys[wanted[w]].as_ref();
        // `w`: the first wanted key that a later block may still hold.
        let mut w = 0;
        let mut block = 0;
        while w < wanted.len() {
            // The first block (from `block` on) whose last key is not below the wanted key.
            block += self.blocks[block..].partition_point(|b| b.last_key.as_slice() < key(w));
            let Some(b) = self.blocks.get(block) else { break };
            if b.first_key.as_slice() > key(w) {
                // No block holds this key: go to the first wanted key this block may hold.
                w += wanted[w..].partition_point(|&i| keys[i].as_ref() < b.first_key.as_slice());
                if w == wanted.len() || key(w) > b.last_key.as_slice() {
                    continue;
                }
            }
            if b.max_ts < lo || b.min_ts > hi {
                block += 1;
                continue;
            }
            let decoder = decoder.get()?;
            decoder.decode(self, block)?;
            for r in decoder.records() {
                while w < wanted.len() && key(w) < r.key {
                    w += 1;
                }
                if w == wanted.len() {
                    break;
                }
                if key(w) == r.key && r.ts >= lo && r.ts <= hi {
                    visit(wanted[w], r)?;
                }
            }
            block += 1;
        }
        Ok(())
    }

    /// A cursor over every record of the segment in `(key, ts)` order, decoding one block at
    /// a time into reused buffers (no allocation per record).
    pub fn cursor(&self) -> Result<RecordCursor<'_>> {
        let mut c = RecordCursor { reader: self, decoder: BlockDecoder::new()?, block: 0, row: 0 };
        c.load_from(0)?;
        Ok(c)
    }
}

/// Where one decoded record's key and value live in a [`BlockDecoder`]'s buffers.
#[derive(Debug, Clone, Copy)]
struct DecodedRow {
    key_start: u32,
    key_end: u32,
    ts: i64,
    value_start: u32,
    value_end: u32,
}

thread_local! {
    /// One block decoder per thread for scans: creating a zstd context per scan showed up in
    /// read profiles.
    static SCAN_DECODER: std::cell::RefCell<Option<BlockDecoder>> = const { std::cell::RefCell::new(None) };
}

/// The thread's block decoder (a zstd context and buffers kept warm between scans), taken
/// on the first block a scan decodes (many scans skip every block) and given back when the
/// scan ends. One per thread of a scan.
#[derive(Default)]
pub struct ThreadDecoder(Option<BlockDecoder>);

impl ThreadDecoder {
    fn get(&mut self) -> Result<&mut BlockDecoder> {
        let d = match self.0.take().or_else(|| SCAN_DECODER.with(|slot| slot.borrow_mut().take())) {
            Some(d) => d,
            None => BlockDecoder::new()?,
        };
        Ok(self.0.insert(d))
    }
}

impl Drop for ThreadDecoder {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            // Not during the thread's own teardown: then the decoder is simply dropped.
            let _ = SCAN_DECODER.try_with(|slot| *slot.borrow_mut() = Some(d));
        }
    }
}

/// Decompresses and parses blocks into buffers reused from block to block: the raw block
/// (values are ranges of it), the block's keys (each distinct run once) and one row per record.
struct BlockDecoder {
    zstd: zstd::bulk::Decompressor<'static>,
    raw: Vec<u8>,
    keys: Vec<u8>,
    rows: Vec<DecodedRow>,
}

impl BlockDecoder {
    fn new() -> Result<Self> {
        Ok(BlockDecoder { zstd: zstd::bulk::Decompressor::new()?, raw: Vec::new(), keys: Vec::new(), rows: Vec::new() })
    }

    /// Decodes block `i` of `seg`, replacing the previous block; validates it against its
    /// index entry.
    fn decode(&mut self, seg: &SegmentReader, i: usize) -> Result<()> {
        self.decompress(seg, i)?;
        self.parse(seg, i)
    }

    /// Decompresses block `i` of `seg` into `raw` (its records are not parsed yet).
    fn decompress(&mut self, seg: &SegmentReader, i: usize) -> Result<()> {
        self.raw.clear();
        self.keys.clear();
        self.rows.clear();
        let b = seg.blocks.get(i).ok_or_else(|| bad("block index out of range"))?;
        let r = range(b.offset, u64::from(b.len), seg.data.len())?;
        let block = &seg.data[r];
        let mut h = Reader::new(block);
        let raw_len = h.u32().ok_or_else(|| bad("short block"))? as usize;
        if raw_len > MAX_BLOCK_BYTES {
            return Err(bad(format!("block {i} claims {raw_len} uncompressed bytes")));
        }
        let compressed = &block[BLOCK_HEADER_LEN..];
        // Room for the claimed length (at most MAX_BLOCK_BYTES): a block that decompresses to
        // more than the buffer holds fails here, any other length fails the check below.
        self.raw.reserve_exact(raw_len);
        self.zstd
            .decompress_to_buffer(compressed, &mut self.raw)
            .map_err(|e| bad(format!("block {i} does not decompress: {e}")))?;
        if self.raw.len() != raw_len {
            return Err(bad(format!("block {i} decompressed to {} bytes, expected {raw_len}", self.raw.len())));
        }
        seg.blocks_decoded.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Parses the records of block `i` (decompressed into `raw`) and checks them against its
    /// index entry.
    fn parse(&mut self, seg: &SegmentReader, i: usize) -> Result<()> {
        let b = seg.blocks.get(i).ok_or_else(|| bad("block index out of range"))?;
        let malformed = || bad(format!("block {i} has a malformed record"));
        let too_large = || bad(format!("block {i} is too large to index"));
        let mut rd = Reader::new(&self.raw);
        self.rows.reserve(b.records as usize);
        let (mut key_start, mut ts) = (0usize, 0i64);
        while rd.remaining() > 0 {
            let shared = usize::try_from(rd.uvarint().ok_or_else(malformed)?).map_err(|_| malformed())?;
            let key_len = self.keys.len() - key_start;
            if shared > key_len {
                return Err(malformed());
            }
            let suffix_len = rd.len_prefix().ok_or_else(malformed)?;
            let suffix = rd.bytes(suffix_len).ok_or_else(malformed)?;
            if !(shared == key_len && suffix.is_empty()) {
                // A new key: the shared prefix of the previous one, then the suffix.
                let new_start = self.keys.len();
                self.keys.extend_from_within(key_start..key_start + shared);
                self.keys.extend_from_slice(suffix);
                key_start = new_start;
            }
            ts = ts.wrapping_add(unzigzag(rd.uvarint().ok_or_else(malformed)?));
            let value_len = rd.len_prefix().ok_or_else(malformed)?;
            let value_start = self.raw.len() - rd.remaining();
            rd.bytes(value_len).ok_or_else(malformed)?;
            if ts < b.min_ts || ts > b.max_ts {
                return Err(bad(format!("block {i} has a record outside its time range")));
            }
            self.rows.push(DecodedRow {
                key_start: u32::try_from(key_start).map_err(|_| too_large())?,
                key_end: u32::try_from(self.keys.len()).map_err(|_| too_large())?,
                ts,
                value_start: u32::try_from(value_start).map_err(|_| too_large())?,
                value_end: u32::try_from(value_start + value_len).map_err(|_| too_large())?,
            });
        }
        let consistent = self.rows.len() == b.records as usize
            && self.rows.first().is_some_and(|r| self.key(r) == b.first_key.as_slice())
            && self.rows.last().is_some_and(|r| self.key(r) == b.last_key.as_slice());
        if !consistent {
            return Err(bad(format!("block {i} disagrees with its index entry")));
        }
        Ok(())
    }

    fn key(&self, r: &DecodedRow) -> &[u8] {
        &self.keys[r.key_start as usize..r.key_end as usize]
    }

    fn record(&self, r: &DecodedRow) -> RecordRef<'_> {
        RecordRef { key: self.key(r), ts: r.ts, value: &self.raw[r.value_start as usize..r.value_end as usize] }
    }

    fn records(&self) -> impl Iterator<Item = RecordRef<'_>> + '_ {
        self.rows.iter().map(|r| self.record(r))
    }
}

/// Every record of one segment in `(key, ts)` order, one decoded block in memory at a time.
/// See [`SegmentReader::cursor`].
pub struct RecordCursor<'a> {
    reader: &'a SegmentReader,
    decoder: BlockDecoder,
    /// Block currently decoded (== block count when exhausted).
    block: usize,
    /// Row of the current record within the decoded block.
    row: usize,
}

impl RecordCursor<'_> {
    /// The record under the cursor, or `None` past the last one.
    pub fn current(&self) -> Option<RecordRef<'_>> {
        self.decoder.rows.get(self.row).map(|r| self.decoder.record(r))
    }

    /// Moves to the next record, decoding the next block when this one is used up.
    pub fn advance(&mut self) -> Result<()> {
        self.row += 1;
        if self.row >= self.decoder.rows.len() {
            self.load_from(self.block + 1)?;
        }
        Ok(())
    }

    /// Decodes block `i` (the index promises every block has at least one record).
    fn load_from(&mut self, i: usize) -> Result<()> {
        self.block = i;
        self.row = 0;
        if i < self.reader.blocks.len() {
            self.decoder.decode(self.reader, i)
        } else {
            self.decoder.rows.clear();
            Ok(())
        }
    }
}

fn parse_index(bytes: &[u8], blocks_end: usize) -> Result<Vec<BlockMeta>> {
    let mut r = Reader::new(bytes);
    let short = || bad("truncated index");
    let count = r.u32().ok_or_else(short)?;
    let mut blocks: Vec<BlockMeta> = Vec::new();
    for _ in 0..count {
        let offset = r.u64().ok_or_else(short)?;
        let len = r.u32().ok_or_else(short)?;
        let records = r.u32().ok_or_else(short)?;
        let min_ts = r.i64().ok_or_else(short)?;
        let max_ts = r.i64().ok_or_else(short)?;
        let first_len = r.u32().ok_or_else(short)? as usize;
        let first_key = r.bytes(first_len).ok_or_else(short)?.to_vec();
        let last_len = r.u32().ok_or_else(short)? as usize;
        let last_key = r.bytes(last_len).ok_or_else(short)?.to_vec();
        let end = offset
            .checked_add(u64::from(len))
            .ok_or_else(|| bad("block offset overflow"))?;
        // Blocks are contiguous from the end of the header.
        let expected_offset = blocks
            .last()
            .map_or(SEGMENT_HEADER_LEN as u64, |p| p.offset + u64::from(p.len));
        let sane = offset == expected_offset
            && end <= blocks_end as u64
            && (len as usize) >= BLOCK_HEADER_LEN
            && records > 0
            && min_ts <= max_ts
            && first_key <= last_key
            && blocks.last().is_none_or(|p| p.last_key <= first_key);
        if !sane {
            return Err(bad(format!("index entry {} is inconsistent", blocks.len())));
        }
        blocks.push(BlockMeta {
            offset,
            len,
            records,
            min_ts,
            max_ts,
            first_key,
            last_key,
        });
    }
    if r.remaining() != 0 {
        return Err(bad("trailing bytes after the index"));
    }
    let blocks_len = blocks
        .last()
        .map_or(SEGMENT_HEADER_LEN as u64, |p| p.offset + u64::from(p.len));
    if blocks_len != blocks_end as u64 {
        return Err(bad("bytes between the last block and the index"));
    }
    Ok(blocks)
}
