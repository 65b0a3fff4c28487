use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use watchtrail_store::wal::{wal_file_name, WAL_HEADER_LEN};
use watchtrail_store::{StoreError, SyncMode, Wal, WalEntry, WalOptions};

fn opts(max_file_bytes: u64) -> WalOptions {
    WalOptions {
        max_file_bytes,
        sync: SyncMode::Fsync,
        ..WalOptions::default()
    }
}

fn payload(i: u64) -> Vec<u8> {
    format!("record-{i}-{}", "x".repeat((i % 17) as usize)).into_bytes()
}

fn lsns(entries: &[WalEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.lsn).collect()
}

/// The names in `dir` that `keep` accepts, sorted.
fn files_where(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| keep(n))
        .collect();
    names.sort();
    names
}

fn wal_files(dir: &Path) -> Vec<String> {
    files_where(dir, |n| n.ends_with(".wal"))
}

#[tokio::test]
async fn append_replay_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert!(entries.is_empty());
    assert_eq!(wal.append(vec![payload(1)]).await.unwrap(), 1);
    assert_eq!(
        wal.append(vec![payload(2), payload(3), payload(4)])
            .await
            .unwrap(),
        4
    );
    assert_eq!(wal.append(vec![Vec::new()]).await.unwrap(), 5);
    assert_eq!(
        wal.append(vec![]).await.unwrap(),
        5,
        "an empty append reports the last lsn"
    );
    assert_eq!(wal.last_lsn(), 5);
    let stats = wal.stats();
    assert_eq!((stats.appends, stats.records, stats.durable_lsn), (4, 5, 5));
    assert!(stats.fsyncs >= 3 && stats.fsync_nanos > 0);
    wal.close();

    let (wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(lsns(&entries), vec![1, 2, 3, 4, 5]);
    for e in &entries[..4] {
        assert_eq!(e.payload, payload(e.lsn));
    }
    assert!(entries[4].payload.is_empty());
    assert_eq!(wal.append_blocking(vec![payload(6)]).unwrap(), 6);
    drop(wal);
    let (_wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(lsns(&entries), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(entries[5].payload, payload(6));
}

#[test]
fn append_blocking_from_threads() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let wal = Arc::new(wal);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| wal.append_blocking(vec![payload(t * 100 + i)]).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for h in handles {
        let got = h.join().unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        all.extend(got);
    }
    assert_eq!(all, (1..=100).collect::<BTreeSet<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_durable_unique_and_group_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let wal = Arc::new(wal);
    let (tasks, per_task) = (32u64, 25u64);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let wal = wal.clone();
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..per_task {
                let p = payload(t * 1000 + i);
                let lsn = wal.append(vec![p.clone()]).await.unwrap();
                acked.push((lsn, p));
            }
            acked
        }));
    }
    let mut acked: HashMap<u64, Vec<u8>> = HashMap::new();
    for h in handles {
        let got = h.await.unwrap();
        assert!(
            got.windows(2).all(|w| w[0].0 < w[1].0),
            "lsns of one task must increase"
        );
        for (lsn, p) in got {
            assert!(
                acked.insert(lsn, p).is_none(),
                "lsn {lsn} acknowledged twice"
            );
        }
    }
    let total = tasks * per_task;
    assert_eq!(
        acked.keys().copied().collect::<BTreeSet<_>>(),
        (1..=total).collect()
    );
    let stats = wal.stats();
    assert_eq!(stats.records, total);
    assert!(
        stats.fsyncs < total,
        "group commit should batch: {} fsyncs for {total} records",
        stats.fsyncs
    );
    assert!(stats.max_batch_records > 1);
    Arc::try_unwrap(wal).unwrap().close();

    let (_wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(entries.len() as u64, total);
    for e in entries {
        assert_eq!(acked.get(&e.lsn), Some(&e.payload));
    }
}

/// Writes `n` records into a fresh WAL and returns the single file's path and the byte offset
/// where the last record starts.
fn one_file_wal(dir: &Path, n: u64) -> (std::path::PathBuf, u64) {
    let (wal, _) = Wal::open(dir, opts(1 << 20)).unwrap();
    for i in 1..n {
        wal.append_blocking(vec![payload(i)]).unwrap();
    }
    let path = dir.join(wal_file_name(1));
    // (Not the file's length: zero-fill runs ahead of the records.)
    let before_last = WAL_HEADER_LEN as u64 + wal.stats().bytes;
    wal.append_blocking(vec![payload(n)]).unwrap();
    wal.close();
    (path, before_last)
}

