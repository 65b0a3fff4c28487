//! The operations' wire shapes (awsJson 1.1, camelCase members as in the API model). Times
//! are epoch milliseconds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// CreateLogGroup.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupInput {
    /// The group's name.
    pub log_group_name: String,
    /// Stored and reported; data is not encrypted with it.
    pub kms_key_id: Option<String>,
    /// Tags to attach.
    pub tags: Option<BTreeMap<String, String>>,
    /// `STANDARD` (default), `INFREQUENT_ACCESS`, `DELIVERY` or `ESSENTIALS`.
    pub log_group_class: Option<String>,
    /// Refuses DeleteLogGroup while set.
    pub deletion_protection_enabled: Option<bool>,
}

/// Operations naming one log group.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupNameInput {
    /// The group's name.
    pub log_group_name: String,
}

/// DescribeLogGroups.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsInput {
    /// Cross-account observability: only this account is served.
    pub account_identifiers: Option<Vec<String>>,
    /// Names starting with this.
    pub log_group_name_prefix: Option<String>,
    /// Names containing this, case-insensitively.
    pub log_group_name_pattern: Option<String>,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// 1–50, default 50.
    pub limit: Option<i32>,
    /// Accepted; no linked accounts exist.
    pub include_linked_accounts: Option<bool>,
    /// Only groups of this class.
    pub log_group_class: Option<String>,
    /// Exactly these groups (names or ARNs).
    pub log_group_identifiers: Option<Vec<String>>,
}

/// One log group as DescribeLogGroups shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroup {
    /// Name.
    pub log_group_name: String,
    /// Creation time.
    pub creation_time: i64,
    /// Retention, when set.
    pub retention_in_days: Option<i32>,
    /// Metric filters on the group.
    pub metric_filter_count: i32,
    /// ARN with the trailing `:*`.
    pub arn: String,
    /// Uncompressed bytes stored.
    pub stored_bytes: i64,
    /// KMS key id given at creation.
    pub kms_key_id: Option<String>,
    /// Class.
    pub log_group_class: String,
    /// ARN without the trailing `:*`.
    pub log_group_arn: String,
    /// Whether deletion protection is on.
    pub deletion_protection_enabled: Option<bool>,
}

/// DescribeLogGroups' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsOutput {
    /// The page.
    pub log_groups: Vec<LogGroup>,
    /// Present when more groups follow.
    pub next_token: Option<String>,
}

/// CreateLogStream and DeleteLogStream.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamInput {
    /// The group.
    pub log_group_name: String,
    /// The stream.
    pub log_stream_name: String,
}

/// DescribeLogStreams.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsInput {
    /// The group by name.
    pub log_group_name: Option<String>,
    /// The group by name or ARN.
    pub log_group_identifier: Option<String>,
    /// Streams whose names start with this (only with `orderBy = LogStreamName`).
    pub log_stream_name_prefix: Option<String>,
    /// `LogStreamName` (default) or `LastEventTime`.
    pub order_by: Option<String>,
    /// Reverse order.
    pub descending: Option<bool>,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// 1–50, default 50.
    pub limit: Option<i32>,
}

/// One log stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStream {
    /// Name.
    pub log_stream_name: String,
    /// Creation time.
    pub creation_time: i64,
    /// Timestamp of the earliest event.
    pub first_event_timestamp: Option<i64>,
    /// Timestamp of the latest event.
    pub last_event_timestamp: Option<i64>,
    /// When the last event was ingested.
    pub last_ingestion_time: Option<i64>,
    /// A sequence token (ignored by PutLogEvents, as on AWS).
    pub upload_sequence_token: Option<String>,
    /// ARN.
    pub arn: String,
    /// Uncompressed bytes stored (deprecated on AWS, which reports 0; this reports the bytes).
    pub stored_bytes: i64,
}

/// DescribeLogStreams' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsOutput {
    /// The page.
    pub log_streams: Vec<LogStream>,
    /// Present when more streams follow.
    pub next_token: Option<String>,
}

/// One event of PutLogEvents.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputLogEvent {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The message (at least one character).
    pub message: String,
}

/// PutLogEvents.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsInput {
    /// The group.
    pub log_group_name: String,
    /// The stream.
    pub log_stream_name: String,
    /// 1–10,000 events in chronological order.
    pub log_events: Vec<InputLogEvent>,
    /// Accepted and ignored, as on AWS.
    pub sequence_token: Option<String>,
    /// Accepted and ignored (entity metadata for Explore related).
    pub entity: Option<serde_json::Value>,
}

