//! `%regex%` terms: AWS's allowed subset, compiled with byte-oriented ASCII semantics.

use super::error::PatternError;

/// AWS's per-pattern regex quota.
pub(crate) const MAX_REGEXES: usize = 2;

/// Whether AWS accepts `c` inside `%…%`: alphanumerics, the symbols `: _ # = @ / ; , -`, the
/// operators `^ $ ? [ ] { } | \ * + .`, and (our decision) the space.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || ":_#=@/;,- ^$?[]{}|\\*+.".contains(c)
}

/// Compiles the body of a `%…%` term (without the percent signs).
///
/// Refuses `()` groups, multibyte characters and every character outside the allowed set with
/// AWS's "Invalid character(s) in term" message, and an empty or uncompilable body.
pub(crate) fn compile(body: &str) -> Result<regex::bytes::Regex, PatternError> {
    if !body.chars().all(allowed) {
        return Err(PatternError::bad_chars(&format!("%{body}%")));
    }
    if body.is_empty() {
        return Err(PatternError::invalid("empty regular expression %%"));
    }
    regex::bytes::RegexBuilder::new(body)
        .unicode(false)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(50)
        .build()
        .map_err(|e| PatternError::invalid(format!("invalid regular expression %{body}%: {e}")))
}
