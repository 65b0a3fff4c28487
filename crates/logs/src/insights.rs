//! Logs Insights: StartQuery / GetQueryResults / StopQuery / DescribeQueries,
//! GetLogGroupFields and GetLogRecord. A query runs in the background over its groups'
//! events through the executor of `watchtrail-logs-lang`; GetQueryResults shows partial
//! results while it runs. Queries and their results live in memory (7 days, at most
//! [`MAX_KEPT_QUERIES`] finished ones).

use crate::error::{LogsError, Result};
use crate::log_part::Scope;
use crate::names;
use crate::paging;
use crate::service::{Caller, LogsService};
use crate::store::StreamSelect;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use watchtrail_logs_lang::insights::{self, Executor, LogRecord, Query, Row};

/// At most this many queries run (or wait) at once per account and region.
pub const MAX_CONCURRENT_QUERIES: usize = 100;
/// At most this many log groups per query.
pub const MAX_QUERY_GROUPS: usize = 50;
/// A query string may be this long.
pub const MAX_QUERY_CHARS: usize = 10_000;
/// The most result rows a query may ask for.
pub const MAX_QUERY_LIMIT: usize = 100_000;
/// Rows per GetQueryResults page.
pub const RESULTS_PAGE_ROWS: usize = 10_000;
/// A query running longer than this stops with status Timeout (60 minutes).
pub const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
/// Finished queries kept for GetQueryResults and DescribeQueries.
pub const MAX_KEPT_QUERIES: usize = 1000;
/// Finished queries are forgotten after this long (7 days, ms).
pub const KEEP_RESULTS_MS: i64 = 7 * watchtrail_core::Timestamp::DAY;
/// Records between two partial-result snapshots of a running query.
const SNAPSHOT_EVERY: u64 = 200_000;

/// StartQuery.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryInput {
    /// `CWLI` (default); SQL and PPL are refused.
    pub query_language: Option<String>,
    /// One group.
    pub log_group_name: Option<String>,
    /// Groups by name.
    pub log_group_names: Option<Vec<String>>,
    /// Groups by name or ARN.
    pub log_group_identifiers: Option<Vec<String>>,
    /// Epoch seconds, inclusive.
    pub start_time: i64,
    /// Epoch seconds, inclusive.
    pub end_time: i64,
    /// The query.
    pub query_string: String,
    /// Result rows (1–100,000; default 10,000).
    pub limit: Option<i64>,
}

/// StartQuery's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryOutput {
    /// The query's id.
    pub query_id: String,
}

/// Operations naming one query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdInput {
    /// The query's id.
    pub query_id: String,
}

/// GetQueryResults.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsInput {
    /// The query's id.
    pub query_id: String,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// Rows per page (1–10,000).
    pub max_items: Option<i64>,
}

/// One field of a result row.
#[derive(Debug, Clone, Serialize)]
pub struct ResultField {
    /// Field name.
    pub field: String,
    /// Its value as text.
    pub value: String,
}

/// A query's statistics.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    /// Records that passed the query's filters.
    pub records_matched: f64,
    /// Records read.
    pub records_scanned: f64,
    /// Records the time range or block bounds let the scan skip (not estimated: 0).
    pub estimated_records_skipped: f64,
    /// Message bytes read.
    pub bytes_scanned: f64,
    /// Bytes skipped (not estimated: 0).
    pub estimated_bytes_skipped: f64,
    /// Log groups read.
    pub log_groups_scanned: f64,
}

/// GetQueryResults' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsOutput {
    /// Always `CWLI`.
    pub query_language: String,
    /// Result rows (partial while Running).
    pub results: Vec<Vec<ResultField>>,
    /// Statistics so far.
    pub statistics: QueryStatistics,
    /// Scheduled, Running, Complete, Failed, Cancelled or Timeout.
    pub status: String,
    /// Present when more rows follow.
    pub next_token: Option<String>,
}

/// StopQuery's answer.
#[derive(Debug, Serialize)]
pub struct StopQueryOutput {
    /// Whether the query was running and is now stopped.
    pub success: bool,
}

/// DescribeQueries.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesInput {
    /// Queries of this group.
    pub log_group_name: Option<String>,
    /// Queries in this status.
    pub status: Option<String>,
    /// 1–1,000 (default 1,000).
    pub max_results: Option<i64>,
    /// Where the previous page ended.
    pub next_token: Option<String>,
    /// Accepted; every query is CWLI.
    pub query_language: Option<String>,
}

