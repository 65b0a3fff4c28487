//! Wire shapes of the CloudWatch metrics operations, named and ordered as in the AWS model
//! (member order is the XML order of Query responses).

use crate::model::{Dimension, Name, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use watchtrail_core::Timestamp;

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
