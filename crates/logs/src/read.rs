//! GetLogEvents and FilterLogEvents: pages cut from a group's events in time order, each
//! page found by one bounded pass (only the page's events are kept, never the whole range).

use crate::api::*;
use crate::error::{LogsError, Result};
use crate::filter::Matcher;
use crate::names;
use crate::paging;
use crate::service::{check_limit, Caller, LogsService};
use crate::store::{EventRef, Position, StreamSelect};
use std::collections::BinaryHeap;

/// A page holds at most this many bytes of events (1 MB).
pub const PAGE_BYTES: usize = 1_048_576;
/// Bytes an event costs on a page on top of its message (as AWS counts a batch).
const EVENT_PAGE_OVERHEAD: usize = 26;
/// Descending FilterLogEvents is allowed only from this start time (2024-01-01T00:00:00Z).
pub const DESCENDING_FROM_MS: i64 = 1_704_067_200_000;

/// One event kept for a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Where it sits in the group's order.
    pub pos: Position,
    /// Its stream.
    pub stream: String,
    /// Ingestion time.
    pub ingested: i64,
    /// The message.
    pub message: String,
}

impl Kept {
    fn of(e: EventRef<'_>) -> Kept {
        Kept { pos: e.position(), stream: e.stream.to_string(), ingested: e.ingested, message: e.message.to_string() }
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.pos.cmp(&other.pos)
    }
}

/// Keeps the `n` first (ascending) or last (descending) events offered, in any order.
#[derive(Debug)]
pub struct TopN {
    n: usize,
    ascending: bool,
    /// Ascending: a max-heap of the smallest; descending: a min-heap of the largest.
    small: BinaryHeap<Kept>,
    large: BinaryHeap<std::cmp::Reverse<Kept>>,
    /// Whether an event was turned away (more follow the page).
    pub overflowed: bool,
}

impl TopN {
    /// Keeps `n` events.
    pub fn new(n: usize, ascending: bool) -> Self {
        TopN { n, ascending, small: BinaryHeap::new(), large: BinaryHeap::new(), overflowed: false }
    }

    /// Offers an event (copied only if it may be kept).
    pub fn offer(&mut self, e: EventRef<'_>) {
        self.offer_with(e.position(), || Kept::of(e));
    }

    fn offer_with(&mut self, pos: Position, kept: impl FnOnce() -> Kept) {
        if self.ascending {
            if self.small.len() == self.n {
                self.overflowed = true;
                if self.small.peek().is_some_and(|top| top.pos <= pos) {
                    return;
                }
                self.small.pop();
            }
            self.small.push(kept());
        } else {
            if self.large.len() == self.n {
                self.overflowed = true;
                if self.large.peek().is_some_and(|top| top.0.pos >= pos) {
                    return;
                }
                self.large.pop();
            }
            self.large.push(std::cmp::Reverse(kept()));
        }
    }

    /// Folds in another selection of the same size and direction, offered other events.
    pub fn merge(&mut self, other: TopN) {
        self.overflowed |= other.overflowed;
        let kept: Vec<Kept> = other.small.into_iter().chain(other.large.into_iter().map(|r| r.0)).collect();
        for k in kept {
            self.offer_with(k.pos, || k);
        }
    }

    /// The kept events in page order (ascending or descending).
    pub fn into_sorted(self) -> Vec<Kept> {
        if self.ascending {
            self.small.into_sorted_vec()
        } else {
            let mut v: Vec<Kept> = self.large.into_iter().map(|r| r.0).collect();
            v.sort_by(|a, b| b.cmp(a));
            v
        }
    }
}

/// Cuts `events` (in page order) to at most [`PAGE_BYTES`]; returns whether it cut.
fn cut_to_bytes(events: &mut Vec<Kept>) -> bool {
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        bytes += e.message.len() + EVENT_PAGE_OVERHEAD;
        if bytes > PAGE_BYTES && i > 0 {
            events.truncate(i);
            return true;
        }
    }
    false
}

/// A GetLogEvents token: direction and the position it continues from.
fn encode_stream_token(forward: bool, p: Position) -> String {
    // Fixed width, AWS-like: `f/` or `b/`, 50 digits, `/s`.
    format!("{}/{:020}{:020}{:010}/s", if forward { 'f' } else { 'b' }, (p.ts as u64) ^ (1 << 63), p.lsn, p.idx)
}

fn decode_stream_token(t: &str) -> Option<(bool, Position)> {
    let (dir, rest) = t.split_once('/')?;
    let forward = match dir {
        "f" => true,
        "b" => false,
        _ => return None,
    };
    let digits = rest.strip_suffix("/s")?;
    if digits.len() != 50 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ts = digits[..20].parse::<u64>().ok()? ^ (1 << 63);
    Some((forward, Position { ts: ts as i64, lsn: digits[20..40].parse().ok()?, idx: digits[40..].parse().ok()? }))
}

const FIRST: Position = Position { ts: i64::MIN, lsn: 0, idx: 0 };
const LAST: Position = Position { ts: i64::MAX, lsn: u64::MAX, idx: u32::MAX };

