//! Retention with an injected clock: once a group's retention passes, its old events are no
//! longer read and `tick(now)` drops the whole segments holding only them; newer events stay.
//! Deleting a group drops its segments too.

use std::sync::Arc;
use watchtrail_core::{Clock, ManualClock, Timestamp};
use watchtrail_logs::api::*;
use watchtrail_logs::{Caller, LogStore, LogStoreOptions, LogsService, Scope};
use watchtrail_store::{CommitLog, WalOptions};

const DAY: i64 = Timestamp::DAY;

async fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> LogsService {
    let (log, entries) = CommitLog::open(&dir.join("wal"), WalOptions::default()).expect("log");
    let store = LogStore::open(&dir.join("logs"), clock, LogStoreOptions::default(), log, &entries).await.expect("store");
    LogsService::new(Arc::new(store))
}

fn caller() -> Caller<'static> {
    Caller { scope: Scope { account: "123456789012".into(), region: "us-east-1".into() }, txn: None }
}

async fn put(svc: &LogsService, stream: &str, events: &[(i64, &str)]) {
    let input = PutLogEventsInput {
        log_group_name: "g".into(),
        log_stream_name: stream.into(),
        log_events: events.iter().map(|(ts, m)| InputLogEvent { timestamp: *ts, message: m.to_string() }).collect(),
        ..Default::default()
    };
    let out = svc.put_log_events(&caller(), input).await.expect("put");
    assert_eq!(out.rejected_log_events_info, None);
}

async fn messages(svc: &LogsService) -> Vec<String> {
    let out = svc.filter_log_events(&caller(), FilterLogEventsInput { log_group_name: Some("g".into()), ..Default::default() }).await.expect("filter");
    out.events.into_iter().map(|e| e.message).collect()
}

#[tokio::test]
async fn events_past_retention_disappear_and_newer_ones_stay() {
    let t0 = Timestamp(1_800_000_000_000);
    let clock = Arc::new(ManualClock::new(t0));
    let dir = tempfile::tempdir().expect("dir");
    let svc = &open(dir.path(), clock.clone()).await;
    svc.create_log_group(&caller(), CreateLogGroupInput { log_group_name: "g".into(), ..Default::default() }).await.expect("group");
    svc.create_log_stream(&caller(), LogStreamInput { log_group_name: "g".into(), log_stream_name: "s".into() }).await.expect("stream");
    svc.put_retention_policy(&caller(), PutRetentionPolicyInput { log_group_name: "g".into(), retention_in_days: 3 }).await.expect("retention");

    // Day 0: old events, flushed into their own segment.
    put(svc, "s", &[(t0.millis() - 1000, "old 1"), (t0.millis() - 500, "old 2")]).await;
    let r = svc.store().tick_with(t0, true).await.expect("tick");
    assert_eq!(r.flushed_events, 2);
    // Day 2: newer events, another segment.
    clock.set(Timestamp(t0.millis() + 2 * DAY));
    put(svc, "s", &[(t0.millis() + 2 * DAY - 1000, "new 1")]).await;
    let r = svc.store().tick_with(clock.now(), true).await.expect("tick");
    assert_eq!((r.flushed_events, r.expired_segments), (1, 0));
    assert_eq!(messages(svc).await, ["old 1", "old 2", "new 1"]);

    // Day 3 and two hours: the old events are past 3 days, and so is every chunk of their
    // segment (a record's time is its chunk's first event, a chunk spans at most an hour);
    // the newer ones are not.
    let later = Timestamp(t0.millis() + 3 * DAY + 2 * 3_600_000);
    clock.set(later);
    assert_eq!(messages(svc).await, ["new 1"], "expired events are not read even before their segment is dropped");
    let r = svc.store().tick(later).await.expect("tick");
    assert_eq!(r.expired_segments, 1, "the old events' segment is dropped whole");
    assert_eq!((svc.store().totals().expired_segments, svc.store().totals().flushed_events), (1, 3), "reported since the store opened");
    assert_eq!(messages(svc).await, ["new 1"]);
    let r = svc.store().tick(later).await.expect("tick");
    assert_eq!(r.expired_segments, 0);

    // Without a policy nothing expires.
    svc.delete_retention_policy(&caller(), LogGroupNameInput { log_group_name: "g".into() }).await.expect("delete retention");
    clock.set(Timestamp(t0.millis() + 400 * DAY));
    let r = svc.store().tick(clock.now()).await.expect("tick");
    assert_eq!(r.expired_segments, 0);
    assert_eq!(messages(svc).await, ["new 1"]);

    // Deleting the group drops its segments.
    svc.delete_log_group(&caller(), LogGroupNameInput { log_group_name: "g".into() }).await.expect("delete");
    let r = svc.store().tick(clock.now()).await.expect("tick");
    assert_eq!(r.dropped_segments, 1);
}

