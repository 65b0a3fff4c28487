use bytes::Bytes;
use std::sync::Arc;
use watchtrail_core::{ManualClock, Timestamp};
use watchtrail_store::{
    BlobStore, CompactionPolicy, KeyFilter, Record, SegmentStore, SqliteCatalog, StoreError,
};

fn memory_store() -> SegmentStore {
    SegmentStore::new(
        BlobStore::in_memory(),
        Arc::new(SqliteCatalog::open_in_memory().unwrap()),
    )
    .with_clock(Arc::new(ManualClock::new(Timestamp(1_700_000_000_000))))
}

fn sorted(mut v: Vec<Record>) -> Vec<Record> {
    v.sort_by(Record::cmp_key_ts);
    v
}

/// Batch `b` of a stream: 20 records over 4 keys in the time window [b*1000, b*1000+1000).
fn batch(b: i64) -> Vec<Record> {
    (0..20)
        .map(|i| {
            Record::new(
                format!("series-{}", i % 4),
                b * 1000 + i * 50,
                format!("b{b}-i{i}"),
            )
        })
        .collect()
}

#[tokio::test]
async fn write_and_scan_across_segments() {
    let store = memory_store();
    let mut all = Vec::new();
    for b in 0..3 {
        let meta = store
            .write("metrics", batch(b), (b as u64 + 1) * 100)
            .await
            .unwrap();
        assert_eq!(
            (meta.records, meta.level, meta.min_ts, meta.max_ts),
            (20, 0, b * 1000, b * 1000 + 950)
        );
        assert!(meta.path.starts_with("segments/metrics/") && meta.path.ends_with(".seg"));
        assert_eq!(meta.created_at, 1_700_000_000_000);
        all.extend(batch(b));
    }
    store
        .write("logs", vec![Record::new("group", 5, "line")], 7)
        .await
        .unwrap();

    assert_eq!(
        store
            .scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX)
            .await
            .unwrap(),
        sorted(all.clone())
    );
    let window = store
        .scan("metrics", &KeyFilter::All, 900, 1100)
        .await
        .unwrap();
    let expected: Vec<Record> = sorted(
        all.iter()
            .filter(|r| (900..1100).contains(&r.ts))
            .cloned()
            .collect(),
    );
    assert_eq!(window, expected);
    assert_eq!(window.len(), 4);
    let exact = store
        .scan("metrics", &KeyFilter::Exact(b"series-2".to_vec()), 0, 3000)
        .await
        .unwrap();
    assert_eq!(exact.len(), 15);
    assert!(exact.iter().all(|r| r.key == b"series-2"));
    assert_eq!(
        store
            .scan("metrics", &KeyFilter::Prefix(b"series-".to_vec()), 0, 3000)
            .await
            .unwrap()
            .len(),
        60
    );
    assert_eq!(
        store
            .scan("logs", &KeyFilter::All, 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .scan("unknown", &KeyFilter::All, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.max_lsn("metrics").await.unwrap(), 300);
    assert_eq!(store.max_lsn("unknown").await.unwrap(), 0);
    assert!(matches!(
        store.write("metrics", Vec::new(), 1).await,
        Err(StoreError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn equal_key_and_ts_keep_write_order_across_segments() {
    let store = memory_store();
    store
        .write("s", vec![Record::new("k", 1, "first")], 1)
        .await
        .unwrap();
    store
        .write("s", vec![Record::new("k", 1, "second")], 2)
        .await
        .unwrap();
    let got = store.scan("s", &KeyFilter::All, 0, 10).await.unwrap();
    assert_eq!(
        got,
        vec![Record::new("k", 1, "first"), Record::new("k", 1, "second")]
    );
}

#[tokio::test]
async fn local_store_reopens_with_cold_cache() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        SegmentStore::new(
            BlobStore::local(&dir.path().join("blobs")).unwrap(),
            Arc::new(SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap()),
        )
    };
    let store = open();
    let meta = store.write("audit/trail", batch(1), 42).await.unwrap();
    assert!(
        meta.path.starts_with("segments/audit%2Ftrail/"),
        "{}",
        meta.path
    );
    assert!(dir.path().join("blobs").join(&meta.path).exists());
    drop(store);
    let store = open().with_cache_capacity(0);
    assert_eq!(
        store
            .scan("audit/trail", &KeyFilter::All, 0, i64::MAX)
            .await
            .unwrap(),
        sorted(batch(1))
    );
    assert_eq!(store.max_lsn("audit/trail").await.unwrap(), 42);
}

#[tokio::test]
async fn compaction_keeps_every_record_and_reduces_segments() {
    let store = memory_store();
    let mut all = Vec::new();
    for b in 0..6 {
        store
            .write("metrics", batch(b), b as u64 + 1)
            .await
            .unwrap();
        all.extend(batch(b));
    }
    // A duplicate (key, ts) in a later segment must survive compaction, after the original.
    let dup = Record::new("series-0", 0, "dup");
    store.write("metrics", vec![dup.clone()], 7).await.unwrap();
    all.push(dup);
    let before = store
        .scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX)
        .await
        .unwrap();
    assert_eq!(before, sorted(all.clone()));
    let blobs_before = store.blobs().list("segments").await.unwrap();
    assert_eq!(blobs_before.len(), 7);

    let policy = CompactionPolicy {
        max_inputs: 4,
        ..CompactionPolicy::default()
    };
    let report = store.compact("metrics", policy).await.unwrap();
    assert_eq!(report.inputs.len(), 7);
    assert_eq!(report.outputs.len(), 2);
    assert_eq!(report.records, 121);
    assert!(report.bytes_after < report.bytes_before);
    let segs = store.segments("metrics").await.unwrap();
    assert_eq!(segs.len(), 2);
    assert!(segs.iter().all(|m| m.level == 1));
    assert_eq!(segs.iter().map(|m| m.records).sum::<u64>(), 121);
    assert_eq!(segs.iter().map(|m| m.max_lsn).max(), Some(7));
    assert_eq!(
        store
            .scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX)
            .await
            .unwrap(),
        before
    );
    let blobs_after = store.blobs().list("segments").await.unwrap();
    assert_eq!(blobs_after.len(), 2, "input blobs are deleted");
    assert!(blobs_after.iter().all(|p| !blobs_before.contains(p)));

    assert!(
        store
            .compact("metrics", policy)
            .await
            .unwrap()
            .inputs
            .is_empty(),
        "nothing left at level 0"
    );
    let report = store
        .compact("metrics", CompactionPolicy { level: 1, ..policy })
        .await
        .unwrap();
    assert_eq!((report.inputs.len(), report.outputs.len()), (2, 1));
    assert_eq!(report.outputs[0].level, 2);
    assert_eq!(
        store
            .scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX)
            .await
            .unwrap(),
        before
    );
    assert_eq!(store.max_lsn("metrics").await.unwrap(), 7);
}

