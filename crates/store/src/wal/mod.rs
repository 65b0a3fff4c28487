//! Write-ahead log with group commit.
//!
//! Records are appended by many callers at once; a dedicated writer thread drains everything
//! queued, writes it with one `write` per file, calls `fdatasync` once and only then completes
//! every caller of the batch. The on-disk layout is described in `crates/store/FORMAT.md`.

use crate::error::{Result, StoreError};
use parking_lot::{Condvar, Mutex};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Magic bytes at the start of every WAL file.
pub const WAL_MAGIC: [u8; 5] = *b"WTWAL";
/// Current WAL file format version.
pub const WAL_VERSION: u16 = 1;
/// Length of the WAL file header: magic + u16 version.
pub const WAL_HEADER_LEN: usize = 7;
/// Length of a record frame header: u32 len + u32 crc + u64 lsn.
pub const WAL_FRAME_HEADER_LEN: usize = 16;
/// Largest payload a single WAL record may carry.
pub const WAL_MAX_PAYLOAD: usize = 64 << 20;

const LOCK_FILE: &str = "LOCK";

/// Whether the WAL calls `fdatasync` before acknowledging an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Acknowledge only after `File::sync_data`: the durable mode.
    #[default]
    Fsync,
    /// Acknowledge after `write` only; for tests and benchmarks of non-durable paths.
    NoSync,
}

/// Tuning knobs of a [`Wal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// Rotate to a new file once the current one has reached this many bytes.
    pub max_file_bytes: u64,
    /// Durability of acknowledged appends.
    pub sync: SyncMode,
    /// Group-commit delay: when the previous group held more than one append (concurrent
    /// writers), the writer waits this long before writing so that more appends join the same
    /// fsync. Zero (the default) never waits. Trades a little latency for fewer fsyncs and
    /// wake-ups under load, like PostgreSQL's `commit_delay`.
    pub commit_delay: std::time::Duration,
    /// How many checkpointed files to keep as spares for later rotations instead of deleting
    /// them. A rotation into a spare renames it and overwrites its old records in place:
    /// `fdatasync` of a write into blocks a file already has is a data flush only, while
    /// appending to a file also commits its new size and blocks (a filesystem journal commit)
    /// on every sync. Each spare takes `max_file_bytes` of disk. 0 deletes checkpointed files.
    pub recycle_files: usize,
    /// Zero-fill this many bytes ahead of the write position of a file that would otherwise
    /// grow with every append (a new file; a recycled one already has its blocks). Writes
    /// then land in allocated, written blocks, so a sync flushes data without a filesystem
    /// journal commit, except once per this many bytes. Never fills past `max_file_bytes`;
    /// replay treats zeros after the last record as the clean end of the log. 0 disables.
    pub preallocate_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            max_file_bytes: 64 << 20,
            sync: SyncMode::Fsync,
            commit_delay: std::time::Duration::ZERO,
            recycle_files: 2,
            preallocate_bytes: 1 << 20,
        }
    }
}

/// One record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalEntry {
    /// Log sequence number: unique, strictly increasing, starting at 1.
    pub lsn: u64,
    /// The bytes that were appended.
    pub payload: Vec<u8>,
}

/// A snapshot of the WAL's counters, for metrics exporters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalStats {
    /// Calls to `append` / `append_blocking` accepted.
    pub appends: u64,
    /// Records written.
    pub records: u64,
    /// Bytes written, frame headers included.
    pub bytes: u64,
    /// Group commits (batches) written.
    pub batches: u64,
    /// `fdatasync` calls made (file rotations included).
    pub fsyncs: u64,
    /// Total time spent in `fdatasync`, in nanoseconds.
    pub fsync_nanos: u64,
    /// Largest number of records written by one group commit.
    pub max_batch_records: u64,
    /// Files created by rotation.
    pub rotations: u64,
    /// Rotations that reused a spare (checkpointed) file instead of creating one.
    pub recycled: u64,
    /// The highest LSN known to be written (and synced in [`SyncMode::Fsync`]).
    pub durable_lsn: u64,
}