fn check_reopen_after_damage(dir: &Path, n: u64, good_len: u64, what: &str) {
    let (wal, entries) = Wal::open(dir, opts(1 << 20)).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(lsns(&entries), (1..n).collect::<Vec<_>>(), "{what}");
    let path = dir.join(wal_file_name(1));
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        good_len,
        "{what}: file truncated at last good record"
    );
    assert_eq!(
        wal.append_blocking(vec![b"after".to_vec()]).unwrap(),
        n,
        "{what}"
    );
    wal.close();
    let (_wal, entries) = Wal::open(dir, opts(1 << 20)).unwrap();
    assert_eq!(lsns(&entries), (1..=n).collect::<Vec<_>>(), "{what}");
    assert_eq!(entries.last().unwrap().payload, b"after", "{what}");
}

#[test]
fn torn_tail_truncated_at_every_offset_of_last_record() {
    let src = tempfile::tempdir().unwrap();
    let n = 4;
    let (path, last_start) = one_file_wal(src.path(), n);
    let original = std::fs::read(&path).unwrap();
    assert!(original.len() as u64 > last_start + 16);
    for cut in last_start..original.len() as u64 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(wal_file_name(1)), &original[..cut as usize]).unwrap();
        check_reopen_after_damage(dir.path(), n, last_start, &format!("cut at {cut}"));
    }
}

#[test]
fn flipped_byte_in_last_record_ends_replay() {
    let src = tempfile::tempdir().unwrap();
    let n = 3;
    let (path, last_start) = one_file_wal(src.path(), n);
    let original = std::fs::read(&path).unwrap();
    for pos in last_start as usize..original.len() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = original.clone();
        bytes[pos] ^= 0x5a;
        std::fs::write(dir.path().join(wal_file_name(1)), &bytes).unwrap();
        check_reopen_after_damage(dir.path(), n, last_start, &format!("flip at {pos}"));
    }
}

#[test]
fn torn_header_of_last_file_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(wal_file_name(1)), b"WTW").unwrap();
    let (wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert!(entries.is_empty());
    assert_eq!(wal.append_blocking(vec![b"a".to_vec()]).unwrap(), 1);
    wal.close();
    let (_wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(lsns(&entries), vec![1]);
}

/// A WAL with at least three files; returns the file names.
fn multi_file_wal(dir: &Path) -> Vec<String> {
    let (wal, _) = Wal::open(dir, opts(256)).unwrap();
    for i in 1..=30 {
        wal.append_blocking(vec![payload(i)]).unwrap();
    }
    assert!(wal.stats().rotations >= 2);
    wal.close();
    let files = wal_files(dir);
    assert!(files.len() >= 3, "{files:?}");
    files
}

#[test]
fn corruption_in_a_middle_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let files = multi_file_wal(dir.path());
    let middle = dir.path().join(&files[1]);
    let good = std::fs::read(&middle).unwrap();

    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(&middle, &flipped).unwrap();
    let err = Wal::open(dir.path(), opts(256)).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains(&files[1]), "{err}");
    assert_eq!(
        std::fs::read(&middle).unwrap(),
        flipped,
        "a non-last file is never truncated"
    );

    std::fs::write(&middle, &good[..good.len() - 3]).unwrap();
    assert!(Wal::open(dir.path(), opts(256))
        .unwrap_err()
        .is_corruption());

    std::fs::write(&middle, b"WTWAL\x07\x00").unwrap();
    assert!(Wal::open(dir.path(), opts(256))
        .unwrap_err()
        .is_corruption());

    std::fs::remove_file(&middle).unwrap();
    let err = Wal::open(dir.path(), opts(256)).unwrap_err();
    assert!(
        matches!(err, StoreError::DataCorruption { .. }),
        "a missing file leaves a gap: {err}"
    );
}

/// One group commit of many records: more frames than one vectored write takes (1,024
/// buffers, two per record), and rotations in the middle of the group; every record replays.
#[test]
fn a_group_of_many_records_across_rotations_replays_whole() {
    for max_file_bytes in [64 << 20, 4096] {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<u8>> = (0..1500).map(payload).collect();
        {
            let (wal, _) = Wal::open(dir.path(), opts(max_file_bytes)).unwrap();
            assert_eq!(wal.append_blocking(records.clone()).unwrap(), 1500);
            let stats = wal.stats();
            assert_eq!((stats.batches, stats.records), (1, 1500), "one group commit");
            assert_eq!(stats.rotations > 5, max_file_bytes == 4096, "rotated {} times", stats.rotations);
            wal.close();
        }
        let (wal, entries) = Wal::open(dir.path(), opts(max_file_bytes)).unwrap();
        assert_eq!(lsns(&entries), (1..=1500).collect::<Vec<_>>());
        assert_eq!(entries.into_iter().map(|e| e.payload).collect::<Vec<_>>(), records);
        assert_eq!(wal.files().len() > 1, max_file_bytes == 4096);
    }
}

