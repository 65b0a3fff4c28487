//! The one error type of the storage core.

/// Everything that can go wrong in `watchtrail-store`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An operating-system I/O call failed.
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),

    /// Bytes on disk or in object storage do not decode as they should (bad magic, checksum
    /// mismatch, impossible length, unsupported version, ...). Never silently skipped.
    #[error("data corruption in {what}: {detail}")]
    DataCorruption {
        /// Which object is damaged (a file name, a segment id, ...).
        what: String,
        /// What exactly is wrong with it.
        detail: String,
    },

    /// The object store (local file system, in-memory or remote) returned an error.
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),

    /// The SQLite metadata catalog returned an error.
    #[error("catalog error: {0}")]
    Catalog(#[from] rusqlite::Error),

    /// The component was closed (or failed permanently) and accepts no more work.
    #[error("store is closed")]
    Closed,

    /// A concurrent change made the operation invalid (for example a compaction input was
    /// removed by retention before the swap); nothing was changed.
    #[error("conflict: {0}")]
    Conflict(String),

    /// The caller passed a value the store cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A background task or thread panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// Shorthand for [`StoreError::DataCorruption`].
    pub fn corruption(what: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::DataCorruption {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// True for [`StoreError::DataCorruption`].
    pub fn is_corruption(&self) -> bool {
        matches!(self, StoreError::DataCorruption { .. })
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Task(e.to_string())
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StoreError>;
