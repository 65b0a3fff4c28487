//! The group-commit writer thread.

use super::file::{create_wal_file, frame_header, reuse_spare};
use super::{Request, Shared, SyncMode, WalOptions, WAL_FRAME_HEADER_LEN, WAL_HEADER_LEN};
use crate::error::StoreError;
use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

pub(super) struct Writer {
    pub(super) shared: Arc<Shared>,
    pub(super) opts: WalOptions,
    pub(super) file: File,
    pub(super) file_records: u64,
    pub(super) file_len: u64,
    /// Physical length of the current file: bytes up to here are allocated and written
    /// (records, zero-fill or a recycled file's old records).
    pub(super) allocated: u64,
    pub(super) next_lsn: u64,
    pub(super) failed: Option<(io::ErrorKind, String)>,
    /// Appends in the previous group commit.
    pub(super) last_group: usize,
}

/// Runs an on-durable step; a panic in it is logged, never allowed to stop the writer.
fn run_step(step: super::OnDurable, lsn: u64) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(lsn))).is_err() {
        tracing::error!(lsn, "a wal on-durable step panicked");
    }
}

impl Writer {
    pub(super) fn run(mut self) {
        loop {
            let batch = {
                let mut q = self.shared.queue.lock();
                while q.pending.is_empty() && !q.closed {
                    self.shared.wake.wait(&mut q);
                }
                if q.pending.is_empty() {
                    break;
                }
                std::mem::take(&mut q.pending)
            };
            let batch = self.gather(batch);
            self.last_group = batch.len();
            self.process(batch);
        }
        if self.failed.is_none() {
            // A recycled file still holds old records behind the last one written, a new
            // one zero-fill: cut them off, so that a clean restart finds the file ending at
            // its last record.
            // (`allocated` is the file's length on disk.)
            let cut = self.allocated > self.file_len;
            if cut {
                if let Err(e) = self.file.set_len(self.file_len) {
                    tracing::warn!(error = %e, "could not cut a recycled wal file at its last record");
                }
            }
            // In Fsync mode every acknowledged batch is already synced (only the length of
            // the file may have changed just now).
            let synced = match self.opts.sync {
                SyncMode::NoSync => self.file.sync_data(),
                SyncMode::Fsync if cut => self.file.sync_all(),
                SyncMode::Fsync => Ok(()),
            };
            if let Err(e) = synced {
                tracing::error!(error = %e, "wal final sync failed");
            }
        }
        tracing::debug!(next_lsn = self.next_lsn, "wal writer stopped");
    }

    /// Applies the commit delay: under concurrency, lets more appends join this group.
    fn gather(&self, mut batch: Vec<Request>) -> Vec<Request> {
        if self.opts.commit_delay.is_zero() || self.last_group <= 1 {
            return batch;
        }
        std::thread::sleep(self.opts.commit_delay);
        let more = std::mem::take(&mut self.shared.queue.lock().pending);
        batch.extend(more);
        batch
    }

    fn process(&mut self, batch: Vec<Request>) {
        if self.failed.is_none() {
            match self.commit(&batch) {
                Ok(lasts) => {
                    for (req, last) in batch.into_iter().zip(lasts) {
                        if let Some(step) = req.on_durable {
                            run_step(step, last);
                        }
                        // Published and woken one by one, in LSN order: a caller resumes as
                        // soon as its own step has run, while the writer runs the next ones.
                        self.shared.counters.durable_lsn.store(last, Ordering::Release);
                        req.done.complete(Ok(last));
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "wal write failed, refusing further appends");
                    let failure = (e.kind(), e.to_string());
                    self.shared.queue.lock().failed = Some(failure.clone());
                    self.failed = Some(failure);
                }
            }
        }
        if let Some((kind, msg)) = &self.failed {
            for req in batch {
                req.done
                    .complete(Err(StoreError::Io(io::Error::new(*kind, msg.clone()))));
            }
        }
    }