#[test]
fn rotation_names_files_by_first_lsn() {
    let dir = tempfile::tempdir().unwrap();
    let files = multi_file_wal(dir.path());
    assert_eq!(files[0], "00000000000000000001.wal");
    let (wal, entries) = Wal::open(dir.path(), opts(256)).unwrap();
    assert_eq!(lsns(&entries), (1..=30).collect::<Vec<_>>());
    let firsts = wal.files();
    assert_eq!(
        firsts.iter().map(|&f| wal_file_name(f)).collect::<Vec<_>>(),
        files
    );
    for (i, name) in files.iter().enumerate() {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        assert_eq!(&bytes[..WAL_HEADER_LEN], b"WTWAL\x01\x00");
        // A file is only rotated away from once it reached the limit, and each record
        // (16 + <= 33 bytes) pushes it at most one record past.
        if i + 1 < files.len() {
            assert!(
                bytes.len() >= 256 && bytes.len() < 256 + 49,
                "{name}: {}",
                bytes.len()
            );
        }
    }
}

#[test]
fn checkpoint_removes_only_fully_covered_files() {
    let dir = tempfile::tempdir().unwrap();
    let _ = multi_file_wal(dir.path());
    let (wal, _) = Wal::open(dir.path(), opts(256)).unwrap();
    let firsts = wal.files();
    let n = firsts.len();
    // The first file holds [firsts[0], firsts[1] - 1]; one lsn short keeps it.
    assert_eq!(wal.checkpoint(firsts[1] - 2).unwrap(), 0);
    assert_eq!(wal.checkpoint(firsts[1] - 1).unwrap(), 1);
    assert_eq!(wal.files(), firsts[1..].to_vec());
    assert!(!dir.path().join(wal_file_name(firsts[0])).exists());
    // Even when everything is covered, the file being written stays.
    assert_eq!(wal.checkpoint(u64::MAX).unwrap(), n - 2);
    assert_eq!(wal.files(), vec![firsts[n - 1]]);
    assert_eq!(wal.append_blocking(vec![b"next".to_vec()]).unwrap(), 31);
    wal.close();

    let (_wal, entries) = Wal::open(dir.path(), opts(256)).unwrap();
    assert_eq!(lsns(&entries), (firsts[n - 1]..=31).collect::<Vec<_>>());
}

#[tokio::test]
async fn closed_wal_rejects_appends_and_the_directory_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert!(
        Wal::open(dir.path(), WalOptions::default()).is_err(),
        "second open must fail"
    );
    wal.append(vec![b"a".to_vec()]).await.unwrap();
    wal.close();
    assert!(matches!(
        wal.append(vec![b"b".to_vec()]).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        wal.append_blocking(vec![b"c".to_vec()]),
        Err(StoreError::Closed)
    ));
    drop(wal);
    let (_wal, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(lsns(&entries), vec![1]);
}

#[tokio::test]
async fn oversized_records_and_bad_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Wal::open(dir.path(), opts(3)),
        Err(StoreError::InvalidArgument(_))
    ));
    let (wal, _) = Wal::open(
        dir.path(),
        WalOptions {
            sync: SyncMode::NoSync,
            ..WalOptions::default()
        },
    )
    .unwrap();
    let huge = vec![0u8; watchtrail_store::wal::WAL_MAX_PAYLOAD + 1];
    assert!(matches!(
        wal.append(vec![huge]).await,
        Err(StoreError::InvalidArgument(_))
    ));
    assert_eq!(wal.append(vec![b"ok".to_vec()]).await.unwrap(), 1);
    assert_eq!(wal.stats().fsyncs, 0, "nosync mode never syncs on append");
}

