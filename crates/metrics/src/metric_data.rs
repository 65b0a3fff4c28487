//! GetMetricData: MetricStat queries, metric math expressions (with SEARCH), a Metrics
//! Insights query, labels and paging (reference `cloudwatch.md` §1.8, §3).
//!
//! Order of work: validate and parse every query; fetch every MetricStat query, every SEARCH
//! and the Insights query (the only steps that read the store); evaluate the expressions synchronously
//! through [`math::Context`], each once, in dependency order, refusing cycles; label the
//! results; cut pages across the concatenation of all returned results.
//!
//! Labels: a MetricStat query is labelled with its Label, else its metric name; an
//! expression with one result with its Label, else its Id; an expression returning an array
//! labels each series with the series' own label (a metric's label, or for SEARCH the
//! dimension values and the metric name), after the query's Label and a space when one is
//! set, or through the Label when it uses `${…}` (`${LABEL}` is the series' own label).

use crate::api::*;
use crate::error::{MetricsError, Result};
use crate::math::labels::{render, timezone_minutes, LabelContext};
use crate::math::parse::{self, Expr};
use crate::math::search::{Candidate, Search};
use crate::stats::bucket;
use watchtrail_metrics_lang::insights;
use crate::math::{self, Context, Grid, MathError, MetricInfo, Output, Series, Value};
use crate::model::{MetricKey, Sample, SeriesKey, Unit};
use crate::service::{MetricsService, Scope, DEFAULT_MAX_DATAPOINTS, LIST_METRICS_HORIZON_MS, MAX_QUERIES};
use crate::stats::{period_serves_age, round_start, Stat, StatFold};
use crate::{paging, validate};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use watchtrail_core::Timestamp;

/// Most series one SEARCH returns; more are cut, with a `MaxMetricsExceeded` message.
pub const MAX_SEARCH_RESULTS: usize = 500;
/// Fewest metrics worth a read of their own when a SEARCH splits its reads over the cores.
const MIN_METRICS_PER_READ: usize = 16;
/// SEARCH period when neither the search nor its query gives one (the console's default).
pub const DEFAULT_SEARCH_PERIOD: i64 = 300;

/// One query after validation.
enum Plan<'a> {
    Metric { q: &'a MetricDataQuery, ms: &'a MetricStat, stat: Stat },
    Math { q: &'a MetricDataQuery, expr: Expr },
    Insights { q: &'a MetricDataQuery, query: insights::Query },
}

impl Plan<'_> {
    fn query(&self) -> &MetricDataQuery {
        match self {
            Plan::Metric { q, .. } | Plan::Math { q, .. } | Plan::Insights { q, .. } => q,
        }
    }
}

/// `Error in expression <id>: …`.
fn expression_error(id: &str, message: impl std::fmt::Display) -> MetricsError {
    MetricsError::Validation(format!("Error in expression {id}: {message}"))
}

