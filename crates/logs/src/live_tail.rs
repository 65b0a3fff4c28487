//! StartLiveTail: an event stream of the events arriving in up to 10 log groups, optionally
//! narrowed to streams and a filter pattern. The answer is `initial-response` (as every
//! awsJson event stream opens), `sessionStart`, then one
//! `sessionUpdate` a second with at most 500 events (sampled evenly when more arrived, and
//! marked so), until the session's 3-hour limit ends it with a `SessionTimeoutException`.
//! A session buffers at most 5,000 events between updates, dropping the oldest.

use crate::error::{LogsError, Result};
use crate::filter::Matcher;
use crate::names;
use crate::service::{Caller, LogsService};
use crate::store::EventTap;
use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use watchtrail_wire::{eventstream, ByteStream};

/// Pacing and limits of live tail sessions.
#[derive(Debug, Clone)]
pub struct LiveTailOptions {
    /// Time between updates (1 s).
    pub update_interval: Duration,
    /// Session length (3 h).
    pub timeout: Duration,
    /// Events per update (500).
    pub max_events_per_update: usize,
    /// Events buffered between updates (5,000).
    pub max_buffered_events: usize,
}

impl Default for LiveTailOptions {
    fn default() -> Self {
        LiveTailOptions { update_interval: Duration::from_secs(1), timeout: Duration::from_secs(3 * 3600), max_events_per_update: 500, max_buffered_events: 5000 }
    }
}

/// StartLiveTail.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartLiveTailInput {
    /// 1–10 log groups, by ARN (or name).
    pub log_group_identifiers: Vec<String>,
    /// Only these streams (one group only).
    pub log_stream_names: Option<Vec<String>>,
    /// Only streams with these prefixes (one group only).
    pub log_stream_name_prefixes: Option<Vec<String>>,
    /// A filter pattern.
    pub log_event_filter_pattern: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionStart<'a> {
    request_id: &'a str,
    session_id: &'a str,
    log_group_identifiers: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    log_stream_names: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_stream_name_prefixes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_event_filter_pattern: Option<&'a str>,
}

/// One event of a `sessionUpdate`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct LiveEvent {
    log_stream_name: String,
    log_group_identifier: String,
    message: String,
    timestamp: i64,
    ingestion_time: i64,
}

/// A running session: what it wants, and what arrived since the last update.
struct Session {
    /// Group id → the identifier the client named it by.
    groups: HashMap<u64, String>,
    names: Option<Vec<String>>,
    prefixes: Option<Vec<String>>,
    matcher: Matcher,
    max_buffered: usize,
    buffer: Mutex<VecDeque<LiveEvent>>,
}

impl EventTap for Session {
    fn events(&self, group: u64, stream: &str, ingested: i64, events: &[(i64, String)]) {
        let Some(ident) = self.groups.get(&group) else { return };
        if self.names.as_ref().is_some_and(|n| !n.iter().any(|x| x == stream)) {
            return;
        }
        if self.prefixes.as_ref().is_some_and(|p| !p.iter().any(|x| stream.starts_with(x.as_str()))) {
            return;
        }
        let mut buf = self.buffer.lock();
        for (ts, msg) in events {
            if !self.matcher.matches(msg) {
                continue;
            }
            if buf.len() == self.max_buffered {
                buf.pop_front();
            }
            buf.push_back(LiveEvent { log_stream_name: stream.to_string(), log_group_identifier: ident.clone(), message: msg.clone(), timestamp: *ts, ingestion_time: ingested });
        }
    }
}

/// Picks `n` of `events`, evenly spread, keeping their order.
fn sample(events: Vec<LiveEvent>, n: usize) -> Vec<LiveEvent> {
    let len = events.len();
    if len <= n {
        return events;
    }
    let mut out = Vec::with_capacity(n);
    let mut next = 0usize;
    for (i, e) in events.into_iter().enumerate() {
        if i * n >= next * len && out.len() < n {
            out.push(e);
            next += 1;
        }
    }
    out
}

fn update_frame(events: Vec<LiveEvent>, sampled: bool) -> Bytes {
    let body = serde_json::json!({ "sessionMetadata": { "sampled": sampled }, "sessionResults": events });
    Bytes::from(eventstream::event("sessionUpdate", body.to_string().as_bytes()))
}

