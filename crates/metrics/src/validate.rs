//! Every validation rule and limit of the CloudWatch metrics API (reference §1 and §10.1),
//! each mapped to the error code AWS returns. Rules are checked in request order so the first
//! offending parameter is the one reported.

use crate::api::{DimensionFilter, MetricDatum, PutMetricDataInput};
use crate::error::{MetricsError, Result};
use crate::model::Dimension;
use watchtrail_core::Timestamp;

/// Most metrics in one PutMetricData (MetricData plus EntityMetricData).
pub const MAX_METRICS_PER_PUT: usize = 1000;
/// Most EntityMetricData entries in one PutMetricData.
pub const MAX_ENTITY_METRIC_DATA: usize = 2;
/// Most dimensions per metric.
pub const MAX_DIMENSIONS: usize = 30;
/// Most unique Values per datum.
pub const MAX_VALUES: usize = 150;
/// Largest accepted magnitude: 2^360.
pub const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833_2e108;
/// How far in the past a timestamp may be (two weeks).
pub const MAX_PAST_MS: i64 = 14 * Timestamp::DAY;
/// How far in the future a timestamp may be (two hours).
pub const MAX_FUTURE_MS: i64 = 2 * Timestamp::HOUR;
/// Most dimension filters in ListMetrics.
pub const MAX_DIMENSION_FILTERS: usize = 10;
/// Most datapoints one GetMetricStatistics call may return.
pub const MAX_STATISTICS_DATAPOINTS: i64 = 1440;

/// A parameter's name in AWS's Query spelling, built only when an error message needs it.
pub use watchtrail_core::ParamPath as Param;

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Namespace: 1–255 ASCII characters, no control characters, not starting with `:`, at least
/// one non-whitespace character.
pub fn namespace(param: Param<'_>, ns: &str) -> Result<()> {
    if ns.is_empty() || ns.len() > 255 || !ns.is_ascii() || has_control(ns) || ns.starts_with(':') || ns.trim().is_empty() {
        return Err(MetricsError::invalid_value(&param.render(), ns));
    }
    Ok(())
}

/// MetricName: 1–255 characters.
pub fn metric_name(param: Param<'_>, name: &str) -> Result<()> {
    let n = name.chars().count();
    if n == 0 || n > 255 || has_control(name) {
        return Err(MetricsError::invalid_value(&param.render(), name));
    }
    Ok(())
}

fn dimension_name(param: Param<'_>, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || !name.is_ascii() || has_control(name) || name.starts_with(':') || name.trim().is_empty() {
        return Err(MetricsError::invalid_value(&param.render(), name));
    }
    Ok(())
}

fn dimension_value(param: Param<'_>, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 1024 || !value.is_ascii() || has_control(value) {
        return Err(MetricsError::invalid_value(&param.render(), value));
    }
    Ok(())
}

/// Dimensions of a metric: at most 30, each name and value valid, names unique.
pub fn dimensions(param: Param<'_>, dims: &[Dimension]) -> Result<()> {
    if dims.len() > MAX_DIMENSIONS {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection {param} must not have a size greater than {MAX_DIMENSIONS}."
        )));
    }
    for (i, d) in dims.iter().enumerate() {
        let item = Param::Index(&param, i);
        dimension_name(Param::Member(&item, "Name"), &d.name)?;
        dimension_value(Param::Member(&item, "Value"), &d.value)?;
    }
    for (i, d) in dims.iter().enumerate() {
        if dims[..i].iter().any(|e| e.name == d.name) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The dimension name {} appears more than once in {param}; dimension names must be unique.",
                d.name
            )));
        }
    }
    Ok(())
}

/// Dimension filters of ListMetrics: at most 10; names and values valid.
pub fn dimension_filters(filters: &[DimensionFilter]) -> Result<()> {
    if filters.len() > MAX_DIMENSION_FILTERS {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection Dimensions must not have a size greater than {MAX_DIMENSION_FILTERS}."
        )));
    }
    let list = Param::from("Dimensions");
    for (i, f) in filters.iter().enumerate() {
        let item = Param::Index(&list, i);
        dimension_name(Param::Member(&item, "Name"), &f.name)?;
        if let Some(v) = &f.value {
            dimension_value(Param::Member(&item, "Value"), v)?;
        }
    }
    Ok(())
}

fn finite_in_range(param: Param<'_>, v: f64) -> Result<()> {
    if !v.is_finite() || v.abs() > MAX_MAGNITUDE {
        return Err(MetricsError::invalid_value(&param.render(), v));
    }
    Ok(())
}

/// A PutMetricData request as a whole: namespace, counts, then each datum.
pub fn put_metric_data(input: &PutMetricDataInput, now: Timestamp) -> Result<()> {
    namespace("Namespace".into(), &input.namespace)?;
    let entities = input.entity_metric_data.as_deref().unwrap_or(&[]);
    if input.metric_data.is_none() && entities.is_empty() {
        return Err(MetricsError::MissingParameter("The parameter MetricData is required.".into()));
    }
    if entities.len() > MAX_ENTITY_METRIC_DATA {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection EntityMetricData must not have a size greater than {MAX_ENTITY_METRIC_DATA}."
        )));
    }
    let plain = input.metric_data.as_deref().unwrap_or(&[]);
    let total = plain.len() + entities.iter().map(|e| e.metric_data.len()).sum::<usize>();
    if total > MAX_METRICS_PER_PUT {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The collection MetricData must not have a size greater than {MAX_METRICS_PER_PUT}."
        )));
    }
    let list = Param::from("MetricData");
    for (i, d) in plain.iter().enumerate() {
        datum(Param::Index(&list, i), d, now)?;
    }
    let entity_list = Param::from("EntityMetricData");
    for (e, ent) in entities.iter().enumerate() {
        let entity = Param::Index(&entity_list, e);
        let data = Param::Member(&entity, "MetricData");
        for (i, d) in ent.metric_data.iter().enumerate() {
            datum(Param::Index(&data, i), d, now)?;
        }
    }
    Ok(())
}