impl MetricsService {
    /// GetMetricData.
    pub async fn get_metric_data(&self, scope: &Scope, input: GetMetricDataInput) -> Result<GetMetricDataOutput> {
        let queries = &input.metric_data_queries;
        if queries.is_empty() {
            return Err(MetricsError::MissingParameter("The parameter MetricDataQueries is required.".into()));
        }
        if queries.len() > MAX_QUERIES {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
            )));
        }
        validate::time_range(input.start_time, input.end_time)?;
        let max_datapoints = input.max_datapoints.map(i64::from).unwrap_or(DEFAULT_MAX_DATAPOINTS);
        if max_datapoints <= 0 {
            return Err(MetricsError::invalid_value("MaxDatapoints", max_datapoints));
        }
        let mut offset_minutes = 0;
        if let Some(tz) = input.label_options.as_ref().and_then(|l| l.timezone.as_deref()) {
            offset_minutes = timezone_minutes(tz).ok_or_else(|| MetricsError::invalid_value("LabelOptions.Timezone", tz))?;
        }
        let plans = plan(queries)?;
        let fingerprint = paging::fingerprint(&format!("{:?}{:?}{:?}{:?}", queries_digest(queries), input.start_time, input.end_time, input.scan_by));
        let (offset, kept) = match &input.next_token {
            Some(t) => paging::decode_page(t, &fingerprint)
                .ok_or_else(|| MetricsError::InvalidNextToken("The specified NextToken is invalid or has expired.".into()))?,
            None => (0, None),
        };
        let now = self.clock.now();
        // A next page of a result computed by an earlier call comes from that result.
        let owner = format!("{}\n{}\n{fingerprint}", scope.account, scope.region);
        if let Some((id, full)) = kept.and_then(|id| self.pages.get(&id, &owner, now).map(|full| (id, full))) {
            return Ok(page(&full, offset, max_datapoints as usize, &fingerprint, Some(&id)));
        }
        let labels = LabelContext { account: &scope.account, region: &scope.region, offset_minutes, now };
        let grid = Grid { start: input.start_time, end: input.end_time, now };

        // Read: every MetricStat query and every SEARCH.
        let mut metric_series: HashMap<usize, Series> = HashMap::new();
        let mut searches: HashMap<usize, Vec<Option<Vec<Series>>>> = HashMap::new();
        let mut truncated: Vec<usize> = Vec::new();
        let mut answered: HashMap<usize, Output> = HashMap::new();
        for (i, p) in plans.iter().enumerate() {
            match p {
                Plan::Metric { q, ms, stat } => {
                    let metric = MetricKey::new(ms.metric.namespace.clone(), ms.metric.metric_name.clone(), ms.metric.dimensions.clone());
                    let period = i64::from(ms.period);
                    let points = self.fetch(scope, &metric, ms.unit, stat, period, grid).await?;
                    let info = MetricInfo {
                        namespace: ms.metric.namespace.clone(),
                        metric_name: ms.metric.metric_name.clone(),
                        dimensions: metric.dimensions.iter().map(|d| (d.name.to_string(), d.value.to_string())).collect(),
                        stat: ms.stat.clone(),
                        period,
                    };
                    let mut series = Series { label: ms.metric.metric_name.clone(), points, period, info: Some(Arc::new(info)) };
                    // Seen through METRICS() or a reference, the series carries its rendered label.
                    series.label = render(q.label.as_deref().unwrap_or(&ms.metric.metric_name), &series, &ms.metric.metric_name, &labels);
                    metric_series.insert(i, series);
                }
                Plan::Insights { q, query } => {
                    let (out, cut) = self.insights(scope, q, query, grid).await?;
                    if cut {
                        truncated.push(i);
                    }
                    answered.insert(i, out);
                }
                Plan::Math { q, expr } => {
                    let mut found = Vec::new();
                    for s in parse::searches(expr) {
                        let Expr::Search { query, stat, period, .. } = s else { continue };
                        let (series, cut) = self.search(scope, &q.id, query, stat, *period, q.period, grid).await?;
                        if cut {
                            truncated.push(i);
                        }
                        found.push(Some(series));
                    }
                    searches.insert(i, found);
                }
            }
        }

        // Evaluate.
        let ids: HashMap<&str, usize> = plans.iter().enumerate().map(|(i, p)| (p.query().id.as_str(), i)).collect();
        let referenced = plans
            .iter()
            .filter_map(|p| match p {
                Plan::Math { expr, .. } => Some(parse::references(expr)),
                Plan::Metric { .. } | Plan::Insights { .. } => None,
            })
            .flatten()
            .filter_map(|id| ids.get(id.as_str()).copied())
            .collect();
        let mut cx = Evaluation {
            plans: &plans,
            ids,
            referenced,
            grid,
            metric_series,
            searches,
            memo: answered,
            stack: Vec::new(),
            labels,
            request_period: plans
                .iter()
                .filter_map(|p| match p {
                    Plan::Metric { ms, .. } => Some(i64::from(ms.period)),
                    Plan::Math { .. } | Plan::Insights { .. } => None,
                })
                .min()
                .unwrap_or(60),
        };
        let scan = input.scan_by.unwrap_or_default();
        let mut full: Vec<QueryPoints> = Vec::new();
        for (i, p) in plans.iter().enumerate() {
            let q = p.query();
            let returned = q.return_data != Some(false);
            let messages = if truncated.contains(&i) {
                let value = if matches!(p, Plan::Insights { .. }) {
                    format!("The query matched more than {} metrics; the first {} were processed", insights::MAX_METRICS, insights::MAX_METRICS)
                } else {
                    format!("SEARCH found more than {MAX_SEARCH_RESULTS} metrics; the first {MAX_SEARCH_RESULTS} are returned")
                };
                vec![MessageData { code: "MaxMetricsExceeded".into(), value }]
            } else {
                Vec::new()
            };
            let labelled: Vec<(String, Vec<(i64, f64)>)> = match p {
                Plan::Metric { .. } => {
                    let s = &cx.metric_series[&i];
                    vec![(s.label.clone(), s.points.clone())]
                }
                Plan::Math { .. } | Plan::Insights { .. } => {
                    // Every expression is evaluated, so an error is reported even in one
                    // whose data is not returned.
                    let out = cx.output(i).map_err(|e| MetricsError::Validation(e.0))?;
                    if !returned {
                        continue;
                    }
                    match out {
                        Output::Single(s) => vec![(render(q.label.as_deref().unwrap_or(&q.id), &s, &q.id, &cx.labels), s.points)],
                        Output::Array(xs) => xs
                            .into_iter()
                            .map(|s| {
                                let label = match q.label.as_deref() {
                                    Some(l) if l.contains("${") => render(l, &s, &s.label, &cx.labels),
                                    Some(l) if !l.is_empty() => format!("{l} {}", s.label),
                                    _ => s.label.clone(),
                                };
                                (label, s.points)
                            })
                            .collect(),
                    }
                }
            };
            if !returned {
                continue;
            }
            for (label, points) in labelled {
                let mut points: Vec<(Timestamp, f64)> = points.into_iter().map(|(t, v)| (Timestamp(t), v)).collect();
                if scan == ScanBy::TimestampDescending {
                    points.reverse();
                }
                full.push(QueryPoints { id: q.id.clone(), label, points, messages: messages.clone() });
            }
        }
        // Kept for its next pages when this call does not return all of it.
        let total: usize = full.iter().map(|q| q.points.len()).sum();
        let full = Arc::new(full);
        let kept = if offset.saturating_add(max_datapoints as usize) < total { self.pages.insert(owner, now, total, full.clone()) } else { None };
        Ok(page(&full, offset, max_datapoints as usize, &fingerprint, kept.as_deref()))
    }

    /// The points of one metric's statistic over the request's range.
    async fn fetch(&self, scope: &Scope, metric: &MetricKey, unit: Option<Unit>, stat: &Stat, period: i64, grid: Grid) -> Result<Vec<(i64, f64)>> {
        let mut points = self.metric_points(scope, std::slice::from_ref(metric), unit, stat, period, grid).await?;
        Ok(points.pop().unwrap_or_default())
    }

    /// The points of `stat` per period over each metric's series (of `unit`, or of every
    /// unit), in the order of `metrics`; none when the data's age does not allow the period.
    /// The metrics are split into one read per core, each read taking its metrics' series
    /// together and folding them as they decode (see `MetricStore::visit_many`).
    async fn metric_points(&self, scope: &Scope, metrics: &[MetricKey], unit: Option<Unit>, stat: &Stat, period: i64, grid: Grid) -> Result<Vec<Vec<(i64, f64)>>> {
        let start = round_start(grid.start, period, grid.now);
        if !period_serves_age(start, period, grid.now) {
            return Ok(vec![Vec::new(); metrics.len()]);
        }
        let (end, period_ms) = (grid.end, period * 1000);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = cores.min(metrics.len().div_ceil(MIN_METRICS_PER_READ)).max(1);
        let reads = metrics.chunks(metrics.len().div_ceil(parts).max(1)).map(|chunk| async move {
            let (mut keys, mut owner) = (Vec::new(), Vec::new());
            for (m, metric) in chunk.iter().enumerate() {
                for key in self.series_for(scope, metric, unit) {
                    keys.push(key);
                    owner.push(m);
                }
            }
            let folds: Vec<StatFold> = chunk.iter().map(|_| stat.fold(start, end, period_ms)).collect();
            self.store
                .visit_many(&scope.account, &scope.region, &keys, start, end, folds, move |folds: &mut Vec<StatFold>, k, run| folds[owner[k]].add_run(run))
                .await
        });
        let folds = futures::future::try_join_all(reads).await?.into_iter().flatten();
        Ok(folds.map(|f| f.points().into_iter().map(|(t, v)| (t.millis(), v)).collect()).collect())
    }

    /// One SEARCH: the metrics it finds (with data in the last two weeks) and their series.
    /// Returns whether the result was cut at [`MAX_SEARCH_RESULTS`].
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        scope: &Scope,
        id: &str,
        text: &str,
        stat_name: &str,
        period: Option<f64>,
        query_period: Option<i32>,
        grid: Grid,
    ) -> Result<(Vec<Series>, bool)> {
        let search = Search::parse(text).map_err(|e| expression_error(id, e))?;
        let stat = Stat::parse(stat_name).map_err(|e| expression_error(id, format!("the SEARCH statistic {stat_name:?} is invalid: {e}")))?;
        let period = match period {
            Some(p) if p.fract() == 0.0 && p > 0.0 && p <= i32::MAX as f64 => p as i64,
            Some(p) => return Err(expression_error(id, format!("the SEARCH period {p} is not a whole number of seconds"))),
            None => query_period.map(i64::from).unwrap_or(DEFAULT_SEARCH_PERIOD),
        };
        validate::period("Period".into(), period).map_err(|e| expression_error(id, e))?;
        let horizon = grid.now.millis() - LIST_METRICS_HORIZON_MS;
        let (found, cut) = self.store.with_partition(&scope.account, &scope.region, |p| {
            let Some(p) = p else { return (Vec::new(), false) };
            // Matched in any order, then the first MAX_SEARCH_RESULTS metrics in key order.
            let mut matched: Vec<&MetricKey> = p
                .iter_unordered()
                .filter(|(key, st)| {
                    if st.last_ingest.millis() < horizon {
                        return false;
                    }
                    let dims: Vec<(&str, &str)> = key.metric.dimensions.iter().map(|d| (d.name.as_str(), d.value.as_str())).collect();
                    search.matches(&Candidate { namespace: &key.metric.namespace, metric_name: &key.metric.name, dimensions: &dims })
                })
                .map(|(key, _)| &key.metric)
                .collect();
            matched.sort_unstable();
            matched.dedup();
            let cut = matched.len() > MAX_SEARCH_RESULTS;
            (matched.into_iter().take(MAX_SEARCH_RESULTS).cloned().collect::<Vec<MetricKey>>(), cut)
        });
        let all_points = self.metric_points(scope, &found, None, &stat, period, grid).await?;
        let mut series = Vec::with_capacity(found.len());
        for (metric, points) in found.into_iter().zip(all_points) {
            let mut label_parts: Vec<String> = Vec::new();
            let schema = search.schema_dimensions();
            for name in schema {
                if let Some(d) = metric.dimensions.iter().find(|d| d.name == name.as_str()) {
                    label_parts.push(d.value.to_string());
                }
            }
            for d in &metric.dimensions {
                if !schema.iter().any(|n| d.name == n.as_str()) {
                    label_parts.push(d.value.to_string());
                }
            }
            label_parts.push(metric.name.to_string());
            let info = MetricInfo {
                namespace: metric.namespace.to_string(),
                metric_name: metric.name.to_string(),
                dimensions: metric.dimensions.iter().map(|d| (d.name.to_string(), d.value.to_string())).collect(),
                stat: stat_name.to_string(),
                period,
            };
            series.push(Series { label: label_parts.join(" "), points, period, info: Some(Arc::new(info)) });
        }
        Ok((series, cut))
    }
}