/// Which events of a PutLogEvents were refused, by index.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLogEventsInfo {
    /// The first event more than 2 hours in the future; it and every later one were refused.
    pub too_new_log_event_start_index: Option<i32>,
    /// The last event more than 14 days old; it and every earlier one were refused.
    pub too_old_log_event_end_index: Option<i32>,
    /// The last event older than the group's retention; it and every earlier one were refused.
    pub expired_log_event_end_index: Option<i32>,
}

/// PutLogEvents' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsOutput {
    /// A token for clients that still send one; the service ignores it.
    pub next_sequence_token: Option<String>,
    /// Present when some events were refused.
    pub rejected_log_events_info: Option<RejectedLogEventsInfo>,
}

/// GetLogEvents.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsInput {
    /// The group by name.
    pub log_group_name: Option<String>,
    /// The group by name or ARN.
    pub log_group_identifier: Option<String>,
    /// The stream.
    pub log_stream_name: String,
    /// Events at or after this time.
    pub start_time: Option<i64>,
    /// Events before this time.
    pub end_time: Option<i64>,
    /// `f/…` or `b/…` from an earlier answer.
    pub next_token: Option<String>,
    /// 1–10,000 events (default: as many as fit 1 MB, at most 10,000).
    pub limit: Option<i32>,
    /// Start with the earliest events (default: the latest).
    pub start_from_head: Option<bool>,
    /// Accepted; nothing is masked.
    pub unmask: Option<bool>,
}

/// One event of GetLogEvents.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEvent {
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The message.
    pub message: String,
    /// When it was ingested.
    pub ingestion_time: i64,
}

/// GetLogEvents' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsOutput {
    /// Events in ascending time order.
    pub events: Vec<OutputLogEvent>,
    /// Reads on toward later events.
    pub next_forward_token: String,
    /// Reads on toward earlier events.
    pub next_backward_token: String,
}

/// FilterLogEvents.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsInput {
    /// The group by name.
    pub log_group_name: Option<String>,
    /// The group by name or ARN.
    pub log_group_identifier: Option<String>,
    /// At most 100 streams.
    pub log_stream_names: Option<Vec<String>>,
    /// Streams whose names start with this.
    pub log_stream_name_prefix: Option<String>,
    /// Events at or after this time.
    pub start_time: Option<i64>,
    /// Events at or before this time.
    pub end_time: Option<i64>,
    /// A filter pattern (≤ 1024 characters).
    pub filter_pattern: Option<String>,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// 1–10,000 events (default 10,000).
    pub limit: Option<i32>,
    /// Ascending (default) or, when false, descending time order.
    pub start_from_head: Option<bool>,
    /// Deprecated; every answer is interleaved.
    pub interleaved: Option<bool>,
    /// Accepted; nothing is masked.
    pub unmask: Option<bool>,
}

/// One event of FilterLogEvents.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    /// Its stream.
    pub log_stream_name: String,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The message.
    pub message: String,
    /// When it was ingested.
    pub ingestion_time: i64,
    /// A unique id.
    pub event_id: String,
}

/// Deprecated on AWS (always empty since 2020); kept in the shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchedLogStream {
    /// The stream.
    pub log_stream_name: String,
    /// Whether it was searched completely.
    pub searched_completely: bool,
}

/// FilterLogEvents' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsOutput {
    /// Matching events.
    pub events: Vec<FilteredLogEvent>,
    /// Always empty, as on AWS.
    pub searched_log_streams: Vec<SearchedLogStream>,
    /// Present when more events may follow.
    pub next_token: Option<String>,
}

/// PutRetentionPolicy.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRetentionPolicyInput {
    /// The group.
    pub log_group_name: String,
    /// One of the allowed day counts.
    pub retention_in_days: i32,
}

/// TagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    /// The log group's ARN.
    pub resource_arn: String,
    /// Tags to add or replace.
    pub tags: BTreeMap<String, String>,
}

/// UntagResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    /// The log group's ARN.
    pub resource_arn: String,
    /// Keys to remove.
    pub tag_keys: Vec<String>,
}

/// ListTagsForResource.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnInput {
    /// The log group's ARN.
    pub resource_arn: String,
}

/// ListTagsForResource's and ListTagsLogGroup's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsOutput {
    /// The tags.
    pub tags: BTreeMap<String, String>,
}

/// TagLogGroup (deprecated form of TagResource).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagLogGroupInput {
    /// The group.
    pub log_group_name: String,
    /// Tags to add or replace.
    pub tags: BTreeMap<String, String>,
}

/// UntagLogGroup (deprecated form of UntagResource).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagLogGroupInput {
    /// The group.
    pub log_group_name: String,
    /// Keys to remove.
    pub tags: Vec<String>,
}
