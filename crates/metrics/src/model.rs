//! The metrics data model: metric identity, units and stored samples.

use serde::{Deserialize, Serialize};
use watchtrail_core::Timestamp;

/// A name or value of the metric model. Names, dimension names and most dimension values are
/// short: up to 24 bytes live inline, so decoding and copying them allocates nothing.
pub type Name = compact_str::CompactString;

/// A dimension name/value pair.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Name.
    pub name: Name,
    /// Value.
    pub value: Name,
}

/// The identity of a metric: namespace, name and the exact set of dimensions (sorted by name).
/// Each distinct combination is a separate metric; CloudWatch never aggregates across them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricKey {
    /// Namespace.
    pub namespace: Name,
    /// Metric name.
    pub name: Name,
    /// Dimensions sorted by name.
    pub dimensions: Vec<Dimension>,
}

impl MetricKey {
    /// Builds a key, sorting the dimensions into canonical order.
    pub fn new(namespace: impl Into<Name>, name: impl Into<Name>, mut dimensions: Vec<Dimension>) -> Self {
        dimensions.sort();
        MetricKey { namespace: namespace.into(), name: name.into(), dimensions }
    }
}

macro_rules! units {
    ($($variant:ident => $text:literal),* $(,)?) => {
        /// CloudWatch's `StandardUnit`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        pub enum Unit {
            $(
                #[doc = $text]
                #[serde(rename = $text)]
                $variant,
            )*
            /// `None` (the default).
            #[default]
            #[serde(rename = "None")]
            None,
        }

        impl Unit {
            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Unit::$variant => $text,)*
                    Unit::None => "None",
                }
            }
        }
    };
}

units! {
    Seconds => "Seconds", Microseconds => "Microseconds", Milliseconds => "Milliseconds",
    Bytes => "Bytes", Kilobytes => "Kilobytes", Megabytes => "Megabytes", Gigabytes => "Gigabytes",
    Terabytes => "Terabytes", Bits => "Bits", Kilobits => "Kilobits", Megabits => "Megabits",
    Gigabits => "Gigabits", Terabits => "Terabits", Percent => "Percent", Count => "Count",
    BytesPerSecond => "Bytes/Second", KilobytesPerSecond => "Kilobytes/Second",
    MegabytesPerSecond => "Megabytes/Second", GigabytesPerSecond => "Gigabytes/Second",
    TerabytesPerSecond => "Terabytes/Second", BitsPerSecond => "Bits/Second",
    KilobitsPerSecond => "Kilobits/Second", MegabitsPerSecond => "Megabits/Second",
    GigabitsPerSecond => "Gigabits/Second", TerabitsPerSecond => "Terabits/Second",
    CountPerSecond => "Count/Second",
}

/// What one datum carried. Raw values are kept as sent so that percentile statistics can be
/// computed from them later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SampleValue {
    /// A single observation (`Value`).
    Single(f64),
    /// A pre-aggregated statistic set (`StatisticValues`).
    Stats {
        /// SampleCount.
        count: f64,
        /// Sum.
        sum: f64,
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
    },
    /// A distribution (`Values` with `Counts`): `(value, count)` pairs.
    Distribution(Vec<(f64, f64)>),
    /// Older samples of one series rolled up into one step of a coarser resolution
    /// (reference §1.5; see [`crate::rollup`]). Boxed: rare, and it would otherwise make every
    /// sample in the head larger.
    Rolled(Box<Rolled>),
}

/// One rolled-up step: SampleCount, Sum, Minimum and Maximum exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rolled {
    /// The step in seconds (60, 300 or 3600).
    pub step_s: u32,
    /// SampleCount.
    pub count: f64,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// The values with their counts, for percentile-type statistics: exact while the step
    /// holds at most [`crate::rollup::MAX_EXACT_VALUES`] distinct values, else one value per
    /// 1%-wide logarithmic bucket. `None` when the statistics are unavailable for the step
    /// (reference §2.3: an aggregated statistic set or a negative value).
    pub values: Option<Vec<(f64, f64)>>,
}

/// One stored datum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Timestamp, truncated to the storage resolution.
    pub ts: Timestamp,
    /// Storage resolution in seconds (1 or 60).
    pub resolution: u8,
    /// The value.
    pub value: SampleValue,
}

/// A series as stored: a metric plus the unit its data was sent with. Data with different
/// units is kept and aggregated separately.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    /// The metric.
    pub metric: MetricKey,
    /// The unit.
    pub unit: Unit,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every head sample costs this much memory: a rare variant must not grow it.
    #[test]
    fn a_sample_stays_small() {
        assert!(std::mem::size_of::<SampleValue>() <= 40, "{}", std::mem::size_of::<SampleValue>());
        assert!(std::mem::size_of::<Sample>() <= 56, "{}", std::mem::size_of::<Sample>());
    }
}