impl MetricsService {
    /// One Metrics Insights query: the metrics it matches (with data in the last two weeks,
    /// at most [`insights::MAX_METRICS`]), grouped, aggregated per period, ordered and
    /// limited. Returns whether matching stopped at the metric limit.
    async fn insights(&self, scope: &Scope, q: &MetricDataQuery, query: &insights::Query, grid: Grid) -> Result<(Output, bool)> {
        let period = q.period.map(i64::from).unwrap_or(DEFAULT_SEARCH_PERIOD);
        if period % 60 != 0 {
            return Err(expression_error(&q.id, format!("Metrics Insights aggregates whole minutes: Period {period} is not a multiple of 60")));
        }
        // Queries read the most recent two weeks only.
        let horizon = grid.now.millis() - LIST_METRICS_HORIZON_MS;
        let grid = Grid { start: Timestamp(grid.start.millis().max(horizon)), ..grid };
        let (groups, cut) = self.store.with_partition(&scope.account, &scope.region, |p| {
            let mut groups: std::collections::BTreeMap<Vec<String>, Vec<MetricKey>> = Default::default();
            let mut count = 0usize;
            let mut last: Option<&MetricKey> = None;
            let Some(p) = p else { return (groups, false) };
            for (key, st) in p.iter() {
                if st.last_ingest.millis() < horizon || last == Some(&key.metric) {
                    continue;
                }
                last = Some(&key.metric);
                let dims: Vec<(&str, &str)> = key.metric.dimensions.iter().map(|d| (d.name.as_str(), d.value.as_str())).collect();
                if !query.matches(&key.metric.namespace, &key.metric.name, &dims) {
                    continue;
                }
                if count == insights::MAX_METRICS {
                    return (groups, true);
                }
                count += 1;
                groups.entry(query.group_of(&dims)).or_default().push(key.metric.clone());
            }
            (groups, false)
        });
        let statistic = Statistic::parse(query.func.statistic()).ok_or_else(|| MetricsError::Internal("statistic".into()))?;
        let start = round_start(grid.start, period, grid.now);
        let mut series: Vec<(Series, f64)> = Vec::new();
        for (group, metrics) in groups {
            let mut all: Vec<Sample> = Vec::new();
            if start < grid.end && period_serves_age(start, period, grid.now) {
                let keys: Vec<SeriesKey> = metrics.iter().flat_map(|m| self.series_for(scope, m, None)).collect();
                all.extend(self.store.samples_many(&scope.account, &scope.region, &keys, start, grid.end).await?.into_iter().flatten());
            }
            let points = Stat::Basic(statistic).points(&all, start, grid.end, period * 1000).into_iter().map(|(t, v)| (t.millis(), v)).collect();
            let order_key = match query.order_by {
                Some((f, _)) => {
                    let s = Statistic::parse(f.statistic()).ok_or_else(|| MetricsError::Internal("statistic".into()))?;
                    let span = (grid.end.millis() - start.millis()).max(1);
                    bucket(&all, start, grid.end, span).into_iter().next().map_or(f64::NAN, |(_, a)| a.get(s))
                }
                None => f64::NAN,
            };
            series.push((Series { label: group.join(" "), points, period, info: None }, order_key));
        }
        if query.group_by.is_empty() {
            let points = series.pop().map(|(s, _)| s.points).unwrap_or_default();
            return Ok((Output::Single(Series { label: String::new(), points, period, info: None }), cut));
        }
        let descending = matches!(query.order_by, Some((_, true)));
        series.sort_by(|(a, ka), (b, kb)| {
            let by_key = match (ka.is_nan(), kb.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ if descending => kb.total_cmp(ka),
                _ => ka.total_cmp(kb),
            };
            by_key.then_with(|| insights::label_order(&a.label, &b.label))
        });
        series.truncate(query.limit.unwrap_or(insights::MAX_SERIES).min(insights::MAX_SERIES));
        Ok((Output::Array(series.into_iter().map(|(s, _)| s).collect()), cut))
    }
}

