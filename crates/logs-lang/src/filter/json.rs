//! JSON patterns: `{ $.a.b[0] = "x*" && ($.n > 1e3 || $.f IS TRUE) }`.
//!
//! Semantics: the whole message must parse as a JSON object (serde_json, nesting bounded at
//! 128 levels; anything else never matches). A selector names a value by keys and array
//! indexes. Comparisons and `IS …` tests need the selector to name a scalar: a missing value,
//! an object or an array fails them all (`!=` included); only `NOT EXISTS` holds for a missing
//! value. Text and regex operands compare a string, the rendering of a number, or
//! `true`/`false`; numeric operands compare a number or a string that is entirely a number.
//! `null` only satisfies `IS NULL`. `&&` binds tighter than `||`; parentheses group.

use serde_json::Value;

use super::compare::Comparison;
use super::cursor::{name_char, Cursor};
use super::error::PatternError;
use super::extract::{Found, PathTree};
use super::prefilter::{self, Cnf};

/// How deeply parentheses may nest in a pattern.
const MAX_DEPTH: usize = 64;

/// One step of a selector.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// `$.a.b[0]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Selector {
    pub(crate) steps: Vec<Step>,
}

impl Selector {
    /// The value the selector names in `root`, if any.
    pub(crate) fn lookup<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        let mut v = root;
        for step in &self.steps {
            v = match (step, v) {
                (Step::Key(k), Value::Object(m)) => m.get(k)?,
                (Step::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// The last key, if the selector has one.
    fn last_key(&self) -> Option<&str> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
    }
}

/// Parses a selector at the cursor: `$` then `.key` (first), then `.key` or `[n]` steps.
pub(crate) fn selector(cur: &mut Cursor<'_>) -> Result<Selector, PatternError> {
    if !cur.eat("$") {
        return Err(PatternError::invalid(format!(
            "expected a selector starting with '$.' at '{}'",
            cur.rest()
        )));
    }
    let mut steps = Vec::new();
    loop {
        if cur.eat(".") {
            let key = cur.take_while(name_char);
            if key.is_empty() {
                return Err(PatternError::invalid(format!(
                    "expected a property name at '{}'",
                    cur.rest()
                )));
            }
            steps.push(Step::Key(key.to_string()));
        } else if !steps.is_empty() && cur.eat("[") {
            let digits = cur.take_while(|c| c.is_ascii_digit());
            let index = digits
                .parse::<usize>()
                .map_err(|_| PatternError::invalid("an array index must be a number"))?;
            if !cur.eat("]") {
                return Err(PatternError::invalid("expected ']' after an array index"));
            }
            steps.push(Step::Index(index));
        } else {
            break;
        }
    }
    if steps.is_empty() {
        return Err(PatternError::invalid(
            "a selector needs a property after '$'",
        ));
    }
    if cur
        .peek()
        .is_some_and(|c| c == '[' || c == '.' || c == '*' || c == '$')
    {
        return Err(PatternError::invalid(format!(
            "unsupported selector syntax at '{}'",
            cur.rest()
        )));
    }
    Ok(Selector { steps })
}

/// Parses a whole selector string (as metric filters name values: `$.a.b[0]`).
pub(crate) fn parse_selector(text: &str) -> Option<Selector> {
    let mut cur = Cursor::new(text);
    let s = selector(&mut cur).ok()?;
    cur.at_end().then_some(s)
}

/// What a condition tests.
#[derive(Clone, Debug)]
enum Test {
    Compare(Comparison),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A boolean expression over conditions.
#[derive(Clone, Debug)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// A selector, its slot in the pattern's [`PathTree`], and the test.
    Cond(Selector, usize, Test),
}

/// A compiled JSON pattern.
#[derive(Clone, Debug)]
pub(crate) struct JsonPattern {
    expr: Expr,
    paths: PathTree,
}

/// Parses the text between the outer braces.
pub(crate) fn parse(inner: &str) -> Result<(JsonPattern, usize), PatternError> {
    let mut cur = Cursor::new(inner);
    let mut paths = PathTree::default();
    let expr = or_expr(&mut cur, &mut paths, 0)?;
    cur.skip_ws();
    if !cur.at_end() {
        return Err(PatternError::invalid(format!(
            "unexpected text '{}'",
            cur.rest()
        )));
    }
    Ok((JsonPattern { expr, paths }, cur.regexes))
}

fn or_expr(cur: &mut Cursor<'_>, paths: &mut PathTree, depth: usize) -> Result<Expr, PatternError> {
    let mut parts = vec![and_expr(cur, paths, depth)?];
    loop {
        cur.skip_ws();
        if !cur.eat("||") {
            break;
        }
        parts.push(and_expr(cur, paths, depth)?);
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Expr::Or(parts)
    })
}

fn and_expr(
    cur: &mut Cursor<'_>,
    paths: &mut PathTree,
    depth: usize,
) -> Result<Expr, PatternError> {
    let mut parts = vec![primary(cur, paths, depth)?];
    loop {
        cur.skip_ws();
        if !cur.eat("&&") {
            break;
        }
        parts.push(primary(cur, paths, depth)?);
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Expr::And(parts)
    })
}

