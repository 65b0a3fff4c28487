//! Space-delimited patterns: `[ip, user, ..., status = 4* && status != 403, bytes > 1000]`.
//!
//! Message fields are separated by runs of spaces; a field that starts with `[` runs to the
//! next `]`, one that starts with `"` to the next `"`, and the brackets or quotes are not part
//! of its value (an unclosed `[` or `"` is an ordinary character). Without `...` the message
//! must have exactly as many fields as the pattern; `...` (at most once) stands for any number
//! of fields. A field's conditions may only name that field (AWS refuses
//! `status_code = 4* && bytes > 1000`); `&&` binds tighter than `||`.

use std::sync::Arc;

use super::compare::Comparison;
use super::cursor::{name_char, Cursor};
use super::error::PatternError;
use super::prefilter::{self, Cnf};

/// Every message field with the pattern name it maps to (`None`: unnamed or under `...`).
pub(crate) type NamedFields<'m> = Vec<(Option<Arc<str>>, &'m str)>;

/// Conditions on one field.
#[derive(Clone, Debug)]
enum FieldExpr {
    And(Vec<FieldExpr>),
    Or(Vec<FieldExpr>),
    Cmp(Comparison),
}

impl FieldExpr {
    fn holds(&self, text: &str) -> bool {
        match self {
            FieldExpr::And(p) => p.iter().all(|e| e.holds(text)),
            FieldExpr::Or(p) => p.iter().any(|e| e.holds(text)),
            FieldExpr::Cmp(c) => c.holds(text, None),
        }
    }

    fn cnf(&self) -> Cnf {
        match self {
            FieldExpr::And(p) => prefilter::and(p.iter().map(FieldExpr::cnf).collect()),
            FieldExpr::Or(p) => prefilter::or(p.iter().map(FieldExpr::cnf).collect()),
            FieldExpr::Cmp(c) => c
                .required_literal()
                .map(|l| vec![vec![l.to_string()]])
                .unwrap_or_default(),
        }
    }
}

/// One pattern field: a name (empty = unnamed) and optional conditions.
#[derive(Clone, Debug)]
struct Field {
    name: Option<Arc<str>>,
    cond: Option<FieldExpr>,
}

/// A compiled space-delimited pattern.
#[derive(Clone, Debug)]
pub(crate) struct DelimitedPattern {
    /// Fields before `...` (all fields if there is none).
    before: Vec<Field>,
    /// Fields after `...`.
    after: Vec<Field>,
    ellipsis: bool,
}

/// Parses the text between the outer brackets.
pub(crate) fn parse(inner: &str) -> Result<(DelimitedPattern, usize), PatternError> {
    if inner.trim().is_empty() {
        return Err(PatternError::invalid(
            "a space-delimited pattern needs at least one field",
        ));
    }
    let mut cur = Cursor::new(inner);
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut ellipsis = false;
    loop {
        cur.skip_ws();
        if cur.eat("...") {
            if ellipsis {
                return Err(PatternError::invalid("'...' may appear only once"));
            }
            ellipsis = true;
        } else {
            let field = field(&mut cur)?;
            if ellipsis {
                after.push(field)
            } else {
                before.push(field)
            }
        }
        cur.skip_ws();
        if cur.at_end() {
            break;
        }
        if !cur.eat(",") {
            return Err(PatternError::invalid(format!(
                "expected ',' at '{}'",
                cur.rest()
            )));
        }
    }
    Ok((
        DelimitedPattern {
            before,
            after,
            ellipsis,
        },
        cur.regexes,
    ))
}