    /// Writes the whole batch and syncs once; returns the last LSN of each request.
    fn commit(&mut self, batch: &[Request]) -> io::Result<Vec<u64>> {
        let mut lasts = Vec::with_capacity(batch.len());
        let mut records = 0u64;
        let mut bytes = 0u64;
        // The current file's frames not written yet: each header, and the payload as the
        // caller handed it (written from there, not copied into a buffer first).
        let mut frames: Vec<([u8; WAL_FRAME_HEADER_LEN], &[u8])> = Vec::new();
        let mut pending = 0u64;
        for req in batch {
            for payload in &req.payloads {
                if self.file_records > 0 && self.file_len + pending >= self.opts.max_file_bytes {
                    bytes += self.write_frames(&frames)?;
                    frames.clear();
                    pending = 0;
                    self.rotate()?;
                }
                frames.push((frame_header(self.next_lsn, payload), payload));
                pending += (WAL_FRAME_HEADER_LEN + payload.len()) as u64;
                self.next_lsn += 1;
                self.file_records += 1;
                records += 1;
            }
            lasts.push(self.next_lsn - 1);
        }
        bytes += self.write_frames(&frames)?;
        if records > 0 {
            self.sync()?;
        }
        let c = &self.shared.counters;
        c.records.fetch_add(records, Ordering::Relaxed);
        c.bytes.fetch_add(bytes, Ordering::Relaxed);
        c.batches.fetch_add(1, Ordering::Relaxed);
        c.max_batch_records.fetch_max(records, Ordering::Relaxed);
        Ok(lasts)
    }

    /// Writes `frames` at the end of the current file with vectored writes (a short write
    /// continues where it stopped); returns the bytes written.
    fn write_frames(&mut self, frames: &[([u8; WAL_FRAME_HEADER_LEN], &[u8])]) -> io::Result<u64> {
        let n: u64 = frames.iter().map(|(_, p)| (WAL_FRAME_HEADER_LEN + p.len()) as u64).sum();
        if n == 0 {
            return Ok(0);
        }
        let mut slices: Vec<IoSlice<'_>> = frames.iter().flat_map(|(h, p)| [IoSlice::new(h), IoSlice::new(p)]).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.file.write_vectored(rest) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wal file accepted no bytes")),
                Ok(k) => IoSlice::advance_slices(&mut rest, k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.file_len += n;
        if self.file_len > self.allocated {
            self.allocated = self.file_len;
            self.zero_fill_ahead()?;
        }
        Ok(n)
    }

    /// Writes zeros from the end of the file to `preallocate_bytes` past the write position
    /// (never past `max_file_bytes`), so that the next appends overwrite written blocks; the
    /// next sync makes them durable together with the records just written.
    fn zero_fill_ahead(&mut self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        let target = (self.file_len + self.opts.preallocate_bytes).min(self.opts.max_file_bytes);
        while self.allocated < target {
            let n = (target - self.allocated).min(ZEROS.len() as u64) as usize;
            self.file.write_all_at(&ZEROS[..n], self.allocated)?;
            self.allocated += n as u64;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.opts.sync == SyncMode::Fsync {
            let start = Instant::now();
            self.file.sync_data()?;
            let c = &self.shared.counters;
            c.fsyncs.fetch_add(1, Ordering::Relaxed);
            c.fsync_nanos
                .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        // The finished file must be durable before records land in its successor, so that
        // only the last file can ever have a torn tail.
        self.sync()?;
        let spare = self.shared.spares.lock().pop();
        let file = match spare {
            Some(spare) => {
                let f = reuse_spare(&self.shared.dir, spare, self.next_lsn, self.opts.sync)?;
                self.shared.counters.recycled.fetch_add(1, Ordering::Relaxed);
                f
            }
            None => create_wal_file(&self.shared.dir, self.next_lsn, self.opts.sync)?,
        };
        self.allocated = file.metadata()?.len().max(WAL_HEADER_LEN as u64);
        self.file = file;
        self.file_len = WAL_HEADER_LEN as u64;
        self.file_records = 0;
        self.shared.files.lock().push(self.next_lsn);
        self.shared
            .counters
            .rotations
            .fetch_add(1, Ordering::Relaxed);
        tracing::debug!(first_lsn = self.next_lsn, "wal rotated to a new file");
        Ok(())
    }
}
