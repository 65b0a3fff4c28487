//! awsQuery request bodies: `application/x-www-form-urlencoded` parameters such as
//! `MetricData.member.1.Dimensions.member.2.Name=host`, folded into a [`Value`] tree.
//!
//! `X.member.N` becomes a list (ordered by N), `X.entry.N.key` / `X.entry.N.value` a map, and
//! everything else a structure. Scalars stay text; the typed reader coerces them.

use super::MalformedBody;
use crate::value::Value;
use std::collections::BTreeMap;

/// Deepest parameter path accepted.
const MAX_DEPTH: usize = 32;
/// Largest list index accepted (AWS lists are far shorter; this bounds memory).
const MAX_INDEX: usize = 100_000;

/// A decoded Query request.
#[derive(Debug, PartialEq)]
pub struct QueryRequest {
    /// The `Action` parameter.
    pub action: Option<String>,
    /// The `Version` parameter.
    pub version: Option<String>,
    /// Every other parameter, as a tree.
    pub params: Value,
}

#[derive(Default)]
struct Node {
    leaf: Option<String>,
    children: BTreeMap<String, Node>,
}

/// Decodes a form body (or a URL query string).
pub fn decode(body: &[u8]) -> Result<QueryRequest, MalformedBody> {
    if std::str::from_utf8(body).is_err() {
        return Err(MalformedBody("form body is not valid UTF-8".into()));
    }
    let mut root = Node::default();
    let mut action = None;
    let mut version = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "Version" => version = Some(v.into_owned()),
            // SigV4 presign parameters are not operation input.
            key if key.starts_with("X-Amz-") => {}
            key => insert(&mut root, key, v.into_owned())?,
        }
    }
    // An operation called with no parameters has an empty input structure, not a null one.
    let params = match fold(root)? {
        Value::Null => Value::empty_struct(),
        v => v,
    };
    Ok(QueryRequest { action, version, params })
}

fn insert(root: &mut Node, key: &str, value: String) -> Result<(), MalformedBody> {
    if key.is_empty() {
        return Err(MalformedBody("empty parameter name".into()));
    }
    let mut node = root;
    for (depth, seg) in key.split('.').enumerate() {
        if depth >= MAX_DEPTH || seg.is_empty() {
            return Err(MalformedBody(format!("invalid parameter name {key:?}")));
        }
        node = node.children.entry(seg.to_string()).or_default();
    }
    node.leaf = Some(value);
    Ok(())
}

fn index_of(seg: &str) -> Option<usize> {
    if seg.is_empty() || seg.len() > 6 || !seg.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    seg.parse::<usize>().ok().filter(|i| (1..=MAX_INDEX).contains(i))
}

fn fold(node: Node) -> Result<Value, MalformedBody> {
    let mut children = node.children;
    if children.is_empty() {
        return Ok(node.leaf.map(Value::String).unwrap_or(Value::Null));
    }
    let indexed = |n: &Node| !n.children.is_empty() && n.children.keys().all(|k| index_of(k).is_some());
    if children.len() == 1 {
        let is_list = children.get("member").is_some_and(indexed);
        let is_map = children.get("entry").is_some_and(indexed);
        if is_list || is_map {
            let Some((_, holder)) = children.pop_first() else { return Ok(Value::Null) };
            let mut items: Vec<(usize, String, Value)> = Vec::with_capacity(holder.children.len());
            for (k, mut child) in holder.children {
                let idx = index_of(&k).unwrap_or(0);
                if is_list {
                    items.push((idx, String::new(), fold(child)?));
                } else {
                    let key = child
                        .children
                        .remove("key")
                        .and_then(|n| n.leaf)
                        .ok_or_else(|| MalformedBody("map entry without key".into()))?;
                    let value = match child.children.remove("value") {
                        Some(n) => fold(n)?,
                        None => Value::Null,
                    };
                    items.push((idx, key, value));
                }
            }
            items.sort_by_key(|(i, _, _)| *i);
            return Ok(if is_list {
                Value::List(items.into_iter().map(|(_, _, v)| v).collect())
            } else {
                Value::Map(items.into_iter().map(|(_, k, v)| (k, v)).collect())
            });
        }
    }
    let mut members = Vec::with_capacity(children.len());
    for (k, child) in children {
        members.push((k, fold(child)?));
    }
    Ok(Value::Struct(members))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_lists_structs_and_maps() {
        let q = decode(
            b"Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.2.MetricName=n2\
&MetricData.member.1.MetricName=m&MetricData.member.1.Dimensions.member.1.Name=d\
&MetricData.member.1.Dimensions.member.1.Value=v%20x&MetricData.member.1.Values.member.10=10\
&MetricData.member.1.Values.member.2=2&Tags.entry.1.key=k&Tags.entry.1.value=v",
        )
        .unwrap();
        assert_eq!(q.action.as_deref(), Some("PutMetricData"));
        assert_eq!(q.version.as_deref(), Some("2010-08-01"));
        let data = q.params.get("MetricData").unwrap();
        assert_eq!(data.list_len(), Some(2));
        let Value::List(items) = data else { panic!() };
        assert_eq!(items[0].get("MetricName").unwrap().as_str(), Some("m"));
        let dims = items[0].get("Dimensions").unwrap();
        let Value::List(dims) = dims else { panic!() };
        assert_eq!(dims[0].get("Value").unwrap().as_str(), Some("v x"));
        let Value::List(values) = items[0].get("Values").unwrap() else { panic!() };
        assert_eq!(values, &vec![Value::String("2".into()), Value::String("10".into())]);
        assert_eq!(q.params.get("Tags"), Some(&Value::Map(vec![("k".into(), Value::String("v".into()))])));
    }

    #[test]
    fn no_parameters_is_an_empty_structure() {
        let q = decode(b"Action=ListMetrics&Version=2010-08-01").unwrap();
        assert_eq!(q.params, Value::empty_struct());
    }

    #[test]
    fn empty_value_is_kept_as_empty_text() {
        let q = decode(b"Action=ListMetrics&Dimensions=").unwrap();
        assert_eq!(q.params.get("Dimensions"), Some(&Value::String(String::new())));
    }

    #[test]
    fn rejects_bad_names() {
        assert!(decode(b"A..B=1").is_err());
        assert!(decode(b"=1").is_err());
        assert!(decode(&b"a.".repeat(40)).is_err());
        assert!(decode(b"\xff=1").is_err());
    }
}
