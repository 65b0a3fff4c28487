//! The activity journal: every API call the gateway sees, appended durably to its own WAL
//! (`<data-dir>/journal/wal`) before the client gets an answer. A bounded in-memory tail serves
//! recent records without touching disk; the CloudTrail service reads both.

use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use watchtrail_core::ActivityRecord;
use watchtrail_store::{Wal, WalOptions};
use watchtrail_wire::ActivitySink;

/// How many recent records are kept in memory.
pub const TAIL_CAPACITY: usize = 50_000;

/// The durable activity journal.
pub struct Journal {
    wal: Wal,
    tail: Mutex<VecDeque<ActivityRecord>>,
}

impl Journal {
    /// Opens the journal under `dir`, loading the records still in the WAL into the tail.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Arc<Self>, String> {
        let (wal, entries) = Wal::open(dir, opts).map_err(|e| format!("cannot open activity journal: {e}"))?;
        let mut tail = VecDeque::with_capacity(TAIL_CAPACITY.min(entries.len()));
        for e in entries {
            match serde_json::from_slice::<ActivityRecord>(&e.payload) {
                Ok(r) => {
                    if tail.len() == TAIL_CAPACITY {
                        tail.pop_front();
                    }
                    tail.push_back(r);
                }
                Err(err) => tracing::warn!(lsn = e.lsn, error = %err, "skipping unreadable activity record"),
            }
        }
        Ok(Arc::new(Journal { wal, tail: Mutex::new(tail) }))
    }

    /// Counters of the journal's WAL.
    pub fn wal_stats(&self) -> watchtrail_store::WalStats {
        self.wal.stats()
    }

    /// The most recent records, oldest first.
    pub fn recent(&self) -> Vec<ActivityRecord> {
        self.tail.lock().iter().cloned().collect()
    }

    /// The record with this request id, if still in the tail.
    pub fn find(&self, request_id: &str) -> Option<ActivityRecord> {
        self.tail.lock().iter().rev().find(|r| r.request_id == request_id).cloned()
    }
}

/// Appends through a shared handle.
pub struct JournalSink(pub Arc<Journal>);

impl ActivitySink for JournalSink {
    fn append(&self, record: ActivityRecord) -> BoxFuture<'static, Result<(), String>> {
        let journal = self.0.clone();
        Box::pin(async move {
            let payload = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
            journal.wal.append(vec![payload]).await.map_err(|e| e.to_string())?;
            let mut tail = journal.tail.lock();
            if tail.len() == TAIL_CAPACITY {
                tail.pop_front();
            }
            tail.push_back(record);
            Ok(())
        })
    }
}
