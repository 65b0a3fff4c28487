//! The service's side of filter patterns: the one compiler of `watchtrail-logs-lang`, shared
//! by FilterLogEvents, metric filters, live tail and TestMetricFilter, with AWS's limits.

use crate::error::{LogsError, Result};
use std::sync::Arc;
use watchtrail_logs_lang::filter::{FilterPattern, PatternKind};

/// A filter pattern may be this long (characters).
pub const MAX_PATTERN_CHARS: usize = 1024;

/// A compiled filter pattern. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Arc<FilterPattern>,
    all: bool,
}

impl Matcher {
    /// Compiles `text` (parameter `param` in errors); an empty or blank pattern matches every
    /// event.
    pub fn compile_param(param: &str, text: &str) -> Result<Matcher> {
        if text.chars().count() > MAX_PATTERN_CHARS {
            return Err(LogsError::constraint(param, text, "Member must have length less than or equal to 1024"));
        }
        let pattern = FilterPattern::parse(text).map_err(|e| LogsError::InvalidParameter(e.message().to_string()))?;
        let all = pattern.kind() == PatternKind::MatchAll;
        Ok(Matcher { pattern: Arc::new(pattern), all })
    }

    /// [`Matcher::compile_param`] for a `filterPattern` parameter.
    pub fn compile(text: &str) -> Result<Matcher> {
        Self::compile_param("filterPattern", text)
    }

    /// Whether `message` matches (the pattern checks its literal prefilter first).
    pub fn matches(&self, message: &str) -> bool {
        self.all || self.pattern.matches(message)
    }

    /// A test over a stored block's bytes that refuses blocks holding no message this pattern
    /// can match: a message is a substring of its block, so a literal the pattern requires of
    /// every match must occur in the block (`None` when the pattern requires no literal).
    pub fn block_test(&self) -> Option<Arc<watchtrail_store::BlockTest>> {
        if self.all || self.pattern.prefilter().clauses().is_empty() {
            return None;
        }
        let pattern = self.pattern.clone();
        Some(Arc::new(move |block: &[u8]| pattern.prefilter().may_match(block)))
    }

    /// The compiled pattern (values for metric filters, TestMetricFilter's extracted values).
    pub fn pattern(&self) -> &FilterPattern {
        &self.pattern
    }

    /// Number of `%regex%` terms.
    pub fn regex_count(&self) -> usize {
        self.pattern.regex_count()
    }
}
