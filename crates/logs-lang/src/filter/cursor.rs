//! A byte cursor over pattern text, with the lexing JSON and space-delimited patterns share:
//! quoted strings, `%regex%`, unquoted values and comparison operators.

use super::compare::{Comparison, Op, Operand, TextPattern};
use super::error::PatternError;
use crate::number::parse_number;
use super::regex;

/// A position in pattern text.
pub(crate) struct Cursor<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
    /// `%regex%` values compiled so far (the caller enforces the quota).
    pub(crate) regexes: usize,
}

/// Characters an unquoted value may hold (anything else needs double quotes).
fn unquoted_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.*:/+".contains(c)
}

/// Characters a name (JSON key or space-delimited field name) may hold.
pub(crate) fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            regexes: 0,
        }
    }

    /// The rest of the text.
    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// The next character, if any.
    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips whitespace.
    pub(crate) fn skip_ws(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    /// Consumes `s` if the text continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Whether the cursor is at the end.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes a run of characters satisfying `f`.
    pub(crate) fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let n = rest.find(|c: char| !f(c)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// A comparison operator: `=`, `!=`, `<`, `>`, `<=`, `>=` (`==` is refused).
    pub(crate) fn op(&mut self) -> Result<Op, PatternError> {
        let op = if self.eat("!=") {
            Op::Ne
        } else if self.eat("<=") {
            Op::Le
        } else if self.eat(">=") {
            Op::Ge
        } else if self.rest().starts_with("==") {
            return Err(PatternError::invalid("'==' is not an operator; use '='"));
        } else if self.eat("=") {
            Op::Eq
        } else if self.eat("<") {
            Op::Lt
        } else if self.eat(">") {
            Op::Gt
        } else {
            return Err(PatternError::invalid(format!(
                "expected a comparison operator at '{}'",
                self.rest()
            )));
        };
        Ok(op)
    }

    /// A quoted string after its opening `"`: `\` escapes the next character (so `\"`, `\\` and
    /// a literal `\*`). Returns the characters with an "escaped" flag.
    pub(crate) fn quoted_body(&mut self) -> Result<Vec<(char, bool)>, PatternError> {
        let mut out = Vec::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) => out.push((e, true)),
                    None => break,
                },
                _ => out.push((c, false)),
            }
        }
        Err(PatternError::invalid("unterminated double-quoted string"))
    }

    /// A `%regex%` after its opening `%`.
    pub(crate) fn regex_body(&mut self) -> Result<::regex::bytes::Regex, PatternError> {
        let rest = self.rest();
        let Some(end) = rest.find('%') else {
            return Err(PatternError::invalid("unterminated %regex%"));
        };
        let re = regex::compile(&rest[..end])?;
        self.pos += end + 1;
        self.regexes += 1;
        Ok(re)
    }

    /// `OP VALUE` where VALUE is a quoted string, a `%regex%`, a number or an unquoted string.
    /// Ordering operators need a number.
    pub(crate) fn comparison(&mut self) -> Result<Comparison, PatternError> {
        let op = self.op()?;
        self.skip_ws();
        let operand = if self.eat("\"") {
            Operand::Text(TextPattern::from_chars(&self.quoted_body()?))
        } else if self.eat("%") {
            Operand::Regex(Box::new(self.regex_body()?))
        } else {
            let start = self.pos;
            let token = self.take_while(|c| !c.is_whitespace() && !",]})&|(\"".contains(c));
            if token.is_empty() {
                self.pos = start;
                return Err(PatternError::invalid("a comparison needs a value"));
            }
            match parse_number(token) {
                Some(n) => Operand::Number(n),
                None if token.chars().all(unquoted_value_char) => {
                    let chars: Vec<(char, bool)> = token.chars().map(|c| (c, false)).collect();
                    Operand::Text(TextPattern::from_chars(&chars))
                }
                None => return Err(PatternError::bad_chars(token)),
            }
        };
        if !matches!(op, Op::Eq | Op::Ne) && !matches!(operand, Operand::Number(_)) {
            return Err(PatternError::invalid(
                "'<', '>', '<=' and '>=' need a number",
            ));
        }
        Ok(Comparison { op, operand })
    }
}