/// Validates every query and parses every expression.
fn plan(queries: &[MetricDataQuery]) -> Result<Vec<Plan<'_>>> {
    let mut plans = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let p = format!("MetricDataQueries.member.{}", i + 1);
        if !valid_query_id(&q.id) {
            return Err(MetricsError::InvalidParameterValue(format!(
                "The value {} for parameter {p}.Id is invalid. Ids must start with a lowercase letter and contain only letters, numbers and underscores.",
                q.id
            )));
        }
        if queries[..i].iter().any(|o| o.id == q.id) {
            return Err(MetricsError::InvalidParameterValue(format!("The value {} for parameter {p}.Id is duplicated.", q.id)));
        }
        if let Some(period) = q.period {
            validate::period(validate::Param::Member(&validate::Param::from(p.as_str()), "Period"), i64::from(period))?;
        }
        match (&q.metric_stat, &q.expression) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(MetricsError::InvalidParameterValue(format!(
                    "Exactly one of {p}.MetricStat and {p}.Expression must be specified."
                )))
            }
            (None, Some(text)) => {
                if text.is_empty() || text.chars().count() > parse::MAX_EXPRESSION_CHARS {
                    return Err(MetricsError::invalid_value(&format!("{p}.Expression"), text));
                }
                if insights::is_insights(text) {
                    let query = insights::Query::parse(text).map_err(|e| expression_error(&q.id, e))?;
                    plans.push(Plan::Insights { q, query });
                } else {
                    let expr = math::parse(text).map_err(|e| expression_error(&q.id, e))?;
                    plans.push(Plan::Math { q, expr });
                }
            }
            (Some(ms), None) => {
                let stat_param = validate::Param::from(p.as_str());
                let stat_param = validate::Param::Member(&stat_param, "MetricStat");
                let metric_param = validate::Param::Member(&stat_param, "Metric");
                validate::namespace(validate::Param::Member(&metric_param, "Namespace"), &ms.metric.namespace)?;
                validate::metric_name(validate::Param::Member(&metric_param, "MetricName"), &ms.metric.metric_name)?;
                validate::dimensions(validate::Param::Member(&metric_param, "Dimensions"), &ms.metric.dimensions)?;
                validate::period(validate::Param::Member(&stat_param, "Period"), i64::from(ms.period))?;
                let stat = Stat::parse(&ms.stat).map_err(|why| {
                    MetricsError::InvalidParameterValue(format!("The value {} for parameter {p}.MetricStat.Stat is invalid: {why}.", ms.stat))
                })?;
                plans.push(Plan::Metric { q, ms, stat });
            }
        }
    }
    let insights_queries: Vec<&str> =
        plans.iter().filter(|p| matches!(p, Plan::Insights { .. })).map(|p| p.query().id.as_str()).collect();
    if insights_queries.len() > 1 {
        return Err(expression_error(insights_queries[1], "a GetMetricData call can hold one Metrics Insights query"));
    }
    // Every Id an expression names must be a query of the request.
    for p in &plans {
        if let Plan::Math { q, expr } = p {
            for id in parse::references(expr) {
                if !queries.iter().any(|o| o.id == id) {
                    return Err(expression_error(&q.id, format!("unknown Id {id:?}: no query of this request has it")));
                }
            }
        }
    }
    Ok(plans)
}

