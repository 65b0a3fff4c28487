//! The shared commit log: multi-part records survive a reopen intact, and a checkpoint never
//! removes a file a consumer still needs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use watchtrail_store::{CommitLog, LogConsumer, PartKind, PartRef, WalOptions};

/// A consumer that has persisted exactly up to a settable LSN.
struct Upto(AtomicU64);

impl LogConsumer for Upto {
    fn persisted_lsn(&self, durable: u64) -> u64 {
        self.0.load(Ordering::SeqCst).min(durable)
    }
}

#[tokio::test]
async fn parts_round_trip_and_checkpoint_waits_for_every_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { max_file_bytes: 256, ..WalOptions::default() };
    let (log, entries) = CommitLog::open(dir.path(), opts).unwrap();
    assert!(entries.is_empty());
    let a = Arc::new(Upto(AtomicU64::new(0)));
    let b = Arc::new(Upto(AtomicU64::new(0)));
    let (ca, cb): (Arc<dyn LogConsumer>, Arc<dyn LogConsumer>) = (a.clone(), b.clone());
    log.register(Arc::downgrade(&ca));
    log.register(Arc::downgrade(&cb));
    for i in 0..40u64 {
        let data = vec![i as u8; 40];
        let json = format!("{{\"n\":{i}}}");
        let lsn = log.append(&[PartRef { kind: PartKind::Activity, bytes: json.as_bytes() }, PartRef { kind: PartKind::Metrics, bytes: &data }], None).await.unwrap();
        assert_eq!(lsn, i + 1);
    }
    let files = log.files().len();
    assert!(files > 5, "small files rotate: {files}");

    // Nothing persisted by either consumer: nothing goes.
    assert_eq!(log.checkpoint().unwrap(), 0);
    // One consumer done, the other not: still nothing.
    a.0.store(40, Ordering::SeqCst);
    assert_eq!(log.checkpoint().unwrap(), 0);
    // Both past lsn 20: the files wholly below it go, and no file holding lsn 21 does.
    b.0.store(20, Ordering::SeqCst);
    assert!(log.checkpoint().unwrap() > 0);
    assert!(log.files()[0] <= 21);
    // A dropped consumer no longer holds the log back.
    drop(cb);
    drop(b);
    log.checkpoint().unwrap();
    assert_eq!(log.files().len(), 1, "only the file being written is left");

    drop(ca);
    drop(a);
    log.close();
    drop(log);
    let (_log, entries) = CommitLog::open(dir.path(), opts).unwrap();
    let last = entries.last().expect("the current file's records are replayed");
    assert_eq!(last.lsn, 40);
    assert_eq!(last.parts, vec![(PartKind::Activity, b"{\"n\":39}".to_vec()), (PartKind::Metrics, vec![39u8; 40])]);
    assert_eq!(last.parts_of(PartKind::Metrics).count(), 1);
}
