//! One row during execution: its log record, the fields commands computed, the JSON fields
//! discovered in `@message`, and expression evaluation over it.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use super::ast::{BinOp, Command, Expr, Pattern};
use super::functions::call;
use super::value::{compare_for_operator, values_equal, Value};

/// Most fields [`flatten_message`] lists for one JSON message (the User Guide: "no more than
/// 200 log event fields"); the first 200 in key order are kept. Queries read every field.
pub(crate) const MAX_DISCOVERED_FIELDS: usize = 200;

/// A borrowed log record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecRef<'a> {
    pub(crate) timestamp: i64,
    pub(crate) ingestion_time: i64,
    pub(crate) message: &'a str,
    pub(crate) log_stream: &'a str,
    pub(crate) log_group: &'a str,
    pub(crate) ptr: &'a str,
}

/// An owned log record, kept by rows that wait in a top-k heap.
#[derive(Clone, Debug)]
pub(crate) struct Rec {
    timestamp: i64,
    ingestion_time: i64,
    message: Box<str>,
    log_stream: Box<str>,
    log_group: Box<str>,
    ptr: Box<str>,
}

impl Rec {
    pub(crate) fn own(r: &RecRef<'_>) -> Rec {
        Rec {
            timestamp: r.timestamp,
            ingestion_time: r.ingestion_time,
            message: r.message.into(),
            log_stream: r.log_stream.into(),
            log_group: r.log_group.into(),
            ptr: r.ptr.into(),
        }
    }

    pub(crate) fn view(&self) -> RecRef<'_> {
        RecRef {
            timestamp: self.timestamp,
            ingestion_time: self.ingestion_time,
            message: &self.message,
            log_stream: &self.log_stream,
            log_group: &self.log_group,
            ptr: &self.ptr,
        }
    }
}

/// An owned row: its record (none after `stats`), computed fields, and its index among the
/// rows `unnest` made of one record.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) rec: Option<Arc<Rec>>,
    pub(crate) fields: Vec<(String, Option<Value>)>,
    pub(crate) seq: u32,
}

/// A row being evaluated.
#[derive(Clone, Debug)]
pub(crate) struct RowState<'a> {
    pub(crate) rec: Option<RecRef<'a>>,
    /// Fields set by `fields`, `parse`, `unnest`, `stats`; `None` hides a discovered field.
    pub(crate) fields: Vec<(String, Option<Value>)>,
    pub(crate) seq: u32,
    /// Keys of `sort` commands met so far, in command order.
    pub(crate) sort_keys: Vec<Vec<(Option<Value>, bool)>>,
    /// `@message` parsed as a JSON object, once, when a field is first looked for in it.
    json: OnceCell<Option<serde_json::Value>>,
}

