//! The server's commit log: one [`Wal`] shared by every service, so that a request's data and
//! its activity record become durable together, in one record and one `fdatasync`.
//!
//! A commit record carries one or more *parts*, each a `(kind, bytes)` pair; the kinds are
//! listed in [`PartKind`] and in `crates/store/FORMAT.md`. The WAL's checksum covers the whole
//! record, so the parts of one commit are durable all together or not at all.
//!
//! Every service that keeps state derived from the log registers as a [`LogConsumer`] and
//! reports up to which LSN its records are persisted elsewhere (segments); a checkpoint
//! removes the WAL files every consumer is done with.

use crate::error::{Result, StoreError};
use crate::wal::{OnDurable, Wal, WalOptions, WalStats};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::{Arc, Weak};

/// What a part of a commit record holds. The numbers are part of the on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PartKind {
    /// The samples of one PutMetricData call (`watchtrail-metrics`).
    Metrics = 1,
    /// One activity record: an API call as the gateway saw it (the journal).
    Activity = 2,
    /// Samples grouped by series: each series' key once, then its samples
    /// (`watchtrail-metrics`; replaces [`PartKind::Metrics`] for new writes).
    MetricSeries = 3,
    /// Samples grouped by series, single values as a column of times and one of values
    /// (`watchtrail-metrics`; replaces [`PartKind::MetricSeries`] for new writes).
    MetricColumns = 4,
    /// One CloudWatch Logs change: a log group or stream created or deleted, a retention
    /// policy, tags, or the events of one PutLogEvents (`watchtrail-logs`).
    Logs = 5,
}

impl PartKind {
    /// The kind with this on-disk number.
    pub fn from_u8(b: u8) -> Option<PartKind> {
        match b {
            1 => Some(PartKind::Metrics),
            2 => Some(PartKind::Activity),
            3 => Some(PartKind::MetricSeries),
            4 => Some(PartKind::MetricColumns),
            5 => Some(PartKind::Logs),
            _ => None,
        }
    }
}

/// One part of a commit record, borrowed for encoding.
#[derive(Debug, Clone, Copy)]
pub struct PartRef<'a> {
    /// What the bytes are.
    pub kind: PartKind,
    /// The consumer's own encoding.
    pub bytes: &'a [u8],
}

/// A commit record read back at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitEntry {
    /// The record's LSN.
    pub lsn: u64,
    /// Its parts, in commit order.
    pub parts: Vec<(PartKind, Vec<u8>)>,
}

impl CommitEntry {
    /// The bytes of every part of `kind`.
    pub fn parts_of(&self, kind: PartKind) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().filter(move |(k, _)| *k == kind).map(|(_, b)| b.as_slice())
    }
}

