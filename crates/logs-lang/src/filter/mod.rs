//! Filter patterns: parse once, match many messages.
//!
//! One compiler for FilterLogEvents, metric filters, subscription filters and Live Tail. A
//! pattern is one of:
//! - empty or whitespace-only: matches everything ([`PatternKind::MatchAll`]);
//! - terms for unstructured events (`ERROR "exact phrase" ?WARN -DEBUG`, module `terms`);
//! - a lone `%regex%` ([`PatternKind::Regex`], module `regex`);
//! - a JSON pattern in braces (`{ $.status >= 500 }`, modules `json` and `extract`);
//! - a space-delimited pattern in brackets (`[ip, user, ..., status = 4*, bytes]`, module
//!   `delimited`).
//!
//! Each module's documentation states its semantics, including where AWS is silent; the
//! decisions are pinned by `tests/golden/filter_patterns.cases`. [`Prefilter`] gives the
//! literals a matching message must contain, so scans can skip most messages with `memmem`
//! before evaluating anything.

mod compare;
mod cursor;
mod delimited;
mod error;
mod extract;
mod json;
mod matched;
mod prefilter;
mod regex;
mod terms;

pub use error::PatternError;
pub use matched::{FieldValue, Match};
pub use prefilter::Prefilter;

/// Which kind of pattern a [`FilterPattern`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatternKind {
    /// Empty, whitespace-only, or only empty quoted terms (`""`, `" "`): matches every event.
    MatchAll,
    /// Terms for unstructured events.
    Terms,
    /// `{ … }`.
    Json,
    /// `[ … ]`.
    SpaceDelimited,
    /// A lone `%regex%`.
    Regex,
}

/// How a compiled pattern matches.
#[derive(Clone, Debug)]
enum Matcher {
    All,
    Terms(terms::TermPattern),
    Json(json::JsonPattern),
    Delimited(delimited::DelimitedPattern),
}

/// A compiled filter pattern.
#[derive(Clone, Debug)]
pub struct FilterPattern {
    kind: PatternKind,
    matcher: Matcher,
    prefilter: Prefilter,
    regex_count: usize,
}

impl FilterPattern {
    /// Compiles a pattern. "" and whitespace-only patterns match everything.
    ///
    /// Refuses what CloudWatch Logs refuses: unquoted terms with characters other than
    /// alphanumerics and `_`, regexes outside AWS's subset (no `()` groups, no multibyte
    /// characters), more than 2 regexes, `{` without `}` and `[` without `]`, and malformed
    /// JSON or space-delimited syntax. The 1024-character limit is the caller's to check.
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        let trimmed = text.trim();
        let (kind, matcher, regex_count) = if trimmed.is_empty() {
            (PatternKind::MatchAll, Matcher::All, 0)
        } else if let Some(rest) = trimmed.strip_prefix('{') {
            let inner = rest.strip_suffix('}').ok_or_else(|| {
                PatternError::exact("If a filter pattern starts with '{' it must end with '}'")
            })?;
            let (p, n) = json::parse(inner)?;
            (PatternKind::Json, Matcher::Json(p), n)
        } else if let Some(rest) = trimmed.strip_prefix('[') {
            let inner = rest.strip_suffix(']').ok_or_else(|| {
                PatternError::exact("If a filter pattern starts with '[' it must end with ']'")
            })?;
            let (p, n) = delimited::parse(inner)?;
            (PatternKind::SpaceDelimited, Matcher::Delimited(p), n)
        } else {
            let parsed = terms::parse(trimmed)?;
            if parsed.match_all {
                (PatternKind::MatchAll, Matcher::All, 0)
            } else {
                let kind = if parsed.lone_regex {
                    PatternKind::Regex
                } else {
                    PatternKind::Terms
                };
                (kind, Matcher::Terms(parsed.pattern), parsed.regexes)
            }
        };
        if regex_count > regex::MAX_REGEXES {
            return Err(PatternError::invalid(format!(
                "a filter pattern can hold at most {} regular expressions",
                regex::MAX_REGEXES
            )));
        }
        let prefilter = match &matcher {
            Matcher::All => Prefilter::default(),
            Matcher::Terms(t) => Prefilter::new(t.cnf(), false),
            Matcher::Json(j) => Prefilter::new(j.cnf(), true),
            Matcher::Delimited(d) => Prefilter::new(d.cnf(), false),
        };
        Ok(FilterPattern {
            kind,
            matcher,
            prefilter,
            regex_count,
        })
    }

    /// Whether the event message matches. Hot path: called for millions of messages.
    pub fn matches(&self, message: &str) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Terms(t) => t.matches(message.as_bytes()),
            Matcher::Json(j) => self.prefilter.may_match(message.as_bytes()) && j.matches(message),
            Matcher::Delimited(d) => {
                self.prefilter.may_match(message.as_bytes()) && d.matches(message)
            }
        }
    }

    /// `matches` without the prefilter: the oracle the prefilter's soundness is tested against.
    #[cfg(test)]
    pub(crate) fn matches_unfiltered(&self, message: &str) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Terms(t) => t.matches(message.as_bytes()),
            Matcher::Json(j) => {
                json::parse_message(message).is_some_and(|root| j.matches_value(&root))
            }
            Matcher::Delimited(d) => d.matches(message),
        }
    }

    /// Matches and, on a match, gives access to extracted values (for metric filters and
    /// TestMetricFilter).
    pub fn evaluate<'m>(&self, message: &'m str) -> Option<Match<'m>> {
        match &self.matcher {
            Matcher::All => Some(Match::plain(message)),
            Matcher::Terms(t) => t.matches(message.as_bytes()).then(|| Match::plain(message)),
            Matcher::Json(j) => {
                if !self.prefilter.may_match(message.as_bytes()) {
                    return None;
                }
                j.matches(message).then(|| Match::plain(message))
            }
            Matcher::Delimited(d) => {
                if !self.prefilter.may_match(message.as_bytes()) {
                    return None;
                }
                d.evaluate(message)
                    .map(|fields| Match::with_fields(message, fields))
            }
        }
    }

    /// Literal substrings a matching message must contain (see [`Prefilter`]).
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// Number of `%regex%` terms (AWS allows at most 2 per pattern; parse already refuses more).
    pub fn regex_count(&self) -> usize {
        self.regex_count
    }

    /// Which kind of pattern this is.
    pub fn kind(&self) -> PatternKind {
        self.kind
    }
}

#[cfg(test)]
mod tests;