fn primary(cur: &mut Cursor<'_>, paths: &mut PathTree, depth: usize) -> Result<Expr, PatternError> {
    cur.skip_ws();
    if cur.eat("(") {
        if depth >= MAX_DEPTH {
            return Err(PatternError::invalid("parentheses nest too deeply"));
        }
        let e = or_expr(cur, paths, depth + 1)?;
        cur.skip_ws();
        if !cur.eat(")") {
            return Err(PatternError::invalid("missing ')'"));
        }
        return Ok(e);
    }
    let sel = selector(cur)?;
    cur.skip_ws();
    let word = |cur: &mut Cursor<'_>| {
        cur.take_while(|c| c.is_ascii_alphabetic())
            .to_ascii_uppercase()
    };
    let test = match cur.peek() {
        Some(c) if c.is_ascii_alphabetic() => match word(cur).as_str() {
            "IS" => {
                cur.skip_ws();
                match word(cur).as_str() {
                    "NULL" => Test::IsNull,
                    "TRUE" => Test::IsTrue,
                    "FALSE" => Test::IsFalse,
                    other => {
                        return Err(PatternError::invalid(format!(
                            "unsupported test 'IS {other}'"
                        )))
                    }
                }
            }
            "NOT" => {
                cur.skip_ws();
                match word(cur).as_str() {
                    "EXISTS" => Test::NotExists,
                    other => {
                        return Err(PatternError::invalid(format!(
                            "unsupported test 'NOT {other}'"
                        )))
                    }
                }
            }
            other => {
                return Err(PatternError::invalid(format!(
                    "unsupported keyword '{other}'"
                )))
            }
        },
        _ => Test::Compare(cur.comparison()?),
    };
    if cur.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(PatternError::invalid(format!(
            "unexpected text '{}'",
            cur.rest()
        )));
    }
    let slot = paths.slot(&sel);
    Ok(Expr::Cond(sel, slot, test))
}

/// Parses `message` as the root object JSON patterns look into.
pub(crate) fn parse_message(message: &str) -> Option<Value> {
    let first = message.trim_start().as_bytes().first().copied();
    if first != Some(b'{') {
        return None;
    }
    match serde_json::from_str::<Value>(message) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// Whether `test` holds for what a selector found.
fn holds(test: &Test, found: &Found<'_>) -> bool {
    match (test, found) {
        (Test::NotExists, f) => *f == Found::Missing,
        (Test::IsNull, Found::Null) => true,
        (Test::IsTrue, Found::Bool(true)) => true,
        (Test::IsFalse, Found::Bool(false)) => true,
        (Test::Compare(c), Found::Str(s)) => c.holds(s, None),
        (Test::Compare(c), Found::Number(n)) => {
            if c.is_numeric() {
                n.as_f64().is_some_and(|f| c.holds("", Some(f)))
            } else {
                c.holds(&n.to_string(), None)
            }
        }
        (Test::Compare(c), Found::Bool(b)) => c.holds(if *b { "true" } else { "false" }, None),
        _ => false,
    }
}

fn eval(expr: &Expr, found: &[Found<'_>]) -> bool {
    match expr {
        Expr::And(parts) => parts.iter().all(|e| eval(e, found)),
        Expr::Or(parts) => parts.iter().any(|e| eval(e, found)),
        Expr::Cond(_, slot, test) => found.get(*slot).is_some_and(|f| holds(test, f)),
    }
}

/// The oracle the lazy path is tested against: the same tests on a parsed `Value`.
#[cfg(test)]
fn eval_value(expr: &Expr, root: &Value) -> bool {
    match expr {
        Expr::And(parts) => parts.iter().all(|e| eval_value(e, root)),
        Expr::Or(parts) => parts.iter().any(|e| eval_value(e, root)),
        Expr::Cond(sel, _, test) => {
            let found = match sel.lookup(root) {
                None => Found::Missing,
                Some(Value::String(s)) => Found::Str(s.as_str().into()),
                Some(Value::Number(n)) => Found::Number(n.clone()),
                Some(Value::Bool(b)) => Found::Bool(*b),
                Some(Value::Null) => Found::Null,
                Some(Value::Array(_) | Value::Object(_)) => Found::Composite,
            };
            holds(test, &found)
        }
    }
}

/// Whether a literal might be the text JSON gives a number or a boolean (so not required raw).
fn could_be_number_or_bool(lit: &str) -> bool {
    lit.chars()
        .all(|c| c.is_ascii_digit() || ".eE+-".contains(c))
        || "true".contains(lit)
        || "false".contains(lit)
}

fn cnf(expr: &Expr) -> Cnf {
    match expr {
        Expr::And(parts) => prefilter::and(parts.iter().map(cnf).collect()),
        Expr::Or(parts) => prefilter::or(parts.iter().map(cnf).collect()),
        Expr::Cond(sel, _, test) => {
            let mut out: Cnf = Vec::new();
            if matches!(test, Test::NotExists) {
                return out;
            }
            if let Some(k) = sel.last_key() {
                out.push(vec![format!("\"{k}\"")]);
            }
            match test {
                Test::IsNull => out.push(vec!["null".into()]),
                Test::IsTrue => out.push(vec!["true".into()]),
                Test::IsFalse => out.push(vec!["false".into()]),
                Test::Compare(c) => {
                    if let Some(lit) = c.required_literal() {
                        if !could_be_number_or_bool(lit) {
                            out.push(vec![lit.to_string()]);
                        }
                    }
                }
                Test::NotExists => {}
            }
            out
        }
    }
}

impl JsonPattern {
    /// Whether `message` is a JSON object that matches.
    pub(crate) fn matches(&self, message: &str) -> bool {
        self.paths
            .extract(message)
            .is_some_and(|found| eval(&self.expr, &found))
    }

    /// Whether the parsed message matches (the test oracle for [`JsonPattern::matches`]).
    #[cfg(test)]
    pub(crate) fn matches_value(&self, root: &Value) -> bool {
        eval_value(&self.expr, root)
    }

    /// The prefilter's clauses (bound by the backslash rule, see the prefilter module).
    pub(crate) fn cnf(&self) -> Cnf {
        cnf(&self.expr)
    }
}