/// Encodes parts as `[kind u8][len u32 LE][bytes]`, back to back.
pub fn encode_parts(parts: &[PartRef<'_>]) -> Vec<u8> {
    let len = parts.iter().map(|p| 5 + p.bytes.len()).sum();
    let mut out = Vec::with_capacity(len);
    for p in parts {
        out.push(p.kind as u8);
        out.extend_from_slice(&(p.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(p.bytes);
    }
    out
}

/// Decodes what [`encode_parts`] wrote; `what` names the record in errors.
pub fn decode_parts(mut b: &[u8], what: &str) -> Result<Vec<(PartKind, Vec<u8>)>> {
    let mut parts = Vec::new();
    while !b.is_empty() {
        if b.len() < 5 {
            return Err(StoreError::corruption(what, "truncated commit part header"));
        }
        let kind = PartKind::from_u8(b[0]).ok_or_else(|| StoreError::corruption(what, format!("unknown commit part kind {}", b[0])))?;
        let len = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
        b = &b[5..];
        if b.len() < len {
            return Err(StoreError::corruption(what, "commit part longer than its record"));
        }
        parts.push((kind, b[..len].to_vec()));
        b = &b[len..];
    }
    if parts.is_empty() {
        return Err(StoreError::corruption(what, "commit record without parts"));
    }
    Ok(parts)
}

/// A service whose state is derived from the log.
pub trait LogConsumer: Send + Sync {
    /// The highest LSN `n` such that every record of this consumer with `lsn <= n` is
    /// persisted outside the log. `durable` is the log's current [`CommitLog::durable_lsn`];
    /// a consumer with nothing pending returns it.
    fn persisted_lsn(&self, durable: u64) -> u64;
}

/// The shared commit log.
pub struct CommitLog {
    wal: Wal,
    consumers: Mutex<Vec<Weak<dyn LogConsumer>>>,
}

impl std::fmt::Debug for CommitLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitLog").field("wal", &self.wal).finish_non_exhaustive()
    }
}

impl CommitLog {
    /// Opens the log in `dir` and returns it with every intact record, decoded.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Arc<CommitLog>, Vec<CommitEntry>)> {
        let (wal, entries) = Wal::open(dir, opts)?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let parts = decode_parts(&e.payload, &format!("commit record {}", e.lsn))?;
            out.push(CommitEntry { lsn: e.lsn, parts });
        }
        Ok((Arc::new(CommitLog { wal, consumers: Mutex::new(Vec::new()) }), out))
    }

    /// Appends one record made of `parts`; resolves with its LSN once it is durable.
    /// `on_durable` runs first, on the log's writer thread (see [`Wal::append_then`]).
    /// The parts are encoded before this returns, so the future borrows nothing.
    pub fn append(&self, parts: &[PartRef<'_>], on_durable: Option<OnDurable>) -> impl std::future::Future<Output = Result<u64>> + Send + 'static {
        self.wal.append_then(vec![encode_parts(parts)], on_durable)
    }

    /// The highest LSN known durable; every on-durable step up to it has run.
    pub fn durable_lsn(&self) -> u64 {
        self.wal.last_lsn()
    }

    /// Registers a consumer; it is held weakly and forgotten once dropped.
    pub fn register(&self, consumer: Weak<dyn LogConsumer>) {
        self.consumers.lock().push(consumer);
    }

    /// Removes the WAL files whose records every live consumer has persisted. Returns how
    /// many files were removed.
    pub fn checkpoint(&self) -> Result<usize> {
        self.wal.checkpoint(self.persisted_everywhere())
    }

    /// Closes the log for a clean stop: when every live consumer has persisted every record,
    /// the log keeps no bytes (see [`Wal::close_retiring`]); otherwise a plain close.
    /// Returns whether the log was emptied.
    pub fn close_retiring(&self) -> Result<bool> {
        let upto = self.persisted_everywhere();
        self.wal.close_retiring(upto)
    }

    /// The highest LSN every live consumer has persisted (at most the durable LSN).
    fn persisted_everywhere(&self) -> u64 {
        let durable = self.durable_lsn();
        let mut upto = durable;
        {
            let mut consumers = self.consumers.lock();
            consumers.retain(|c| match c.upgrade() {
                Some(c) => {
                    upto = upto.min(c.persisted_lsn(durable));
                    true
                }
                None => false,
            });
        }
        upto
    }

    /// Counters of the underlying WAL.
    pub fn stats(&self) -> WalStats {
        self.wal.stats()
    }

    /// First LSN of every retained WAL file.
    pub fn files(&self) -> Vec<u64> {
        self.wal.files()
    }

    /// Writes what is queued and stops the writer (see [`Wal::close`]).
    pub fn close(&self) {
        self.wal.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_damage_is_reported() {
        let enc = encode_parts(&[PartRef { kind: PartKind::Activity, bytes: b"{}" }, PartRef { kind: PartKind::Metrics, bytes: &[1, 2, 3] }]);
        let dec = decode_parts(&enc, "t").unwrap();
        assert_eq!(dec, vec![(PartKind::Activity, b"{}".to_vec()), (PartKind::Metrics, vec![1, 2, 3])]);
        assert!(decode_parts(&enc[..enc.len() - 1], "t").is_err());
        assert!(decode_parts(&[], "t").is_err());
        let mut bad = enc.clone();
        bad[0] = 99;
        assert!(decode_parts(&bad, "t").is_err());
    }
}