#[derive(Default)]
struct Counters {
    appends: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    batches: AtomicU64,
    fsyncs: AtomicU64,
    fsync_nanos: AtomicU64,
    max_batch_records: AtomicU64,
    rotations: AtomicU64,
    recycled: AtomicU64,
    durable_lsn: AtomicU64,
}

enum Done {
    Async(oneshot::Sender<Result<u64>>),
    Blocking(mpsc::SyncSender<Result<u64>>),
}

impl Done {
    fn complete(self, res: Result<u64>) {
        // The caller may have gone away (a dropped future); its records are written anyway.
        match self {
            Done::Async(tx) => {
                let _ = tx.send(res);
            }
            Done::Blocking(tx) => {
                let _ = tx.send(res);
            }
        }
    }
}

/// Work to run on the writer thread once an append is durable, with the append's last LSN.
/// Steps run in LSN order, and before [`Wal::last_lsn`] moves past them: whoever reads
/// `last_lsn() == n` knows every step of every record up to `n` has run. Keep them short.
pub type OnDurable = Box<dyn FnOnce(u64) + Send>;

struct Request {
    payloads: Vec<Vec<u8>>,
    done: Done,
    on_durable: Option<OnDurable>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Request>,
    closed: bool,
    failed: Option<(io::ErrorKind, String)>,
}

struct Shared {
    dir: PathBuf,
    queue: Mutex<Queue>,
    wake: Condvar,
    /// First LSN of every retained file, ascending; the last one is being written.
    files: Mutex<Vec<u64>>,
    /// Spare files (checkpointed, kept for reuse), by the first LSN they once held.
    spares: Mutex<Vec<u64>>,
    /// How many spares to keep.
    recycle_files: usize,
    counters: Counters,
}

