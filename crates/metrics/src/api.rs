//! Wire shapes of the CloudWatch metrics operations, named and ordered as in the AWS model
//! (member order is the XML order of Query responses).

use crate::model::{Dimension, Name, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use watchtrail_core::Timestamp;
use watchtrail_wire::Value;

/// `StatisticSet`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticSet {
    /// SampleCount.
    pub sample_count: f64,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub minimum: f64,
    /// Maximum.
    pub maximum: f64,
}

/// `MetricDatum`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDatum {
    /// MetricName (required).
    pub metric_name: Name,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Timestamp; the receive time when absent.
    pub timestamp: Option<Timestamp>,
    /// Value.
    pub value: Option<f64>,
    /// StatisticValues.
    pub statistic_values: Option<StatisticSet>,
    /// Values.
    pub values: Option<Vec<f64>>,
    /// Counts.
    pub counts: Option<Vec<f64>>,
    /// Unit.
    pub unit: Option<Unit>,
    /// StorageResolution (1 or 60).
    pub storage_resolution: Option<i32>,
}

/// `EntityMetricData`: entity attributes are accepted and not yet used.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EntityMetricData {
    /// MetricData.
    #[serde(default)]
    pub metric_data: Vec<MetricDatum>,
}

/// `PutMetricDataInput`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricDataInput {
    /// Namespace (required).
    pub namespace: Name,
    /// MetricData.
    pub metric_data: Option<Vec<MetricDatum>>,
    /// EntityMetricData.
    pub entity_metric_data: Option<Vec<EntityMetricData>>,
    /// StrictEntityValidation.
    pub strict_entity_validation: Option<bool>,
}

/// `Statistic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Statistic {
    /// SampleCount.
    SampleCount,
    /// Average.
    Average,
    /// Sum.
    Sum,
    /// Minimum.
    Minimum,
    /// Maximum.
    Maximum,
}

impl Statistic {
    /// Parses a basic statistic name (`Stat` strings in GetMetricData).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Sum" => Statistic::Sum,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => return None,
        })
    }
}

/// `GetMetricStatisticsInput`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsInput {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub metric_name: String,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// StartTime (inclusive).
    pub start_time: Timestamp,
    /// EndTime (exclusive).
    pub end_time: Timestamp,
    /// Period in seconds.
    pub period: i32,
    /// Statistics.
    pub statistics: Option<Vec<Statistic>>,
    /// ExtendedStatistics.
    pub extended_statistics: Option<Vec<String>>,
    /// Unit filter.
    pub unit: Option<Unit>,
}

/// `Datapoint`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    /// Timestamp (period start).
    pub timestamp: Timestamp,
    /// SampleCount.
    pub sample_count: Option<f64>,
    /// Average.
    pub average: Option<f64>,
    /// Sum.
    pub sum: Option<f64>,
    /// Minimum.
    pub minimum: Option<f64>,
    /// Maximum.
    pub maximum: Option<f64>,
    /// Unit.
    pub unit: Unit,
    /// ExtendedStatistics.
    pub extended_statistics: Option<BTreeMap<String, f64>>,
}

/// `GetMetricStatisticsOutput`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricStatisticsOutput {
    /// Label (the metric name).
    pub label: String,
    /// Datapoints.
    pub datapoints: Vec<Datapoint>,
}

/// `DimensionFilter`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionFilter {
    /// Name (required).
    pub name: String,
    /// Value; any value when absent.
    pub value: Option<String>,
}

/// `RecentlyActive`.
#[derive(Clone, Copy, Debug, Deserialize)]
pub enum RecentlyActive {
    /// Past three hours.
    #[serde(rename = "PT3H")]
    Pt3h,
}

/// `ListMetricsInput`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsInput {
    /// Namespace filter.
    pub namespace: Option<String>,
    /// MetricName filter.
    pub metric_name: Option<String>,
    /// Dimension filters.
    #[serde(default)]
    pub dimensions: Vec<DimensionFilter>,
    /// NextToken.
    pub next_token: Option<String>,
    /// RecentlyActive.
    pub recently_active: Option<RecentlyActive>,
    /// IncludeLinkedAccounts.
    pub include_linked_accounts: Option<bool>,
    /// OwningAccount.
    pub owning_account: Option<String>,
}

/// `Metric`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    /// Namespace.
    pub namespace: String,
    /// MetricName.
    pub metric_name: String,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
}

/// `ListMetricsOutput`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListMetricsOutput {
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// NextToken.
    pub next_token: Option<String>,
    /// OwningAccounts (with IncludeLinkedAccounts).
    pub owning_accounts: Option<Vec<String>>,
}

/// `MetricStat`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    /// Metric.
    pub metric: Metric,
    /// Period.
    pub period: i32,
    /// Stat.
    pub stat: String,
    /// Unit.
    pub unit: Option<Unit>,
}

/// `MetricDataQuery`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    /// Id.
    pub id: String,
    /// MetricStat.
    pub metric_stat: Option<MetricStat>,
    /// Expression.
    pub expression: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// ReturnData (default true).
    pub return_data: Option<bool>,
    /// Period.
    pub period: Option<i32>,
    /// AccountId.
    pub account_id: Option<String>,
}

/// `ScanBy`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
pub enum ScanBy {
    /// Newest first (default).
    #[default]
    TimestampDescending,
    /// Oldest first.
    TimestampAscending,
}