impl LogsService {
    /// GetLogEvents: one stream's events in `[startTime, endTime)`, ascending, from the
    /// head, the tail, or a token's position; the same token comes back at the end.
    pub async fn get_log_events(&self, c: &Caller<'_>, input: GetLogEventsInput) -> Result<GetLogEventsOutput> {
        let group = names::one_group(input.log_group_name.as_deref(), input.log_group_identifier.as_deref(), &c.scope.region, &c.scope.account)?;
        names::check_stream_name("logStreamName", &input.log_stream_name)?;
        let limit = check_limit(input.limit, 10_000)?;
        let token = match &input.next_token {
            Some(t) => Some(decode_stream_token(t).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?),
            None => None,
        };
        let (id, retention) = self.store.with_state(|s| s.group(&c.scope, &group).map(|g| (g.id, g.retention_days, g.streams.contains_key(&input.log_stream_name)))).ok_or_else(LogsError::no_group).and_then(|(id, r, has)| if has { Ok((id, r)) } else { Err(LogsError::no_stream()) })?;
        let (from, to) = self.visible_range(input.start_time, input.end_time.map(|e| e.saturating_sub(1)), retention);
        // (forward, bound): forward reads events after `bound`, backward events before it.
        let (forward, bound) = match token {
            Some((f, p)) => (f, p),
            None if input.start_from_head.unwrap_or(false) => (true, FIRST),
            None => (false, LAST),
        };
        let sel = StreamSelect::Names(vec![input.log_stream_name.clone()]);
        let top = self
            .store
            .visit_events_parallel(
                &c.scope,
                id,
                sel,
                from,
                to,
                None,
                move || TopN::new(limit, forward),
                move |top: &mut TopN, e| {
                    let p = e.position();
                    if (forward && p > bound) || (!forward && p < bound) {
                        top.offer(e);
                    }
                },
                TopN::merge,
            )
            .await?;
        let mut page = top.into_sorted();
        cut_to_bytes(&mut page);
        if !forward {
            page.reverse();
        }
        let (fwd, bwd) = match (page.first(), page.last()) {
            (Some(first), Some(last)) => (encode_stream_token(true, last.pos), encode_stream_token(false, first.pos)),
            _ => match &input.next_token {
                Some(t) => (t.clone(), t.clone()),
                None => (encode_stream_token(true, bound), encode_stream_token(false, bound)),
            },
        };
        let events = page.into_iter().map(|k| OutputLogEvent { timestamp: k.pos.ts, message: k.message, ingestion_time: k.ingested }).collect();
        Ok(GetLogEventsOutput { events, next_forward_token: fwd, next_backward_token: bwd })
    }

    /// `[from, to)` for an inclusive `[start, end]` request, cut to what retention keeps.
    fn visible_range(&self, start: Option<i64>, end_inclusive: Option<i64>, retention_days: Option<i32>) -> (i64, i64) {
        let mut from = start.unwrap_or(i64::MIN);
        if let Some(d) = retention_days {
            from = from.max(self.store.clock().now().millis() - d as i64 * watchtrail_core::Timestamp::DAY);
        }
        let to = end_inclusive.map_or(i64::MAX, |e| e.saturating_add(1));
        (from, to)
    }

