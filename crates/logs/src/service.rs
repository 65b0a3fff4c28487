//! The Logs operations as plain methods: control plane (groups, streams, retention, tags)
//! and PutLogEvents; reads are in [`crate::read`].

use crate::api::*;
use crate::error::{LogsError, Result};
use crate::log_part::{LogOp, NewGroup, Scope};
use crate::names;
use crate::paging;
use crate::state::Group;
use crate::store::LogStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use watchtrail_core::Timestamp;
use watchtrail_wire::ActivityTxn;

/// A batch may hold this many bytes, counting each event's UTF-8 message bytes plus
/// [`EVENT_OVERHEAD_BYTES`].
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes counted per event on top of its message.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// Events per batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// The largest message: an event of 1 MiB counting its overhead.
pub const MAX_EVENT_MESSAGE_BYTES: usize = MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES;
/// Events further in the future than this are refused (2 hours).
pub const TOO_NEW_MS: i64 = 2 * Timestamp::HOUR;
/// Events older than this are refused (14 days).
pub const TOO_OLD_MS: i64 = 14 * Timestamp::DAY;
/// The accepted events of one batch may span at most this (24 hours).
pub const MAX_BATCH_SPAN_MS: i64 = Timestamp::DAY;

/// Retention of DELIVERY-class log groups (fixed).
pub const DELIVERY_RETENTION_DAYS: i32 = 1;

/// Refuses changing the retention of a DELIVERY-class group.
fn check_retention_changeable(class: &str) -> Result<()> {
    if class == "DELIVERY" {
        return Err(LogsError::InvalidParameter("The retention of a log group in the DELIVERY class is fixed at 1 day.".into()));
    }
    Ok(())
}

/// Who calls, and where.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// The account and region the call touches.
    pub scope: Scope,
    /// The request's activity transaction: a change commits with its record.
    pub txn: Option<&'a ActivityTxn>,
}

/// The CloudWatch Logs service.
#[derive(Clone)]
pub struct LogsService {
    pub(crate) store: Arc<LogStore>,
    /// Serializes control-plane changes: each checks, commits and applies before the next.
    pub(crate) meta: Arc<tokio::sync::Mutex<()>>,
    /// Live tail pacing.
    pub(crate) live_tail: crate::live_tail::LiveTailOptions,
    /// Where metric filters publish (none: their datapoints are dropped).
    pub(crate) metric_sink: Option<Arc<dyn crate::metric_filter::MetricSink>>,
    /// Logs Insights queries.
    pub(crate) queries: Arc<crate::insights::Queries>,
}

impl std::fmt::Debug for LogsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsService").field("metric_sink", &self.metric_sink.is_some()).finish_non_exhaustive()
    }
}

impl LogsService {
    /// A service over `store`.
    pub fn new(store: Arc<LogStore>) -> Self {
        LogsService { store, meta: Arc::new(tokio::sync::Mutex::new(())), live_tail: Default::default(), metric_sink: None, queries: Default::default() }
    }

    /// The same service publishing metric filters' datapoints to `sink`.
    pub fn with_metric_sink(mut self, sink: Arc<dyn crate::metric_filter::MetricSink>) -> Self {
        self.metric_sink = Some(sink);
        self
    }

    /// Runs the metric filters, then flushes everything and saves the state (a clean stop).
    pub async fn flush(&self) -> Result<()> {
        self.run_metric_filters().await?;
        self.store.flush().await
    }

    /// Background work at `now`: metric filters first (their events stay in the head until
    /// then), then the store's maintenance.
    pub async fn tick(&self, now: Timestamp) -> Result<crate::store::TickReport> {
        self.run_metric_filters().await?;
        self.store.tick(now).await
    }

    /// The same service with other live tail pacing (tests shorten the session limit).
    pub fn with_live_tail(mut self, opts: crate::live_tail::LiveTailOptions) -> Self {
        self.live_tail = opts;
        self
    }

    /// The store (the server drives its `tick`).
    pub fn store(&self) -> &Arc<LogStore> {
        &self.store
    }

    fn now(&self) -> i64 {
        self.store.clock().now().millis()
    }

