//! Crash safety of CloudWatch Logs: a child server is killed with SIGKILL during sustained
//! PutLogEvents, 20 times; after every restart every acknowledged event must be readable,
//! exactly once, with its timestamp, and every acknowledged call must be in the journal.
//!
//! The child is this test binary re-executed with `WATCHTRAIL_LOGS_CRASH_CHILD_DIR` set: a
//! real server with background jobs on and a tiny flush threshold, so segments are written,
//! compacted and snapshots saved while it is being killed. It exits when its stdin closes.

mod common;

use aws_sdk_cloudwatchlogs::operation::RequestId;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::*;
use std::collections::HashMap;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CHILD_ENV: &str = "WATCHTRAIL_LOGS_CRASH_CHILD_DIR";
const CYCLES: usize = 20;
const WRITERS: usize = 4;
const EVENTS_PER_PUT: i64 = 20;
const GROUP: &str = "crash";

/// Entry point of the child process; does nothing in a normal test run.
#[test]
fn logs_crash_child_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {}
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let mut cfg = config(std::path::Path::new(&dir));
        cfg.background_jobs = true;
        cfg.log_store.flush_max_bytes = 8 * 1024;
        cfg.log_store.compact_after_segments = 3;
        let server = watchtrail::Server::start(cfg).await.expect("child server starts");
        println!("READY {}", server.endpoint());
        std::future::pending::<()>().await;
        drop(server);
    });
}

fn spawn_child(dir: &std::path::Path) -> (Child, String) {
    common::spawn_child("logs_crash_child_entry", CHILD_ENV, dir)
}

/// Acknowledged events: message → timestamp.
type Acked = Arc<Mutex<HashMap<String, i64>>>;

/// Reads the whole group back; every acknowledged event must be there exactly once.
async fn verify(endpoint: &str, acked: &Acked) -> usize {
    let c = logs_with(endpoint);
    let mut seen: HashMap<String, (i64, usize)> = HashMap::new();
    let mut pages = c.filter_log_events().log_group_name(GROUP).into_paginator().send();
    while let Some(p) = pages.next().await {
        for e in p.expect("verification page").events() {
            let entry = seen.entry(e.message().unwrap_or("").to_string()).or_insert((e.timestamp().unwrap_or(0), 0));
            entry.1 += 1;
        }
    }
    if let Some((m, (_, n))) = seen.iter().find(|(_, (_, n))| *n > 1) {
        panic!("event {m} stored {n} times");
    }
    let expected = acked.lock().expect("lock").clone();
    for (m, ts) in &expected {
        assert_eq!(seen.get(m).map(|s| s.0), Some(*ts), "acknowledged event {m} lost or wrong after SIGKILL");
    }
    expected.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_sustained_put_log_events_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = now_ms() - 3_600_000;
    let acked: Acked = Arc::default();
    let acked_ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let kill_after: Vec<usize> = (0..CYCLES).map(|c| 20 + (c * 97) % 200).collect();
    let mut verified = 0;
    for (cycle, kill_at) in kill_after.iter().enumerate() {
        let (mut child, endpoint) = spawn_child(dir.path());
        let c = logs_with(&endpoint);
        if cycle == 0 {
            c.create_log_group().log_group_name(GROUP).send().await.expect("group");
        } else {
            verified = verify(&endpoint, &acked).await;
        }
        for w in 0..WRITERS {
            c.create_log_stream().log_group_name(GROUP).log_stream_name(format!("c{cycle}w{w}")).send().await.expect("stream");
        }
        let acks = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let c = logs_with(&endpoint);
            let (acked, acks, acked_ids, stop) = (acked.clone(), acks.clone(), acked_ids.clone(), stop_rx.clone());
            let stream = format!("c{cycle}w{w}");
            writers.push(tokio::spawn(async move {
                let mut seq: i64 = 0;
                while !*stop.borrow() && seq < 40_000 {
                    let mut batch = Vec::new();
                    let mut req = c.put_log_events().log_group_name(GROUP).log_stream_name(&stream);
                    for _ in 0..EVENTS_PER_PUT {
                        let ts = base + seq;
                        let msg = format!("{stream} seq={seq} 127.0.0.1 - - \"GET /index.html HTTP/1.1\" 200 {}", seq * 7 % 5000);
                        req = req.log_events(InputLogEvent::builder().timestamp(ts).message(&msg).build().expect("event"));
                        batch.push((msg, ts));
                        seq += 1;
                    }
                    match req.send().await {
                        Ok(out) => {
                            assert!(out.rejected_log_events_info().is_none());
                            acked_ids.lock().expect("lock").push(out.request_id().expect("request id").to_string());
                            acked.lock().expect("lock").extend(batch);
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        eprintln!("cycle {cycle}: restarted, {verified} acknowledged events verified; killing after {kill_at} puts");
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
    let (mut child, endpoint) = spawn_child(dir.path());
    let total = verify(&endpoint, &acked).await;
    child.kill().expect("kill final child");
    let _ = child.wait();
    assert!(total >= verified);
    assert!(total > CYCLES * 20 * EVENTS_PER_PUT as usize / 2, "load actually ran: {total} events acknowledged");
    let segments = std::fs::read_dir(dir.path().join("logs").join("segments")).map(|d| d.count()).unwrap_or(0);
    assert!(segments > 0, "the load wrote segments while being killed");

    let (log, entries) = watchtrail_store::CommitLog::open(&dir.path().join("wal"), Default::default()).expect("commit log opens");
    let journal = watchtrail_trail::Journal::open(&dir.path().join("journal"), log, &entries, Default::default()).await.expect("journal opens");
    let ids = acked_ids.lock().expect("lock").clone();
    for id in &ids {
        let rec = journal.find_durable(id).await.expect("journal readable").unwrap_or_else(|| panic!("acknowledged call {id} missing from the journal"));
        assert_eq!((rec.operation.as_deref(), rec.http_status), (Some("PutLogEvents"), 200));
    }
    println!("logs crash test: {CYCLES} SIGKILL cycles, {total} acknowledged events and {} journal records verified", ids.len());
}
