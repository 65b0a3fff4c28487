//! Metric filters: PutMetricFilter / DescribeMetricFilters / DeleteMetricFilter /
//! TestMetricFilter, and the step that turns matching events into CloudWatch datapoints.
//!
//! Each `tick`, [`LogsService::run_metric_filters`] takes the events of groups with filters
//! that the filters have not seen (they stay in the head until then), evaluates every filter
//! created before them, and aggregates per metric, dimensions and minute of the event's
//! timestamp into `(value, count)` lists. A minute of a group's events in which a filter with
//! a `defaultValue` matched nothing gets that value once. The datapoints go to the metrics
//! service through [`MetricSink`], in the same commit-log record as the new filter cursor, so
//! a crash can neither lose nor repeat them.

use crate::error::{LogsError, Result};
use crate::filter::Matcher;
use crate::log_part::{self, LogOp, Scope};
use crate::names;
use crate::service::{check_limit, Caller, LogsService};
use crate::paging;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use watchtrail_logs_lang::filter::FieldValue;
use watchtrail_store::OnDurable;

/// At most this many metric filters per log group.
pub const MAX_FILTERS_PER_GROUP: usize = 100;
/// At most this many metric filters with regular expressions per log group.
pub const MAX_REGEX_FILTERS_PER_GROUP: usize = 5;

/// The standard units of the model.
const UNITS: [&str; 27] = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
];

/// How matching events become a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    /// Metric name.
    pub metric_name: String,
    /// Namespace.
    pub metric_namespace: String,
    /// `"1"`, a number, `$.field` or `$field`.
    pub metric_value: String,
    /// Published for a minute of events in which nothing matched.
    pub default_value: Option<f64>,
    /// Up to 3 dimensions, each a field selector.
    pub dimensions: Option<BTreeMap<String, String>>,
    /// Unit (default `None`).
    pub unit: Option<String>,
}

/// A stored metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilterDef {
    /// Name.
    pub name: String,
    /// The filter pattern.
    pub pattern: String,
    /// Its one transformation.
    pub transformation: MetricTransformation,
    /// Creation time (ms).
    pub creation_time: i64,
    /// The LSN that created it: it sees only later events.
    pub created_lsn: u64,
    /// Accepted and reported (no transformers exist).
    pub apply_on_transformed_logs: bool,
}

/// PutMetricFilter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMetricFilterInput {
    /// The group.
    pub log_group_name: String,
    /// The filter's name.
    pub filter_name: String,
    /// The pattern.
    pub filter_pattern: String,
    /// Exactly one transformation.
    pub metric_transformations: Vec<MetricTransformation>,
    /// Accepted.
    pub apply_on_transformed_logs: Option<bool>,
    /// Accepted and ignored.
    pub field_selection_criteria: Option<String>,
    /// Accepted and ignored.
    pub emit_system_field_dimensions: Option<Vec<String>>,
}

/// DeleteMetricFilter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMetricFilterInput {
    /// The group.
    pub log_group_name: String,
    /// The filter's name.
    pub filter_name: String,
}

/// DescribeMetricFilters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersInput {
    /// One group, or every group.
    pub log_group_name: Option<String>,
    /// Names starting with this (needs `logGroupName`).
    pub filter_name_prefix: Option<String>,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// 1–50, default 50.
    pub limit: Option<i32>,
    /// Filters publishing this metric (with `metricNamespace`).
    pub metric_name: Option<String>,
    /// Filters publishing to this namespace (with `metricName`).
    pub metric_namespace: Option<String>,
}

/// One filter as DescribeMetricFilters shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilter {
    /// Name.
    pub filter_name: String,
    /// The pattern.
    pub filter_pattern: String,
    /// Its transformation.
    pub metric_transformations: Vec<MetricTransformation>,
    /// Creation time.
    pub creation_time: i64,
    /// Its group.
    pub log_group_name: String,
    /// As given.
    pub apply_on_transformed_logs: bool,
}

/// DescribeMetricFilters' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeMetricFiltersOutput {
    /// The page.
    pub metric_filters: Vec<MetricFilter>,
    /// Present when more follow.
    pub next_token: Option<String>,
}

