//! The metric store driven deterministically through `tick(now)` with a manual clock: flushes
//! happen when due and not before, a sample is never counted twice across head and segments,
//! compaction and retention keep exactly what they should, and a reopen sees the same data.

use std::sync::Arc;
use watchtrail_core::{Clock, ManualClock, Timestamp};
use watchtrail_metrics::model::{MetricKey, Sample, SampleValue, SeriesKey, Unit};
use watchtrail_metrics::{MetricStore, MetricStoreOptions};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn key(name: &str) -> SeriesKey {
    SeriesKey { metric: MetricKey::new("NS", name, vec![]), unit: Unit::Count }
}

fn sample(ts: i64, v: f64) -> Sample {
    Sample { ts: Timestamp(ts), resolution: 60, value: SampleValue::Single(v) }
}

fn opts() -> MetricStoreOptions {
    MetricStoreOptions {
        flush_max_samples: 1_000_000,
        flush_max_age_ms: 10 * Timestamp::MINUTE,
        retention_ms: 30 * Timestamp::DAY,
        compact_after_segments: 3,
        ..Default::default()
    }
}

/// [`opts`] with tiny log files: each record rotates the log, so a checkpoint deletes exactly
/// the records the store reports as persisted (and would delete those of lost samples).
fn tiny_log_opts() -> MetricStoreOptions {
    let mut o = opts();
    o.wal.max_file_bytes = 64;
    o
}

async fn sum(store: &MetricStore, name: &str) -> f64 {
    let s = store.samples("123456789012", "us-east-1", &key(name), Timestamp(0), Timestamp(i64::MAX / 4)).await.unwrap();
    s.iter()
        .map(|x| match x.value {
            SampleValue::Single(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn tick_flushes_when_due_and_reads_never_double_count() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let store = MetricStore::open(dir.path(), clock.clone(), opts()).await.unwrap();
    store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0, 1.0)), (key("a"), sample(T0 + 60_000, 2.0))]).await.unwrap();

    clock.advance(5 * Timestamp::MINUTE);
    let r = store.tick(clock.now()).await.unwrap();
    assert_eq!(r.samples, 0, "not due yet");
    assert_eq!(store.head_samples(), 2);
    assert_eq!(sum(&store, "a").await, 3.0);

    clock.advance(5 * Timestamp::MINUTE);
    let r = store.tick(clock.now()).await.unwrap();
    assert_eq!(r.samples, 2, "due after flush_max_age");
    assert_eq!(store.head_samples(), 0);
    assert_eq!(sum(&store, "a").await, 3.0, "moved from head to segment, counted once");

    // More flushes until compaction kicks in; the sum stays exact throughout.
    for i in 0..4 {
        store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0 + (2 + i) * 60_000, 10.0))]).await.unwrap();
        clock.advance(11 * Timestamp::MINUTE);
        store.tick(clock.now()).await.unwrap();
        assert_eq!(sum(&store, "a").await, 3.0 + 10.0 * (i + 1) as f64);
    }
    store.close();

    // Reopen: same data, nothing replayed twice.
    let store = MetricStore::open(dir.path(), clock.clone(), opts()).await.unwrap();
    assert_eq!(sum(&store, "a").await, 43.0);
    assert_eq!(store.head_samples(), 0);

    // Retention: 31 days later the old segments go, newer data stays.
    clock.advance(31 * Timestamp::DAY);
    store.ingest("123456789012", "us-east-1", vec![(key("b"), sample(clock.now().millis(), 5.0))]).await.unwrap();
    clock.advance(11 * Timestamp::MINUTE);
    store.tick(clock.now()).await.unwrap();
    assert_eq!(sum(&store, "a").await, 0.0, "older than retention");
    assert_eq!(sum(&store, "b").await, 5.0);
}

#[tokio::test]
async fn flush_by_size_and_wal_replay_after_an_unflushed_stop() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let o = MetricStoreOptions { flush_max_samples: 3, ..opts() };
    let store = MetricStore::open(dir.path(), clock.clone(), o.clone()).await.unwrap();
    store.ingest("123456789012", "us-east-1", vec![(key("c"), sample(T0, 1.0)), (key("c"), sample(T0, 1.0))]).await.unwrap();
    assert_eq!(store.tick(clock.now()).await.unwrap().samples, 0);
    store.ingest("123456789012", "us-east-1", vec![(key("c"), sample(T0, 1.0))]).await.unwrap();
    assert_eq!(store.tick(clock.now()).await.unwrap().samples, 3, "due by size");
    store.ingest("123456789012", "eu-west-1", vec![(key("c"), sample(T0, 7.0))]).await.unwrap();
    store.close();
    let store = MetricStore::open(dir.path(), clock, o).await.unwrap();
    assert_eq!(sum(&store, "c").await, 3.0);
    let eu = store.samples("123456789012", "eu-west-1", &key("c"), Timestamp(0), Timestamp(i64::MAX / 4)).await.unwrap();
    assert_eq!(eu.len(), 1, "replayed from the WAL into its own region");
}

