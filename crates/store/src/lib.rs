//! Watchtrail storage core: it knows bytes and records, not metrics or logs.
//!
//! - [`wal`]: write-ahead log with group commit ([`Wal`]).
//! - [`commit`]: the server's shared commit log on top of it ([`CommitLog`]): multi-part
//!   records, on-durable steps, consumer-driven checkpoints.
//! - [`segment`]: the immutable, compressed segment file format ([`SegmentBuilder`],
//!   [`SegmentReader`]); byte layout in `crates/store/FORMAT.md`.
//! - [`objects`]: [`BlobStore`], the door to object storage.
//! - [`catalog`]: the metadata [`Catalog`] and its SQLite implementation.
//! - [`segments`]: [`SegmentStore`], segments in blobs registered in the catalog, with
//!   compaction, retention and orphan cleanup.
//! - [`error`]: the one error type, [`StoreError`].

#![warn(missing_docs)]

mod bloom;
mod codec;

pub mod catalog;
pub mod commit;
pub mod error;
pub mod objects;
pub mod segment;
pub mod segments;
pub mod wal;

pub use commit::{CommitEntry, CommitLog, LogConsumer, PartKind, PartRef};
pub use catalog::{Catalog, SegmentMeta, SqliteCatalog, CATALOG_SCHEMA_VERSION};
pub use error::{Result, StoreError};
pub use objects::BlobStore;
pub use segment::{
    merge_segments, BlockTest, KeyFilter, Record, RecordCursor, RecordRef, SegmentBuilder, SegmentEncoder, SegmentReader, ThreadDecoder, SEGMENT_MAGIC,
    SEGMENT_VERSION,
};
pub use segments::{CompactionPolicy, CompactionReport, RewriteReport, Rewriter, SegmentStore, SEGMENTS_PREFIX};
pub use wal::{OnDurable, SyncMode, Wal, WalEntry, WalOptions, WalStats, WAL_MAGIC, WAL_VERSION};