impl<'a> RowState<'a> {
    pub(crate) fn new(
        rec: Option<RecRef<'a>>,
        fields: Vec<(String, Option<Value>)>,
        seq: u32,
    ) -> RowState<'a> {
        RowState {
            rec,
            fields,
            seq,
            sort_keys: Vec::new(),
            json: OnceCell::new(),
        }
    }

    pub(crate) fn from_stored(s: &'a Stored) -> RowState<'a> {
        RowState::new(s.rec.as_deref().map(Rec::view), s.fields.clone(), s.seq)
    }

    pub(crate) fn timestamp(&self) -> Option<i64> {
        match self.get("@timestamp")? {
            Value::Time(t) => Some(t),
            other => other
                .as_f64()
                .filter(|f| f.abs() < 9.2e18)
                .map(|f| f as i64),
        }
    }

    pub(crate) fn set(&mut self, name: &str, value: Option<Value>) {
        if let Some(slot) = self.fields.iter_mut().find(|(n, _)| n == name) {
            slot.1 = value;
        } else {
            self.fields.push((name.to_string(), value));
        }
    }

    /// A field discovered in a JSON message (the same names `flatten_message` lists).
    fn discovered(&self, name: &str) -> Option<Value> {
        let path = match name.strip_prefix('@') {
            Some(rest) if rest.starts_with('@') => rest,
            Some(_) => return None,
            None => name,
        };
        let root = self
            .json
            .get_or_init(|| self.rec.and_then(|r| parse_object(r.message)))
            .as_ref()?;
        json_leaf(root, path, 0).map(leaf_value)
    }

    /// The value of a field, or `None` when the row does not have it.
    pub(crate) fn get(&self, name: &str) -> Option<Value> {
        if let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        if let Some(rec) = &self.rec {
            match name {
                "@timestamp" => return Some(Value::Time(rec.timestamp)),
                "@ingestionTime" => return Some(Value::Time(rec.ingestion_time)),
                "@message" => return Some(Value::Str(rec.message.to_string())),
                "@logStream" => return Some(Value::Str(rec.log_stream.to_string())),
                "@log" => return Some(Value::Str(rec.log_group.to_string())),
                "@ptr" => return Some(Value::Str(rec.ptr.to_string())),
                _ => {}
            }
            if let Some(v) = self.discovered(name) {
                return Some(v);
            }
        }
        // `a.b.0` inside a list or map that a command computed (jsonParse, unnest).
        let mut end = name.len();
        while let Some(dot) = name[..end].rfind('.') {
            if let Some((_, Some(v @ (Value::Map(_) | Value::List(_))))) =
                self.fields.iter().find(|(n, _)| n == &name[..dot])
            {
                return walk(v, &name[dot + 1..]);
            }
            end = dot;
        }
        None
    }

    /// A field as text, borrowing the record's strings where it can (`like`, `parse` and
    /// regular expressions read `@message` once per record; it is not copied for them).
    pub(crate) fn get_text(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) {
            return v.as_ref().map(Value::text);
        }
        if let Some(rec) = &self.rec {
            match name {
                "@message" => return Some(Cow::Borrowed(rec.message)),
                "@logStream" => return Some(Cow::Borrowed(rec.log_stream)),
                "@log" => return Some(Cow::Borrowed(rec.log_group)),
                "@ptr" => return Some(Cow::Borrowed(rec.ptr)),
                _ => {}
            }
        }
        self.get(name).map(|v| Cow::Owned(v.text().into_owned()))
    }

    pub(crate) fn to_stored(&self, rec: Option<Arc<Rec>>) -> Stored {
        Stored {
            rec,
            fields: self.fields.clone(),
            seq: self.seq,
        }
    }
}

fn walk(v: &Value, path: &str) -> Option<Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Map(m) => &m.iter().find(|(k, _)| k == part)?.1,
            Value::List(l) => l.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// `message` parsed, if it is a JSON object.
fn parse_object(message: &str) -> Option<serde_json::Value> {
    if !message.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(message) {
        Ok(v @ serde_json::Value::Object(_)) => Some(v),
        _ => None,
    }
}

fn is_leaf(v: &serde_json::Value) -> bool {
    matches!(
        v,
        serde_json::Value::String(_) | serde_json::Value::Number(_) | serde_json::Value::Bool(_)
    )
}

fn leaf_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::String(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_string()),
    }
}

/// The scalar at a flattened path (`a.b.0.c`) of a JSON value. Keys may themselves contain
/// dots, so every split is tried.
fn json_leaf<'j>(
    v: &'j serde_json::Value,
    path: &str,
    depth: usize,
) -> Option<&'j serde_json::Value> {
    if depth > 64 {
        return None;
    }
    match v {
        serde_json::Value::Object(map) => {
            if let Some(x) = map.get(path).filter(|x| is_leaf(x)) {
                return Some(x);
            }
            path.match_indices('.').find_map(|(i, _)| {
                map.get(&path[..i])
                    .and_then(|x| json_leaf(x, &path[i + 1..], depth + 1))
            })
        }
        serde_json::Value::Array(items) => {
            let (head, rest) = match path.split_once('.') {
                Some((h, r)) => (h, Some(r)),
                None => (path, None),
            };
            if head.len() > 1 && head.starts_with('0') {
                return None;
            }
            let item = items.get(head.parse::<usize>().ok()?)?;
            match rest {
                None => Some(item).filter(|x| is_leaf(x)),
                Some(r) => json_leaf(item, r, depth + 1),
            }
        }
        _ => None,
    }
}