/// The directory that holds the segments of the `us-east-1` data stream (not the index's).
fn data_stream_dir(root: &std::path::Path) -> std::path::PathBuf {
    let base = root.join("segments").join("segments");
    std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with("series") && name.contains("us-east-1")
        })
        .unwrap_or_else(|| panic!("no data stream directory under {}", base.display()))
}

#[tokio::test]
async fn a_failed_flush_keeps_every_sample_in_the_head_and_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let o = tiny_log_opts();
    let store = MetricStore::open(dir.path(), clock.clone(), o.clone()).await.unwrap();
    // Out of time order within a series, and one series in two calls at the same time.
    store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0 + 120_000, 1.0)), (key("a"), sample(T0, 2.0))]).await.unwrap();
    store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0, 4.0)), (key("b"), sample(T0, 8.0))]).await.unwrap();
    assert_eq!(store.flush().await.unwrap().samples, 4);
    let a = store.samples("123456789012", "us-east-1", &key("a"), Timestamp(0), Timestamp(i64::MAX / 4)).await.unwrap();
    let values: Vec<(i64, f64)> = a
        .iter()
        .map(|s| match s.value {
            SampleValue::Single(v) => (s.ts.millis(), v),
            _ => unreachable!("only single values were sent"),
        })
        .collect();
    assert_eq!(values, vec![(T0, 2.0), (T0, 4.0), (T0 + 120_000, 1.0)], "by time; equal times in arrival order");

    // Make the data stream's next segment write fail: its directory becomes a file.
    let stream_dir = data_stream_dir(dir.path());
    let aside = dir.path().join("aside");
    std::fs::rename(&stream_dir, &aside).unwrap();
    std::fs::write(&stream_dir, b"not a directory").unwrap();

    store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0 + 60_000, 16.0)), (key("c"), sample(T0, 32.0))]).await.unwrap();
    assert!(store.flush().await.is_err(), "the data segment cannot be written");
    assert_eq!(store.head_samples(), 2, "the samples went back into the head");
    assert_eq!(sum(&store, "a").await, 23.0);
    assert_eq!(sum(&store, "c").await, 32.0);
    store.ingest("123456789012", "us-east-1", vec![(key("c"), sample(T0 + 60_000, 64.0))]).await.unwrap();
    assert_eq!(store.head_samples(), 3);
    // Another consumer of the shared log (the activity journal) may checkpoint it now.
    store.log().checkpoint().unwrap();
    store.close();

    // Nothing of the failed flush was checkpointed away: a reopen replays it.
    std::fs::remove_file(&stream_dir).unwrap();
    std::fs::rename(&aside, &stream_dir).unwrap();
    let store = MetricStore::open(dir.path(), clock.clone(), o.clone()).await.unwrap();
    assert_eq!(store.head_samples(), 3);
    assert_eq!((sum(&store, "a").await, sum(&store, "b").await, sum(&store, "c").await), (23.0, 8.0, 96.0));
    assert_eq!(store.flush().await.unwrap().samples, 3);
    assert_eq!(store.head_samples(), 0);
    store.close();

    let store = MetricStore::open(dir.path(), clock, o).await.unwrap();
    assert_eq!(store.head_samples(), 0, "everything is in segments");
    assert_eq!((sum(&store, "a").await, sum(&store, "b").await, sum(&store, "c").await), (23.0, 8.0, 96.0));
}

#[tokio::test]
async fn a_cancelled_flush_puts_its_samples_back() {
    use futures::FutureExt;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let o = tiny_log_opts();
    let store = MetricStore::open(dir.path(), clock.clone(), o.clone()).await.unwrap();
    for i in 0..20 {
        store.ingest("123456789012", "us-east-1", vec![(key("a"), sample(T0 + i * 60_000, 1.0)), (key("b"), sample(T0, 2.0))]).await.unwrap();
    }
    // Polled once, then dropped: cancelled at its first await (encoding or writing), with the
    // samples already taken out of the head.
    assert!(store.flush().now_or_never().is_none(), "a flush cannot finish in one poll");
    assert_eq!(store.head_samples(), 40, "every taken sample went back");
    assert_eq!((sum(&store, "a").await, sum(&store, "b").await), (20.0, 40.0));
    // Another consumer checkpoints the shared log: nothing the head still needs may go.
    store.log().checkpoint().unwrap();
    store.close();

    let store = MetricStore::open(dir.path(), clock.clone(), o.clone()).await.unwrap();
    assert_eq!((sum(&store, "a").await, sum(&store, "b").await), (20.0, 40.0));
    assert_eq!(store.flush().await.unwrap().samples, 40);
    store.close();
    let store = MetricStore::open(dir.path(), clock, o).await.unwrap();
    assert_eq!(store.head_samples(), 0);
    assert_eq!((sum(&store, "a").await, sum(&store, "b").await), (20.0, 40.0), "written once");
}

