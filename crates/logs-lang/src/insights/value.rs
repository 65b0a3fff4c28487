//! Runtime values, how they compare (AWS's natural sort), and how they render in result rows.

use std::cmp::Ordering;

use super::time::format_timestamp;

/// One value during execution. A missing field is `None` at the use site, never a variant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// Text, as read from a log event or produced by a string function.
    Str(String),
    /// A number; always finite (operations that would give NaN or ±∞ give a missing value).
    Num(f64),
    /// A boolean; renders as `1` / `0` (the User Guide: `ispresent(f) as isRes` is "either 0 or 1").
    Bool(bool),
    /// A point in time, epoch milliseconds; renders as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
    Time(i64),
    /// A list from `jsonParse`.
    List(Vec<Value>),
    /// An object from `jsonParse`, keys in document order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// A number value, or a missing value if `f` is not finite.
    pub(crate) fn num(f: f64) -> Option<Value> {
        f.is_finite().then_some(Value::Num(f))
    }

    /// The value as a number, if it is one or is text that reads as one.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(f) => Some(*f),
            Value::Time(t) => Some(*t as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => parse_number(s),
            Value::List(_) | Value::Map(_) => None,
        }
    }

    /// Whether `filter` keeps a row whose condition evaluated to this value.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Num(f) => *f != 0.0,
            Value::Time(_) => true,
            Value::Str(s) => {
                s.eq_ignore_ascii_case("true") || parse_number(s).is_some_and(|f| f != 0.0)
            }
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// The text AWS shows for this value in a result row.
    pub(crate) fn render(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(f) => format_number(*f),
            Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Value::Time(t) => format_timestamp(*t),
            Value::List(_) | Value::Map(_) => {
                let mut out = String::new();
                write_json(self, &mut out);
                out
            }
        }
    }

    /// The value as text for string functions (`render` for everything).
    pub(crate) fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            other => std::borrow::Cow::Owned(other.render()),
        }
    }
}

/// Converts a JSON value from `jsonParse` (null becomes a missing value).
pub(crate) fn from_json(v: &serde_json::Value) -> Option<Value> {
    Some(match v {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => Value::Str(b.to_string()),
        serde_json::Value::Number(n) => Value::Str(n.to_string()),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().filter_map(from_json).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.iter()
                .filter_map(|(k, v)| from_json(v).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

/// Compact JSON text of a value (`jsonStringify`, and how lists and maps render).
pub(crate) fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Str(s) => {
            if parse_number(s).is_some() || s == "true" || s == "false" {
                out.push_str(s);
            } else {
                out.push_str(&serde_json::Value::String(s.clone()).to_string());
            }
        }
        Value::Num(_) | Value::Bool(_) => out.push_str(&v.render()),
        Value::Time(_) => out.push_str(&serde_json::Value::String(v.render()).to_string()),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// Reads text as a number (the crate's number grammar), finite only.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    crate::number::parse_number(s).filter(|f| f.is_finite())
}

/// Number text: integers without a fraction, other values in the shortest form that reads back
/// as the same double (so `avg` of 1, 2 renders `1.5` and of 1, 2, 2 renders `1.6666666666666667`).
pub(crate) fn format_number(f: f64) -> String {
    if f == 0.0 {
        return "0".to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e17 {
        return format!("{}", f as i64);
    }
    format!("{f}")
}

/// Equality as `=` sees it: numerically when both sides read as numbers, else as text.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a.text() == b.text(),
    }
}

/// Ordering for `<`, `<=`, `>`, `>=`: numerically when both sides are numbers, else as text.
pub(crate) fn compare_for_operator(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.text().as_ref().cmp(b.text().as_ref()),
    }
}

/// AWS's `sort` order (CWL_QuerySyntax-Sort, ascending): every non-number value before every
/// number value; numbers numerically; other text compared chunk by chunk, where a chunk is a
/// run of digits or a run of non-digits, two digit chunks compare by length then value, and
/// anything else compares by Unicode code point. Ties are broken by the rendered text, so the
/// order is total and never depends on arrival order.
pub(crate) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (a.text(), b.text());
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| ra.cmp(&rb)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => natural_cmp(&ra, &rb).then_with(|| ra.cmp(&rb)),
    }
}

/// `sort_cmp` over possibly missing values: a missing value sorts after every present one.
pub(crate) fn sort_cmp_opt(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => sort_cmp(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

fn natural_cmp(a: &str, b: &str) -> Ordering {
    let mut ca = chunks(a);
    let mut cb = chunks(b);
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let both_digits =
                    x.as_bytes()[0].is_ascii_digit() && y.as_bytes()[0].is_ascii_digit();
                let ord = if both_digits {
                    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
                } else {
                    x.cmp(y)
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_sort_matches_the_user_guide_example() {
        let expected = [
            "!:",
            "#",
            "*%04",
            "0#",
            "5A",
            "111A",
            "2345_",
            "@",
            "@_",
            "A",
            "A9876fghj",
            "a12345hfh",
            "0",
            "01",
            "1",
            "2",
            "3",
        ];
        let mut v: Vec<Value> = expected
            .iter()
            .rev()
            .map(|s| Value::Str(s.to_string()))
            .collect();
        v.sort_by(sort_cmp);
        let got: Vec<String> = v.iter().map(Value::render).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn numbers_render_like_aws() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(2.0 / 3.0), "0.6666666666666666");
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("."), None);
    }
}
