//! The error a query fails to compile with.

use std::fmt;

/// Why a query does not compile: AWS answers `MalformedQueryException` with this message and a
/// `queryCompileError` whose location is these character offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// The message, in AWS's style.
    pub message: String,
    /// Offset of the first character of the offending text (`startCharOffset`).
    pub start_char_offset: usize,
    /// Offset just past the offending text (`endCharOffset`).
    pub end_char_offset: usize,
}

impl QueryError {
    pub(crate) fn at(message: impl Into<String>, start: usize, end: usize) -> QueryError {
        QueryError {
            message: message.into(),
            start_char_offset: start,
            end_char_offset: end.max(start),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QueryError {}
