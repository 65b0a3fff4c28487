//! WAL file layout: names, header, record frames and replay of one file.

use super::{
    SyncMode, WalEntry, WAL_FRAME_HEADER_LEN, WAL_HEADER_LEN, WAL_MAGIC, WAL_MAX_PAYLOAD,
    WAL_VERSION,
};
use crate::codec::Reader;
use crate::error::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// File name of the WAL file whose first record has `first_lsn`.
pub fn wal_file_name(first_lsn: u64) -> String {
    format!("{first_lsn:020}.wal")
}

/// File name of a spare: a checkpointed log file that once started at `first_lsn`, kept to be
/// reused by a later rotation.
pub fn spare_file_name(first_lsn: u64) -> String {
    format!("{first_lsn:020}.spare")
}

fn parse_numbered_name(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(super) fn parse_wal_file_name(name: &str) -> Option<u64> {
    parse_numbered_name(name, ".wal")
}

/// The spares in `dir`, ascending.
pub(super) fn list_spare_files(dir: &Path) -> Result<Vec<u64>> {
    let mut spares = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(n) = entry.file_name().to_str().and_then(|n| parse_numbered_name(n, ".spare")) {
            spares.push(n);
        }
    }
    spares.sort_unstable();
    Ok(spares)
}

pub(super) fn wal_header() -> [u8; WAL_HEADER_LEN] {
    let mut h = [0u8; WAL_HEADER_LEN];
    h[..5].copy_from_slice(&WAL_MAGIC);
    h[5..].copy_from_slice(&WAL_VERSION.to_le_bytes());
    h
}

pub(super) fn frame_crc(lsn: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.to_le_bytes()), payload)
}

/// The header of the frame of `payload` at `lsn`: length, checksum, LSN. The payload follows
/// it on disk.
pub(super) fn frame_header(lsn: u64, payload: &[u8]) -> [u8; WAL_FRAME_HEADER_LEN] {
    // Payload length was checked against WAL_MAX_PAYLOAD on enqueue.
    let mut h = [0u8; WAL_FRAME_HEADER_LEN];
    h[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    h[4..8].copy_from_slice(&frame_crc(lsn, payload).to_le_bytes());
    h[8..].copy_from_slice(&lsn.to_le_bytes());
    h
}

/// Parses one frame at the start of `buf`: `(lsn, payload, frame length)` or why it is bad.
pub(super) fn parse_frame(buf: &[u8]) -> std::result::Result<(u64, &[u8], usize), &'static str> {
    let mut r = Reader::new(buf);
    let (Some(len), Some(crc), Some(lsn)) = (r.u32(), r.u32(), r.u64()) else {
        return Err("truncated record header");
    };
    let len = len as usize;
    if len > WAL_MAX_PAYLOAD {
        return Err("record length out of range");
    }
    let payload = r.bytes(len).ok_or("truncated record payload")?;
    if frame_crc(lsn, payload) != crc {
        return Err("record checksum mismatch");
    }
    Ok((lsn, payload, WAL_FRAME_HEADER_LEN + len))
}

/// fsyncs a directory so that created, renamed or removed entries are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub(super) fn list_wal_files(dir: &Path) -> Result<Vec<u64>> {
    let mut firsts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        match parse_wal_file_name(name) {
            Some(first) => firsts.push(first),
            None if name.ends_with(".wal") => {
                tracing::warn!(file = name, "ignoring wal file with unexpected name");
            }
            None => {}
        }
    }
    firsts.sort_unstable();
    Ok(firsts)
}

