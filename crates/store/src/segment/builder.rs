//! Encoding records into segment bytes.

use super::{BlockMeta, Record, RecordRef, SortedRecords, BLOCK_HEADER_LEN, DEFAULT_BLOCK_BYTES, MAX_BLOCK_BYTES};
use super::{SEGMENT_MAGIC, SEGMENT_TRAILER_LEN, SEGMENT_VERSION};
use crate::bloom::Bloom;
use crate::codec::{put_uvarint, zigzag};
use crate::error::{Result, StoreError};

/// Builds segment bytes from records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentBuilder {
    block_bytes: usize,
    zstd_level: i32,
    bloom_bits_per_key: u32,
}

impl Default for SegmentBuilder {
    fn default() -> Self {
        SegmentBuilder {
            block_bytes: DEFAULT_BLOCK_BYTES,
            zstd_level: 3,
            bloom_bits_per_key: 10,
        }
    }
}

impl SegmentBuilder {
    /// A builder with the defaults: 64 KiB blocks, zstd level 3, 10 bloom bits per key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Target uncompressed block size (a block closes once it reaches this size).
    pub fn block_bytes(mut self, n: usize) -> Self {
        self.block_bytes = n.clamp(1, MAX_BLOCK_BYTES);
        self
    }

    /// zstd compression level.
    pub fn zstd_level(mut self, level: i32) -> Self {
        self.zstd_level = level;
        self
    }

    /// Bloom filter bits per distinct key (0 disables the filter).
    pub fn bloom_bits_per_key(mut self, bits: u32) -> Self {
        self.bloom_bits_per_key = bits;
        self
    }

    /// Sorts `records` by `(key, ts)` (stable: duplicates are kept in input order) and encodes
    /// them as one segment.
    pub fn build(&self, mut records: Vec<Record>) -> Result<Vec<u8>> {
        records.sort_by(Record::cmp_key_ts);
        let mut distinct = 0u64;
        for (i, r) in records.iter().enumerate() {
            if i == 0 || records[i - 1].key != r.key {
                distinct += 1;
            }
        }
        self.encode(records.iter().map(Record::as_ref), distinct)
    }

    /// Encodes records that are already in segment order as one segment, without copying or
    /// sorting them.
    pub fn build_sorted(&self, records: &SortedRecords) -> Result<Vec<u8>> {
        self.encode(records.iter(), records.distinct_keys() as u64)
    }