/// With a commit delay, concurrent appends still all become durable with unique LSNs, and they
/// share far fewer fsyncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_delay_batches_concurrent_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(
        dir.path(),
        WalOptions { commit_delay: std::time::Duration::from_millis(2), ..WalOptions::default() },
    )
    .unwrap();
    let wal = std::sync::Arc::new(wal);
    let mut tasks = Vec::new();
    for t in 0..32u64 {
        let wal = wal.clone();
        tasks.push(tokio::spawn(async move {
            let mut lsns = Vec::new();
            for i in 0..20u64 {
                lsns.push(wal.append(vec![payload(t * 1000 + i)]).await.unwrap());
            }
            lsns
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 640, "every append got its own LSN");
    let stats = wal.stats();
    assert_eq!(stats.records, 640);
    assert!(stats.fsyncs * 4 <= stats.records, "groups of at least 4 on average: {} fsyncs for {} records", stats.fsyncs, stats.records);
    wal.close();
    let (_, entries) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(entries.len(), 640);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_durable_steps_run_in_lsn_order_before_the_lsn_is_visible() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let wal = Arc::new(wal);
    // Each step records its LSN and the durable LSN it could observe while running.
    let seen: Arc<parking_lot::Mutex<Vec<(u64, u64)>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..64u64 {
        let (wal, seen) = (wal.clone(), seen.clone());
        let observer = wal.clone();
        tasks.push(tokio::spawn(async move {
            let step: watchtrail_store::OnDurable = Box::new(move |lsn| seen.lock().push((lsn, observer.last_lsn())));
            let lsn = wal.append_then(vec![payload(i)], Some(step)).await.unwrap();
            assert!(wal.last_lsn() >= lsn, "the caller resumes only once its lsn is visible");
            lsn
        }));
    }
    let mut lsns = Vec::new();
    for t in tasks {
        lsns.push(t.await.unwrap());
    }
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 64, "every step ran once");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "steps run in lsn order: {seen:?}");
    assert!(seen.iter().all(|&(lsn, visible)| visible < lsn), "a step runs before its lsn is visible: {seen:?}");
    lsns.sort_unstable();
    assert_eq!(lsns, seen.iter().map(|s| s.0).collect::<Vec<_>>());
}

/// Copies the WAL files (not the lock) of `from` into a new directory: what a crash at this
/// moment would leave on disk, since every acknowledged append is already written.
fn snapshot(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if name.ends_with(".wal") || name.ends_with(".spare") {
            std::fs::copy(e.path(), to.path().join(&name)).unwrap();
        }
    }
    to
}

/// Payloads of one size: a recycled file's old records then start exactly where the new ones
/// end, intact and with older LSNs.
fn fixed_payload(i: u64) -> Vec<u8> {
    format!("fixed-{i:08}").into_bytes()
}

#[test]
fn checkpointed_files_are_recycled_and_their_old_records_never_replay() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { recycle_files: 2, ..opts(256) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    for i in 1..=30 {
        assert_eq!(wal.append_blocking(vec![fixed_payload(i)]).unwrap(), i);
    }
    let before = wal.files();
    assert!(before.len() >= 4, "small files rotate: {before:?}");
    let removed = wal.checkpoint(*before.last().unwrap() - 1).unwrap();
    assert_eq!(removed, before.len() - 1);
    let spares = files_where(dir.path(), |n| n.ends_with(".spare"));
    assert_eq!(spares.len(), 2, "two kept as spares, the rest deleted: {spares:?}");

    // The next two rotations reuse the spares; their old records stay behind the new ones.
    let mut next = 31;
    while wal.stats().recycled < 2 {
        assert_eq!(wal.append_blocking(vec![fixed_payload(next)]).unwrap(), next);
        next += 1;
    }
    for _ in 0..2 {
        assert_eq!(wal.append_blocking(vec![fixed_payload(next)]).unwrap(), next);
        next += 1;
    }
    let newest = next - 1;
    let firsts = wal.files();
    let last = *firsts.last().unwrap();
    for f in &firsts[1..] {
        let len = std::fs::metadata(dir.path().join(wal_file_name(*f))).unwrap().len();
        assert!(len >= 256, "a recycled file keeps its old length: {len}");
    }

    // A crash now: replay returns exactly the log's records, none of the old ones behind
    // them (in the recycled file before the last one, and in the last one).
    let crashed = snapshot(dir.path());
    let (reopened, entries) = Wal::open(crashed.path(), o).unwrap();
    assert_eq!(lsns(&entries), (firsts[0]..=newest).collect::<Vec<_>>());
    for e in &entries {
        assert_eq!(e.payload, fixed_payload(e.lsn));
    }
    assert_eq!(reopened.append_blocking(vec![fixed_payload(next)]).unwrap(), next);
    reopened.close();
    let (_, entries) = Wal::open(crashed.path(), o).unwrap();
    assert_eq!(lsns(&entries), (firsts[0]..=next).collect::<Vec<_>>());

    // A clean close cuts the recycled file being written at its last record.
    wal.close();
    let bytes = std::fs::read(dir.path().join(wal_file_name(last))).unwrap();
    let records: usize = (last..=newest).map(|i| 16 + fixed_payload(i).len()).sum();
    assert_eq!(bytes.len(), WAL_HEADER_LEN + records);
    let (_, entries) = Wal::open(dir.path(), o).unwrap();
    assert_eq!(lsns(&entries), (firsts[0]..=newest).collect::<Vec<_>>());
}