/// `LabelOptions`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelOptions {
    /// Timezone, `+HHMM` / `-HHMM`.
    pub timezone: Option<String>,
}

/// `GetMetricDataInput`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataInput {
    /// MetricDataQueries.
    pub metric_data_queries: Vec<MetricDataQuery>,
    /// StartTime.
    pub start_time: Timestamp,
    /// EndTime.
    pub end_time: Timestamp,
    /// NextToken.
    pub next_token: Option<String>,
    /// ScanBy.
    pub scan_by: Option<ScanBy>,
    /// MaxDatapoints.
    pub max_datapoints: Option<i32>,
    /// LabelOptions.
    pub label_options: Option<LabelOptions>,
}

/// `StatusCode`.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum StatusCode {
    /// All data returned.
    Complete,
    /// Failed.
    InternalError,
    /// More data on the next page.
    PartialData,
    /// Not permitted.
    Forbidden,
}

/// `MessageData`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct MessageData {
    /// Code.
    pub code: String,
    /// Value.
    pub value: String,
}

/// `MetricDataResult`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataResult {
    /// Id.
    pub id: String,
    /// Label.
    pub label: String,
    /// Timestamps.
    pub timestamps: Vec<Timestamp>,
    /// Values.
    pub values: Vec<f64>,
    /// StatusCode.
    pub status_code: StatusCode,
    /// Messages.
    pub messages: Vec<MessageData>,
}

/// `GetMetricDataOutput`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMetricDataOutput {
    /// MetricDataResults.
    pub metric_data_results: Vec<MetricDataResult>,
    /// NextToken.
    pub next_token: Option<String>,
    /// Messages.
    pub messages: Vec<MessageData>,
}

impl StatusCode {
    /// The wire name (as serialized).
    fn as_str(self) -> &'static str {
        match self {
            StatusCode::Complete => "Complete",
            StatusCode::InternalError => "InternalError",
            StatusCode::PartialData => "PartialData",
            StatusCode::Forbidden => "Forbidden",
        }
    }
}

/// GetMetricData's answer built as the wire tree directly: each result's timestamps and values
/// move into unboxed lists instead of being serialized one point at a time (a page holds up to
/// 100,800 points). The tree is exactly what serializing the output gives (pinned by a test).
impl From<GetMetricDataOutput> for Value {
    fn from(out: GetMetricDataOutput) -> Value {
        fn messages(list: Vec<MessageData>) -> Value {
            Value::List(
                list.into_iter()
                    .map(|m| Value::Struct(vec![("Code".into(), Value::String(m.code)), ("Value".into(), Value::String(m.value))]))
                    .collect(),
            )
        }
        let results = out
            .metric_data_results
            .into_iter()
            .map(|r| {
                let timestamps = if r.timestamps.is_empty() { Value::List(Vec::new()) } else { Value::Timestamps(r.timestamps) };
                let values = if r.values.is_empty() { Value::List(Vec::new()) } else { Value::Floats(r.values) };
                Value::Struct(vec![
                    ("Id".into(), Value::String(r.id)),
                    ("Label".into(), Value::String(r.label)),
                    ("Timestamps".into(), timestamps),
                    ("Values".into(), values),
                    ("StatusCode".into(), Value::String(r.status_code.as_str().into())),
                    ("Messages".into(), messages(r.messages)),
                ])
            })
            .collect();
        let mut members = vec![("MetricDataResults".into(), Value::List(results))];
        if let Some(token) = out.next_token {
            members.push(("NextToken".into(), Value::String(token)));
        }
        members.push(("Messages".into(), messages(out.messages)));
        Value::Struct(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message() -> impl Strategy<Value = MessageData> {
        ("[A-Za-z]{0,8}", ".{0,12}").prop_map(|(code, value)| MessageData { code, value })
    }

    fn result() -> impl Strategy<Value = MetricDataResult> {
        let status = prop_oneof![
            Just(StatusCode::Complete),
            Just(StatusCode::InternalError),
            Just(StatusCode::PartialData),
            Just(StatusCode::Forbidden)
        ];
        ("[a-z][a-z0-9_]{0,6}", ".{0,12}", proptest::collection::vec((any::<i64>(), any::<f64>()), 0..20), status, proptest::collection::vec(message(), 0..3))
            .prop_map(|(id, label, points, status_code, messages)| MetricDataResult {
                id,
                label,
                timestamps: points.iter().map(|(t, _)| Timestamp(*t)).collect(),
                values: points.iter().map(|(_, v)| *v).collect(),
                status_code,
                messages,
            })
    }

    proptest! {
        /// The hand-built tree is the serialized one, so every protocol renders the answer
        /// as it renders any other output.
        #[test]
        fn get_metric_data_output_builds_the_serialized_tree(
            results in proptest::collection::vec(result(), 0..5),
            next_token in proptest::option::of("[A-Za-z0-9]{1,16}"),
            messages in proptest::collection::vec(message(), 0..3),
        ) {
            let out = GetMetricDataOutput { metric_data_results: results, next_token, messages };
            let serialized = watchtrail_wire::to_value(&out).expect("serializes");
            let built = Value::from(out);
            // NaN values compare unequal: compare the JSON each renders, bit for bit, too.
            prop_assert_eq!(watchtrail_wire::codec::json::encode(&built), watchtrail_wire::codec::json::encode(&serialized));
            prop_assert_eq!(format!("{built:?}"), format!("{serialized:?}"));
        }
    }
}