/// The evaluation state of one request: results computed so far and the current path.
struct Evaluation<'a> {
    plans: &'a [Plan<'a>],
    ids: HashMap<&'a str, usize>,
    grid: Grid,
    metric_series: HashMap<usize, Series>,
    /// Each expression's SEARCH results, taken by its one evaluation.
    searches: HashMap<usize, Vec<Option<Vec<Series>>>>,
    /// Queries some expression refers to: only their outputs are kept once evaluated.
    referenced: HashSet<usize>,
    memo: HashMap<usize, Output>,
    stack: Vec<usize>,
    labels: LabelContext<'a>,
    request_period: i64,
}

impl Evaluation<'_> {
    /// The output of expression query `i`, evaluated once: kept (and cloned for each
    /// caller) when another expression refers to it, else handed over.
    fn output(&mut self, i: usize) -> std::result::Result<Output, MathError> {
        if !self.referenced.contains(&i) {
            if let Some(out) = self.memo.remove(&i) {
                return Ok(out);
            }
        } else if let Some(out) = self.memo.get(&i) {
            return Ok(out.clone());
        }
        let Plan::Math { q, expr } = &self.plans[i] else { return Err(MathError("not an expression".into())) };
        if let Some(pos) = self.stack.iter().position(|&s| s == i) {
            let path: Vec<&str> = self.stack[pos..].iter().chain([&i]).map(|&s| self.plans[s].query().id.as_str()).collect();
            return Err(MathError(format!("Error in expression {}: circular reference {}", q.id, path.join(" -> "))));
        }
        self.stack.push(i);
        let out = math::evaluate_query(expr, self).map_err(|e| {
            if e.0.starts_with("Error in expression ") {
                e
            } else {
                MathError(format!("Error in expression {}: {}", q.id, e.0))
            }
        });
        self.stack.pop();
        let out = out?;
        if self.referenced.contains(&i) {
            self.memo.insert(i, out.clone());
        }
        Ok(out)
    }

    fn current(&self) -> usize {
        *self.stack.last().unwrap_or(&0)
    }
}

