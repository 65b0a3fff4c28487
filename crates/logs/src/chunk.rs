//! How a run of one stream's events is stored: one segment record (key: the stream name,
//! ts: the first event's time) holding columns, then the messages back to back, so that
//! zstd sees the messages as one text and a scan parses no per-event framing.
//!
//! Layout (varints are LEB128; "z" marks zigzag deltas):
//!
//! ```text
//! n                                   events in the chunk (≥ 1)
//! n × z(ts − previous ts)             the first against the record's ts: 0
//! n × z(ingested − previous)          the first against 0
//! n × z(lsn − previous lsn)           the first against 0
//! n × z(idx − previous idx − 1)       index in its PutLogEvents request (the first against −1)
//! n × message length
//! the messages, back to back
//! ```
//!
//! A chunk holds events of one UTC day spanning at most [`CHUNK_SPAN_MS`], so a read of
//! `[from, to)` visits records from `from − CHUNK_SPAN_MS` and filters events by time.

use watchtrail_core::varint::{put_uvarint, read_uvarint, unzigzag, zigzag};

/// A chunk's events lie within this span of its first event (1 hour).
pub const CHUNK_SPAN_MS: i64 = 3_600_000;
/// A chunk is cut once its messages reach this many bytes.
pub const CHUNK_MESSAGE_BYTES: usize = 128 * 1024;

/// One event to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEvent<'a> {
    /// Event time (ms).
    pub ts: i64,
    /// Ingestion time (ms).
    pub ingested: i64,
    /// LSN of its request.
    pub lsn: u64,
    /// Index in its request.
    pub idx: u32,
    /// The message.
    pub message: &'a str,
}

/// Encodes `events` (one stream, ascending time, non-empty) into `out`.
pub fn encode(events: &[ChunkEvent<'_>], out: &mut Vec<u8>) {
    out.clear();
    put_uvarint(out, events.len() as u64);
    let first = events.first().map_or(0, |e| e.ts);
    let mut prev = first;
    for e in events {
        put_uvarint(out, zigzag(e.ts.wrapping_sub(prev)));
        prev = e.ts;
    }
    let mut prev = 0i64;
    for e in events {
        put_uvarint(out, zigzag(e.ingested.wrapping_sub(prev)));
        prev = e.ingested;
    }
    let mut prev = 0u64;
    for e in events {
        put_uvarint(out, zigzag(e.lsn.wrapping_sub(prev) as i64));
        prev = e.lsn;
    }
    let mut prev = -1i64;
    for e in events {
        put_uvarint(out, zigzag(e.idx as i64 - prev - 1));
        prev = e.idx as i64;
    }
    for e in events {
        put_uvarint(out, e.message.len() as u64);
    }
    for e in events {
        out.extend_from_slice(e.message.as_bytes());
    }
}

/// The events of a chunk whose record time is `first_ts`, in stored order; `None` at the
/// first malformed byte (the iterator then ends).
pub struct ChunkIter<'a> {
    cols: [usize; 5],
    msg: usize,
    left: usize,
    bytes: &'a [u8],
    ts: i64,
    ingested: i64,
    lsn: u64,
    idx: i64,
}

impl<'a> ChunkIter<'a> {
    /// Reads a chunk's header and finds its columns; `None` if it is malformed.
    pub fn new(first_ts: i64, bytes: &'a [u8]) -> Option<ChunkIter<'a>> {
        let mut pos = 0;
        let n = usize::try_from(read_uvarint(bytes, &mut pos)?).ok()?;
        if n == 0 || n > bytes.len() {
            return None;
        }
        let mut cols = [0usize; 5];
        let mut total_len = 0usize;
        for (c, col) in cols.iter_mut().enumerate() {
            *col = pos;
            for _ in 0..n {
                let v = read_uvarint(bytes, &mut pos)?;
                if c == 4 {
                    total_len = total_len.checked_add(usize::try_from(v).ok()?)?;
                }
            }
        }
        if bytes.len() - pos != total_len {
            return None;
        }
        Some(ChunkIter { cols, msg: pos, left: n, bytes, ts: first_ts, ingested: 0, lsn: 0, idx: -1 })
    }
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = ChunkEvent<'a>;

    fn next(&mut self) -> Option<ChunkEvent<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let b = self.bytes;
        let mut read = |c: usize| read_uvarint(b, &mut self.cols[c]);
        let dts = unzigzag(read(0)?);
        let ding = unzigzag(read(1)?);
        let dlsn = unzigzag(read(2)?);
        let didx = unzigzag(read(3)?);
        let len = usize::try_from(read(4)?).ok()?;
        self.ts = self.ts.wrapping_add(dts);
        self.ingested = self.ingested.wrapping_add(ding);
        self.lsn = self.lsn.wrapping_add(dlsn as u64);
        self.idx = self.idx.wrapping_add(didx).wrapping_add(1);
        let idx = u32::try_from(self.idx).ok()?;
        let end = self.msg.checked_add(len)?;
        let message = std::str::from_utf8(b.get(self.msg..end)?).ok()?;
        self.msg = end;
        Some(ChunkEvent { ts: self.ts, ingested: self.ingested, lsn: self.lsn, idx, message })
    }
}

/// Cuts one stream's events (ascending time) into chunks: at most [`CHUNK_MESSAGE_BYTES`]
/// of messages and [`CHUNK_SPAN_MS`] of time each. Returns the index ranges.
pub fn cut<T>(events: &[T], ts: impl Fn(&T) -> i64, len: impl Fn(&T) -> usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        if i > start && (bytes + len(e) > CHUNK_MESSAGE_BYTES || ts(e) - ts(&events[start]) >= CHUNK_SPAN_MS) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += len(e);
    }
    if start < events.len() {
        out.push(start..events.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunks_read_back_as_written(raw in proptest::collection::vec((0i64..10_000_000, 0i64..2_000_000_000_000, 0u64..1_000_000, 0u32..10_000, ".{0,40}"), 1..60)) {
            let mut raw = raw;
            raw.sort_by_key(|r| r.0);
            let base = 1_700_000_000_000i64;
            let events: Vec<ChunkEvent<'_>> = raw.iter().map(|(ts, ing, lsn, idx, m)| ChunkEvent { ts: base + ts, ingested: *ing, lsn: *lsn, idx: *idx, message: m }).collect();
            let mut buf = Vec::new();
            encode(&events, &mut buf);
            let back: Vec<ChunkEvent<'_>> = ChunkIter::new(events[0].ts, &buf).expect("valid").collect();
            prop_assert_eq!(back, events);
        }

        #[test]
        fn damaged_chunks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Some(it) = ChunkIter::new(0, &bytes) {
                for _ in it {}
            }
        }
    }

    #[test]
    fn cuts_respect_size_and_span() {
        let ev: Vec<(i64, usize)> = (0..1000).map(|i| (i * 10_000, 1000)).collect();
        let cuts = cut(&ev, |e| e.0, |e| e.1);
        assert!(cuts.iter().all(|r| ev[r.clone()].iter().map(|e| e.1).sum::<usize>() <= CHUNK_MESSAGE_BYTES));
        assert!(cuts.iter().all(|r| ev[r.end - 1].0 - ev[r.start].0 < CHUNK_SPAN_MS));
        assert_eq!(cuts.iter().map(|r| r.len()).sum::<usize>(), 1000);
        assert_eq!(cut(&[(0i64, 10usize), (CHUNK_SPAN_MS, 10)], |e| e.0, |e| e.1).len(), 2);
        assert_eq!(cut(&[(0i64, 10_000_000usize)], |e| e.0, |e| e.1), vec![0..1]);
    }
}