/// One query as DescribeQueries shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInfo {
    /// `CWLI`.
    pub query_language: String,
    /// Id.
    pub query_id: String,
    /// The query text.
    pub query_string: String,
    /// Status.
    pub status: String,
    /// When it was started (ms).
    pub create_time: i64,
    /// Its first log group.
    pub log_group_name: Option<String>,
}

/// DescribeQueries' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesOutput {
    /// Newest first.
    pub queries: Vec<QueryInfo>,
    /// Present when more follow.
    pub next_token: Option<String>,
}

/// GetLogGroupFields.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsInput {
    /// The group by name.
    pub log_group_name: Option<String>,
    /// Epoch seconds; the 15 minutes before it are sampled (default: now).
    pub time: Option<i64>,
    /// The group by name or ARN.
    pub log_group_identifier: Option<String>,
}

/// A field and the share of events holding it.
#[derive(Debug, Clone, Serialize)]
pub struct LogGroupField {
    /// Field name.
    pub name: String,
    /// Percentage of sampled events with the field.
    pub percent: i32,
}

/// GetLogGroupFields' answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsOutput {
    /// Fields, most frequent first, then by name.
    pub log_group_fields: Vec<LogGroupField>,
}

/// GetLogRecord.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordInput {
    /// An `@ptr` value from query results.
    pub log_record_pointer: String,
    /// Accepted; nothing is masked.
    pub unmask: Option<bool>,
}

/// GetLogRecord's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordOutput {
    /// Every field of the event.
    pub log_record: BTreeMap<String, String>,
}

/// Where a query is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// Waiting to run.
    Scheduled,
    /// Reading events.
    Running,
    /// Done.
    Complete,
    /// Stopped by an error.
    Failed,
    /// Stopped by StopQuery.
    Cancelled,
    /// Ran past the 60-minute limit.
    Timeout,
}

impl QueryStatus {
    fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Scheduled => "Scheduled",
            QueryStatus::Running => "Running",
            QueryStatus::Complete => "Complete",
            QueryStatus::Failed => "Failed",
            QueryStatus::Cancelled => "Cancelled",
            QueryStatus::Timeout => "Timeout",
        }
    }

    fn finished(self) -> bool {
        !matches!(self, QueryStatus::Scheduled | QueryStatus::Running)
    }
}

/// One query: what it reads, and what it has found.
struct QueryRun {
    id: String,
    scope: Scope,
    text: String,
    groups: Vec<(u64, String)>,
    created: i64,
    cancel: AtomicBool,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    status: Option<QueryStatus>,
    rows: Vec<Row>,
    stats: QueryStatistics,
    finished_at: Option<i64>,
}

/// Every query of the server, by id.
#[derive(Default)]
pub struct Queries {
    runs: Mutex<HashMap<String, Arc<QueryRun>>>,
}

impl std::fmt::Debug for Queries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queries").field("count", &self.runs.lock().len()).finish()
    }
}

/// An `@ptr`: the group, the event's place and stream, opaque to clients.
fn encode_ptr(group: u64, ts: i64, lsn: u64, idx: u32, stream: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{group}/{ts}/{lsn}/{idx}/{stream}"))
}

fn decode_ptr(ptr: &str) -> Option<(u64, i64, u64, u32, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(ptr.trim()).ok()?).ok()?;
    let mut it = raw.splitn(5, '/');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.to_string()))
}

fn rows_out(rows: &[Row]) -> Vec<Vec<ResultField>> {
    rows.iter().map(|r| r.iter().map(|(f, v)| ResultField { field: f.clone(), value: v.clone() }).collect()).collect()
}

/// What one scan thread of a query carries from record to record.
struct ScanAcc {
    exec: Executor,
    since_snapshot: u64,
}

