//! CloudTrail for Watchtrail. Today: the activity [`journal`] every API call is recorded in;
//! event history, trails and digests build on it.

#![warn(missing_docs)]

pub mod journal;

pub use journal::{Journal, JournalOptions, JournalSink, ACTIVITY_STREAM, TAIL_CAPACITY};