impl Context for Evaluation<'_> {
    fn grid(&self) -> Grid {
        self.grid
    }

    fn reference(&mut self, id: &str) -> std::result::Result<Value, MathError> {
        let Some(&i) = self.ids.get(id) else { return Err(MathError(format!("unknown Id {id:?}"))) };
        if let Some(s) = self.metric_series.get(&i) {
            return Ok(Value::Series(s.clone()));
        }
        let q = self.plans[i].query();
        match self.output(i)? {
            Output::Single(mut s) => {
                s.label = render(q.label.as_deref().unwrap_or(&q.id), &s, &q.id, &self.labels);
                Ok(Value::Series(s))
            }
            Output::Array(xs) => Ok(Value::Array(xs)),
        }
    }

    fn metrics(&mut self, filter: Option<&str>) -> std::result::Result<Vec<Series>, MathError> {
        Ok(self
            .plans
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Plan::Metric { .. }))
            .filter(|(_, p)| filter.is_none_or(|f| p.query().id.contains(f)))
            .filter_map(|(i, _)| self.metric_series.get(&i).cloned())
            .collect())
    }

    fn search(&mut self, index: usize) -> std::result::Result<Vec<Series>, MathError> {
        let i = self.current();
        // An expression is evaluated once (see `output`), so each SEARCH result is taken once.
        self.searches.get_mut(&i).and_then(|s| s.get_mut(index)).and_then(Option::take).ok_or_else(|| MathError("SEARCH result missing".into()))
    }

    fn default_period(&self) -> i64 {
        self.plans[self.current()].query().period.map(i64::from).unwrap_or(self.request_period)
    }
}