/// A write-ahead log directory with a group-commit writer thread.
pub struct Wal {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The directory lock (an `flock` on `LOCK`), released by close.
    lock: Mutex<Option<File>>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

mod file;
mod writer;

pub use file::{spare_file_name, wal_file_name};
use file::{create_wal_file, list_spare_files, list_wal_files, replay_file, sync_dir};
use writer::Writer;

/// Takes the directory's `flock`. A child process forked by this process holds a copy of the
/// descriptor until it execs, so a lock just released may stay busy for a moment: retry
/// briefly before reporting the directory as in use.
fn lock_dir(lock: &File, dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Io(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("wal directory {} is in use by another wal", dir.display()),
                )));
            }
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
    }
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`, replays every retained file and returns
    /// the intact entries in LSN order. A torn tail in the last file is truncated away;
    /// damage anywhere else is [`StoreError::DataCorruption`].
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Vec<WalEntry>)> {
        if opts.max_file_bytes <= WAL_HEADER_LEN as u64 {
            return Err(StoreError::InvalidArgument(format!(
                "max_file_bytes must exceed {WAL_HEADER_LEN}"
            )));
        }
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        lock_dir(&lock, dir)?;

        let firsts = list_wal_files(dir)?;
        let mut entries = Vec::new();
        let mut next_lsn: Option<u64> = None;
        let mut last_len = 0;
        for (i, &first) in firsts.iter().enumerate() {
            if let Some(expected) = next_lsn {
                if first != expected {
                    return Err(StoreError::corruption(
                        wal_file_name(first),
                        format!("file starts at lsn {first} but the previous file ends before lsn {expected}"),
                    ));
                }
            }
            // A non-last file ends where its successor starts; bytes after that are old
            // records of a recycled file.
            let end = firsts.get(i + 1).map(|next| next - 1);
            let (next, len) = replay_file(dir, first, end, opts.sync, &mut entries)?;
            next_lsn = Some(next);
            last_len = len;
        }

        let (file, first, file_len, files) = match firsts.last() {
            Some(&first) => {
                let mut f = OpenOptions::new()
                    .write(true)
                    .open(dir.join(wal_file_name(first)))?;
                // Preallocated zeros (or a recycled file's old records) may follow.
                f.seek(SeekFrom::Start(last_len))?;
                (f, first, last_len, firsts.clone())
            }
            None => {
                let f = create_wal_file(dir, 1, opts.sync)?;
                (f, 1, WAL_HEADER_LEN as u64, vec![1])
            }
        };
        let next_lsn = next_lsn.unwrap_or(1);
        tracing::info!(
            dir = %dir.display(),
            files = files.len(),
            entries = entries.len(),
            next_lsn,
            "wal opened"
        );

        let mut spares = list_spare_files(dir)?;
        while spares.len() > opts.recycle_files {
            if let Some(extra) = spares.pop() {
                std::fs::remove_file(dir.join(spare_file_name(extra)))?;
            }
        }
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            files: Mutex::new(files),
            spares: Mutex::new(spares),
            recycle_files: opts.recycle_files,
            counters: Counters::default(),
        });
        shared
            .counters
            .durable_lsn
            .store(next_lsn - 1, Ordering::Relaxed);
        let allocated = file.metadata()?.len().max(file_len);
        let writer = Writer {
            shared: shared.clone(),
            opts,
            allocated,
            file,
            file_records: next_lsn - first,
            file_len,
            next_lsn,
            failed: None,
            last_group: 0,
        };
        let thread = std::thread::Builder::new()
            .name("wal-writer".into())
            .spawn(move || writer.run())?;
        Ok((
            Wal {
                shared,
                thread: Mutex::new(Some(thread)),
                lock: Mutex::new(Some(lock)),
            },
            entries,
        ))
    }

    /// Appends `payloads` as consecutive records; resolves once they are written and (in
    /// [`SyncMode::Fsync`]) synced, with the LSN of the last one. With no payloads it resolves
    /// to the last LSN written so far. If the future is dropped early the records may still
    /// be written.
    pub async fn append(&self, payloads: Vec<Vec<u8>>) -> Result<u64> {
        self.append_then(payloads, None).await
    }

    /// Like [`Wal::append`], and runs `on_durable` on the writer thread once the records are
    /// durable, before the LSN becomes visible through [`Wal::last_lsn`] and before the
    /// caller resumes. A consumer that applies its records there never sees a durable record
    /// it has not applied. If the write fails, `on_durable` is dropped without running.
    pub fn append_then(&self, payloads: Vec<Vec<u8>>, on_durable: Option<OnDurable>) -> impl std::future::Future<Output = Result<u64>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        let queued = self.enqueue(payloads, Done::Async(tx), on_durable);
        async move {
            queued?;
            rx.await.map_err(|_| StoreError::Closed)?
        }
    }

    /// Blocking variant of [`Wal::append`] for threads outside an async runtime.
    pub fn append_blocking(&self, payloads: Vec<Vec<u8>>) -> Result<u64> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(payloads, Done::Blocking(tx), None)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    fn enqueue(&self, payloads: Vec<Vec<u8>>, done: Done, on_durable: Option<OnDurable>) -> Result<()> {
        if let Some(big) = payloads.iter().find(|p| p.len() > WAL_MAX_PAYLOAD) {
            return Err(StoreError::InvalidArgument(format!(
                "wal record of {} bytes exceeds the limit of {WAL_MAX_PAYLOAD}",
                big.len()
            )));
        }
        {
            let mut q = self.shared.queue.lock();
            if q.closed {
                return Err(StoreError::Closed);
            }
            if let Some((kind, msg)) = &q.failed {
                return Err(StoreError::Io(io::Error::new(
                    *kind,
                    format!("wal failed earlier: {msg}"),
                )));
            }
            q.pending.push(Request { payloads, done, on_durable });
        }
        self.shared.counters.appends.fetch_add(1, Ordering::Relaxed);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Removes from the log every WAL file all of whose records have `lsn <= upto_lsn`,
    /// never the file currently written: up to [`WalOptions::recycle_files`] of them are kept
    /// as spares for later rotations (renamed to `*.spare`), the rest deleted. Returns how many
    /// files left the log.
    pub fn checkpoint(&self, upto_lsn: u64) -> Result<usize> {
        let mut files = self.shared.files.lock();
        let mut removed = 0;
        while files.len() >= 2 {
            let last_in_file = files[1].saturating_sub(1);
            if last_in_file > upto_lsn {
                break;
            }
            let path = self.shared.dir.join(wal_file_name(files[0]));
            let mut spares = self.shared.spares.lock();
            let outcome = if spares.len() < self.shared.recycle_files {
                std::fs::rename(&path, self.shared.dir.join(spare_file_name(files[0])))
                    .map(|()| spares.push(files[0]))
            } else {
                std::fs::remove_file(&path)
            };
            drop(spares);
            match outcome {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            files.remove(0);
            removed += 1;
        }
        if removed > 0 {
            sync_dir(&self.shared.dir)?;
            tracing::debug!(removed, upto_lsn, "wal checkpoint removed files");
        }
        Ok(removed)
    }

    /// First LSN of every retained WAL file, oldest first.
    pub fn files(&self) -> Vec<u64> {
        self.shared.files.lock().clone()
    }

    /// The directory of this log.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The highest LSN acknowledged so far (0 when the log is empty).
    pub fn last_lsn(&self) -> u64 {
        self.shared.counters.durable_lsn.load(Ordering::Acquire)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> WalStats {
        let c = &self.shared.counters;
        WalStats {
            appends: c.appends.load(Ordering::Relaxed),
            records: c.records.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            fsyncs: c.fsyncs.load(Ordering::Relaxed),
            fsync_nanos: c.fsync_nanos.load(Ordering::Relaxed),
            max_batch_records: c.max_batch_records.load(Ordering::Relaxed),
            rotations: c.rotations.load(Ordering::Relaxed),
            recycled: c.recycled.load(Ordering::Relaxed),
            durable_lsn: c.durable_lsn.load(Ordering::Acquire),
        }
    }

    /// Writes and syncs everything already queued, stops the writer thread and releases the
    /// directory lock; later appends fail with [`StoreError::Closed`]. Idempotent; also done
    /// on drop.
    pub fn close(&self) {
        self.stop_writer();
        // Dropping the handle releases the flock; the writer no longer touches the files.
        self.lock.lock().take();
    }

    /// [`Wal::close`] for a clean stop: when every record is at or below `upto_lsn` (all of
    /// them persisted elsewhere), the log is left as one empty file that continues the LSN
    /// sequence, and the spares are deleted, so a stopped server keeps no log bytes that
    /// nobody needs (the next rotations create files again instead of reusing spares).
    /// Otherwise it closes as [`Wal::close`] does. Returns whether the log was emptied.
    ///
    /// Crash-safe at every step: the empty file is made durable before any old file goes,
    /// and old files go oldest first, so the retained files always stay contiguous.
    pub fn close_retiring(&self, upto_lsn: u64) -> Result<bool> {
        self.stop_writer();
        let result = self.retire(upto_lsn);
        self.lock.lock().take();
        result
    }

    fn stop_writer(&self) {
        self.shared.queue.lock().closed = true;
        self.shared.wake.notify_all();
        let thread = self.thread.lock().take();
        if let Some(t) = thread {
            if t.join().is_err() {
                tracing::error!(dir = %self.shared.dir.display(), "wal writer thread panicked");
            }
        }
    }

    fn retire(&self, upto_lsn: u64) -> Result<bool> {
        if self.lock.lock().is_none() || self.shared.queue.lock().failed.is_some() {
            return Ok(false);
        }
        let last = self.last_lsn();
        if upto_lsn < last {
            return Ok(false);
        }
        let dir = &self.shared.dir;
        let mut files = self.shared.files.lock();
        if files.last().is_some_and(|&f| f <= last) {
            // The file being written holds records: continue in a fresh, empty one.
            drop(create_wal_file(dir, last + 1, SyncMode::Fsync)?);
            files.push(last + 1);
        }
        while files.len() > 1 {
            match std::fs::remove_file(dir.join(wal_file_name(files[0]))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            files.remove(0);
        }
        let mut spares = self.shared.spares.lock();
        for spare in spares.drain(..) {
            match std::fs::remove_file(dir.join(spare_file_name(spare))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        sync_dir(dir)?;
        tracing::debug!(next_lsn = last + 1, "wal emptied on a clean close");
        Ok(true)
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}