/// TestMetricFilter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterInput {
    /// The pattern.
    pub filter_pattern: String,
    /// 1–50 messages.
    pub log_event_messages: Vec<String>,
}

/// One matching message of TestMetricFilter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterMatchRecord {
    /// 1-based position of the message in the request.
    pub event_number: i64,
    /// The message.
    pub event_message: String,
    /// Values the pattern extracted.
    pub extracted_values: BTreeMap<String, String>,
}

/// TestMetricFilter's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMetricFilterOutput {
    /// The messages that matched.
    pub matches: Vec<MetricFilterMatchRecord>,
}

/// One minute of one metric, as the filters computed it.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterDatapoint {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions (name, value), sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Unit, `None` for none.
    pub unit: Option<String>,
    /// The minute (ms, a multiple of 60,000).
    pub minute: i64,
    /// Distinct values with their counts.
    pub values: Vec<(f64, f64)>,
}

/// Where metric filters publish: the metrics service, wired in by the binary. `publish`
/// commits the datapoints and the Logs part `logs_part` in one durable commit-log record,
/// runs `on_durable` (which applies the Logs part) once durable, and resolves with its LSN.
pub trait MetricSink: Send + Sync {
    /// Commits `points` of `scope` together with `logs_part`.
    fn publish(&self, scope: &Scope, points: Vec<FilterDatapoint>, logs_part: Vec<u8>, on_durable: OnDurable) -> BoxFuture<'static, std::result::Result<u64, String>>;
}

/// A metric value or dimension selector: `$.json.path` or `$name`.
fn is_selector(s: &str) -> bool {
    s.len() > 1 && s.starts_with('$')
}

fn check_transformation(t: &MetricTransformation) -> Result<()> {
    let name_rule = |param: &str, v: &str| -> Result<()> {
        if v.is_empty() || v.chars().count() > 255 || v.contains([':', '*', '$']) {
            return Err(LogsError::constraint(param, v, "Member must satisfy regular expression pattern: [^:*$]*"));
        }
        Ok(())
    };
    name_rule("metricTransformations.1.member.metricName", &t.metric_name)?;
    name_rule("metricTransformations.1.member.metricNamespace", &t.metric_namespace)?;
    let v = t.metric_value.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(LogsError::constraint("metricTransformations.1.member.metricValue", v, "Member must have length less than or equal to 100"));
    }
    if !is_selector(v) && v.parse::<f64>().map_or(true, |x| !x.is_finite()) {
        return Err(LogsError::InvalidParameter(format!("Invalid metric value '{v}': a metric value must be a number or a field selector such as $.field or $field.")));
    }
    if let Some(dims) = &t.dimensions {
        if dims.len() > 3 {
            return Err(LogsError::LimitExceeded("A metric filter can have at most 3 dimensions.".into()));
        }
        if t.default_value.is_some() && !dims.is_empty() {
            return Err(LogsError::InvalidParameter("A metric filter cannot have both a default value and dimensions.".into()));
        }
        for (k, v) in dims {
            if k.is_empty() || k.chars().count() > 255 || v.chars().count() > 255 {
                return Err(LogsError::constraint("metricTransformations.1.member.dimensions", k, "Member must have length less than or equal to 255"));
            }
            if !is_selector(v) {
                return Err(LogsError::InvalidParameter(format!("Invalid dimension value '{v}' for dimension '{k}': dimension values must be field selectors such as $.field or $field.")));
            }
        }
    }
    if let Some(u) = &t.unit {
        if !UNITS.contains(&u.as_str()) {
            return Err(LogsError::constraint("metricTransformations.1.member.unit", u, &format!("Member must satisfy enum value set: [{}]", UNITS.join(", "))));
        }
    }
    if t.default_value.is_some_and(|d| !d.is_finite()) {
        return Err(LogsError::InvalidParameter("The default value must be a finite number.".into()));
    }
    Ok(())
}

