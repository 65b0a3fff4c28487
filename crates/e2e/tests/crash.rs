//! Crash safety: a child server is killed with SIGKILL during sustained PutMetricData; after
//! every restart, every datum the server acknowledged must be readable with its exact value,
//! and every acknowledged call must be in the activity journal (its record is committed in the
//! same log record as its data).
//!
//! The child is this test binary re-executed with `WATCHTRAIL_CRASH_CHILD_DIR` set: it runs a
//! real server (background flushes and compaction on, with a small flush threshold so segments
//! are written while it is being killed) and prints `READY <endpoint>`. It exits when its stdin
//! closes, so it never outlives the parent.

mod common;

use aws_sdk_cloudwatch::operation::RequestId;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy};
use common::*;
use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CHILD_ENV: &str = "WATCHTRAIL_CRASH_CHILD_DIR";
const CYCLES: usize = 20;
const WRITERS: usize = 4;
const DATUMS_PER_PUT: i64 = 10;

/// Entry point of the child process; does nothing in a normal test run.
#[test]
fn crash_child_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    std::thread::spawn(|| {
        // Parent gone (stdin closed) → exit.
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {}
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let mut cfg = config(std::path::Path::new(&dir));
        cfg.background_jobs = true;
        cfg.metric_store.flush_max_samples = 1_500;
        cfg.metric_store.compact_after_segments = 4;
        let server = watchtrail::Server::start(cfg).await.expect("child server starts");
        println!("READY {}", server.endpoint());
        std::future::pending::<()>().await;
        drop(server);
    });
}

fn spawn_child(dir: &std::path::Path) -> (Child, String) {
    common::spawn_child("crash_child_entry", CHILD_ENV, dir)
}

/// Acknowledged datums: metric name → (timestamp seconds → value).
type Acked = Arc<Mutex<HashMap<String, HashMap<i64, f64>>>>;

async fn verify(endpoint: &str, acked: &Acked, base: i64, horizon: i64) -> usize {
    let cw = cloudwatch_with(endpoint, AKID, SECRET);
    let expected = acked.lock().expect("lock").clone();
    let names: Vec<String> = expected.keys().cloned().collect();
    let mut checked = 0;
    for chunk in names.chunks(100) {
        let mut req = cw.get_metric_data().start_time(at(base)).end_time(at(horizon)).scan_by(ScanBy::TimestampAscending);
        for (i, name) in chunk.iter().enumerate() {
            req = req.metric_data_queries(
                MetricDataQuery::builder()
                    .id(format!("q{i}"))
                    .metric_stat(MetricStat::builder().metric(Metric::builder().namespace("Crash").metric_name(name).build()).period(1).stat("Sum").build())
                    .build(),
            );
        }
        let out = req.send().await.expect("verification query");
        assert!(out.next_token().is_none(), "verification fits one page");
        for (i, name) in chunk.iter().enumerate() {
            let id = format!("q{i}");
            let r = out.metric_data_results().iter().find(|r| r.id() == Some(id.as_str())).expect("result per query");
            let got: HashMap<i64, f64> = r.timestamps().iter().map(|t| t.secs()).zip(r.values().iter().copied()).collect();
            for (ts, v) in &expected[name] {
                assert_eq!(got.get(ts), Some(v), "acknowledged datum {name}@{ts} lost or wrong after SIGKILL");
                checked += 1;
            }
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_sustained_puts_loses_no_acknowledged_datum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, now) = minute_now();
    let base = now - 1800; // high-resolution data stays readable at Period=1 for 3 hours
    let acked: Acked = Arc::default();
    let acked_ids: Arc<Mutex<Vec<String>>> = Arc::default();
    // Kill points are spread deterministically over 40..400 acknowledged puts.
    let kill_after: Vec<usize> = (0..CYCLES).map(|c| 40 + (c * 97) % 360).collect();
    let mut total_checked = 0;
    for (cycle, kill_at) in kill_after.iter().enumerate() {
        let (mut child, endpoint) = spawn_child(dir.path());
        total_checked = verify(&endpoint, &acked, base, now + 60).await;
        let acks = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let cw = cloudwatch_with(&endpoint, AKID, SECRET);
            let acked = acked.clone();
            let acks = acks.clone();
            let acked_ids = acked_ids.clone();
            let stop = stop_rx.clone();
            let name = format!("c{cycle}w{w}");
            writers.push(tokio::spawn(async move {
                let mut seq: i64 = 0;
                while !*stop.borrow() && seq < 1700 {
                    let mut req = cw.put_metric_data().namespace("Crash");
                    let mut batch = Vec::new();
                    for _ in 0..DATUMS_PER_PUT {
                        let ts = base + seq;
                        let value = (cycle * 1_000_000 + w * 10_000) as f64 + seq as f64;
                        req = req.metric_data(MetricDatum::builder().metric_name(&name).timestamp(at(ts)).value(value).storage_resolution(1).build());
                        batch.push((ts, value));
                        seq += 1;
                    }
                    match req.send().await {
                        Ok(out) => {
                            acked_ids.lock().expect("lock").push(out.request_id().expect("request id").to_string());
                            let mut a = acked.lock().expect("lock");
                            a.entry(name.clone()).or_default().extend(batch);
                            drop(a);
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        eprintln!("cycle {cycle}: restarted, {total_checked} acknowledged datums verified; killing after {kill_at} puts");
        // Kill once enough puts were acknowledged (progress-driven, no timers).
        let mut progress = tokio::time::interval(std::time::Duration::from_millis(2));
        while acks.load(Ordering::SeqCst) < *kill_at && writers.iter().any(|w| !w.is_finished()) {
            progress.tick().await;
        }
        child.kill().expect("SIGKILL child");
        let _ = child.wait();
        let _ = stop_tx.send(true);
        for w in writers {
            w.await.expect("writer task");
        }
    }
    // Final restart and check of everything acknowledged in all cycles.
    let (mut child, endpoint) = spawn_child(dir.path());
    let checked = verify(&endpoint, &acked, base, now + 60).await;
    child.kill().expect("kill final child");
    let _ = child.wait();
    let total: usize = acked.lock().expect("lock").values().map(HashMap::len).sum();
    assert_eq!(checked, total);
    assert!(total >= total_checked);
    assert!(total > 20 * 40 * DATUMS_PER_PUT as usize / 2, "load actually ran: {total} datums acknowledged");

    // Every acknowledged call is in the journal: open the data directory's log and journal.
    let (log, entries) = watchtrail_store::CommitLog::open(&dir.path().join("wal"), Default::default()).expect("commit log opens");
    let journal = watchtrail_trail::Journal::open(&dir.path().join("journal"), log, &entries, Default::default()).await.expect("journal opens");
    let ids = acked_ids.lock().expect("lock").clone();
    for id in &ids {
        let rec = journal.find_durable(id).await.expect("journal readable").unwrap_or_else(|| panic!("acknowledged call {id} missing from the journal"));
        assert_eq!((rec.operation.as_deref(), rec.http_status), (Some("PutMetricData"), 200));
    }
    println!("crash test: {CYCLES} SIGKILL cycles, {total} acknowledged datums and {} journal records verified", ids.len());
}