#[test]
fn recycle_files_zero_deletes_checkpointed_files() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { recycle_files: 0, ..opts(256) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    for i in 1..=30 {
        wal.append_blocking(vec![payload(i)]).unwrap();
    }
    wal.checkpoint(u64::MAX).unwrap();
    for i in 31..=60 {
        wal.append_blocking(vec![payload(i)]).unwrap();
    }
    assert_eq!(wal.stats().recycled, 0);
    assert!(wal_files(dir.path()).len() >= 2);
    assert!(std::fs::read_dir(dir.path())
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".spare")));
}

/// A file's length on disk.
fn physical_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn zero_fill_ahead_is_the_clean_end_of_the_log_and_stays_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { preallocate_bytes: 4096, ..opts(1 << 20) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    let path = dir.path().join(wal_file_name(1));
    let record_len = |i: u64| 16 + fixed_payload(i).len() as u64;
    wal.append_blocking(vec![fixed_payload(1)]).unwrap();
    // The first append past the file's end fills 4096 bytes past itself; the next ones land
    // in that space and do not change the file's length.
    let allocated = WAL_HEADER_LEN as u64 + record_len(1) + 4096;
    assert_eq!(physical_len(&path), allocated);
    for i in 2..=5 {
        wal.append_blocking(vec![fixed_payload(i)]).unwrap();
        assert_eq!(physical_len(&path), allocated);
    }
    let written = WAL_HEADER_LEN as u64 + (1..=5).map(record_len).sum::<u64>();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes[written as usize..].iter().all(|&b| b == 0));

    // A crash now: the zeros end the log without a warning-worthy truncation, and stay.
    let crashed = snapshot(dir.path());
    let crashed_path = crashed.path().join(wal_file_name(1));
    let (reopened, entries) = Wal::open(crashed.path(), o).unwrap();
    assert_eq!(lsns(&entries), vec![1, 2, 3, 4, 5]);
    assert_eq!(physical_len(&crashed_path), allocated, "replay keeps the preallocated space");
    // Appends overwrite the zeros in place.
    assert_eq!(reopened.append_blocking(vec![fixed_payload(6)]).unwrap(), 6);
    let written6 = written + record_len(6);
    assert_eq!(physical_len(&crashed_path), allocated);
    let again = snapshot(crashed.path());
    let (_, entries) = Wal::open(again.path(), o).unwrap();
    assert_eq!(lsns(&entries), (1..=6).collect::<Vec<_>>());
    for e in &entries {
        assert_eq!(e.payload, fixed_payload(e.lsn));
    }

    // A clean close cuts the zeros off.
    reopened.close();
    assert_eq!(physical_len(&crashed_path), written6);
    wal.close();
    assert_eq!(physical_len(&path), written);
}

#[test]
fn zero_fill_never_passes_max_file_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { preallocate_bytes: 1 << 20, ..opts(300) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    wal.append_blocking(vec![fixed_payload(1)]).unwrap();
    assert_eq!(physical_len(&dir.path().join(wal_file_name(1))), 300);
    let o = WalOptions { preallocate_bytes: 0, ..opts(1 << 20) };
    let other = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(other.path(), o).unwrap();
    wal.append_blocking(vec![fixed_payload(1)]).unwrap();
    assert_eq!(physical_len(&other.path().join(wal_file_name(1))), WAL_HEADER_LEN as u64 + 16 + fixed_payload(1).len() as u64, "0 disables it");
}