    /// The class of group `id`.
    pub(crate) fn group_class(&self, _scope: &Scope, id: u64) -> String {
        self.store.with_state(|s| s.group_by_id(id).map(|(_, g)| g.class.clone())).unwrap_or_default()
    }

    /// The group's id, or `ResourceNotFoundException`.
    pub(crate) fn group_id(&self, scope: &Scope, name: &str) -> Result<u64> {
        self.store.with_state(|s| s.group(scope, name).map(|g| g.id)).ok_or_else(LogsError::no_group)
    }

    /// CreateLogGroup.
    pub async fn create_log_group(&self, c: &Caller<'_>, input: CreateLogGroupInput) -> Result<()> {
        names::check_new_group_name(&input.log_group_name)?;
        let class = input.log_group_class.unwrap_or_else(|| "STANDARD".into());
        names::check_class(&class)?;
        if let Some(tags) = &input.tags {
            names::check_tags(tags, "tags")?;
        }
        if let Some(k) = &input.kms_key_id {
            if k.len() > 256 {
                return Err(LogsError::constraint("kmsKeyId", k, "Member must have length less than or equal to 256"));
            }
        }
        let _meta = self.meta.lock().await;
        let id = self.store.with_state(|s| if s.group(&c.scope, &input.log_group_name).is_some() { None } else { Some(s.next_group_id) });
        let Some(id) = id else {
            return Err(LogsError::ResourceAlreadyExists("The specified log group already exists".into()));
        };
        let group = NewGroup {
            id,
            name: input.log_group_name,
            time: self.now(),
            class,
            kms_key_id: input.kms_key_id,
            tags: input.tags.unwrap_or_default().into_iter().collect(),
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        };
        self.store.commit(LogOp::CreateGroup { scope: c.scope.clone(), group }, c.txn).await.map(|_| ())
    }

    /// DeleteLogGroup: the group, its streams and its events.
    pub async fn delete_log_group(&self, c: &Caller<'_>, input: LogGroupNameInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        let _meta = self.meta.lock().await;
        let (id, protected) = self.store.with_state(|s| s.group(&c.scope, &input.log_group_name).map(|g| (g.id, g.deletion_protection))).ok_or_else(LogsError::no_group)?;
        if protected {
            return Err(LogsError::OperationAborted("Log group deletion protection is enabled; disable it before deleting the log group.".into()));
        }
        self.store.commit(LogOp::DeleteGroup { scope: c.scope.clone(), id }, c.txn).await.map(|_| ())
    }

    fn log_group_view(&self, scope: &Scope, g: &Group) -> LogGroup {
        let arn = names::group_arn(&scope.region, &scope.account, &g.name);
        LogGroup {
            log_group_name: g.name.clone(),
            creation_time: g.creation_time,
            retention_in_days: g.retention_days,
            metric_filter_count: g.metric_filters.len() as i32,
            arn: format!("{arn}:*"),
            stored_bytes: g.stored_bytes() as i64,
            kms_key_id: g.kms_key_id.clone(),
            log_group_class: g.class.clone(),
            log_group_arn: arn,
            deletion_protection_enabled: g.deletion_protection.then_some(true),
        }
    }