#[tokio::test]
async fn compaction_respects_size_and_minimum() {
    let store = memory_store();
    for b in 0..3 {
        store.write("m", batch(b), 1).await.unwrap();
    }
    let one = store.segments("m").await.unwrap()[0].bytes;
    // Each output may hold about two inputs; the third alone is below min_inputs.
    let policy = CompactionPolicy {
        target_bytes: one * 2 + one / 2,
        min_inputs: 2,
        ..CompactionPolicy::default()
    };
    let report = store.compact("m", policy).await.unwrap();
    assert_eq!((report.inputs.len(), report.outputs.len()), (2, 1));
    assert_eq!(store.segments("m").await.unwrap().len(), 2);
    assert_eq!(
        store
            .scan("m", &KeyFilter::All, i64::MIN, i64::MAX)
            .await
            .unwrap()
            .len(),
        60
    );
}

#[tokio::test]
async fn retention_drops_only_old_segments() {
    let store = memory_store();
    for b in 0..4 {
        store.write("logs", batch(b), b as u64 + 10).await.unwrap();
    }
    store.write("other", batch(0), 1).await.unwrap();
    // Segment b covers [b*1000, b*1000+950]; a cutoff of 2000 drops b = 0 and 1 only;
    // a segment straddling the cutoff stays whole.
    assert_eq!(store.apply_retention("logs", 2000).await.unwrap(), 2);
    assert_eq!(store.apply_retention("logs", 2500).await.unwrap(), 0);
    let left = store.segments("logs").await.unwrap();
    assert_eq!(
        left.iter().map(|m| m.min_ts).collect::<Vec<_>>(),
        vec![2000, 3000]
    );
    let records = store
        .scan("logs", &KeyFilter::All, i64::MIN, i64::MAX)
        .await
        .unwrap();
    assert_eq!(records.len(), 40);
    assert!(records.iter().all(|r| r.ts >= 2000));
    assert_eq!(store.blobs().list("segments/logs").await.unwrap().len(), 2);
    assert_eq!(
        store.segments("other").await.unwrap().len(),
        1,
        "other streams untouched"
    );
    assert_eq!(
        store.max_lsn("logs").await.unwrap(),
        13,
        "replay must still skip dropped records"
    );
}

