//! The service's side of filter patterns: one compiled matcher shared by FilterLogEvents
//! (and later metric filters, subscription filters and live tail).

use crate::error::{LogsError, Result};

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    all: bool,
}

impl Matcher {
    /// Compiles `text`; an empty or blank pattern matches every event.
    pub fn compile(text: &str) -> Result<Matcher> {
        if text.trim().is_empty() {
            return Ok(Matcher { all: true });
        }
        Err(LogsError::InvalidParameter("Invalid filter pattern".into()))
    }

    /// Whether `message` matches.
    pub fn matches(&self, _message: &str) -> bool {
        self.all
    }
}