/// Compaction runs without the store's view lock (so a long merge never stalls readers):
/// reads racing it on another thread still see every sample exactly once — the inputs or the
/// output, never both or neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_racing_a_compaction_see_every_sample_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let store = Arc::new(MetricStore::open(dir.path(), clock.clone(), opts()).await.unwrap());
    // Three flushed segments, each with 10 samples of each of 3,000 series: the next tick
    // compacts them, while reads of one small series are cheap enough to run many times over.
    for seg in 0..3i64 {
        let batch: Vec<_> = (0..3_000)
            .flat_map(|s| (0..10i64).map(move |i| (key(&format!("s{s}")), sample(T0 + (seg * 10 + i) * 60_000, 1.0))))
            .collect();
        store.ingest("123456789012", "us-east-1", batch).await.unwrap();
        store.flush().await.unwrap();
    }
    let segment_files = || std::fs::read_dir(data_stream_dir(dir.path())).unwrap().count();
    assert_eq!(segment_files(), 3);

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = 0u32;
            // At least one read after the compaction finished, however fast it was.
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                let series = format!("s{}", reads % 3_000);
                assert_eq!(sum(&store, &series).await, 30.0, "read {reads} ({series}) saw a sample twice or not at all");
                reads += 1;
                if finished {
                    return reads;
                }
            }
        })
    };
    store.tick(clock.now()).await.unwrap();
    done.store(true, std::sync::atomic::Ordering::Release);
    assert!(reader.await.unwrap() >= 1);
    assert_eq!(segment_files(), 1, "the three segments were compacted into one");
    assert_eq!(sum(&store, "s0").await, 30.0);
}

#[tokio::test]
async fn segments_of_the_per_sample_format_are_refused_not_misread() {
    use watchtrail_store::{BlobStore, Record, SegmentStore, SqliteCatalog};
    let dir = tempfile::tempdir().unwrap();
    {
        let catalog = Arc::new(SqliteCatalog::open(&dir.path().join("catalog.sqlite")).unwrap());
        let store = SegmentStore::new(BlobStore::local(&dir.path().join("segments")).unwrap(), catalog);
        store.write("metrics/123456789012/us-east-1", vec![Record::new("k", T0, "v")], 1).await.unwrap();
    }
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let err = MetricStore::open(dir.path(), clock, opts()).await.err().expect("refused");
    assert!(err.to_string().contains("older development build"), "{err}");
}

/// The commit-log part of earlier builds: one series key per sample.
#[derive(serde::Serialize)]
struct LegacyBatch {
    account: String,
    region: String,
    received: i64,
    entries: Vec<(SeriesKey, Sample)>,
}

/// The commit-log part of the builds before the columns: each series' key once, postcard.
#[derive(serde::Serialize)]
struct GroupedBatch {
    account: String,
    region: String,
    received: i64,
    series: Vec<(SeriesKey, Vec<Sample>)>,
}

/// Opens a store over a log holding one record of `kind` (postcard `part`), and checks
/// that it replays 2.0 and 3.0 for "old" and 7.0 for "other".
async fn replays_old_and_other(kind: watchtrail_store::PartKind, part: &impl serde::Serialize) {
    use watchtrail_store::{CommitLog, PartRef, WalOptions};
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = CommitLog::open(&dir.path().join("wal"), WalOptions::default()).unwrap();
        let bytes = postcard::to_allocvec(part).unwrap();
        log.append(&[PartRef { kind, bytes: &bytes }], None).await.unwrap();
    }
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let store = MetricStore::open(dir.path(), clock, opts()).await.unwrap();
    assert_eq!(store.head_samples(), 3);
    assert_eq!(sum(&store, "old").await, 5.0);
    assert_eq!(sum(&store, "other").await, 7.0);
}

#[tokio::test]
async fn commit_log_parts_of_the_per_sample_kind_are_still_replayed() {
    let batch = LegacyBatch {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        received: T0,
        entries: vec![(key("old"), sample(T0, 2.0)), (key("old"), sample(T0 + 60_000, 3.0)), (key("other"), sample(T0, 7.0))],
    };
    replays_old_and_other(watchtrail_store::PartKind::Metrics, &batch).await;
}

#[tokio::test]
async fn commit_log_parts_of_the_postcard_series_kind_are_still_replayed() {
    let batch = GroupedBatch {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        received: T0,
        series: vec![(key("old"), vec![sample(T0, 2.0), sample(T0 + 60_000, 3.0)]), (key("other"), vec![sample(T0, 7.0)])],
    };
    replays_old_and_other(watchtrail_store::PartKind::MetricSeries, &batch).await;
}
