//! The activity journal on the shared commit log: records are durable alone or together with a
//! data write, survive a restart before and after they reach segments, and let the log
//! checkpoint only once persisted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use watchtrail_core::{ActivityRecord, Timestamp};
use watchtrail_store::{CommitLog, PartKind, WalOptions};
use watchtrail_trail::{Journal, JournalOptions, JournalSink};
use watchtrail_wire::{ActivitySink, DataWrite};

const T0: i64 = 1_767_225_600_000;

fn record(id: &str, ms: i64) -> ActivityRecord {
    ActivityRecord { time: Timestamp(ms), request_id: id.into(), operation: Some("PutMetricData".into()), http_status: 200, ..Default::default() }
}

/// A journal on a log of tiny files (a few records each), persisting by count and age only.
async fn open(dir: &std::path::Path) -> (Arc<CommitLog>, Arc<Journal>) {
    open_with(dir, false).await
}

async fn open_with(dir: &std::path::Path, flush_behind_log_file: bool) -> (Arc<CommitLog>, Arc<Journal>) {
    let opts = WalOptions { max_file_bytes: 512, ..WalOptions::default() };
    let (log, entries) = CommitLog::open(&dir.join("wal"), opts).unwrap();
    let jopts = JournalOptions { flush_max_records: 1000, flush_max_age_ms: 30_000, compact_after_segments: 8, flush_behind_log_file };
    let j = Journal::open(&dir.join("journal"), log.clone(), &entries, jopts).await.unwrap();
    (log, j)
}

#[tokio::test]
async fn records_left_behind_in_a_finished_log_file_are_persisted_at_the_next_tick() {
    let dir = tempfile::tempdir().unwrap();
    let (log, j) = open_with(dir.path(), true).await;
    let sink = JournalSink(j.clone());
    sink.append(&record("first", T0)).await.unwrap();
    assert_eq!(j.tick(Timestamp(T0 + 1)).await.unwrap(), 0, "its file is the one being written: not due");
    let mut i = 0;
    while log.files().len() < 3 {
        sink.append(&record(&format!("fill-{i}"), T0 + 1)).await.unwrap();
        i += 1;
    }
    let pending = j.pending();
    assert_eq!(j.tick(Timestamp(T0 + 1)).await.unwrap(), pending, "young and few, but behind the log's current file");
    assert_eq!(log.files().len(), 1, "the finished files left the log");
}

#[tokio::test]
async fn records_survive_restarts_and_gate_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let applied = Arc::new(AtomicU64::new(0));
    {
        let (log, j) = open(dir.path()).await;
        let sink = JournalSink(j.clone());
        sink.append(&record("r-alone", T0)).await.unwrap();
        let seen = applied.clone();
        let write = DataWrite { kind: PartKind::Metrics as u8, bytes: vec![7; 100], on_durable: Box::new(move |lsn| seen.store(lsn, Ordering::SeqCst)) };
        let lsn = sink.append_with(&record("r-with-data", T0 + 1), write).await.unwrap();
        assert_eq!(applied.load(Ordering::SeqCst), lsn, "the data's step ran before the append resolved");
        assert_eq!(log.stats().records, 2, "a record with data is one log record");
        assert_eq!(j.find("r-with-data").unwrap().request_id, "r-with-data");
        assert_eq!(j.pending(), 2);
        // Unknown part kinds are refused, not written.
        let bad = DataWrite { kind: 200, bytes: vec![1], on_durable: Box::new(|_| {}) };
        assert!(sink.append_with(&record("r-bad", T0 + 2), bad).await.is_err());
        assert!(j.find("r-bad").is_none());
        for i in 0..30 {
            sink.append(&record(&format!("fill-{i}"), T0 + 10 + i)).await.unwrap();
        }
        assert!(log.files().len() > 1);
        assert_eq!(log.checkpoint().unwrap(), 0, "nothing persisted yet: the log keeps everything");
    }
    {
        // Restart before any flush: everything comes back from the log.
        let (log, j) = open(dir.path()).await;
        assert_eq!(j.pending(), 32);
        assert_eq!(j.find("r-alone").unwrap().time, Timestamp(T0));
        assert_eq!(j.tick(Timestamp(T0 + 1_000)).await.unwrap(), 0, "not due yet");
        assert_eq!(j.tick(Timestamp(T0 + 30_000)).await.unwrap(), 32, "due once the oldest is 30 s old");
        assert_eq!(j.pending(), 0);
        assert_eq!(log.files().len(), 1, "persisted records no longer hold log files");
    }
    {
        // Restart after the flush: nothing is replayed; the records are read from segments.
        let (_log, j) = open(dir.path()).await;
        assert_eq!(j.pending(), 0);
        assert!(j.find("r-with-data").is_none(), "the in-memory tail starts empty");
        let r = j.find_durable("r-with-data").await.unwrap().expect("in a segment");
        assert_eq!(r.time, Timestamp(T0 + 1));
        assert!(j.find_durable("never").await.unwrap().is_none());
    }
}