    /// Encodes `records`, which are sorted by `(key, ts)` and have `distinct` distinct keys.
    fn encode<'a>(
        &self,
        records: impl Iterator<Item = RecordRef<'a>>,
        distinct: u64,
    ) -> Result<Vec<u8>> {
        let mut bloom = Bloom::with_capacity(distinct as usize, self.bloom_bits_per_key);
        let (low, _) = records.size_hint();
        let mut out = Vec::with_capacity(low * 16 + 256);
        out.extend_from_slice(&SEGMENT_MAGIC);
        out.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());

        let mut index: Vec<BlockMeta> = Vec::new();
        // One compression context for every block: creating one per block allocates (and the
        // kernel zeroes) its workspace each time.
        let mut zstd = zstd::bulk::Compressor::new(self.zstd_level)?;
        let mut raw = Vec::with_capacity(self.block_bytes + 1024);
        let mut block: Option<OpenBlock<'a>> = None;
        let mut prev: Option<RecordRef<'a>> = None;
        let mut count = 0u64;
        for r in records {
            count += 1;
            let new_key = !prev.is_some_and(|p| p.same_key(&r));
            // Close the block early rather than let one large record overflow the limit.
            if block.is_some() && raw.len() + r.key.len() + r.value.len() + 32 > MAX_BLOCK_BYTES {
                if let Some(b) = block.take() {
                    index.push(self.flush_block(&mut zstd, &mut out, &mut raw, b)?);
                }
            }
            if new_key {
                bloom.insert(r.key);
            }
            // The first record of a block is encoded on its own.
            let (shared, prev_ts) = match (&block, prev) {
                (Some(_), Some(p)) if !new_key => (r.key.len(), p.ts),
                (Some(_), Some(p)) => (common_prefix(p.key, r.key), p.ts),
                _ => (0, 0),
            };
            put_uvarint(&mut raw, shared as u64);
            put_uvarint(&mut raw, (r.key.len() - shared) as u64);
            raw.extend_from_slice(&r.key[shared..]);
            put_uvarint(&mut raw, zigzag(r.ts.wrapping_sub(prev_ts)));
            put_uvarint(&mut raw, r.value.len() as u64);
            raw.extend_from_slice(r.value);
            let b = block.get_or_insert(OpenBlock {
                first_key: r.key,
                last_key: r.key,
                records: 0,
                min_ts: r.ts,
                max_ts: r.ts,
            });
            b.last_key = r.key;
            b.records += 1;
            b.min_ts = b.min_ts.min(r.ts);
            b.max_ts = b.max_ts.max(r.ts);
            prev = Some(r);
            if raw.len() >= self.block_bytes {
                if let Some(b) = block.take() {
                    index.push(self.flush_block(&mut zstd, &mut out, &mut raw, b)?);
                }
            }
        }
        if let Some(b) = block.take() {
            index.push(self.flush_block(&mut zstd, &mut out, &mut raw, b)?);
        }

        let index_offset = out.len() as u64;
        out.extend_from_slice(&(index.len() as u32).to_le_bytes());
        for b in &index {
            out.extend_from_slice(&b.offset.to_le_bytes());
            out.extend_from_slice(&b.len.to_le_bytes());
            out.extend_from_slice(&b.records.to_le_bytes());
            out.extend_from_slice(&b.min_ts.to_le_bytes());
            out.extend_from_slice(&b.max_ts.to_le_bytes());
            for key in [&b.first_key, &b.last_key] {
                let len = u32::try_from(key.len()).map_err(|_| {
                    StoreError::InvalidArgument("record key longer than 4 GiB".into())
                })?;
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(key);
            }
        }
        let index_len = out.len() as u64 - index_offset;
        let index_crc = crc32c::crc32c(&out[index_offset as usize..]);

        let bloom_offset = out.len() as u64;
        out.extend_from_slice(bloom.bits());
        let bloom_crc = crc32c::crc32c(bloom.bits());

        let (min_ts, max_ts) = match (
            index.iter().map(|b| b.min_ts).min(),
            index.iter().map(|b| b.max_ts).max(),
        ) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (0, 0),
        };
        let trailer_start = out.len();
        out.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&min_ts.to_le_bytes());
        out.extend_from_slice(&max_ts.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&distinct.to_le_bytes());
        out.extend_from_slice(&index_offset.to_le_bytes());
        out.extend_from_slice(&index_len.to_le_bytes());
        out.extend_from_slice(&index_crc.to_le_bytes());
        out.extend_from_slice(&bloom_offset.to_le_bytes());
        out.extend_from_slice(&(bloom.bits().len() as u64).to_le_bytes());
        out.extend_from_slice(&bloom.hashes().to_le_bytes());
        out.extend_from_slice(&bloom_crc.to_le_bytes());
        let trailer_crc = crc32c::crc32c(&out[trailer_start..]);
        out.extend_from_slice(&trailer_crc.to_le_bytes());
        out.extend_from_slice(&SEGMENT_MAGIC);
        debug_assert_eq!(out.len() - trailer_start, SEGMENT_TRAILER_LEN);
        Ok(out)
    }

    fn flush_block(
        &self,
        zstd: &mut zstd::bulk::Compressor<'_>,
        out: &mut Vec<u8>,
        raw: &mut Vec<u8>,
        block: OpenBlock<'_>,
    ) -> Result<BlockMeta> {
        if raw.len() > MAX_BLOCK_BYTES {
            return Err(StoreError::InvalidArgument(format!(
                "a single record needs a {} byte block, the limit is {MAX_BLOCK_BYTES}",
                raw.len()
            )));
        }
        let compressed = zstd.compress(raw)?;
        let raw_len = (raw.len() as u32).to_le_bytes();
        let crc = crc32c::crc32c_append(crc32c::crc32c(&raw_len), &compressed);
        let offset = out.len() as u64;
        out.extend_from_slice(&raw_len);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&compressed);
        raw.clear();
        Ok(BlockMeta {
            offset,
            len: (BLOCK_HEADER_LEN + compressed.len()) as u32,
            records: u32::try_from(block.records)
                .map_err(|_| StoreError::InvalidArgument("too many records in one block".into()))?,
            min_ts: block.min_ts,
            max_ts: block.max_ts,
            first_key: block.first_key.to_vec(),
            last_key: block.last_key.to_vec(),
        })
    }
}

/// The block being filled.
struct OpenBlock<'a> {
    first_key: &'a [u8],
    last_key: &'a [u8],
    records: u64,
    min_ts: i64,
    max_ts: i64,
}

/// Length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    // Eight bytes at a time, then the rest.
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..].iter().zip(&b[i..]).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefix_cases() {
        assert_eq!(common_prefix(b"", b"abc"), 0);
        assert_eq!(common_prefix(b"abc", b"abd"), 2);
        assert_eq!(common_prefix(b"abcdefghijk", b"abcdefghijk"), 11);
        assert_eq!(common_prefix(b"abcdefghij", b"abcdefgxij"), 7);
        assert_eq!(common_prefix(b"abcdefghij", b"abcdefghiX"), 9);
        assert_eq!(common_prefix(b"abcdefgh", b"abcdefghij"), 8);
        for len in 0..40usize {
            for diff in 0..len {
                let a: Vec<u8> = (0..len as u8).collect();
                let mut b = a.clone();
                b[diff] ^= 0x80;
                assert_eq!(common_prefix(&a, &b), diff);
            }
        }
    }
}
