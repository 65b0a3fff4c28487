//! One comparison `OP VALUE` as JSON and space-delimited patterns write it, and how it judges a
//! value from the message.

use crate::number::parse_number;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A string value with optional `*` wildcards at its start and end (an interior `*` is literal,
/// as AWS documents: `Ev*ent` only matches the string `Ev*ent`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TextPattern {
    pub(crate) any_prefix: bool,
    pub(crate) any_suffix: bool,
    pub(crate) core: String,
}

impl TextPattern {
    /// Builds a pattern from characters flagged as escaped (an escaped `*` is never a wildcard).
    pub(crate) fn from_chars(chars: &[(char, bool)]) -> Self {
        let mut s = chars;
        let any_prefix = matches!(s.first(), Some(('*', false)));
        if any_prefix {
            s = &s[1..];
        }
        let any_suffix = matches!(s.last(), Some(('*', false)));
        if any_suffix {
            s = &s[..s.len() - 1];
        }
        Self {
            any_prefix,
            any_suffix,
            core: s.iter().map(|(c, _)| *c).collect(),
        }
    }

    /// Whether `text` matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        match (self.any_prefix, self.any_suffix) {
            (true, true) => {
                self.core.is_empty()
                    || memchr::memmem::find(text.as_bytes(), self.core.as_bytes()).is_some()
            }
            (true, false) => text.ends_with(self.core.as_str()),
            (false, true) => text.starts_with(self.core.as_str()),
            (false, false) => text == self.core,
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// A quoted string, or an unquoted token that is not a number.
    Text(TextPattern),
    /// An unquoted number (`400`, `-1.5`, `1e-3`).
    Number(f64),
    /// A `%regex%` value: matches when the regex finds a match anywhere in the value's text.
    Regex(Box<regex::bytes::Regex>),
}

/// `OP VALUE`.
#[derive(Clone, Debug)]
pub(crate) struct Comparison {
    pub(crate) op: Op,
    pub(crate) operand: Operand,
}

impl Comparison {
    /// Judges a scalar from the message given as its text and, for JSON numbers, its value.
    ///
    /// Numeric operands need a number: `number`, or else `text` read with the number grammar;
    /// a value that is not a number fails every numeric operator, `!=` included. Text and regex
    /// operands compare the text; `!=` is then the negation of `=`.
    pub(crate) fn holds(&self, text: &str, number: Option<f64>) -> bool {
        match &self.operand {
            Operand::Number(want) => {
                let Some(have) = number.or_else(|| parse_number(text)) else {
                    return false;
                };
                match self.op {
                    Op::Eq => have == *want,
                    Op::Ne => have != *want,
                    Op::Lt => have < *want,
                    Op::Gt => have > *want,
                    Op::Le => have <= *want,
                    Op::Ge => have >= *want,
                }
            }
            Operand::Text(p) => (self.op == Op::Eq) == p.matches(text),
            Operand::Regex(r) => (self.op == Op::Eq) == r.is_match(text.as_bytes()),
        }
    }

    /// Whether this comparison needs the number of a JSON number node (so its text may be skipped).
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self.operand, Operand::Number(_))
    }

    /// A literal every value satisfying the comparison contains, if the comparison is `=` on
    /// text with a non-empty core.
    pub(crate) fn required_literal(&self) -> Option<&str> {
        match (&self.op, &self.operand) {
            (Op::Eq, Operand::Text(p)) if !p.core.is_empty() => Some(&p.core),
            _ => None,
        }
    }
}