/// The fields Logs Insights discovers in a JSON message: nested objects with dot notation,
/// array elements by index (`items.0.id`), top-level keys starting with `@` shown as `@@key`;
/// JSON `null`, empty objects and empty arrays give no field. A message that is not a JSON
/// object gives none.
pub(crate) fn flatten_message(message: &str) -> Vec<(String, Value)> {
    let Some(serde_json::Value::Object(obj)) = parse_object(message) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in &obj {
        let name = if k.starts_with('@') {
            format!("@{k}")
        } else {
            k.clone()
        };
        flatten_into(&name, v, &mut out, 0);
        if out.len() >= MAX_DISCOVERED_FIELDS {
            break;
        }
    }
    out.truncate(MAX_DISCOVERED_FIELDS);
    out
}

fn flatten_into(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, Value)>, depth: usize) {
    if out.len() >= MAX_DISCOVERED_FIELDS || depth > 64 {
        return;
    }
    match v {
        serde_json::Value::Null => {}
        serde_json::Value::Bool(b) => out.push((prefix.to_string(), Value::Str(b.to_string()))),
        serde_json::Value::Number(n) => out.push((prefix.to_string(), Value::Str(n.to_string()))),
        serde_json::Value::String(s) => out.push((prefix.to_string(), Value::Str(s.clone()))),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_into(&format!("{prefix}.{i}"), item, out, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                flatten_into(&format!("{prefix}.{k}"), item, out, depth + 1);
            }
        }
    }
}

/// Evaluates an expression. `aggs` holds the aggregation results when evaluating a stats item.
pub(crate) fn eval(e: &Expr, row: &RowState<'_>, aggs: Option<&[Option<Value>]>) -> Option<Value> {
    match e {
        Expr::Lit(v) => Some(v.clone()),
        Expr::Field(name) => row.get(name),
        Expr::Period(_) => None,
        Expr::Agg(i) => aggs.and_then(|a| a.get(*i).cloned().flatten()),
        Expr::Neg(x) => Value::num(-eval(x, row, aggs)?.as_f64()?),
        Expr::Not(x) => Some(Value::Bool(!eval(x, row, aggs)?.truthy())),
        Expr::Bin(BinOp::And, a, b) => {
            let l = eval(a, row, aggs).map(|v| v.truthy());
            if l == Some(false) {
                return Some(Value::Bool(false));
            }
            match (l, eval(b, row, aggs).map(|v| v.truthy())) {
                (_, Some(false)) => Some(Value::Bool(false)),
                (Some(true), Some(true)) => Some(Value::Bool(true)),
                _ => None,
            }
        }
        Expr::Bin(BinOp::Or, a, b) => {
            let l = eval(a, row, aggs).map(|v| v.truthy());
            if l == Some(true) {
                return Some(Value::Bool(true));
            }
            match (l, eval(b, row, aggs).map(|v| v.truthy())) {
                (_, Some(true)) => Some(Value::Bool(true)),
                (Some(false), Some(false)) => Some(Value::Bool(false)),
                _ => None,
            }
        }
        Expr::Bin(op, a, b) => {
            let l = eval(a, row, aggs)?;
            let r = eval(b, row, aggs)?;
            binary(*op, &l, &r)
        }
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let text = text_of(expr, row, aggs)?;
            let hit = match pattern {
                Pattern::Substring(s) => text.contains(s.as_str()),
                Pattern::Regex(re) => re.is_match(&text),
            };
            Some(Value::Bool(hit != *negated))
        }
        Expr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, aggs)?;
            let hit = list
                .iter()
                .any(|item| eval(item, row, aggs).is_some_and(|x| values_equal(&v, &x)));
            Some(Value::Bool(hit != *negated))
        }
        Expr::Call(f, args) => {
            let period = args.iter().find_map(|a| match a {
                Expr::Period(p) => Some(*p),
                _ => None,
            });
            let values: Vec<Option<Value>> = args.iter().map(|a| eval(a, row, aggs)).collect();
            call(*f, &values, period, row.timestamp())
        }
    }
}

/// An expression's value as text, borrowed from the record for a plain field.
fn text_of<'r>(
    e: &Expr,
    row: &'r RowState<'_>,
    aggs: Option<&[Option<Value>]>,
) -> Option<Cow<'r, str>> {
    match e {
        Expr::Field(name) => row.get_text(name),
        other => eval(other, row, aggs).map(|v| Cow::Owned(v.text().into_owned())),
    }
}