#[tokio::test]
async fn orphan_cleanup_deletes_only_unregistered_segment_blobs() {
    let store = memory_store();
    let kept = store.write("metrics", batch(0), 1).await.unwrap();
    store
        .blobs()
        .put(
            "segments/metrics/orphan.seg",
            Bytes::from_static(b"half-written"),
        )
        .await
        .unwrap();
    store
        .blobs()
        .put("segments/gone/x.seg", Bytes::from_static(b"x"))
        .await
        .unwrap();
    store
        .blobs()
        .put("exports/keep.json", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let mut deleted = store.cleanup_orphans().await.unwrap();
    deleted.sort();
    assert_eq!(
        deleted,
        vec!["segments/gone/x.seg", "segments/metrics/orphan.seg"]
    );
    assert_eq!(
        store.blobs().list("").await.unwrap(),
        vec!["exports/keep.json".to_string(), kept.path]
    );
    assert_eq!(
        store
            .scan("metrics", &KeyFilter::All, 0, i64::MAX)
            .await
            .unwrap()
            .len(),
        20
    );
    assert!(store.cleanup_orphans().await.unwrap().is_empty());
}

#[tokio::test]
async fn damaged_blob_is_reported_as_corruption() {
    let store = memory_store().with_cache_capacity(0);
    let meta = store.write("metrics", batch(0), 1).await.unwrap();
    let mut bytes = store.blobs().get(&meta.path).await.unwrap().to_vec();
    bytes[20] ^= 0xff;
    store
        .blobs()
        .put(&meta.path, Bytes::from(bytes))
        .await
        .unwrap();
    let err = store
        .scan("metrics", &KeyFilter::All, 0, i64::MAX)
        .await
        .unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains(&meta.id), "{err}");
    // A blob lost behind the catalog's back is an object store error, not an empty result.
    store.blobs().delete(&meta.path).await.unwrap();
    assert!(matches!(
        store.scan("metrics", &KeyFilter::All, 0, i64::MAX).await,
        Err(StoreError::ObjectStore(_))
    ));
    assert_eq!(store.catalog().segments("metrics").unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_compaction_and_cleanup_lose_nothing() {
    let store = Arc::new(memory_store());
    let writers: Vec<_> = (0..12)
        .map(|b| {
            let s = store.clone();
            tokio::spawn(async move {
                s.write("m", batch(b), b as u64 + 1).await.unwrap();
                s.scan("m", &KeyFilter::All, i64::MIN, i64::MAX)
                    .await
                    .unwrap()
                    .len()
            })
        })
        .collect();
    let maintenance = {
        let s = store.clone();
        tokio::spawn(async move {
            for _ in 0..6 {
                let policy = CompactionPolicy {
                    max_inputs: 3,
                    ..CompactionPolicy::default()
                };
                s.compact("m", policy).await.unwrap();
                assert!(
                    s.cleanup_orphans().await.unwrap().is_empty(),
                    "no orphans without crashes"
                );
                tokio::task::yield_now().await;
            }
        })
    };
    for w in writers {
        assert!(w.await.unwrap() >= 20);
    }
    maintenance.await.unwrap();
    let all: Vec<Record> = (0..12).flat_map(batch).collect();
    assert_eq!(
        store
            .scan("m", &KeyFilter::All, i64::MIN, i64::MAX)
            .await
            .unwrap(),
        sorted(all)
    );
    assert_eq!(store.max_lsn("m").await.unwrap(), 12);
    let registered: Vec<String> = store
        .segments("m")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.path)
        .collect();
    let mut listed = store.blobs().list("segments").await.unwrap();
    listed.sort();
    let mut registered_sorted = registered.clone();
    registered_sorted.sort();
    assert_eq!(
        listed, registered_sorted,
        "every blob is registered and every entry has a blob"
    );
}

/// Keeps the first record of each (key, ts / `step`) group, at the group's start, with the
/// number of records folded into it as its value.
struct FirstPerStep {
    step: i64,
    pending: Option<(Vec<u8>, i64, u64)>,
}

impl FirstPerStep {
    fn emit(&mut self, out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        if let Some((key, ts, n)) = self.pending.take() {
            let value = n.to_string();
            out(watchtrail_store::RecordRef { key: &key, ts, value: value.as_bytes() })?;
        }
        Ok(())
    }
}

impl watchtrail_store::Rewriter for FirstPerStep {
    fn record(
        &mut self,
        r: watchtrail_store::RecordRef<'_>,
        out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>,
    ) -> watchtrail_store::Result<()> {
        let bucket = r.ts.div_euclid(self.step) * self.step;
        match &mut self.pending {
            Some((k, t, n)) if k.as_slice() == r.key && *t == bucket => *n += 1,
            _ => {
                self.emit(out)?;
                self.pending = Some((r.key.to_vec(), bucket, 1));
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        self.emit(out)
    }
}

/// Emits every record with a decreasing time: out of segment order.
struct Backwards;

impl watchtrail_store::Rewriter for Backwards {
    fn record(
        &mut self,
        r: watchtrail_store::RecordRef<'_>,
        out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>,
    ) -> watchtrail_store::Result<()> {
        out(watchtrail_store::RecordRef { key: r.key, ts: -r.ts, value: r.value })
    }

    fn finish(&mut self, _out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        Ok(())
    }
}

/// Emits nothing.
struct Nothing;

impl watchtrail_store::Rewriter for Nothing {
    fn record(
        &mut self,
        _r: watchtrail_store::RecordRef<'_>,
        _out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>,
    ) -> watchtrail_store::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn FnMut(watchtrail_store::RecordRef<'_>) -> watchtrail_store::Result<()>) -> watchtrail_store::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rewrite_replaces_inputs_with_what_the_rewriter_emits() {
    let store = memory_store();
    for b in 0..3 {
        store.write("metrics", batch(b), b as u64 + 1).await.unwrap();
    }
    store.write("other", batch(9), 9).await.unwrap();
    let inputs = store.segments("metrics").await.unwrap();
    let report = store
        .rewrite("metrics", &inputs[..2], 7, Box::new(FirstPerStep { step: 1000, pending: None }))
        .await
        .unwrap();
    assert_eq!((report.inputs, report.records_in, report.records_out), (2, 40, 8), "4 keys x 2 windows");
    let after = store.segments("metrics").await.unwrap();
    assert_eq!(after.len(), 2, "the untouched third segment and the output");
    let out = after.iter().find(|m| m.level == 7).expect("output at level 7");
    assert_eq!((out.records, out.max_lsn, out.min_ts, out.max_ts), (8, 2, 0, 1000));
    let scanned = store.scan("metrics", &KeyFilter::Exact(b"series-1".to_vec()), 0, 2000).await.unwrap();
    let got: Vec<(i64, String)> = scanned.iter().map(|r| (r.ts, String::from_utf8(r.value.clone()).unwrap())).collect();
    assert_eq!(got, [(0, "5".to_string()), (1000, "5".to_string())], "5 records of series-1 per window");
    assert_eq!(store.scan("other", &KeyFilter::All, i64::MIN, i64::MAX).await.unwrap().len(), 20, "other streams untouched");

    // A rewriter that breaks segment order fails, and the inputs stay as they were.
    let before = store.segments("metrics").await.unwrap();
    let err = store.rewrite("metrics", &before, 8, Box::new(Backwards)).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
    assert_eq!(store.segments("metrics").await.unwrap(), before);
    assert_eq!(store.scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX).await.unwrap().len(), 8 + 20);

    // A rewriter that emits nothing removes its inputs.
    let report = store.rewrite("metrics", &before, 8, Box::new(Nothing)).await.unwrap();
    assert_eq!((report.inputs, report.records_out), (2, 0));
    assert!(store.segments("metrics").await.unwrap().is_empty());
    assert!(store.scan("metrics", &KeyFilter::All, i64::MIN, i64::MAX).await.unwrap().is_empty());
}

/// A visit lends exactly what `scan` returns, reports the segments it read, on any number
/// of threads, and a block test that refuses blocks lacking a
/// needle skips them without changing what the wanted records are.
#[tokio::test]
async fn visit_lends_what_scan_returns_and_block_tests_skip_blocks() {
    use watchtrail_store::SegmentBuilder;
    let store = memory_store().with_builder(SegmentBuilder::new().block_bytes(256));
    let mut all = Vec::new();
    for b in 0..4i64 {
        let records: Vec<Record> = (0..200)
            .map(|i| {
                let needle = if i == 77 && b == 2 { " needle" } else { "" };
                Record::new(format!("stream-{}", i % 3), b * 10_000 + i * 10, format!("line {b}/{i}{needle}"))
            })
            .collect();
        all.extend(records.clone());
        store.write("logs", records, (b as u64 + 1) * 10).await.unwrap();
    }
    let scanned = store.scan("logs", &KeyFilter::Prefix(b"stream-".to_vec()), 5_000, 35_000).await.unwrap();
    let (accs, metas) = store
        .visit_parallel("logs", KeyFilter::Prefix(b"stream-".to_vec()), 5_000, 35_000, None, 1, Vec::new, |acc: &mut Vec<Record>, r| {
            acc.push(Record::new(r.key, r.ts, r.value));
            Ok(())
        })
        .await
        .unwrap();
    let mut visited: Vec<Record> = accs.into_iter().flatten().collect();
    visited.sort_by(Record::cmp_key_ts);
    assert_eq!(visited, sorted(scanned));
    let mut lsns: Vec<u64> = metas.iter().map(|m| m.max_lsn).collect();
    lsns.sort();
    assert_eq!(lsns, [20, 30, 40], "the segments of batches 1 to 3 overlap the range");

    // On several threads: every record once, whatever thread read its block.
    for threads in [1, 2, 3] {
        let (accs, metas) = store
            .visit_parallel("logs", KeyFilter::Prefix(b"stream-".to_vec()), 5_000, 35_000, None, threads, Vec::new, |acc: &mut Vec<Record>, r| {
                acc.push(Record::new(r.key, r.ts, r.value));
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(accs.len(), threads);
        assert_eq!(metas.len(), 3);
        let mut merged: Vec<Record> = accs.into_iter().flatten().collect();
        merged.sort_by(Record::cmp_key_ts);
        assert_eq!(merged, visited, "{threads} threads");
    }

    let test: Arc<watchtrail_store::BlockTest> = Arc::new(|block: &[u8]| block.windows(6).any(|w| w == b"needle"));
    let (accs, _) = store
        .visit_parallel("logs", KeyFilter::All, i64::MIN, i64::MAX, Some(test), 1, || (Vec::new(), 0usize), |(hits, lent): &mut (Vec<String>, usize), r| {
            *lent += 1;
            if r.value.ends_with(b"needle") {
                hits.push(String::from_utf8_lossy(r.value).into_owned());
            }
            Ok(())
        })
        .await
        .unwrap();
    let (hits, lent) = accs.into_iter().next().unwrap();
    assert_eq!(hits, ["line 2/77 needle"]);
    assert_eq!(all.iter().filter(|r| r.value.ends_with(b"needle")).count(), 1);
    assert!(lent < all.len() / 10, "blocks without the needle were not parsed: {lent} of {} records lent", all.len());
}

/// With a time window, compaction merges only segments of the same window and leaves a
/// segment that spans two windows alone, so retention can still drop old data whole.
#[tokio::test]
async fn compaction_with_a_time_window_keeps_windows_apart() {
    let store = memory_store();
    let day = 86_400_000i64;
    for (i, (from, to)) in [(0, 10), (100, 200), (day + 5, day + 6), (day + 50, day + 60), (day - 1, day + 1), (2 * day, 2 * day + 1)].into_iter().enumerate() {
        store.write("w", vec![Record::new("k", from, "a"), Record::new("k", to, "b")], i as u64 + 1).await.unwrap();
    }
    let policy = CompactionPolicy { time_window_ms: Some(day), ..CompactionPolicy::default() };
    let report = store.compact("w", policy).await.unwrap();
    assert_eq!((report.inputs.len(), report.outputs.len()), (4, 2), "days 0 and 1 each merge their two; the spanning and the lone day-2 segments stay");
    let mut spans: Vec<(i64, i64, u32)> = store.segments("w").await.unwrap().iter().map(|m| (m.min_ts, m.max_ts, m.level)).collect();
    spans.sort();
    assert_eq!(spans, [(0, 200, 1), (day - 1, day + 1, 0), (day + 5, day + 60, 1), (2 * day, 2 * day + 1, 0)]);
    assert_eq!(store.apply_retention("w", day).await.unwrap(), 1, "day 0 goes whole");
}