    /// FilterLogEvents: events of a group's streams in `[startTime, endTime]` matching the
    /// filter pattern, interleaved in time order (descending with `startFromHead = false`),
    /// pages of `limit` events or 1 MB.
    pub async fn filter_log_events(&self, c: &Caller<'_>, input: FilterLogEventsInput) -> Result<FilterLogEventsOutput> {
        let group = names::one_group(input.log_group_name.as_deref(), input.log_group_identifier.as_deref(), &c.scope.region, &c.scope.account)?;
        let limit = check_limit(input.limit, 10_000)?;
        if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into()));
        }
        let sel = match (&input.log_stream_names, &input.log_stream_name_prefix) {
            (Some(names_), _) => {
                if names_.is_empty() || names_.len() > 100 {
                    return Err(LogsError::constraint("logStreamNames", names_.len(), "Member must have length between 1 and 100"));
                }
                for n in names_ {
                    names::check_stream_name("logStreamNames.member", n)?;
                }
                let mut v = names_.clone();
                v.sort();
                v.dedup();
                StreamSelect::Names(v)
            }
            (None, Some(p)) => {
                names::check_stream_name("logStreamNamePrefix", p)?;
                StreamSelect::Prefix(p.clone())
            }
            (None, None) => StreamSelect::All,
        };
        let pattern_text = input.filter_pattern.clone().unwrap_or_default();
        let matcher = Matcher::compile(&pattern_text)?;
        let ascending = input.start_from_head.unwrap_or(true);
        if !ascending && input.start_time.is_none_or(|s| s < DESCENDING_FROM_MS) {
            return Err(LogsError::InvalidParameter("startFromHead=false (descending order) requires a startTime on or after 2024-01-01T00:00:00Z.".into()));
        }
        if let (Some(s), Some(e)) = (input.start_time, input.end_time) {
            if e < s {
                return Err(LogsError::InvalidParameter("endTime must be greater than or equal to startTime.".into()));
            }
        }
        let (id, retention) = self.store.with_state(|s| s.group(&c.scope, &group).map(|g| (g.id, g.retention_days))).ok_or_else(LogsError::no_group)?;
        let names_key = match &sel {
            StreamSelect::Names(v) => v.join("\n"),
            _ => String::new(),
        };
        let fp = paging::fingerprint(&[
            &group,
            &names_key,
            input.log_stream_name_prefix.as_deref().unwrap_or(""),
            &format!("{:?}/{:?}/{ascending}", input.start_time, input.end_time),
            &pattern_text,
        ]);
        let after: Option<Position> = match &input.next_token {
            Some(t) => {
                let (ts, lsn, idx): (i64, u64, u32) = paging::decode(t, &fp).ok_or_else(|| LogsError::InvalidParameter("The specified nextToken is invalid.".into()))?;
                Some(Position { ts, lsn, idx })
            }
            None => None,
        };
        let (mut from, mut to) = self.visible_range(input.start_time, input.end_time, retention);
        if let Some(a) = after {
            if ascending {
                from = from.max(a.ts);
            } else {
                to = to.min(a.ts.saturating_add(1));
            }
        }
        let blocks = matcher.block_test();
        let top = self
            .store
            .visit_events_parallel(
                &c.scope,
                id,
                sel,
                from,
                to,
                blocks,
                move || TopN::new(limit, ascending),
                move |top: &mut TopN, e| {
                    let p = e.position();
                    if let Some(a) = after {
                        if (ascending && p <= a) || (!ascending && p >= a) {
                            return;
                        }
                    }
                    if matcher.matches(e.message) {
                        top.offer(e);
                    }
                },
                TopN::merge,
            )
            .await?;
        let overflowed = top.overflowed;
        let mut page = top.into_sorted();
        let cut = cut_to_bytes(&mut page);
        let next_token = if overflowed || cut { page.last().map(|k| paging::encode(&(k.pos.ts, k.pos.lsn, k.pos.idx), &fp)) } else { None };
        let events = page
            .into_iter()
            .map(|k| FilteredLogEvent {
                event_id: format!("{:020}{:020}{:010}", (k.pos.ts as u64) ^ (1 << 63), k.pos.lsn, k.pos.idx),
                log_stream_name: k.stream,
                timestamp: k.pos.ts,
                message: k.message,
                ingestion_time: k.ingested,
            })
            .collect();
        Ok(FilterLogEventsOutput { events, searched_log_streams: Vec::new(), next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_tokens_round_trip() {
        for p in [FIRST, LAST, Position { ts: 1_700_000_000_000, lsn: 42, idx: 7 }, Position { ts: -5, lsn: 0, idx: 0 }] {
            for f in [true, false] {
                let t = encode_stream_token(f, p);
                assert_eq!(decode_stream_token(&t), Some((f, p)), "{t}");
            }
        }
        assert_eq!(decode_stream_token("f/123/s"), None);
        assert_eq!(decode_stream_token("x/00000000000000000000000000000000000000000000000000/s"), None);
    }

    fn ev(ts: i64, lsn: u64) -> Kept {
        Kept { pos: Position { ts, lsn, idx: 0 }, stream: "s".into(), ingested: 0, message: "m".into() }
    }

    #[test]
    fn merged_selections_equal_one_selection() {
        let all: Vec<Kept> = (0..200).map(|i| ev((i * 7919) % 173, i as u64)).collect();
        for ascending in [true, false] {
            let offer = |t: &mut TopN, k: &Kept| t.offer(EventRef { stream: &k.stream, ts: k.pos.ts, ingested: 0, lsn: k.pos.lsn, idx: 0, message: &k.message });
            let mut one = TopN::new(10, ascending);
            all.iter().for_each(|k| offer(&mut one, k));
            let mut parts: Vec<TopN> = (0..3).map(|_| TopN::new(10, ascending)).collect();
            for (i, k) in all.iter().enumerate() {
                offer(&mut parts[i % 3], k);
            }
            let mut merged = parts.remove(0);
            for p in parts {
                merged.merge(p);
            }
            assert!(merged.overflowed);
            assert_eq!(merged.into_sorted(), one.into_sorted());
        }
    }

    #[test]
    fn top_n_keeps_the_first_or_last_events_in_any_arrival_order() {
        let all: Vec<Kept> = (0..50).map(|i| ev((i * 7919) % 50, i as u64)).collect();
        for ascending in [true, false] {
            let mut t = TopN::new(5, ascending);
            for k in &all {
                t.offer(EventRef { stream: &k.stream, ts: k.pos.ts, ingested: 0, lsn: k.pos.lsn, idx: 0, message: &k.message });
            }
            assert!(t.overflowed);
            let got: Vec<i64> = t.into_sorted().iter().map(|k| k.pos.ts).collect();
            assert_eq!(got, if ascending { vec![0, 1, 2, 3, 4] } else { vec![49, 48, 47, 46, 45] });
        }
    }
}