fn binary(op: BinOp, l: &Value, r: &Value) -> Option<Value> {
    use std::cmp::Ordering::*;
    let cmp =
        |want: &[std::cmp::Ordering]| Some(Value::Bool(want.contains(&compare_for_operator(l, r))));
    match op {
        BinOp::Eq => Some(Value::Bool(values_equal(l, r))),
        BinOp::Ne => Some(Value::Bool(!values_equal(l, r))),
        BinOp::Lt => cmp(&[Less]),
        BinOp::Le => cmp(&[Less, Equal]),
        BinOp::Gt => cmp(&[Greater]),
        BinOp::Ge => cmp(&[Greater, Equal]),
        BinOp::And | BinOp::Or => None,
        _ => {
            let (x, y) = (l.as_f64()?, r.as_f64()?);
            let v = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div if y == 0.0 => return None,
                BinOp::Div => x / y,
                BinOp::Mod if y == 0.0 => return None,
                BinOp::Mod => x % y,
                BinOp::Pow => x.powf(y),
                _ => return None,
            };
            Value::num(v)
        }
    }
}

/// Runs row-local commands (and `sort`, which records its key on the row) over one row,
/// appending the rows that come out (none if filtered, several after `unnest`).
pub(crate) fn run_row_ops<'a>(ops: &[Command], row: RowState<'a>, out: &mut Vec<RowState<'a>>) {
    let mut budget = MAX_UNNEST_ROWS;
    run_ops(ops, row, out, &mut budget);
}

/// Most rows `unnest` commands may make of one record (a chain of unnests multiplies them);
/// further elements are dropped.
pub(crate) const MAX_UNNEST_ROWS: usize = 10_000;

fn run_ops<'a>(
    ops: &[Command],
    mut row: RowState<'a>,
    out: &mut Vec<RowState<'a>>,
    budget: &mut usize,
) {
    for (i, op) in ops.iter().enumerate() {
        match op {
            Command::Fields(items) => {
                for (e, name) in items {
                    if matches!(e, Expr::Field(f) if f == name) {
                        continue;
                    }
                    let v = eval(e, &row, None);
                    row.set(name, v);
                }
            }
            Command::Display(_) | Command::Limit(_) | Command::Dedup(_) | Command::Stats(_) => {}
            Command::Filter(e) => {
                if !eval(e, &row, None).is_some_and(|v| v.truthy()) {
                    return;
                }
            }
            Command::Sort(keys) => {
                let key = keys
                    .iter()
                    .map(|(e, desc)| (eval(e, &row, None), *desc))
                    .collect();
                row.sort_keys.push(key);
            }
            Command::Parse(spec) => {
                let extracted: Vec<Option<Value>> = {
                    let source = text_of(&spec.source, &row, None);
                    let caps = source.as_deref().and_then(|s| spec.regex.captures(s));
                    (0..spec.names.len())
                        .map(|k| {
                            let m = caps.as_ref().and_then(|c| {
                                if spec.positional {
                                    c.get(k + 1)
                                } else {
                                    c.name(&spec.names[k])
                                }
                            });
                            m.map(|m| Value::Str(m.as_str().to_string()))
                        })
                        .collect()
                };
                for (name, v) in spec.names.iter().zip(extracted) {
                    row.set(name, v);
                }
            }
            Command::Unnest { expr, into } => {
                let items = match eval(expr, &row, None) {
                    None => return,
                    Some(Value::List(items)) => items,
                    Some(other) => vec![other],
                };
                let rest = &ops[i + 1..];
                let base_seq = row.seq;
                let n = items.len() as u32;
                for (k, item) in items.into_iter().enumerate() {
                    if *budget == 0 {
                        return;
                    }
                    *budget -= 1;
                    let mut copy = row.clone();
                    copy.set(into, Some(item));
                    copy.seq = base_seq.saturating_mul(n.max(1)).saturating_add(k as u32);
                    run_ops(rest, copy, out, budget);
                }
                return;
            }
        }
    }
    out.push(row);
}
