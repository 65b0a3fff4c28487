//! The activity record: what every API call leaves behind, success or failure.
//!
//! The gateway builds one for every request it receives and appends it durably before it
//! answers; the CloudTrail service turns them into CloudTrail events.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One API call as the gateway saw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// When the request arrived.
    pub time: Timestamp,
    /// The request id returned to the client (`x-amzn-RequestId`).
    pub request_id: String,
    /// The account the call was made in, when known.
    pub account_id: Option<String>,
    /// Principal ARN, when authenticated.
    pub principal_arn: Option<String>,
    /// Principal kind as CloudTrail spells it (`Root`, `IAMUser`, ...), when authenticated.
    pub principal_type: Option<String>,
    /// The access key id the request was signed with (also recorded for failed signatures).
    pub access_key_id: Option<String>,
    /// Client address.
    pub source_ip: String,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The SigV4 signing name / endpoint prefix (`monitoring`, `logs`, ...), when known.
    pub service: Option<String>,
    /// The operation name, when the request got far enough to name one.
    pub operation: Option<String>,
    /// Wire protocol the client used.
    pub protocol: Option<String>,
    /// Region from the signature scope.
    pub region: Option<String>,
    /// HTTP status returned.
    pub http_status: u16,
    /// Error code, when the call failed.
    pub error_code: Option<String>,
    /// Error message, when the call failed.
    pub error_message: Option<String>,
    /// Request parameters with secrets removed and large values summarized.
    pub request_parameters: Option<serde_json::Value>,
    /// Whether the call only reads state (e.g. `Get*`, `List*`, `Describe*`).
    pub read_only: bool,
}