fn field(cur: &mut Cursor<'_>) -> Result<Field, PatternError> {
    let name = cur.take_while(name_char).to_string();
    cur.skip_ws();
    if cur.at_end() || cur.peek() == Some(',') {
        let name = (!name.is_empty()).then(|| Arc::from(name.as_str()));
        return Ok(Field { name, cond: None });
    }
    if name.is_empty() {
        let bad = cur.take_while(|c| c != ',');
        return Err(PatternError::bad_chars(bad.trim()));
    }
    // A sequence of comparisons joined by && and ||, grouped so && binds tighter.
    let mut ors: Vec<FieldExpr> = Vec::new();
    let mut ands: Vec<FieldExpr> = vec![FieldExpr::Cmp(cur.comparison()?)];
    loop {
        cur.skip_ws();
        let is_and = if cur.eat("&&") {
            true
        } else if cur.eat("||") {
            false
        } else {
            break;
        };
        cur.skip_ws();
        let other = cur.take_while(name_char);
        if other != name {
            return Err(PatternError::invalid(format!(
                "a condition in field '{name}' names another field ('{other}')"
            )));
        }
        cur.skip_ws();
        let cmp = FieldExpr::Cmp(cur.comparison()?);
        if !is_and {
            ors.push(group(std::mem::take(&mut ands)));
        }
        ands.push(cmp);
    }
    ors.push(group(ands));
    let cond = if ors.len() == 1 {
        ors.pop()
    } else {
        Some(FieldExpr::Or(ors))
    };
    if !(cur.at_end() || cur.peek() == Some(',')) {
        return Err(PatternError::invalid(format!(
            "unexpected text '{}'",
            cur.rest()
        )));
    }
    Ok(Field {
        name: Some(Arc::from(name.as_str())),
        cond,
    })
}

fn group(mut ands: Vec<FieldExpr>) -> FieldExpr {
    if ands.len() == 1 {
        ands.remove(0)
    } else {
        FieldExpr::And(ands)
    }
}

/// The fields of a message, without allocating.
pub(crate) struct Fields<'m> {
    message: &'m str,
    pos: usize,
}

impl<'m> Fields<'m> {
    /// The fields of `message`.
    pub(crate) fn new(message: &'m str) -> Self {
        Self { message, pos: 0 }
    }
}

impl<'m> Iterator for Fields<'m> {
    type Item = &'m str;

    fn next(&mut self) -> Option<&'m str> {
        let b = self.message.as_bytes();
        while self.pos < b.len() && b[self.pos] == b' ' {
            self.pos += 1;
        }
        let start = self.pos;
        let first = *b.get(start)?;
        let close = match first {
            b'[' => Some(b']'),
            b'"' => Some(b'"'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(off) = memchr::memchr(close, &b[start + 1..]) {
                let end = start + 1 + off;
                self.pos = end + 1;
                return self.message.get(start + 1..end);
            }
        }
        let end = memchr::memchr(b' ', &b[start..]).map_or(b.len(), |off| start + off);
        self.pos = end;
        self.message.get(start..end)
    }
}

impl DelimitedPattern {
    /// The pattern field for message field `i` of `n` (`None`: covered by `...`), or `Err` if
    /// `n` fields cannot fit the pattern.
    fn slot(&self, i: usize, n: usize) -> Option<&Field> {
        if i < self.before.len() {
            return self.before.get(i);
        }
        let tail_start = n - self.after.len();
        if i >= tail_start {
            return self.after.get(i - tail_start);
        }
        None
    }

    /// Whether `n` message fields fit the pattern.
    fn fits(&self, n: usize) -> bool {
        let fixed = self.before.len() + self.after.len();
        if self.ellipsis {
            n >= fixed
        } else {
            n == fixed
        }
    }

    /// Whether `message` matches.
    pub(crate) fn matches(&self, message: &str) -> bool {
        let n = Fields::new(message).count();
        if !self.fits(n) {
            return false;
        }
        Fields::new(message).enumerate().all(|(i, text)| {
            self.slot(i, n)
                .and_then(|f| f.cond.as_ref())
                .is_none_or(|c| c.holds(text))
        })
    }

    /// On a match, every message field with the pattern name it maps to.
    pub(crate) fn evaluate<'m>(&self, message: &'m str) -> Option<NamedFields<'m>> {
        let fields: Vec<&'m str> = Fields::new(message).collect();
        let n = fields.len();
        if !self.fits(n) {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        for (i, text) in fields.into_iter().enumerate() {
            let slot = self.slot(i, n);
            if let Some(c) = slot.and_then(|f| f.cond.as_ref()) {
                if !c.holds(text) {
                    return None;
                }
            }
            out.push((slot.and_then(|f| f.name.clone()), text));
        }
        Some(out)
    }

    /// The prefilter's clauses.
    pub(crate) fn cnf(&self) -> Cnf {
        prefilter::and(
            self.before
                .iter()
                .chain(&self.after)
                .filter_map(|f| f.cond.as_ref())
                .map(FieldExpr::cnf)
                .collect(),
        )
    }
}
