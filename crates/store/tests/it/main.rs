//! Integration tests of `watchtrail-store`, one binary for faster builds.

mod catalog;
mod commit;
mod golden;
mod segment;
mod segment_store;
mod wal;
mod wal_crash;