/// Replays one file into `entries`; returns `(next lsn after the file, valid length)`.
/// `end` is the last LSN of a non-last file (where its successor starts) and `None` for the
/// last file.
pub(super) fn replay_file(
    dir: &Path,
    first: u64,
    end: Option<u64>,
    sync: SyncMode,
    entries: &mut Vec<WalEntry>,
) -> Result<(u64, u64)> {
    let is_last = end.is_none();
    let name = wal_file_name(first);
    let path = dir.join(&name);
    let data = std::fs::read(&path)?;
    let header = wal_header();
    if data.len() < WAL_HEADER_LEN {
        if is_last && header.starts_with(&data) {
            tracing::warn!(file = %name, len = data.len(), "wal file header torn, rewriting it");
            let mut f = OpenOptions::new().write(true).open(&path)?;
            f.set_len(0)?;
            f.write_all(&header)?;
            if sync == SyncMode::Fsync {
                f.sync_data()?;
            }
            return Ok((first, WAL_HEADER_LEN as u64));
        }
        return Err(StoreError::corruption(name, "file shorter than its header"));
    }
    if data[..5] != WAL_MAGIC {
        return Err(StoreError::corruption(name, "bad magic"));
    }
    let version = u16::from_le_bytes([data[5], data[6]]);
    if version != WAL_VERSION {
        return Err(StoreError::corruption(
            name,
            format!("unsupported format version {version}"),
        ));
    }
    let mut pos = WAL_HEADER_LEN;
    let mut expected = first;
    while pos < data.len() {
        if end.is_some_and(|end| expected > end) {
            // Whatever follows is what a recycled file held before (see `WalOptions::recycle_files`).
            break;
        }
        match parse_frame(&data[pos..]) {
            Ok((lsn, _, _)) if is_last && lsn < expected => {
                // An intact record older than this file: a recycled file's old contents
                // after the last record written since (a clean end, not damage).
                tracing::debug!(file = %name, offset = pos, "wal ends before old records of a recycled file");
                truncate_at(&path, pos, sync)?;
                break;
            }
            Ok((lsn, payload, frame_len)) => {
                if lsn != expected {
                    return Err(StoreError::corruption(
                        name,
                        format!("record at offset {pos} has lsn {lsn}, expected {expected}"),
                    ));
                }
                entries.push(WalEntry {
                    lsn,
                    payload: payload.to_vec(),
                });
                pos += frame_len;
                expected += 1;
            }
            Err(_) if is_last && data[pos..].iter().all(|&b| b == 0) => {
                // Zero-fill ahead of the write position (see `WalOptions::preallocate_bytes`):
                // the clean end of the log. Kept, so that appends go on overwriting it.
                tracing::debug!(file = %name, offset = pos, "wal ends at preallocated space");
                break;
            }
            Err(reason) if is_last => {
                tracing::warn!(
                    file = %name,
                    offset = pos,
                    dropped_bytes = data.len() - pos,
                    reason,
                    "wal torn tail, truncating at last good record"
                );
                truncate_at(&path, pos, sync)?;
                break;
            }
            Err(reason) => {
                return Err(StoreError::corruption(
                    name,
                    format!("{reason} at offset {pos}"),
                ));
            }
        }
    }
    Ok((expected, pos as u64))
}

/// Cuts the file at `pos` (durably in [`SyncMode::Fsync`]).
fn truncate_at(path: &Path, pos: usize, sync: SyncMode) -> Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(pos as u64)?;
    if sync == SyncMode::Fsync {
        f.sync_all()?;
    }
    Ok(())
}

/// Turns the spare that once started at `spare` into the log file starting at `first_lsn`:
/// renamed, header rewritten, positioned after the header. Its old records stay behind the
/// write position until they are overwritten; replay tells them apart by their older LSNs.
pub(super) fn reuse_spare(dir: &Path, spare: u64, first_lsn: u64, sync: SyncMode) -> io::Result<File> {
    let path = dir.join(wal_file_name(first_lsn));
    std::fs::rename(dir.join(spare_file_name(spare)), &path)?;
    start_file(dir, OpenOptions::new().write(true).open(&path)?, sync)
}

pub(super) fn create_wal_file(dir: &Path, first_lsn: u64, sync: SyncMode) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(wal_file_name(first_lsn)))?;
    start_file(dir, f, sync)
}

/// Writes the header at the start of a file just named into the log and makes the file and
/// its name durable (in [`SyncMode::Fsync`]); the file is left positioned after the header.
fn start_file(dir: &Path, mut f: File, sync: SyncMode) -> io::Result<File> {
    f.write_all(&wal_header())?;
    if sync == SyncMode::Fsync {
        f.sync_data()?;
        sync_dir(dir)?;
    }
    Ok(f)
}