    /// DescribeLogGroups: by name, ascending; prefix, case-insensitive pattern, class or
    /// identifiers; pages of `limit` (1–50, default 50).
    pub fn describe_log_groups(&self, c: &Caller<'_>, input: DescribeLogGroupsInput) -> Result<DescribeLogGroupsOutput> {
        let limit = check_limit(input.limit, 50)?;
        if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
            return Err(LogsError::InvalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.".into()));
        }
        if input.log_group_identifiers.is_some() && (input.log_group_name_prefix.is_some() || input.log_group_name_pattern.is_some()) {
            return Err(LogsError::InvalidParameter("LogGroupIdentifiers and LogGroup name prefix or pattern are mutually exclusive parameters.".into()));
        }
        if let Some(p) = &input.log_group_name_prefix {
            names::check_group_name("logGroupNamePrefix", p)?;
        }
        if let Some(p) = &input.log_group_name_pattern {
            if p.len() > 512 || !p.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_' | '/' | '#')) {
                return Err(LogsError::constraint("logGroupNamePattern", p, r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*"));
            }
        }
        if let Some(class) = &input.log_group_class {
            names::check_class(class)?;
        }
        let wanted: Option<Vec<String>> = match &input.log_group_identifiers {
            Some(ids) => {
                if ids.is_empty() || ids.len() > 50 {
                    return Err(LogsError::constraint("logGroupIdentifiers", ids.len(), "Member must have length between 1 and 50"));
                }
                Some(ids.iter().map(|id| names::group_from_identifier("logGroupIdentifiers", id, &c.scope.region, &c.scope.account)).collect::<Result<_>>()?)
            }
            None => None,
        };
        let fp = paging::fingerprint(&[
            input.log_group_name_prefix.as_deref().unwrap_or(""),
            input.log_group_name_pattern.as_deref().unwrap_or(""),
            input.log_group_class.as_deref().unwrap_or(""),
            &wanted.as_ref().map(|w| w.join("\n")).unwrap_or_default(),
        ]);
        let after: Option<String> = match &input.next_token {
            Some(t) => Some(paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?),
            None => None,
        };
        let pattern = input.log_group_name_pattern.as_deref().map(str::to_ascii_lowercase);
        let (groups, more) = self.store.with_state(|s| {
            let Some(all) = s.groups(&c.scope) else { return (Vec::new(), false) };
            let start = match &after {
                Some(a) => std::ops::Bound::Excluded(a.clone()),
                None => std::ops::Bound::Unbounded,
            };
            let mut out = Vec::new();
            let mut more = false;
            for (name, g) in all.range((start, std::ops::Bound::Unbounded)) {
                if let Some(p) = &input.log_group_name_prefix {
                    if !name.starts_with(p.as_str()) {
                        if name.as_str() > p.as_str() {
                            break;
                        }
                        continue;
                    }
                }
                if pattern.as_ref().is_some_and(|p| !name.to_ascii_lowercase().contains(p.as_str())) {
                    continue;
                }
                if input.log_group_class.as_ref().is_some_and(|cl| *cl != g.class) {
                    continue;
                }
                if wanted.as_ref().is_some_and(|w| !w.contains(name)) {
                    continue;
                }
                if out.len() == limit {
                    more = true;
                    break;
                }
                out.push(self.log_group_view(&c.scope, g));
            }
            (out, more)
        });
        let next_token = if more { groups.last().map(|g| paging::encode(&g.log_group_name, &fp)) } else { None };
        Ok(DescribeLogGroupsOutput { log_groups: groups, next_token })
    }

    /// CreateLogStream.
    pub async fn create_log_stream(&self, c: &Caller<'_>, input: LogStreamInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        names::check_stream_name("logStreamName", &input.log_stream_name)?;
        let _meta = self.meta.lock().await;
        let group = self.group_id(&c.scope, &input.log_group_name)?;
        let exists = self.store.with_state(|s| s.group(&c.scope, &input.log_group_name).is_some_and(|g| g.streams.contains_key(&input.log_stream_name)));
        if exists {
            return Err(LogsError::ResourceAlreadyExists("The specified log stream already exists".into()));
        }
        let op = LogOp::CreateStream { scope: c.scope.clone(), group, stream: input.log_stream_name, time: self.now() };
        self.store.commit(op, c.txn).await.map(|_| ())
    }

    /// DeleteLogStream: the stream and its events.
    pub async fn delete_log_stream(&self, c: &Caller<'_>, input: LogStreamInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        names::check_stream_name("logStreamName", &input.log_stream_name)?;
        let _meta = self.meta.lock().await;
        let group = self.group_id(&c.scope, &input.log_group_name)?;
        let exists = self.store.with_state(|s| s.group(&c.scope, &input.log_group_name).is_some_and(|g| g.streams.contains_key(&input.log_stream_name)));
        if !exists {
            return Err(LogsError::no_stream());
        }
        let op = LogOp::DeleteStream { scope: c.scope.clone(), group, stream: input.log_stream_name };
        self.store.commit(op, c.txn).await.map(|_| ())
    }

    /// DescribeLogStreams: by name (with an optional prefix) or by last event time, either
    /// direction; pages of `limit` (1–50, default 50).
    pub fn describe_log_streams(&self, c: &Caller<'_>, input: DescribeLogStreamsInput) -> Result<DescribeLogStreamsOutput> {
        let name = names::one_group(input.log_group_name.as_deref(), input.log_group_identifier.as_deref(), &c.scope.region, &c.scope.account)?;
        let limit = check_limit(input.limit, 50)?;
        let by_time = match input.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => return Err(LogsError::constraint("orderBy", other, "Member must satisfy enum value set: [LogStreamName, LastEventTime]")),
        };
        if let Some(p) = &input.log_stream_name_prefix {
            names::check_stream_name("logStreamNamePrefix", p)?;
            if by_time {
                return Err(LogsError::InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.".into()));
            }
        }
        let descending = input.descending.unwrap_or(false);
        let fp = paging::fingerprint(&[&name, input.log_stream_name_prefix.as_deref().unwrap_or(""), if by_time { "t" } else { "n" }, if descending { "d" } else { "a" }]);
        let after: Option<(i64, String)> = match &input.next_token {
            Some(t) => Some(paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?),
            None => None,
        };
        let (streams, more) = self.store.with_state(|s| -> Result<_> {
            let g = s.group(&c.scope, &name).ok_or_else(LogsError::no_group)?;
            let mut keyed: Vec<((i64, &String), &crate::state::Stream)> = g
                .streams
                .iter()
                .filter(|(n, _)| input.log_stream_name_prefix.as_ref().is_none_or(|p| n.starts_with(p.as_str())))
                .map(|(n, st)| (((if by_time { st.last_event.unwrap_or(0) } else { 0 }), n), st))
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            if descending {
                keyed.reverse();
            }
            let start = match &after {
                Some((t, n)) => keyed.iter().position(|((kt, kn), _)| {
                    let k = (*kt, kn.as_str());
                    if descending { k < (*t, n.as_str()) } else { k > (*t, n.as_str()) }
                }).unwrap_or(keyed.len()),
                None => 0,
            };
            let page: Vec<LogStream> = keyed[start..]
                .iter()
                .take(limit)
                .map(|((_, n), st)| LogStream {
                    log_stream_name: (*n).clone(),
                    creation_time: st.creation_time,
                    first_event_timestamp: st.first_event,
                    last_event_timestamp: st.last_event,
                    last_ingestion_time: st.last_ingestion,
                    upload_sequence_token: None,
                    arn: names::stream_arn(&c.scope.region, &c.scope.account, &name, n),
                    stored_bytes: st.stored_bytes as i64,
                })
                .collect();
            Ok((page, keyed.len() > start + limit))
        })?;
        let next_token = if more {
            streams.last().map(|l| paging::encode(&(if by_time { l.last_event_timestamp.unwrap_or(0) } else { 0 }, &l.log_stream_name), &fp))
        } else {
            None
        };
        Ok(DescribeLogStreamsOutput { log_streams: streams, next_token })
    }

    /// PutRetentionPolicy.
    pub async fn put_retention_policy(&self, c: &Caller<'_>, input: PutRetentionPolicyInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        names::check_retention(input.retention_in_days)?;
        let _meta = self.meta.lock().await;
        let group = self.group_id(&c.scope, &input.log_group_name)?;
        check_retention_changeable(&self.group_class(&c.scope, group))?;
        self.store.commit(LogOp::Retention { scope: c.scope.clone(), group, days: Some(input.retention_in_days) }, c.txn).await.map(|_| ())
    }

    /// DeleteRetentionPolicy: events never expire again.
    pub async fn delete_retention_policy(&self, c: &Caller<'_>, input: LogGroupNameInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        let _meta = self.meta.lock().await;
        let group = self.group_id(&c.scope, &input.log_group_name)?;
        check_retention_changeable(&self.group_class(&c.scope, group))?;
        self.store.commit(LogOp::Retention { scope: c.scope.clone(), group, days: None }, c.txn).await.map(|_| ())
    }

    /// The group an ARN of TagResource and friends names.
    fn group_of_arn(&self, c: &Caller<'_>, arn: &str) -> Result<String> {
        if !arn.starts_with("arn:") {
            return Err(LogsError::InvalidParameter(format!("Invalid resource ARN: {arn}")));
        }
        names::group_from_identifier("resourceArn", arn, &c.scope.region, &c.scope.account).map_err(|e| match e {
            LogsError::InvalidParameter(_) => LogsError::InvalidParameter(format!("Invalid resource ARN: {arn}")),
            other => other,
        })
    }

    async fn change_tags(&self, c: &Caller<'_>, name: &str, set: BTreeMap<String, String>, remove: Vec<String>) -> Result<()> {
        let _meta = self.meta.lock().await;
        let (group, current) = self.store.with_state(|s| s.group(&c.scope, name).map(|g| (g.id, g.tags.clone()))).ok_or_else(LogsError::no_group)?;
        let mut after = current;
        after.extend(set.clone());
        for k in &remove {
            after.remove(k);
        }
        if after.len() > 50 {
            return Err(LogsError::InvalidParameter("A resource can have at most 50 tags.".into()));
        }
        self.store.commit(LogOp::Tags { scope: c.scope.clone(), group, set: set.into_iter().collect(), remove }, c.txn).await.map(|_| ())
    }

    /// TagResource.
    pub async fn tag_resource(&self, c: &Caller<'_>, input: TagResourceInput) -> Result<()> {
        let name = self.group_of_arn(c, &input.resource_arn)?;
        names::check_tags(&input.tags, "tags")?;
        self.change_tags(c, &name, input.tags, Vec::new()).await
    }

    /// UntagResource.
    pub async fn untag_resource(&self, c: &Caller<'_>, input: UntagResourceInput) -> Result<()> {
        let name = self.group_of_arn(c, &input.resource_arn)?;
        self.change_tags(c, &name, BTreeMap::new(), input.tag_keys).await
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(&self, c: &Caller<'_>, input: ResourceArnInput) -> Result<TagsOutput> {
        let name = self.group_of_arn(c, &input.resource_arn)?;
        self.list_tags_log_group(c, LogGroupNameInput { log_group_name: name })
    }

    /// TagLogGroup (deprecated).
    pub async fn tag_log_group(&self, c: &Caller<'_>, input: TagLogGroupInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        names::check_tags(&input.tags, "tags")?;
        self.change_tags(c, &input.log_group_name, input.tags, Vec::new()).await
    }

    /// UntagLogGroup (deprecated).
    pub async fn untag_log_group(&self, c: &Caller<'_>, input: UntagLogGroupInput) -> Result<()> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        self.change_tags(c, &input.log_group_name, BTreeMap::new(), input.tags).await
    }

    /// ListTagsLogGroup (deprecated).
    pub fn list_tags_log_group(&self, c: &Caller<'_>, input: LogGroupNameInput) -> Result<TagsOutput> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        let tags = self.store.with_state(|s| s.group(&c.scope, &input.log_group_name).map(|g| g.tags.clone())).ok_or_else(LogsError::no_group)?;
        Ok(TagsOutput { tags })
    }

    /// PutLogEvents with every rule of the reference (§4): the whole batch fails for a bad
    /// shape, size, order or span; events too new, too old or past retention are refused
    /// one by one and reported; the rest are durable before the answer.
    pub async fn put_log_events(&self, c: &Caller<'_>, input: PutLogEventsInput) -> Result<PutLogEventsOutput> {
        names::check_group_name("logGroupName", &input.log_group_name)?;
        names::check_stream_name("logStreamName", &input.log_stream_name)?;
        let events = input.log_events;
        check_batch_shape(&events)?;
        let (group, retention) = self
            .store
            .with_state(|s| s.group(&c.scope, &input.log_group_name).map(|g| (g.id, g.retention_days, g.streams.contains_key(&input.log_stream_name))))
            .map(|(id, r, has_stream)| if has_stream { Ok((id, r)) } else { Err(LogsError::no_stream()) })
            .ok_or_else(LogsError::no_group)??;
        let plan = plan_batch(&events, self.now(), retention)?;
        let token = Some(format!("{:056}", self.now().max(0)));
        let accepted = plan.accepted.clone();
        if accepted.is_empty() {
            return Ok(PutLogEventsOutput { next_sequence_token: token, rejected_log_events_info: plan.rejected() });
        }
        let first = accepted.start;
        let batch: Vec<(i64, String)> = events.into_iter().skip(first).take(accepted.len()).map(|e| (e.timestamp, e.message)).collect();
        let op = LogOp::Events { scope: c.scope.clone(), group, stream: input.log_stream_name, ingested: self.now(), first_index: first as u32, events: batch };
        self.store.commit(op, c.txn).await?;
        Ok(PutLogEventsOutput { next_sequence_token: token, rejected_log_events_info: plan.rejected() })
    }
}

/// A limit parameter: 1..=max, default `max`.
pub(crate) fn check_limit(limit: Option<i32>, max: i32) -> Result<usize> {
    match limit {
        None => Ok(max as usize),
        Some(l) if l < 1 => Err(LogsError::constraint("limit", l, "Member must have value greater than or equal to 1")),
        Some(l) if l > max => Err(LogsError::constraint("limit", l, &format!("Member must have value less than or equal to {max}"))),
        Some(l) => Ok(l as usize),
    }
}

/// Which events of a batch are stored, and which were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    /// Indexes of the stored events.
    pub accepted: std::ops::Range<usize>,
    /// Last index refused as more than 14 days old.
    pub too_old_end: Option<usize>,
    /// Last index refused as older than the group's retention.
    pub expired_end: Option<usize>,
    /// First index refused as more than 2 hours in the future.
    pub too_new_start: Option<usize>,
}

impl BatchPlan {
    /// The `rejectedLogEventsInfo` of the answer, when something was refused.
    pub fn rejected(&self) -> Option<RejectedLogEventsInfo> {
        let info = RejectedLogEventsInfo {
            too_new_log_event_start_index: self.too_new_start.map(|i| i as i32),
            too_old_log_event_end_index: self.too_old_end.map(|i| i as i32),
            expired_log_event_end_index: self.expired_end.map(|i| i as i32),
        };
        (info != RejectedLogEventsInfo::default()).then_some(info)
    }
}

/// The rules that need no log group: event count, message sizes, batch size, order.
pub fn check_batch_shape(events: &[InputLogEvent]) -> Result<()> {
    if events.is_empty() {
        return Err(LogsError::constraint("logEvents", "[]", "Member must have length greater than or equal to 1"));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(LogsError::constraint("logEvents", format!("[{} events]", events.len()), "Member must have length less than or equal to 10000"));
    }
    let mut total = 0usize;
    for (i, e) in events.iter().enumerate() {
        if e.message.is_empty() {
            return Err(LogsError::constraint(&format!("logEvents.{}.member.message", i + 1), "", "Member must have length greater than or equal to 1"));
        }
        if e.message.len() > MAX_EVENT_MESSAGE_BYTES {
            return Err(LogsError::InvalidParameter(format!("Log event too large: {} bytes exceeds limit of {MAX_EVENT_MESSAGE_BYTES}", e.message.len())));
        }
        total += e.message.len() + EVENT_OVERHEAD_BYTES;
    }
    if total > MAX_BATCH_BYTES {
        return Err(LogsError::InvalidParameter(format!("Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(LogsError::InvalidParameter("Log events in a single PutLogEvents request must be in chronological order.".into()));
    }
    Ok(())
}

/// Which events of a well-formed batch are refused at `now` (too new, too old, past
/// `retention_days`), and the 24-hour span rule over the rest.
pub fn plan_batch(events: &[InputLogEvent], now: i64, retention_days: Option<i32>) -> Result<BatchPlan> {
    // Sorted, so each refusal is a prefix (too old, expired) or a suffix (too new).
    let last_before = |cutoff: i64| events.iter().rposition(|e| e.timestamp < cutoff);
    let too_old_end = last_before(now - TOO_OLD_MS);
    let expired_end = retention_days.and_then(|d| last_before(now - d as i64 * Timestamp::DAY));
    let too_new_start = events.iter().position(|e| e.timestamp > now + TOO_NEW_MS);
    let start = too_old_end.max(expired_end).map_or(0, |i| i + 1);
    let end = too_new_start.unwrap_or(events.len()).max(start);
    if end > start && events[end - 1].timestamp - events[start].timestamp > MAX_BATCH_SPAN_MS {
        return Err(LogsError::InvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into()));
    }
    Ok(BatchPlan { accepted: start..end, too_old_end, expired_end, too_new_start })
}