/// One MetricDatum.
pub fn datum(p: Param<'_>, d: &MetricDatum, now: Timestamp) -> Result<()> {
    metric_name(Param::Member(&p, "MetricName"), &d.metric_name)?;
    dimensions(Param::Member(&p, "Dimensions"), &d.dimensions)?;
    if let Some(ts) = d.timestamp {
        if ts.millis() < now.millis() - MAX_PAST_MS {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter {p}.Timestamp must specify a time no more than two weeks in the past."
            )));
        }
        if ts.millis() > now.millis() + MAX_FUTURE_MS {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter {p}.Timestamp must specify a time no more than two hours in the future."
            )));
        }
    }
    let given: Vec<&str> = [
        d.value.map(|_| "Value"),
        d.statistic_values.as_ref().map(|_| "StatisticValues"),
        d.values.as_ref().map(|_| "Values"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err(MetricsError::InvalidParameterCombination(format!(
            "The parameters {p}.{} and {p}.{} are mutually exclusive and you have specified both.",
            given[0], given[1]
        )));
    }
    if given.is_empty() {
        return Err(MetricsError::InvalidParameterCombination(format!(
            "At least one of the parameters {p}.Value, {p}.StatisticValues or {p}.Values must be specified."
        )));
    }
    if d.counts.is_some() && d.values.is_none() {
        return Err(MetricsError::InvalidParameterCombination(format!(
            "The parameter {p}.Counts must be specified together with {p}.Values."
        )));
    }
    if let Some(v) = d.value {
        finite_in_range(Param::Member(&p, "Value"), v)?;
    }
    if let Some(s) = &d.statistic_values {
        let set = Param::Member(&p, "StatisticValues");
        finite_in_range(Param::Member(&set, "SampleCount"), s.sample_count)?;
        finite_in_range(Param::Member(&set, "Sum"), s.sum)?;
        finite_in_range(Param::Member(&set, "Minimum"), s.minimum)?;
        finite_in_range(Param::Member(&set, "Maximum"), s.maximum)?;
        if s.sample_count <= 0.0 {
            return Err(MetricsError::invalid_value(&Param::Member(&set, "SampleCount").render(), s.sample_count));
        }
        if s.minimum > s.maximum {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The parameter {p}.StatisticValues.Minimum must be less than or equal to {p}.StatisticValues.Maximum."
            )));
        }
    }
    if let Some(values) = &d.values {
        if values.is_empty() {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The collection {p}.Values must not be empty."
            )));
        }
        if values.len() > MAX_VALUES {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The collection {p}.Values must not have a size greater than {MAX_VALUES}."
            )));
        }
        let list = Param::Member(&p, "Values");
        for (i, v) in values.iter().enumerate() {
            finite_in_range(Param::Index(&list, i), *v)?;
        }
        if let Some(counts) = &d.counts {
            if counts.len() != values.len() {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "The parameters {p}.Values and {p}.Counts must be of the same size."
                )));
            }
            let list = Param::Member(&p, "Counts");
            for (i, c) in counts.iter().enumerate() {
                if !c.is_finite() || *c < 0.0 || *c > MAX_MAGNITUDE {
                    return Err(MetricsError::invalid_value(&Param::Index(&list, i).render(), c));
                }
            }
        }
    }
    if let Some(r) = d.storage_resolution {
        if r != 1 && r != 60 {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The value {r} for parameter {p}.StorageResolution is invalid. Valid values are 1 and 60."
            )));
        }
    }
    Ok(())
}

/// Period: positive, and a multiple of 60 or one of 1, 5, 10, 20, 30.
pub fn period(param: Param<'_>, period: i64) -> Result<()> {
    if period <= 0 || (period % 60 != 0 && ![1, 5, 10, 20, 30].contains(&period)) {
        return Err(MetricsError::InvalidParameterValue(format!(
            "The parameter {param} must be a multiple of 60 or one of 1, 5, 10, 20, 30; got {period}."
        )));
    }
    Ok(())
}

/// StartTime strictly before EndTime.
pub fn time_range(start: Timestamp, end: Timestamp) -> Result<()> {
    if start >= end {
        return Err(MetricsError::InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnitude_is_two_to_the_360() {
        assert_eq!(MAX_MAGNITUDE, 2f64.powi(360));
    }

    #[test]
    fn namespace_rules() {
        assert!(namespace("Namespace".into(), "App/Web-1_x#y:z").is_ok());
        assert!(namespace("Namespace".into(), ":x").is_err());
        assert!(namespace("Namespace".into(), "").is_err());
        assert!(namespace("Namespace".into(), "   ").is_err());
        assert!(namespace("Namespace".into(), "é").is_err());
        assert!(namespace("Namespace".into(), "a\u{7}").is_err());
        assert!(namespace("Namespace".into(), &"a".repeat(256)).is_err());
        assert!(namespace("Namespace".into(), &"a".repeat(255)).is_ok());
    }

    #[test]
    fn period_rules() {
        for ok in [1, 5, 10, 20, 30, 60, 120, 86_400] {
            assert!(period("Period".into(), ok).is_ok(), "{ok}");
        }
        for bad in [0, -60, 2, 45, 90] {
            assert!(period("Period".into(), bad).is_err(), "{bad}");
        }
    }
}
