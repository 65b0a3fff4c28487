//! Where activity records go: the gateway appends one for every request through an
//! [`ActivitySink`], and waits for it to be durable before answering.
//!
//! A handler that writes data commits it through the request's [`ActivityTxn`]: the data and
//! the request's activity record (as a success) then become durable in one log record, with
//! one fsync, and the gateway does not append the record again.

use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use watchtrail_core::ActivityRecord;

/// A service's data, to be committed to the server's log.
pub struct DataWrite {
    /// The log part kind of `bytes` (the number of the store's `PartKind`).
    pub kind: u8,
    /// The service's encoded data.
    pub bytes: Vec<u8>,
    /// Runs on the log's writer thread once the data is durable, with its LSN (the service
    /// applies the data to its in-memory state there).
    pub on_durable: Box<dyn FnOnce(u64) + Send>,
}

impl std::fmt::Debug for DataWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataWrite").field("kind", &self.kind).field("bytes", &self.bytes.len()).finish_non_exhaustive()
    }
}

/// Durable destination of activity records.
pub trait ActivitySink: Send + Sync {
    /// Appends a record; resolves once it is durable. The record is encoded before this
    /// returns.
    fn append(&self, record: &ActivityRecord) -> BoxFuture<'static, Result<(), String>>;
    /// Appends a record and `write` as one atomic log record; resolves with its LSN once
    /// durable.
    fn append_with(&self, record: &ActivityRecord, write: DataWrite) -> BoxFuture<'static, Result<u64, String>>;
    /// Commits `write` alone (a second write of a request whose record is already committed).
    fn append_data(&self, write: DataWrite) -> BoxFuture<'static, Result<u64, String>>;
}

/// Keeps records in memory; for tests and for running with no journal. Data writes are "durable"
/// at once, with made-up LSNs: nothing is persisted.
#[derive(Default)]
pub struct MemoryActivitySink {
    records: Mutex<Vec<ActivityRecord>>,
    lsn: std::sync::atomic::AtomicU64,
}

impl MemoryActivitySink {
    /// A copy of every record so far.
    pub fn records(&self) -> Vec<ActivityRecord> {
        self.records.lock().clone()
    }
}

impl ActivitySink for MemoryActivitySink {
    fn append(&self, record: &ActivityRecord) -> BoxFuture<'static, Result<(), String>> {
        self.records.lock().push(record.clone());
        Box::pin(async { Ok(()) })
    }

    fn append_with(&self, record: &ActivityRecord, write: DataWrite) -> BoxFuture<'static, Result<u64, String>> {
        self.records.lock().push(record.clone());
        self.append_data(write)
    }

    fn append_data(&self, write: DataWrite) -> BoxFuture<'static, Result<u64, String>> {
        let lsn = self.lsn.fetch_add(1, Ordering::Relaxed) + 1;
        (write.on_durable)(lsn);
        Box::pin(async move { Ok(lsn) })
    }
}

struct TxnInner {
    sink: Arc<dyn ActivitySink>,
    /// The request's record, as it will read if the call succeeds.
    record: Mutex<ActivityRecord>,
    /// Set on the log's writer thread once the record is durable with a data write.
    committed: AtomicBool,
}

/// A request's activity transaction: lets the handler commit its data together with the
/// request's activity record. Cheap to clone.
#[derive(Clone)]
pub struct ActivityTxn {
    inner: Arc<TxnInner>,
}

impl std::fmt::Debug for ActivityTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityTxn").field("committed", &self.is_committed()).finish_non_exhaustive()
    }
}

impl ActivityTxn {
    /// A transaction whose success record is `record`.
    pub fn new(sink: Arc<dyn ActivitySink>, record: ActivityRecord) -> Self {
        ActivityTxn { inner: Arc::new(TxnInner { sink, record: Mutex::new(record), committed: AtomicBool::new(false) }) }
    }

    /// Commits `write`, with the request's activity record if it is not committed yet;
    /// resolves with the LSN once durable. The handler must not fail after this succeeds:
    /// the record already says the call succeeded.
    pub fn commit(&self, write: DataWrite) -> BoxFuture<'static, Result<u64, String>> {
        if self.is_committed() {
            return self.inner.sink.append_data(write);
        }
        let inner = self.inner.clone();
        let DataWrite { kind, bytes, on_durable } = write;
        let write = DataWrite {
            kind,
            bytes,
            on_durable: Box::new(move |lsn| {
                on_durable(lsn);
                inner.committed.store(true, Ordering::Release);
            }),
        };
        let record = self.inner.record.lock();
        self.inner.sink.append_with(&record, write)
    }

    /// Declares, before the commit, that the call stores data and still answers with an error
    /// (a partial success, such as a remote write with some samples refused): the committed
    /// record says so, and the gateway does not record the call a second time.
    pub fn expect_error(&self, status: u16, code: &str, message: &str) {
        let mut r = self.inner.record.lock();
        r.http_status = status;
        r.error_code = Some(code.to_string());
        r.error_message = Some(message.to_string());
    }

    /// Whether the record is durable already (committed with a data write).
    pub fn is_committed(&self) -> bool {
        self.inner.committed.load(Ordering::Acquire)
    }

    /// Takes the record back (the gateway, after the handler has returned).
    pub(crate) fn take_record(&self) -> ActivityRecord {
        std::mem::take(&mut *self.inner.record.lock())
    }
}

/// Redacts secret-looking members and bounds the size of journaled parameters.
pub fn sanitize(params: serde_json::Value) -> serde_json::Value {
    const MAX_JSON_BYTES: usize = 16 * 1024;
    let redacted = redact(params);
    let size = serde_json::to_vec(&redacted).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_JSON_BYTES {
        serde_json::json!({ "parametersOmitted": true, "parametersBytes": size })
    } else {
        redacted
    }
}

fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["secret", "password", "passphrase", "privatekey", "sessiontoken", "credential", "authorization"]
        .iter()
        .any(|s| n.contains(s))
}

fn redact(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Object(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| if is_secret_name(&k) { (k, J::String("HIDDEN_DUE_TO_SECURITY_REASONS".into())) } else { let v = redact(v); (k, v) })
                .collect(),
        ),
        J::Array(a) => J::Array(a.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_big_inputs_summarized() {
        let v = sanitize(serde_json::json!({"UserName": "a", "Nested": {"SecretAccessKey": "x", "Password": "p"}}));
        assert_eq!(v["UserName"], "a");
        assert_eq!(v["Nested"]["SecretAccessKey"], "HIDDEN_DUE_TO_SECURITY_REASONS");
        assert_eq!(v["Nested"]["Password"], "HIDDEN_DUE_TO_SECURITY_REASONS");
        let big = sanitize(serde_json::json!({"Data": "x".repeat(20_000)}));
        assert_eq!(big["parametersOmitted"], true);
    }
}