fn check_filter_name(param: &str, n: &str) -> Result<()> {
    if n.is_empty() || n.chars().count() > 512 || n.contains([':', '*']) {
        return Err(LogsError::constraint(param, n, "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

/// The value a field gives a metric: numbers as they are, numeric text parsed.
fn numeric(v: FieldValue<'_>) -> Option<f64> {
    v.as_number().filter(|x| x.is_finite())
}

fn text(v: FieldValue<'_>) -> Option<String> {
    match v {
        FieldValue::Text(t) => Some(t.into_owned()),
        FieldValue::Number(n) => Some(if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }),
        FieldValue::Bool(b) => Some(b.to_string()),
        FieldValue::Null => None,
    }
}

type MinuteKey = (String, String, Vec<(String, String)>, Option<String>, i64);

/// Evaluates `filters` over `events` (`(timestamp, message)`), adding to `out`.
pub fn aggregate<'a>(filters: &[(&MetricFilterDef, Matcher)], events: impl Iterator<Item = (u64, i64, &'a str)>, out: &mut HashMap<MinuteKey, BTreeMap<u64, (f64, f64)>>) {
    let mut minutes_seen: HashMap<usize, BTreeMap<i64, bool>> = HashMap::new();
    for (lsn, ts, message) in events {
        let minute = ts.div_euclid(60_000) * 60_000;
        for (i, (def, m)) in filters.iter().enumerate() {
            if lsn <= def.created_lsn {
                continue;
            }
            let seen = minutes_seen.entry(i).or_default().entry(minute).or_insert(false);
            if !m.matches(message) {
                continue;
            }
            let Some(hit) = m.pattern().evaluate(message) else { continue };
            let t = &def.transformation;
            let v = t.metric_value.trim();
            let value = if is_selector(v) { hit.value(v).and_then(numeric) } else { v.parse::<f64>().ok() };
            let Some(value) = value else { continue };
            let mut dims = Vec::new();
            let mut complete = true;
            for (k, sel) in t.dimensions.iter().flatten() {
                match hit.value(sel).and_then(text) {
                    Some(val) if !val.is_empty() => dims.push((k.clone(), val.chars().take(255).collect())),
                    _ => complete = false,
                }
            }
            if !complete {
                continue;
            }
            *seen = true;
            let key = (t.metric_namespace.clone(), t.metric_name.clone(), dims, t.unit.clone(), minute);
            let e = out.entry(key).or_default().entry(value.to_bits()).or_insert((value, 0.0));
            e.1 += 1.0;
        }
    }
    // Minutes with events and no match publish the default value.
    for (i, minutes) in minutes_seen {
        let (def, _) = &filters[i];
        let t = &def.transformation;
        let Some(d) = t.default_value else { continue };
        for (minute, matched) in minutes {
            if !matched {
                let key = (t.metric_namespace.clone(), t.metric_name.clone(), Vec::new(), t.unit.clone(), minute);
                let e = out.entry(key).or_default().entry(d.to_bits()).or_insert((d, 0.0));
                e.1 += 1.0;
            }
        }
    }
}

impl LogsService {
    /// PutMetricFilter: creates or replaces a filter.
    pub async fn put_metric_filter(&self, c: &Caller<'_>, input: PutMetricFilterInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        check_filter_name("filterName", &input.filter_name)?;
        let matcher = Matcher::compile(&input.filter_pattern)?;
        if input.metric_transformations.len() != 1 {
            return Err(LogsError::constraint("metricTransformations", format!("[{} transformations]", input.metric_transformations.len()), "Member must have length less than or equal to 1"));
        }
        let t = input.metric_transformations.into_iter().next().expect("one transformation");
        check_transformation(&t)?;
        let _meta = self.meta.lock().await;
        let (group, others, regex_others) = self
            .store
            .with_state(|s| {
                s.group(&c.scope, &input.log_group_name).map(|g| {
                    let others: Vec<&MetricFilterDef> = g.metric_filters.values().filter(|f| f.name != input.filter_name).collect();
                    let regex = others.iter().filter(|f| Matcher::compile(&f.pattern).is_ok_and(|m| m.regex_count() > 0)).count();
                    (g.id, others.len(), regex)
                })
            })
            .ok_or_else(LogsError::no_group)?;
        if others >= MAX_FILTERS_PER_GROUP {
            return Err(LogsError::LimitExceeded(format!("A log group can have at most {MAX_FILTERS_PER_GROUP} metric filters.")));
        }
        if matcher.regex_count() > 0 && regex_others >= MAX_REGEX_FILTERS_PER_GROUP {
            return Err(LogsError::LimitExceeded(format!("A log group can have at most {MAX_REGEX_FILTERS_PER_GROUP} metric filters with regular expressions.")));
        }
        let filter = MetricFilterDef {
            name: input.filter_name,
            pattern: input.filter_pattern,
            transformation: t,
            creation_time: self.store.clock().now().millis(),
            created_lsn: 0,
            apply_on_transformed_logs: input.apply_on_transformed_logs.unwrap_or(false),
        };
        self.store.commit(LogOp::PutMetricFilter { scope: c.scope.clone(), group, filter }, c.txn).await.map(|_| ())
    }

    /// DeleteMetricFilter.
    pub async fn delete_metric_filter(&self, c: &Caller<'_>, input: DeleteMetricFilterInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        check_filter_name("filterName", &input.filter_name)?;
        let _meta = self.meta.lock().await;
        let (group, exists) = self
            .store
            .with_state(|s| s.group(&c.scope, &input.log_group_name).map(|g| (g.id, g.metric_filters.contains_key(&input.filter_name))))
            .ok_or_else(LogsError::no_group)?;
        if !exists {
            return Err(LogsError::ResourceNotFound("The specified metric filter does not exist.".into()));
        }
        self.store.commit(LogOp::DeleteMetricFilter { scope: c.scope.clone(), group, name: input.filter_name }, c.txn).await.map(|_| ())
    }

    /// DescribeMetricFilters: by group and name prefix, or by metric; ordered by group, then
    /// name; pages of `limit` (1–50, default 50).
    pub fn describe_metric_filters(&self, c: &Caller<'_>, input: DescribeMetricFiltersInput) -> Result<DescribeMetricFiltersOutput> {
        let limit = check_limit(input.limit, 50)?;
        if let Some(g) = &input.log_group_name {
            names::check_group_name("logGroupName", g)?;
        }
        if input.filter_name_prefix.is_some() && input.log_group_name.is_none() {
            return Err(LogsError::InvalidParameter("filterNamePrefix requires logGroupName.".into()));
        }
        if input.metric_name.is_some() != input.metric_namespace.is_some() {
            return Err(LogsError::InvalidParameter("metricName and metricNamespace must be specified together.".into()));
        }
        let fp = paging::fingerprint(&[
            input.log_group_name.as_deref().unwrap_or(""),
            input.filter_name_prefix.as_deref().unwrap_or(""),
            input.metric_name.as_deref().unwrap_or(""),
            input.metric_namespace.as_deref().unwrap_or(""),
        ]);
        let after: Option<(String, String)> = match &input.next_token {
            Some(t) => Some(paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?),
            None => None,
        };
        let (page, more) = self.store.with_state(|s| -> Result<_> {
            let empty = BTreeMap::new();
            let groups = s.groups(&c.scope).unwrap_or(&empty);
            if let Some(g) = &input.log_group_name {
                if !groups.contains_key(g) {
                    return Err(LogsError::no_group());
                }
            }
            let mut out = Vec::new();
            let mut more = false;
            for (gname, g) in groups {
                if input.log_group_name.as_ref().is_some_and(|n| n != gname) {
                    continue;
                }
                for (fname, f) in &g.metric_filters {
                    if after.as_ref().is_some_and(|(ag, af)| (gname.as_str(), fname.as_str()) <= (ag.as_str(), af.as_str())) {
                        continue;
                    }
                    if input.filter_name_prefix.as_ref().is_some_and(|p| !fname.starts_with(p.as_str())) {
                        continue;
                    }
                    if input.metric_name.as_ref().is_some_and(|m| *m != f.transformation.metric_name)
                        || input.metric_namespace.as_ref().is_some_and(|n| *n != f.transformation.metric_namespace)
                    {
                        continue;
                    }
                    if out.len() == limit {
                        more = true;
                        break;
                    }
                    out.push(MetricFilter {
                        filter_name: fname.clone(),
                        filter_pattern: f.pattern.clone(),
                        metric_transformations: vec![f.transformation.clone()],
                        creation_time: f.creation_time,
                        log_group_name: gname.clone(),
                        apply_on_transformed_logs: f.apply_on_transformed_logs,
                    });
                }
                if more {
                    break;
                }
            }
            Ok((out, more))
        })?;
        let next_token = if more { page.last().map(|f| paging::encode(&(&f.log_group_name, &f.filter_name), &fp)) } else { None };
        Ok(DescribeMetricFiltersOutput { metric_filters: page, next_token })
    }

    /// TestMetricFilter: which of 1–50 messages match, with the values extracted.
    pub fn test_metric_filter(&self, input: TestMetricFilterInput) -> Result<TestMetricFilterOutput> {
        let m = Matcher::compile(&input.filter_pattern)?;
        let n = input.log_event_messages.len();
        if n == 0 || n > 50 {
            return Err(LogsError::constraint("logEventMessages", format!("[{n} messages]"), "Member must have length between 1 and 50"));
        }
        let mut matches = Vec::new();
        for (i, msg) in input.log_event_messages.iter().enumerate() {
            if msg.is_empty() {
                return Err(LogsError::constraint(&format!("logEventMessages.{}.member", i + 1), "", "Member must have length greater than or equal to 1"));
            }
            if let Some(hit) = m.pattern().evaluate(msg) {
                matches.push(MetricFilterMatchRecord { event_number: i as i64 + 1, event_message: msg.clone(), extracted_values: hit.extracted_values().into_iter().collect() });
            }
        }
        Ok(TestMetricFilterOutput { matches })
    }

    /// One metric-filter step: evaluates every filter over the events it has not seen and
    /// publishes each account and region's datapoints in one record with the groups' new
    /// cursors. Returns the datapoints published.
    pub async fn run_metric_filters(&self) -> Result<usize> {
        let pending = self.store.unfiltered_events();
        if pending.is_empty() {
            return Ok(0);
        }
        type Agg = HashMap<MinuteKey, BTreeMap<u64, (f64, f64)>>;
        let mut by_scope: HashMap<Scope, (Agg, Vec<(u64, u64)>)> = HashMap::new();
        for (group, events, upto) in &pending {
            let Some((scope, defs)) = self.store.with_state(|s| s.group_by_id(*group).map(|(sc, g)| (sc.clone(), g.metric_filters.values().cloned().collect::<Vec<_>>()))) else { continue };
            let compiled: Vec<(&MetricFilterDef, Matcher)> = defs.iter().filter_map(|d| Matcher::compile(&d.pattern).ok().map(|m| (d, m))).collect();
            let (agg, cursors) = by_scope.entry(scope).or_default();
            aggregate(&compiled, events.iter().map(|e| (e.lsn, e.ts, &*e.message)), agg);
            cursors.push((*group, *upto));
        }
        let mut published = 0;
        let mut quiet: Vec<(u64, u64)> = Vec::new();
        for (scope, (agg, cursors)) in by_scope {
            let points: Vec<FilterDatapoint> = agg
                .into_iter()
                .map(|((namespace, name, dimensions, unit, minute), values)| FilterDatapoint { namespace, name, dimensions, unit, minute, values: values.into_values().collect() })
                .collect();
            match &self.metric_sink {
                Some(sink) if !points.is_empty() => {
                    published += points.len();
                    let op = LogOp::MetricCursor { cursors };
                    let part = log_part::encode(&op)?;
                    sink.publish(&scope, points, part, self.store.applier(op)).await.map_err(crate::error::internal)?;
                }
                // Nothing to publish (or no metrics service): only the cursors move.
                _ => quiet.extend(cursors),
            }
        }
        if !quiet.is_empty() {
            self.store.commit(LogOp::MetricCursor { cursors: quiet }, None).await?;
        }
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(pattern: &str, value: &str, default: Option<f64>, dims: &[(&str, &str)]) -> MetricFilterDef {
        MetricFilterDef {
            name: "f".into(),
            pattern: pattern.into(),
            transformation: MetricTransformation {
                metric_name: "M".into(),
                metric_namespace: "NS".into(),
                metric_value: value.into(),
                default_value: default,
                dimensions: if dims.is_empty() { None } else { Some(dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()) },
                unit: None,
            },
            creation_time: 0,
            created_lsn: 10,
            apply_on_transformed_logs: false,
        }
    }

    fn run(d: &MetricFilterDef, events: &[(u64, i64, &str)]) -> Vec<(Vec<(String, String)>, i64, Vec<(f64, f64)>)> {
        let m = Matcher::compile(&d.pattern).expect("pattern");
        let mut out = HashMap::new();
        aggregate(&[(d, m)], events.iter().copied(), &mut out);
        let mut v: Vec<_> = out.into_iter().map(|((_, _, dims, _, minute), vals)| (dims, minute, vals.into_values().collect::<Vec<_>>())).collect();
        v.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        v
    }

    #[test]
    fn matches_become_per_minute_values_with_counts() {
        let d = def("{ $.status = 5* }", "$.latency", None, &[("Path", "$.path")]);
        let events = [
            (11, 60_000, r#"{"status":500,"latency":12,"path":"/a"}"#),
            (11, 61_000, r#"{"status":503,"latency":12,"path":"/a"}"#),
            (12, 119_999, r#"{"status":502,"latency":7.5,"path":"/b"}"#),
            (12, 120_000, r#"{"status":504,"latency":1,"path":"/a"}"#),
            (12, 120_001, r#"{"status":200,"latency":99,"path":"/a"}"#),
            (5, 120_002, r#"{"status":500,"latency":99,"path":"/a"}"#),
            (13, 120_003, r#"{"status":500,"latency":"slow","path":"/a"}"#),
            (13, 120_004, r#"{"status":500,"latency":3}"#),
        ];
        let got = run(&d, &events);
        let dims = |p: &str| vec![("Path".to_string(), p.to_string())];
        assert_eq!(got, vec![(dims("/a"), 60_000, vec![(12.0, 2.0)]), (dims("/b"), 60_000, vec![(7.5, 1.0)]), (dims("/a"), 120_000, vec![(1.0, 1.0)])]);
    }

    #[test]
    fn a_minute_without_a_match_publishes_the_default_value() {
        let d = def("ERROR", "1", Some(0.0), &[]);
        let got = run(&d, &[(11, 0, "INFO ok"), (11, 30_000, "INFO ok"), (11, 60_000, "ERROR boom"), (11, 61_000, "ERROR again"), (11, 180_000, "DEBUG")]);
        assert_eq!(got, vec![(vec![], 0, vec![(0.0, 1.0)]), (vec![], 60_000, vec![(1.0, 2.0)]), (vec![], 180_000, vec![(0.0, 1.0)])]);
    }

    #[test]
    fn space_delimited_fields_give_values_and_dimensions() {
        let d = def("[ip, user, ts, request, status = 4*, bytes]", "$bytes", None, &[("Status", "$status")]);
        let got = run(&d, &[(11, 0, r#"10.0.0.1 - [01/Jan/2026:00:00:00] "GET /x HTTP/1.1" 404 512"#), (11, 1, r#"10.0.0.1 - [01/Jan/2026:00:00:00] "GET /y HTTP/1.1" 200 100"#)]);
        assert_eq!(got, vec![(vec![("Status".to_string(), "404".to_string())], 0, vec![(512.0, 1.0)])]);
    }

    #[test]
    fn transformations_are_checked() {
        let ok = def("x", "$.v", None, &[("A", "$.a")]).transformation;
        assert!(check_transformation(&ok).is_ok());
        let mut t = ok.clone();
        t.default_value = Some(0.0);
        assert!(check_transformation(&t).is_err(), "default value with dimensions");
        let mut t = ok.clone();
        t.metric_value = "abc".into();
        assert!(check_transformation(&t).is_err());
        let mut t = ok.clone();
        t.dimensions = Some((0..4).map(|i| (format!("D{i}"), "$.x".to_string())).collect());
        assert!(matches!(check_transformation(&t), Err(LogsError::LimitExceeded(_))));
        let mut t = ok;
        t.unit = Some("Furlongs".into());
        assert!(check_transformation(&t).is_err());
    }
}