#[test]
fn a_torn_record_in_zero_filled_space_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { preallocate_bytes: 4096, ..opts(1 << 20) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    for i in 1..=3 {
        wal.append_blocking(vec![fixed_payload(i)]).unwrap();
    }
    let crashed = snapshot(dir.path());
    let path = crashed.path().join(wal_file_name(1));
    let bytes = std::fs::read(&path).unwrap();
    let written = WAL_HEADER_LEN + (1..=3).map(|i| 16 + fixed_payload(i).len()).sum::<usize>();
    // Part of a fourth record reached the disk (its header, not all of its payload), or
    // only a later page of it did: both are torn, not a clean end.
    for (at, what) in [(written, "torn header"), (written + 100, "stray later page")] {
        let mut damaged = bytes.clone();
        damaged[at..at + 12].copy_from_slice(&bytes[WAL_HEADER_LEN..WAL_HEADER_LEN + 12]);
        std::fs::write(&path, &damaged).unwrap();
        let (reopened, entries) = Wal::open(crashed.path(), o).unwrap();
        assert_eq!(lsns(&entries), vec![1, 2, 3], "{what}");
        assert_eq!(physical_len(&path), written as u64, "{what}: cut at the last good record");
        reopened.close();
    }
}

fn all_files(dir: &Path) -> Vec<String> {
    files_where(dir, |n| n != "LOCK")
}

#[test]
fn a_clean_close_with_everything_persisted_leaves_one_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions { recycle_files: 2, ..opts(256) };
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    for i in 1..=40 {
        wal.append_blocking(vec![fixed_payload(i)]).unwrap();
    }
    let files = wal.files();
    wal.checkpoint(*files.last().unwrap() - 1).unwrap();
    assert!(all_files(dir.path()).iter().any(|f| f.ends_with(".spare")));
    assert!(wal.close_retiring(40).unwrap());
    assert_eq!(all_files(dir.path()), vec![wal_file_name(41)], "no spares, no old records");
    assert_eq!(std::fs::metadata(dir.path().join(wal_file_name(41))).unwrap().len(), WAL_HEADER_LEN as u64);

    // The sequence continues where it stopped, across as many clean stops as there are.
    let (wal, entries) = Wal::open(dir.path(), o).unwrap();
    assert!(entries.is_empty());
    assert_eq!(wal.append_blocking(vec![fixed_payload(41)]).unwrap(), 41);
    assert!(wal.close_retiring(41).unwrap());
    let (wal, entries) = Wal::open(dir.path(), o).unwrap();
    assert!(entries.is_empty());
    // Closing an empty log keeps its one file.
    assert!(wal.close_retiring(41).unwrap());
    assert_eq!(all_files(dir.path()), vec![wal_file_name(42)]);
    let (wal, _) = Wal::open(dir.path(), o).unwrap();
    assert_eq!(wal.append_blocking(vec![fixed_payload(42)]).unwrap(), 42);
    wal.close();
}

#[test]
fn a_clean_close_keeps_records_not_yet_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), opts(256)).unwrap();
    for i in 1..=10 {
        wal.append_blocking(vec![fixed_payload(i)]).unwrap();
    }
    assert!(!wal.close_retiring(9).unwrap());
    assert!(wal.append_blocking(vec![fixed_payload(11)]).is_err(), "closed all the same");
    let (_, entries) = Wal::open(dir.path(), opts(256)).unwrap();
    assert_eq!(lsns(&entries), (1..=10).collect::<Vec<_>>());
}

#[test]
fn a_stop_between_the_new_empty_file_and_the_deletions_replays_the_old_records() {
    // What a crash in the middle of `close_retiring` leaves: the old files and the new
    // empty one. Replay reads the old records (already persisted, skipped by consumers) and
    // appends continue after them.
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), opts(256)).unwrap();
    for i in 1..=10 {
        wal.append_blocking(vec![fixed_payload(i)]).unwrap();
    }
    let files = wal.files();
    wal.close();
    let mut empty = b"WTWAL".to_vec();
    empty.extend_from_slice(&1u16.to_le_bytes());
    assert_eq!(empty.len(), WAL_HEADER_LEN);
    std::fs::write(dir.path().join(wal_file_name(11)), &empty).unwrap();
    // ... and with the oldest file already deleted.
    std::fs::remove_file(dir.path().join(wal_file_name(files[0]))).unwrap();
    let (wal, entries) = Wal::open(dir.path(), opts(256)).unwrap();
    assert_eq!(lsns(&entries), (files[1]..=10).collect::<Vec<_>>());
    assert_eq!(wal.append_blocking(vec![fixed_payload(11)]).unwrap(), 11);
    wal.close();
}
