//! What a Logs change puts in the commit log: one [`LogOp`] per record part
//! (`PartKind::Logs`), postcard-encoded. Replaying the ops in LSN order onto the last
//! snapshot rebuilds the state exactly.

use crate::error::{internal, Result};
use serde::{Deserialize, Serialize};

/// Which (account, region) a change belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// 12-digit account id.
    pub account: String,
    /// Region name.
    pub region: String,
}

/// A log group as created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewGroup {
    /// Unique for the life of the data directory (names its segment stream).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Creation time (ms).
    pub time: i64,
    /// Class.
    pub class: String,
    /// KMS key id given at creation.
    pub kms_key_id: Option<String>,
    /// Tags given at creation.
    pub tags: Vec<(String, String)>,
    /// Deletion protection.
    pub deletion_protection: bool,
}

/// One durable change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogOp {
    /// CreateLogGroup.
    CreateGroup {
        /// Where.
        scope: Scope,
        /// What.
        group: NewGroup,
    },
    /// DeleteLogGroup (its events go with it).
    DeleteGroup {
        /// Where.
        scope: Scope,
        /// The group's id.
        id: u64,
    },
    /// CreateLogStream.
    CreateStream {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// The stream's name.
        stream: String,
        /// Creation time (ms).
        time: i64,
    },
    /// DeleteLogStream (its events go with it).
    DeleteStream {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// The stream's name.
        stream: String,
    },
    /// PutRetentionPolicy (`Some`) or DeleteRetentionPolicy (`None`).
    Retention {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// Days, or never expire.
        days: Option<i32>,
    },
    /// Tags added or replaced, then keys removed.
    Tags {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// Added or replaced.
        set: Vec<(String, String)>,
        /// Removed.
        remove: Vec<String>,
    },
    /// PutMetricFilter (created or replaced).
    PutMetricFilter {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// The filter.
        filter: crate::metric_filter::MetricFilterDef,
    },
    /// DeleteMetricFilter.
    DeleteMetricFilter {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// The filter's name.
        name: String,
    },
    /// Metric filters have published the datapoints of every event of these groups up to
    /// these LSNs (committed in the same log record as those datapoints).
    MetricCursor {
        /// `(group id, highest LSN whose events the group's filters have turned into datapoints)`.
        cursors: Vec<(u64, u64)>,
    },
    /// The accepted events of one PutLogEvents, in request order.
    Events {
        /// Where.
        scope: Scope,
        /// The group's id.
        group: u64,
        /// The stream's name.
        stream: String,
        /// Ingestion time (ms).
        ingested: i64,
        /// Index in the request of the first event here (events refused as too old come
        /// before it), so event ids stay those of the request's positions.
        first_index: u32,
        /// `(timestamp, message)` pairs.
        events: Vec<(i64, String)>,
    },
}

/// Encodes an op for the commit log.
pub fn encode(op: &LogOp) -> Result<Vec<u8>> {
    // Sized once for an events op (its messages plus a few bytes each), so the encoding does
    // not grow and copy the buffer as it goes.
    let hint = match op {
        LogOp::Events { events, stream, .. } => 64 + stream.len() + events.iter().map(|(_, m)| m.len() + 16).sum::<usize>(),
        _ => 256,
    };
    postcard::to_extend(op, Vec::with_capacity(hint)).map_err(internal)
}

/// Decodes an op read back from the commit log.
pub fn decode(bytes: &[u8]) -> Result<LogOp> {
    postcard::from_bytes(bytes).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip() {
        let scope = Scope { account: "123456789012".into(), region: "us-east-1".into() };
        let ops = vec![
            LogOp::CreateGroup { scope: scope.clone(), group: NewGroup { id: 7, name: "g".into(), time: 5, class: "STANDARD".into(), kms_key_id: None, tags: vec![("k".into(), "v".into())], deletion_protection: false } },
            LogOp::Events { scope: scope.clone(), group: 7, stream: "s".into(), ingested: 9, first_index: 2, events: vec![(1, "a".into()), (2, "é".into())] },
            LogOp::Retention { scope, group: 7, days: Some(14) },
        ];
        for op in ops {
            assert_eq!(decode(&encode(&op).unwrap()).unwrap(), op);
        }
        assert!(decode(&[0xff, 0xff]).is_err());
    }
}