/// Records and bytes a query has read, over all its threads.
#[derive(Default)]
struct ScanCounts {
    records: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl LogsService {
    fn forget_old_queries(&self, now: i64) {
        let mut runs = self.queries.runs.lock();
        runs.retain(|_, q| q.progress.lock().finished_at.is_none_or(|t| now - t < KEEP_RESULTS_MS));
        let mut finished: Vec<(i64, String)> = runs.values().filter_map(|q| q.progress.lock().finished_at.map(|t| (t, q.id.clone()))).collect();
        if finished.len() > MAX_KEPT_QUERIES {
            finished.sort();
            for (_, id) in &finished[..finished.len() - MAX_KEPT_QUERIES] {
                runs.remove(id);
            }
        }
    }

    fn query_groups(&self, c: &Caller<'_>, input: &StartQueryInput, query: &Query) -> Result<Vec<(u64, String)>> {
        let given = [input.log_group_name.is_some(), input.log_group_names.is_some(), input.log_group_identifiers.is_some()].iter().filter(|b| **b).count();
        if let Some(src) = query.source() {
            if given > 0 {
                return Err(LogsError::InvalidParameter("A query with SOURCE cannot also name log groups.".into()));
            }
            let groups: Vec<(u64, String)> = self.store.with_state(|s| {
                s.groups(&c.scope)
                    .map(|gs| {
                        gs.values()
                            .filter(|g| src.name_prefixes.is_empty() || src.name_prefixes.iter().any(|p| g.name.starts_with(p.as_str())))
                            .filter(|g| g.class == src.log_group_class.as_deref().unwrap_or("STANDARD"))
                            .map(|g| (g.id, g.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            if groups.len() > 10_000 {
                return Err(LogsError::LimitExceeded("A SOURCE query can select at most 10,000 log groups.".into()));
            }
            return Ok(groups);
        }
        if given != 1 {
            return Err(LogsError::InvalidParameter("Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified.".into()));
        }
        let names_: Vec<String> = if let Some(n) = &input.log_group_name {
            names::check_group_name("logGroupName", n)?;
            vec![n.clone()]
        } else if let Some(ns) = &input.log_group_names {
            for n in ns {
                names::check_group_name("logGroupNames.member", n)?;
            }
            ns.clone()
        } else {
            let ids = input.log_group_identifiers.as_deref().unwrap_or_default();
            ids.iter().map(|id| names::group_from_identifier("logGroupIdentifiers.member", id, &c.scope.region, &c.scope.account)).collect::<Result<_>>()?
        };
        if names_.is_empty() || names_.len() > MAX_QUERY_GROUPS {
            return Err(LogsError::constraint("logGroupNames", names_.len(), "Member must have length between 1 and 50"));
        }
        let mut out = Vec::new();
        for n in names_ {
            let id = self.group_id(&c.scope, &n).map_err(|_| LogsError::ResourceNotFound(format!("Log group '{n}' does not exist for account ID '{}'", c.scope.account)))?;
            if !out.iter().any(|(i, _)| *i == id) {
                out.push((id, n));
            }
        }
        Ok(out)
    }

    /// StartQuery: checks and compiles the query, then runs it in the background.
    pub fn start_query(&self, c: &Caller<'_>, input: StartQueryInput) -> Result<StartQueryOutput> {
        match input.query_language.as_deref() {
            None | Some("CWLI") => {}
            Some(l @ ("SQL" | "PPL")) => return Err(LogsError::InvalidParameter(format!("Query language {l} is not supported by this server; use CWLI."))),
            Some(other) => return Err(LogsError::constraint("queryLanguage", other, "Member must satisfy enum value set: [CWLI, SQL, PPL]")),
        }
        if input.query_string.chars().count() > MAX_QUERY_CHARS {
            return Err(LogsError::constraint("queryString", "…", "Member must have length less than or equal to 10000"));
        }
        let limit = match input.limit {
            None => None,
            Some(l) if l < 1 || l as usize > MAX_QUERY_LIMIT => return Err(LogsError::constraint("limit", l, "Member must have value between 1 and 100000")),
            Some(l) => Some(l as usize),
        };
        if input.end_time < input.start_time {
            return Err(LogsError::InvalidParameter("endTime must be greater than or equal to startTime.".into()));
        }
        let query = Query::parse(&input.query_string).map_err(|e| LogsError::MalformedQuery(format!("{} (characters {}–{})", e.message, e.start_char_offset, e.end_char_offset)))?;
        let groups = self.query_groups(c, &input, &query)?;
        if let Some((_, name)) = groups.iter().find(|(id, _)| self.group_class(&c.scope, *id) == "DELIVERY") {
            return Err(LogsError::InvalidOperation(format!("Log group '{name}' is in the DELIVERY class, which Logs Insights cannot query.")));
        }
        let now = self.store.clock().now().millis();
        self.forget_old_queries(now);
        let active = self.queries.runs.lock().values().filter(|q| q.scope == c.scope && !q.progress.lock().status.is_some_and(QueryStatus::finished)).count();
        if active >= MAX_CONCURRENT_QUERIES {
            return Err(LogsError::LimitExceeded(format!("Account maximum query concurrency limit of [{MAX_CONCURRENT_QUERIES}] reached.")));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let run = Arc::new(QueryRun {
            id: id.clone(),
            scope: c.scope.clone(),
            text: input.query_string.clone(),
            groups,
            created: now,
            cancel: AtomicBool::new(false),
            progress: Mutex::new(Progress { status: Some(QueryStatus::Scheduled), ..Default::default() }),
        });
        self.queries.runs.lock().insert(id.clone(), run.clone());
        let svc = self.clone();
        let (from, to) = (input.start_time.saturating_mul(1000), input.end_time.saturating_mul(1000).saturating_add(1000));
        tokio::spawn(async move { svc.run_query(run, query, limit, from, to).await });
        Ok(StartQueryOutput { query_id: id })
    }

    async fn run_query(&self, run: Arc<QueryRun>, query: Query, limit: Option<usize>, from: i64, to: i64) {
        run.progress.lock().status = Some(QueryStatus::Running);
        let started = std::time::Instant::now();
        let returns_ptr = query.returns_ptr();
        let counts = Arc::new(ScanCounts::default());
        let mut exec = query.executor(limit);
        let mut outcome = QueryStatus::Complete;
        let mut scanned_groups = 0;
        for (gid, gname) in &run.groups {
            if run.cancel.load(Ordering::Relaxed) {
                outcome = QueryStatus::Cancelled;
                break;
            }
            // Retention hides expired events from queries as from every read.
            let retention = self.store.with_state(|s| s.group_by_id(*gid).and_then(|(_, g)| g.retention_days));
            let from = match retention {
                Some(d) => from.max(self.store.clock().now().millis() - d as i64 * watchtrail_core::Timestamp::DAY),
                None => from,
            };
            let log_name = format!("{}:{gname}", run.scope.account);
            let (r, n, q) = (run.clone(), counts.clone(), query.clone());
            let gid_ = *gid;
            // Every core reads blocks into its own executor; they merge at the end.
            let visited = self
                .store
                .visit_events_parallel(
                    &run.scope,
                    *gid,
                    StreamSelect::All,
                    from,
                    to,
                    None,
                    move || ScanAcc { exec: q.executor(limit), since_snapshot: 0 },
                    move |acc: &mut ScanAcc, e| {
                        if r.cancel.load(Ordering::Relaxed) || started.elapsed() > QUERY_TIMEOUT {
                            return;
                        }
                        let ptr = if returns_ptr { encode_ptr(gid_, e.ts, e.lsn, e.idx, e.stream) } else { String::new() };
                        acc.exec.push(&LogRecord { timestamp: e.ts, ingestion_time: e.ingested, message: e.message, log_stream: e.stream, log_group: &log_name, ptr: &ptr });
                        let scanned = n.records.fetch_add(1, Ordering::Relaxed) + 1;
                        let bytes = n.bytes.fetch_add(e.message.len() as u64, Ordering::Relaxed) + e.message.len() as u64;
                        acc.since_snapshot += 1;
                        if acc.since_snapshot >= SNAPSHOT_EVERY {
                            // Partial rows: what this thread has found so far.
                            acc.since_snapshot = 0;
                            let rows = acc.exec.snapshot();
                            let mut p = r.progress.lock();
                            p.rows = rows;
                            p.stats.records_scanned = scanned as f64;
                            p.stats.bytes_scanned = bytes as f64;
                        }
                    },
                    |a: &mut ScanAcc, b: ScanAcc| a.exec.merge(b.exec),
                )
                .await;
            match visited {
                Ok(a) => exec.merge(a.exec),
                Err(e) => {
                    tracing::error!(query = %run.id, error = %e, "query failed");
                    let mut p = run.progress.lock();
                    p.status = Some(QueryStatus::Failed);
                    p.finished_at = Some(self.store.clock().now().millis());
                    return;
                }
            }
            scanned_groups += 1;
            if started.elapsed() > QUERY_TIMEOUT {
                outcome = QueryStatus::Timeout;
                break;
            }
        }
        if run.cancel.load(Ordering::Relaxed) {
            outcome = QueryStatus::Cancelled;
        }
        let matched = exec.records_matched();
        let rows = exec.finish();
        let mut p = run.progress.lock();
        p.stats = QueryStatistics {
            records_matched: matched as f64,
            records_scanned: counts.records.load(Ordering::Relaxed) as f64,
            bytes_scanned: counts.bytes.load(Ordering::Relaxed) as f64,
            log_groups_scanned: scanned_groups as f64,
            ..Default::default()
        };
        p.rows = rows;
        p.status = Some(outcome);
        p.finished_at = Some(self.store.clock().now().millis());
    }

    fn find_query(&self, c: &Caller<'_>, id: &str) -> Result<Arc<QueryRun>> {
        self.queries
            .runs
            .lock()
            .get(id)
            .filter(|q| q.scope == c.scope)
            .cloned()
            .ok_or_else(|| LogsError::ResourceNotFound(format!("Query does not exist: {id}")))
    }

    /// GetQueryResults: the rows so far (all of them once Complete), 10,000 a page.
    pub fn get_query_results(&self, c: &Caller<'_>, input: GetQueryResultsInput) -> Result<GetQueryResultsOutput> {
        let page = match input.max_items {
            None => RESULTS_PAGE_ROWS,
            Some(n) if n < 1 || n as usize > RESULTS_PAGE_ROWS => return Err(LogsError::constraint("maxItems", n, "Member must have value between 1 and 10000")),
            Some(n) => n as usize,
        };
        let q = self.find_query(c, &input.query_id)?;
        let fp = paging::fingerprint(&[&q.id]);
        let offset: usize = match &input.next_token {
            Some(t) => paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?,
            None => 0,
        };
        let p = q.progress.lock();
        let status = p.status.unwrap_or(QueryStatus::Scheduled);
        let end = (offset + page).min(p.rows.len());
        let results = rows_out(p.rows.get(offset.min(end)..end).unwrap_or_default());
        let next_token = (status.finished() && end < p.rows.len()).then(|| paging::encode(&end, &fp));
        Ok(GetQueryResultsOutput { query_language: "CWLI".into(), results, statistics: p.stats.clone(), status: status.as_str().into(), next_token })
    }

    /// StopQuery: stops a query that is still scheduled or running.
    pub fn stop_query(&self, c: &Caller<'_>, input: QueryIdInput) -> Result<StopQueryOutput> {
        let q = self.find_query(c, &input.query_id)?;
        let running = !q.progress.lock().status.is_some_and(QueryStatus::finished);
        if !running {
            return Err(LogsError::InvalidParameter(format!("Query {} is not running.", q.id)));
        }
        q.cancel.store(true, Ordering::Relaxed);
        Ok(StopQueryOutput { success: true })
    }

    /// DescribeQueries: this account's queries, newest first.
    pub fn describe_queries(&self, c: &Caller<'_>, input: DescribeQueriesInput) -> Result<DescribeQueriesOutput> {
        let max = match input.max_results {
            None => 1000,
            Some(n) if !(1..=1000).contains(&n) => return Err(LogsError::constraint("maxResults", n, "Member must have value between 1 and 1000")),
            Some(n) => n as usize,
        };
        if let Some(s) = &input.status {
            if !["Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown"].contains(&s.as_str()) {
                return Err(LogsError::constraint("status", s, "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]"));
            }
        }
        let fp = paging::fingerprint(&[input.log_group_name.as_deref().unwrap_or(""), input.status.as_deref().unwrap_or("")]);
        let offset: usize = match &input.next_token {
            Some(t) => paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?,
            None => 0,
        };
        let mut all: Vec<QueryInfo> = self
            .queries
            .runs
            .lock()
            .values()
            .filter(|q| q.scope == c.scope)
            .filter(|q| input.log_group_name.as_ref().is_none_or(|g| q.groups.iter().any(|(_, n)| n == g)))
            .map(|q| QueryInfo {
                query_language: "CWLI".into(),
                query_id: q.id.clone(),
                query_string: q.text.clone(),
                status: q.progress.lock().status.unwrap_or(QueryStatus::Scheduled).as_str().into(),
                create_time: q.created,
                log_group_name: q.groups.first().map(|(_, n)| n.clone()),
            })
            .filter(|i| input.status.as_ref().is_none_or(|s| *s == i.status))
            .collect();
        all.sort_by(|a, b| (b.create_time, &b.query_id).cmp(&(a.create_time, &a.query_id)));
        let end = (offset + max).min(all.len());
        let next_token = (end < all.len()).then(|| paging::encode(&end, &fp));
        Ok(DescribeQueriesOutput { queries: all[offset.min(end)..end].to_vec(), next_token })
    }

    /// GetLogGroupFields: the fields of the group's events of the 15 minutes before `time`,
    /// with the share of events holding each.
    pub async fn get_log_group_fields(&self, c: &Caller<'_>, input: GetLogGroupFieldsInput) -> Result<GetLogGroupFieldsOutput> {
        let name = names::one_group(input.log_group_name.as_deref(), input.log_group_identifier.as_deref(), &c.scope.region, &c.scope.account)?;
        let id = self.group_id(&c.scope, &name)?;
        let at = input.time.map_or(self.store.clock().now().millis(), |t| t.saturating_mul(1000));
        let from = at - 15 * 60_000;
        let (total, counts) = self
            .store
            .visit_events_parallel(
                &c.scope,
                id,
                StreamSelect::All,
                from,
                at.saturating_add(1),
                None,
                || (0u64, HashMap::<String, u64>::new()),
                |(total, counts): &mut (u64, HashMap<String, u64>), e| {
                    *total += 1;
                    for f in insights::discover_fields(e.message) {
                        *counts.entry(f).or_default() += 1;
                    }
                },
                |(total, counts), (t, other)| {
                    *total += t;
                    for (f, n) in other {
                        *counts.entry(f).or_default() += n;
                    }
                },
            )
            .await?;
        let mut fields: Vec<LogGroupField> = Vec::new();
        if total > 0 {
            for sys in ["@timestamp", "@message", "@logStream", "@log", "@ingestionTime"] {
                fields.push(LogGroupField { name: sys.into(), percent: 100 });
            }
            let mut rest: Vec<LogGroupField> = counts.into_iter().map(|(name, n)| LogGroupField { name, percent: ((n * 100 + total / 2) / total) as i32 }).collect();
            rest.sort_by(|a, b| (b.percent, &a.name).cmp(&(a.percent, &b.name)));
            fields.extend(rest);
        }
        Ok(GetLogGroupFieldsOutput { log_group_fields: fields })
    }

    /// GetLogRecord: every field of the event an `@ptr` names.
    pub async fn get_log_record(&self, c: &Caller<'_>, input: GetLogRecordInput) -> Result<GetLogRecordOutput> {
        let bad = || LogsError::InvalidParameter("The specified logRecordPointer is invalid.".into());
        let (group, ts, lsn, idx, stream) = decode_ptr(&input.log_record_pointer).ok_or_else(bad)?;
        let name = self.store.with_state(|s| s.group_by_id(group).filter(|(sc, _)| **sc == c.scope).map(|(_, g)| g.name.clone())).ok_or_else(|| LogsError::ResourceNotFound("The specified log record does not exist.".into()))?;
        let log_name = format!("{}:{name}", c.scope.account);
        let found = self
            .store
            .visit_events_parallel(
                &c.scope,
                group,
                StreamSelect::Names(vec![stream]),
                ts,
                ts.saturating_add(1),
                None,
                || None,
                move |found: &mut Option<BTreeMap<String, String>>, e| {
                    if e.lsn == lsn && e.idx == idx {
                        let mut rec: BTreeMap<String, String> = insights::discover_field_values(e.message).into_iter().collect();
                        rec.insert("@timestamp".into(), e.ts.to_string());
                        rec.insert("@ingestionTime".into(), e.ingested.to_string());
                        rec.insert("@message".into(), e.message.to_string());
                        rec.insert("@logStream".into(), e.stream.to_string());
                        rec.insert("@log".into(), log_name.clone());
                        *found = Some(rec);
                    }
                },
                |found, other| {
                    if found.is_none() {
                        *found = other;
                    }
                },
            )
            .await?;
        let log_record = found.ok_or_else(|| LogsError::ResourceNotFound("The specified log record does not exist.".into()))?;
        Ok(GetLogRecordOutput { log_record })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip() {
        let p = encode_ptr(7, 1_700_000_000_123, 42, 3, "web/1:[x]");
        assert_eq!(decode_ptr(&p), Some((7, 1_700_000_000_123, 42, 3, "web/1:[x]".to_string())));
        assert_eq!(decode_ptr("not a pointer"), None);
    }
}