impl LogsService {
    /// StartLiveTail: checks the request and returns the session's event stream.
    pub fn start_live_tail(&self, c: &Caller<'_>, request_id: &str, input: StartLiveTailInput) -> Result<ByteStream> {
        let ids = &input.log_group_identifiers;
        if ids.is_empty() || ids.len() > 10 {
            return Err(LogsError::constraint("logGroupIdentifiers", format!("[{} identifiers]", ids.len()), "Member must have length between 1 and 10"));
        }
        if input.log_stream_names.is_some() && input.log_stream_name_prefixes.is_some() {
            return Err(LogsError::InvalidParameter("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.".into()));
        }
        let narrowed = input.log_stream_names.as_ref().or(input.log_stream_name_prefixes.as_ref());
        if let Some(list) = narrowed {
            if ids.len() != 1 {
                return Err(LogsError::InvalidParameter("logStreamNames and logStreamNamePrefixes can only be used with a single log group.".into()));
            }
            if list.is_empty() || list.len() > 100 {
                return Err(LogsError::constraint("logStreamNames", list.len(), "Member must have length between 1 and 100"));
            }
            for n in list {
                names::check_stream_name("logStreamNames.member", n)?;
            }
        }
        let pattern = input.log_event_filter_pattern.clone().unwrap_or_default();
        let matcher = Matcher::compile_param("logEventFilterPattern", &pattern)?;
        let mut groups = HashMap::new();
        for id in ids {
            let name = names::group_from_identifier("logGroupIdentifiers", id, &c.scope.region, &c.scope.account)?;
            let gid = self.group_id(&c.scope, &name)?;
            groups.insert(gid, id.clone());
        }
        let opts = self.live_tail.clone();
        let session = Arc::new(Session {
            groups,
            names: input.log_stream_names.clone(),
            prefixes: input.log_stream_name_prefixes.clone(),
            matcher,
            max_buffered: opts.max_buffered_events,
            buffer: Mutex::new(VecDeque::new()),
        });
        let tap: Arc<dyn EventTap> = session.clone();
        self.store.tap(Arc::downgrade(&tap));
        let session_id = uuid::Uuid::new_v4().to_string();
        let start = SessionStart {
            request_id,
            session_id: &session_id,
            log_group_identifiers: ids,
            log_stream_names: input.log_stream_names.as_deref(),
            log_stream_name_prefixes: input.log_stream_name_prefixes.as_deref(),
            log_event_filter_pattern: input.log_event_filter_pattern.as_deref(),
        };
        let start_frame = Bytes::from(eventstream::event("sessionStart", serde_json::to_string(&start).unwrap_or_default().as_bytes()));
        let deadline = tokio::time::Instant::now() + opts.timeout;
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + opts.update_interval, opts.update_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The stream owns the session (and so keeps its tap alive) until it ends or the client
        // goes away.
        let updates = futures::stream::unfold(Some((session, tap, interval)), move |st| async move {
            let (session, tap, mut interval) = st?;
            tokio::select! {
                _ = interval.tick() => {}
                _ = tokio::time::sleep_until(deadline) => {
                    let frame = Bytes::from(eventstream::exception("SessionTimeoutException", "Session timed out after 3 hours."));
                    return Some((frame, None));
                }
            }
            let events: Vec<LiveEvent> = session.buffer.lock().drain(..).collect();
            let sampled = events.len() > opts.max_events_per_update;
            let frame = update_frame(sample(events, opts.max_events_per_update), sampled);
            Some((frame, Some((session, tap, interval))))
        });
        // awsJson event streams open with `initial-response` (the output's other members: none
        // here); botocore requires it, the Rust SDK skips it.
        let initial = Bytes::from(eventstream::event("initial-response", b"{}"));
        let opening = futures::stream::iter([initial, start_frame]);
        Ok(Box::pin(futures::StreamExt::chain(opening, updates)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: usize) -> LiveEvent {
        LiveEvent { log_stream_name: "s".into(), log_group_identifier: "g".into(), message: i.to_string(), timestamp: i as i64, ingestion_time: 0 }
    }

    #[test]
    fn sampling_keeps_n_events_spread_in_order() {
        let picked = sample((0..2000).map(ev).collect(), 500);
        assert_eq!(picked.len(), 500);
        let ts: Vec<i64> = picked.iter().map(|e| e.timestamp).collect();
        assert!(ts.windows(2).all(|w| w[1] - w[0] == 4), "every fourth event of 2,000");
        assert_eq!(sample((0..7).map(ev).collect(), 500).len(), 7);
        let odd = sample((0..501).map(ev).collect(), 500);
        assert_eq!(odd.len(), 500);
        assert!(odd.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    }
}
