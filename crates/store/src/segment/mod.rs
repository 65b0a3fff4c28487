//! Immutable, versioned, compressed segment files (layout in `crates/store/FORMAT.md`).
//!
//! A segment holds records sorted by `(key, ts)`, grouped into zstd-compressed blocks with
//! their own checksums, followed by a block index, a bloom filter over keys and a fixed-size
//! trailer. Readers validate every checksum on open and never panic on malformed input.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering as CmpOrdering;

/// Magic bytes at the start and at the very end of every segment.
pub const SEGMENT_MAGIC: [u8; 5] = *b"WTSEG";
/// Current segment format version.
pub const SEGMENT_VERSION: u16 = 1;
/// Length of the segment header: magic + u16 version.
pub const SEGMENT_HEADER_LEN: usize = 7;
/// Length of the fixed trailer at the end of a segment.
pub const SEGMENT_TRAILER_LEN: usize = 89;
/// Length of the header in front of each compressed block: u32 raw length + u32 crc32c.
pub(crate) const BLOCK_HEADER_LEN: usize = 8;
/// Largest uncompressed block accepted by the builder and the reader.
pub const MAX_BLOCK_BYTES: usize = 256 << 20;
/// Default uncompressed block size target.
pub const DEFAULT_BLOCK_BYTES: usize = 64 << 10;

/// One stored record: a key (e.g. a series id), a timestamp in milliseconds and a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    /// Grouping key; records are sorted by key first.
    pub key: Vec<u8>,
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    /// Opaque payload.
    pub value: Vec<u8>,
}

impl Record {
    /// Convenience constructor.
    pub fn new(key: impl Into<Vec<u8>>, ts: i64, value: impl Into<Vec<u8>>) -> Self {
        Record {
            key: key.into(),
            ts,
            value: value.into(),
        }
    }

    /// The segment sort order: by key, then timestamp (value is not compared).
    pub fn cmp_key_ts(&self, other: &Record) -> CmpOrdering {
        self.key.cmp(&other.key).then(self.ts.cmp(&other.ts))
    }

    /// The record, borrowed.
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            key: &self.key,
            ts: self.ts,
            value: &self.value,
        }
    }
}

/// A record borrowed from whoever owns its bytes (a [`Record`] or a [`RecordCursor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Grouping key.
    pub key: &'a [u8],
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    /// Opaque payload.
    pub value: &'a [u8],
}

/// Which keys a scan returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFilter {
    /// Every key.
    All,
    /// Exactly this key.
    Exact(Vec<u8>),
    /// Every key starting with these bytes.
    Prefix(Vec<u8>),
}

impl KeyFilter {
    /// True when `key` passes the filter.
    pub fn matches(&self, key: &[u8]) -> bool {
        match self {
            KeyFilter::All => true,
            KeyFilter::Exact(k) => key == k.as_slice(),
            KeyFilter::Prefix(p) => key.starts_with(p),
        }
    }

    /// True when a sorted run of keys `[first, last]` may contain a matching key.
    fn may_overlap(&self, first: &[u8], last: &[u8]) -> bool {
        match self {
            KeyFilter::All => true,
            KeyFilter::Exact(k) => first <= k.as_slice() && k.as_slice() <= last,
            KeyFilter::Prefix(p) => {
                last >= p.as_slice()
                    && match prefix_successor(p) {
                        Some(succ) => first < succ.as_slice(),
                        None => true,
                    }
            }
        }
    }

    /// True when `key` sorts after every key the filter can match.
    fn is_past(&self, key: &[u8]) -> bool {
        match self {
            KeyFilter::All => false,
            KeyFilter::Exact(k) => key > k.as_slice(),
            KeyFilter::Prefix(p) => key > p.as_slice() && !key.starts_with(p),
        }
    }
}

/// The smallest byte string greater than every string starting with `p`, if any.
fn prefix_successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xff {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

/// Index entry of one block (shared by the builder and the reader).
pub(crate) struct BlockMeta {
    offset: u64,
    len: u32,
    records: u32,
    min_ts: i64,
    max_ts: i64,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
}

mod builder;
mod merge;
mod reader;

pub use builder::{SegmentBuilder, SegmentEncoder};
pub use merge::merge_segments;
pub use reader::{BlockTest, RecordCursor, SegmentReader, ThreadDecoder};

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn prefix_successor_cases() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn filters_skip_blocks() {
        let recs: Vec<Record> = (0..2000)
            .map(|i| {
                Record::new(
                    format!("key-{:04}", i / 10),
                    i64::from(i),
                    vec![i as u8; 40],
                )
            })
            .collect();
        let bytes = SegmentBuilder::new().block_bytes(1024).build(recs).unwrap();
        let seg = SegmentReader::open(Bytes::from(bytes)).unwrap();
        assert!(seg.block_count() > 20);
        let got = seg
            .scan(&KeyFilter::Exact(b"key-0100".to_vec()), i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(got.len(), 10);
        assert!(
            seg.blocks_decoded() <= 2,
            "decoded {} blocks",
            seg.blocks_decoded()
        );
        let before = seg.blocks_decoded();
        let got = seg.scan(&KeyFilter::All, 1500, 1510).unwrap();
        assert_eq!(got.len(), 10);
        assert!(seg.blocks_decoded() - before <= 2);
        assert!(!seg.may_contain_key(b"absent-key") || seg.may_contain_key(b"key-0001"));
    }
}
