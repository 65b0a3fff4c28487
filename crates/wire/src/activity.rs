//! Where activity records go: the gateway appends one for every request through an
//! [`ActivitySink`], and waits for it to be durable before answering.

use futures::future::BoxFuture;
use parking_lot::Mutex;
use watchtrail_core::ActivityRecord;

/// Durable destination of activity records.
pub trait ActivitySink: Send + Sync {
    /// Appends a record; resolves once it is durable.
    fn append(&self, record: ActivityRecord) -> BoxFuture<'static, Result<(), String>>;
}

/// Keeps records in memory; for tests and for running with no journal.
#[derive(Default)]
pub struct MemoryActivitySink {
    records: Mutex<Vec<ActivityRecord>>,
}

impl MemoryActivitySink {
    /// A copy of every record so far.
    pub fn records(&self) -> Vec<ActivityRecord> {
        self.records.lock().clone()
    }
}

impl ActivitySink for MemoryActivitySink {
    fn append(&self, record: ActivityRecord) -> BoxFuture<'static, Result<(), String>> {
        self.records.lock().push(record);
        Box::pin(async { Ok(()) })
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