#[tokio::test]
async fn the_state_and_unflushed_events_survive_reopening() {
    let t0 = Timestamp(1_800_000_000_000);
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(t0));
    {
        let svc = &open(dir.path(), clock.clone()).await;
        svc.create_log_group(&caller(), CreateLogGroupInput { log_group_name: "g".into(), ..Default::default() }).await.expect("group");
        svc.create_log_stream(&caller(), LogStreamInput { log_group_name: "g".into(), log_stream_name: "s".into() }).await.expect("stream");
        put(svc, "s", &[(t0.millis() - 10, "a")]).await;
        svc.store().tick_with(t0, true).await.expect("flush and snapshot");
        put(svc, "s", &[(t0.millis() - 5, "b")]).await;
        svc.put_retention_policy(&caller(), PutRetentionPolicyInput { log_group_name: "g".into(), retention_in_days: 7 }).await.expect("retention");
        svc.store().log().close();
        // Dropped without a flush: "b" and the policy are only in the commit log.
    }
    let svc = open(dir.path(), clock).await;
    assert_eq!(messages(&svc).await, ["a", "b"]);
    let groups = svc.describe_log_groups(&caller(), DescribeLogGroupsInput::default()).expect("describe");
    assert_eq!(groups.log_groups[0].retention_in_days, Some(7));
    assert_eq!(groups.log_groups[0].stored_bytes, 2);
}

/// A batch across midnight is flushed as one segment per day; after more events on both days
/// and a reopen from the commit log, every event is read exactly once, and compaction keeps
/// the days apart, so retention drops the older day whole.
#[tokio::test]
async fn events_across_midnight_are_stored_per_day_and_read_once() {
    let midnight = 1_800_000_000_000 / DAY * DAY + DAY;
    let t0 = Timestamp(midnight + 30 * 60_000);
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(t0));
    {
        let svc = &open(dir.path(), clock.clone()).await;
        svc.create_log_group(&caller(), CreateLogGroupInput { log_group_name: "g".into(), ..Default::default() }).await.expect("group");
        svc.create_log_stream(&caller(), LogStreamInput { log_group_name: "g".into(), log_stream_name: "s".into() }).await.expect("stream");
        put(svc, "s", &[(midnight - 40 * 60_000, "day1 a"), (midnight - 60_000, "day1 b"), (midnight + 2 * 3_600_000 + 60_000, "day2 a")]).await;
        let r = svc.store().tick_with(t0, true).await.expect("flush");
        assert_eq!(r.flushed_events, 3);
        put(svc, "s", &[(midnight - 30_000, "day1 c"), (midnight + 2 * 3_600_000 + 120_000, "day2 b")]).await;
        svc.store().tick_with(t0, true).await.expect("flush and compact");
        put(svc, "s", &[(midnight - 20_000, "day1 d"), (midnight + 2 * 3_600_000 + 180_000, "day2 c")]).await;
        assert_eq!(messages(svc).await, ["day1 a", "day1 b", "day1 c", "day1 d", "day2 a", "day2 b", "day2 c"]);
        svc.store().log().close();
    }
    let svc = open(dir.path(), clock.clone()).await;
    assert_eq!(messages(&svc).await, ["day1 a", "day1 b", "day1 c", "day1 d", "day2 a", "day2 b", "day2 c"], "after reopening");
    svc.store().tick_with(t0, true).await.expect("flush");
    assert_eq!(messages(&svc).await, ["day1 a", "day1 b", "day1 c", "day1 d", "day2 a", "day2 b", "day2 c"], "after flushing the replayed events");
    svc.put_retention_policy(&caller(), PutRetentionPolicyInput { log_group_name: "g".into(), retention_in_days: 1 }).await.expect("retention");
    let later = Timestamp(midnight + DAY + 3_600_000 + 30_000);
    clock.set(later);
    let r = svc.store().tick(later).await.expect("tick");
    assert!(r.expired_segments >= 1, "{r:?}");
    assert_eq!(messages(&svc).await, ["day2 a", "day2 b", "day2 c"]);
}

/// A chunk whose first event has expired but whose later events have not stays stored.
#[tokio::test]
async fn a_chunk_with_unexpired_events_is_kept() {
    let t0 = Timestamp(1_800_000_000_000);
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(t0));
    let svc = &open(dir.path(), clock.clone()).await;
    svc.create_log_group(&caller(), CreateLogGroupInput { log_group_name: "g".into(), ..Default::default() }).await.expect("group");
    svc.create_log_stream(&caller(), LogStreamInput { log_group_name: "g".into(), log_stream_name: "s".into() }).await.expect("stream");
    svc.put_retention_policy(&caller(), PutRetentionPolicyInput { log_group_name: "g".into(), retention_in_days: 1 }).await.expect("retention");
    put(svc, "s", &[(t0.millis() - 50 * 60_000, "older"), (t0.millis() - 5 * 60_000, "newer")]).await;
    svc.store().tick_with(t0, true).await.expect("flush");
    let later = Timestamp(t0.millis() + DAY - 20 * 60_000);
    clock.set(later);
    let r = svc.store().tick(later).await.expect("tick");
    assert_eq!(r.expired_segments, 0, "the chunk still holds an unexpired event");
    assert_eq!(messages(svc).await, ["newer"]);
}
