//! Encoding records into segment bytes.

use super::{BlockMeta, Record, BLOCK_HEADER_LEN, DEFAULT_BLOCK_BYTES, MAX_BLOCK_BYTES};
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
        let mut bloom = Bloom::with_capacity(distinct as usize, self.bloom_bits_per_key);

        let mut out = Vec::with_capacity(records.len() * 16 + 256);
        out.extend_from_slice(&SEGMENT_MAGIC);
        out.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());

        let mut index: Vec<BlockMeta> = Vec::new();
        // One compression context for every block: creating one per block allocates (and the
        // kernel zeroes) its workspace each time.
        let mut zstd = zstd::bulk::Compressor::new(self.zstd_level)?;
        let mut raw = Vec::with_capacity(self.block_bytes + 1024);
        let mut start = 0;
        for (i, r) in records.iter().enumerate() {
            // Close the block early rather than let one large record overflow the limit.
            if i > start && raw.len() + r.key.len() + r.value.len() + 32 > MAX_BLOCK_BYTES {
                index.push(self.flush_block(&mut zstd, &mut out, &mut raw, &records[start..i])?);
                start = i;
            }
            if i == 0 || records[i - 1].key != r.key {
                bloom.insert(&r.key);
            }
            let (prev_key, prev_ts): (&[u8], i64) = if i == start {
                (&[], 0)
            } else {
                (&records[i - 1].key, records[i - 1].ts)
            };
            let shared = prev_key
                .iter()
                .zip(&r.key)
                .take_while(|(a, b)| a == b)
                .count();
            put_uvarint(&mut raw, shared as u64);
            put_uvarint(&mut raw, (r.key.len() - shared) as u64);
            raw.extend_from_slice(&r.key[shared..]);
            put_uvarint(&mut raw, zigzag(r.ts.wrapping_sub(prev_ts)));
            put_uvarint(&mut raw, r.value.len() as u64);
            raw.extend_from_slice(&r.value);
            if raw.len() >= self.block_bytes || i + 1 == records.len() {
                index.push(self.flush_block(&mut zstd, &mut out, &mut raw, &records[start..=i])?);
                start = i + 1;
            }
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
        out.extend_from_slice(&(records.len() as u64).to_le_bytes());
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
        recs: &[Record],
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
        let (first, last) = match (recs.first(), recs.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(StoreError::InvalidArgument("empty block".into())),
        };
        Ok(BlockMeta {
            offset,
            len: (BLOCK_HEADER_LEN + compressed.len()) as u32,
            records: u32::try_from(recs.len())
                .map_err(|_| StoreError::InvalidArgument("too many records in one block".into()))?,
            min_ts: recs.iter().map(|r| r.ts).min().unwrap_or(first.ts),
            max_ts: recs.iter().map(|r| r.ts).max().unwrap_or(first.ts),
            first_key: first.key.clone(),
            last_key: last.key.clone(),
        })
    }
}