/// One returned result before paging.
pub(crate) struct QueryPoints {
    id: String,
    label: String,
    points: Vec<(Timestamp, f64)>,
    messages: Vec<MessageData>,
}

/// Pages across the concatenation of every result's points; the next page's token carries
/// `kept`, the id the results are kept under for it.
fn page(full: &[QueryPoints], offset: usize, max_datapoints: usize, fingerprint: &str, kept: Option<&str>) -> GetMetricDataOutput {
    let total: usize = full.iter().map(|q| q.points.len()).sum();
    let end = offset.saturating_add(max_datapoints).min(total);
    let mut results = Vec::with_capacity(full.len());
    let mut seen = 0usize;
    for QueryPoints { id, label, points, messages } in full {
        let (lo, hi) = (seen, seen + points.len());
        seen = hi;
        let take_from = offset.max(lo).min(hi) - lo;
        let take_to = end.max(lo).min(hi) - lo;
        let first_page = offset == 0;
        if take_from == take_to && !(first_page && points.is_empty()) {
            continue;
        }
        let slice = &points[take_from..take_to];
        results.push(MetricDataResult {
            id: id.clone(),
            label: label.clone(),
            timestamps: slice.iter().map(|(t, _)| *t).collect(),
            values: slice.iter().map(|(_, v)| *v).collect(),
            status_code: if take_to < points.len() { StatusCode::PartialData } else { StatusCode::Complete },
            messages: messages.clone(),
        });
    }
    let next_token = if end < total { Some(paging::encode_page(end, fingerprint, kept)) } else { None };
    GetMetricDataOutput { metric_data_results: results, next_token, messages: Vec::new() }
}

fn queries_digest(queries: &[MetricDataQuery]) -> String {
    queries
        .iter()
        .map(|q| {
            let ms = q.metric_stat.as_ref();
            format!(
                "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?};",
                q.id,
                ms.map(|m| (&m.metric.namespace, &m.metric.metric_name, &m.metric.dimensions)),
                ms.map(|m| m.period),
                ms.map(|m| &m.stat),
                ms.and_then(|m| m.unit),
                q.expression,
                q.period,
                q.return_data,
                q.label
            )
        })
        .collect()
}

fn valid_query_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 255
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ids() {
        assert!(valid_query_id("m1_x"));
        assert!(!valid_query_id("M1"));
        assert!(!valid_query_id("1m"));
        assert!(!valid_query_id("m-1"));
    }
}
