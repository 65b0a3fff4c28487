//! awsJson 1.0 / 1.1 bodies.
//!
//! Timestamps are written as epoch seconds (fractional when needed); non-finite doubles as the
//! strings `NaN`, `Infinity`, `-Infinity` as the Smithy JSON protocols require.

use super::MalformedBody;
use crate::value::Value;
use watchtrail_core::Timestamp;

/// Decodes a JSON body; an empty body is an empty structure.
pub fn decode(body: &[u8]) -> Result<Value, MalformedBody> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::empty_struct());
    }
    let JsonValue(v) =
        serde_json::from_slice(body).map_err(|e| MalformedBody(format!("body is not valid JSON: {e}")))?;
    match v {
        Value::Struct(_) => Ok(v),
        _ => Err(MalformedBody("body must be a JSON object".into())),
    }
}

/// Builds a [`Value`] straight from the JSON parser (no intermediate `serde_json::Value`).
struct JsonValue(Value);

impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(JsonValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, JsonValue(v))) = map.next_entry::<String, JsonValue>()? {
            members.push((k, v));
        }
        Ok(Value::Struct(members))
    }
}

/// An answer estimated at this many bytes or more has its long top-level lists rendered on
/// every core (a GetMetricData page of 100,800 points is about 4 MB of JSON; rendering its
/// numbers is most of its time).
const SPLIT_RENDER_BYTES: usize = 512 * 1024;

/// Encodes a value as a JSON body. `Null` at the top level becomes `{}`.
pub fn encode(v: &Value) -> Vec<u8> {
    // Sized up front: a large answer (a GetMetricData page is a few MB) grows no buffer.
    let estimate = encoded_len_estimate(v);
    let mut out = Vec::with_capacity(estimate.max(256));
    match v {
        Value::Null => out.extend_from_slice(b"{}"),
        Value::Struct(members) if estimate >= SPLIT_RENDER_BYTES => write_members(members, &mut out, write_splitting_long_lists),
        _ => write(v, &mut out),
    }
    out
}

/// Writes `v`, a long list of structures (or of anything but plain numbers) split over the
/// cores (see [`write_list_split`]).
fn write_splitting_long_lists(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::List(items) if items.len() > 1 && encoded_len_estimate(v) >= SPLIT_RENDER_BYTES => write_list_split(items, out, render_threads()),
        _ => write(v, out),
    }
}

/// Threads a split rendering uses: one per core.
fn render_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `[a,b,...]` rendered on up to `threads` threads: the items are cut into runs of about equal
/// estimated size; this thread renders the first run into `out` while each other run renders
/// into its own buffer on a scoped thread, and the buffers are appended in order. A thread
/// that cannot be started leaves its run to this one. The bytes are those of [`write_list`].
fn write_list_split(items: &[Value], out: &mut Vec<u8>, threads: usize) {
    let runs = cut_runs(items, threads);
    out.push(b'[');
    std::thread::scope(|scope| {
        let mut others = Vec::with_capacity(runs.len().saturating_sub(1));
        for run in runs.iter().skip(1) {
            let render = move || {
                let mut buf = Vec::with_capacity(run.iter().map(|i| encoded_len_estimate(i) + 1).sum());
                write_joined(run, &mut buf, write);
                buf
            };
            others.push(match std::thread::Builder::new().name("json-render".into()).spawn_scoped(scope, render) {
                Ok(handle) => Err(handle),
                Err(_) => Ok(*run),
            });
        }
        if let Some(first) = runs.first() {
            write_joined(first, out, write);
        }
        for other in others {
            out.push(b',');
            match other {
                Ok(run) => write_joined(run, out, write),
                Err(handle) => match handle.join() {
                    Ok(buf) => out.extend_from_slice(&buf),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
            }
        }
    });
    out.push(b']');
}

/// `items` cut into at most `threads` non-empty runs of about equal estimated size, in order.
fn cut_runs(items: &[Value], threads: usize) -> Vec<&[Value]> {
    let sizes: Vec<usize> = items.iter().map(encoded_len_estimate).collect();
    let total: usize = sizes.iter().sum();
    let threads = threads.clamp(1, items.len().max(1));
    let mut runs = Vec::with_capacity(threads);
    let (mut start, mut seen) = (0, 0usize);
    for (i, size) in sizes.iter().enumerate() {
        seen += size;
        // Close the run once it holds its share of the total.
        if runs.len() + 1 < threads && seen.saturating_mul(threads) >= total.saturating_mul(runs.len() + 1) {
            runs.push(&items[start..=i]);
            start = i + 1;
        }
    }
    if start < items.len() {
        runs.push(&items[start..]);
    }
    runs
}

/// About how many bytes `v` encodes to (numbers at their longest usual length).
fn encoded_len_estimate(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Int(_) | Value::Timestamp(_) => 20,
        Value::Float(_) => 24,
        Value::String(s) => s.len() + 2,
        Value::Blob(b) => b.len() * 4 / 3 + 6,
        Value::List(items) => 2 + items.iter().map(|i| encoded_len_estimate(i) + 1).sum::<usize>(),
        Value::Floats(items) => 2 + items.len() * 25,
        Value::Timestamps(items) => 2 + items.len() * 21,
        Value::Struct(members) | Value::Map(members) => 2 + members.iter().map(|(k, v)| k.len() + 4 + encoded_len_estimate(v)).sum::<usize>(),
    }
}

fn write(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::Float(f) => write_float(*f, out),
        Value::String(s) => write_str(s, out),
        Value::Blob(b) => {
            use base64::Engine;
            write_str(&base64::engine::general_purpose::STANDARD.encode(b), out)
        }
        Value::Timestamp(t) => write_timestamp(*t, out),
        Value::Floats(items) => write_list(items, out, |f, out| write_float(*f, out)),
        Value::Timestamps(items) => write_list(items, out, |t, out| write_timestamp(*t, out)),
        Value::List(items) => write_list(items, out, write),
        Value::Struct(members) | Value::Map(members) => write_members(members, out, write),
    }
}

/// `{"k":v,...}` without its null members, each value written by `each`.
fn write_members(members: &[(String, Value)], out: &mut Vec<u8>, each: impl Fn(&Value, &mut Vec<u8>)) {
    out.push(b'{');
    let mut first = true;
    for (k, v) in members {
        if matches!(v, Value::Null) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(k, out);
        out.push(b':');
        each(v, out);
    }
    out.push(b'}');
}

/// `[a,b,...]`, each item written by `each`.
#[inline]
fn write_list<T>(items: &[T], out: &mut Vec<u8>, each: impl Fn(&T, &mut Vec<u8>)) {
    out.push(b'[');
    write_joined(items, out, each);
    out.push(b']');
}

/// `a,b,...` (a list's items without the brackets), each item written by `each`.
#[inline]
fn write_joined<T>(items: &[T], out: &mut Vec<u8>, each: impl Fn(&T, &mut Vec<u8>)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(item, out);
    }
}

/// Epoch seconds: an integer for whole seconds, else a fraction.
fn write_timestamp(t: Timestamp, out: &mut Vec<u8>) {
    if t.millis() % 1000 == 0 {
        out.extend_from_slice(itoa::Buffer::new().format(t.secs()).as_bytes())
    } else {
        write_float(t.secs_f64(), out)
    }
}

fn write_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else {
        // Shortest round-trip, the formatter serde_json's `Number` uses, without a String.
        out.extend_from_slice(zmij::Buffer::new().format_finite(f).as_bytes());
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        // Nothing to escape (the usual member name or label).
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else if let Ok(enc) = serde_json::to_vec(s) {
        // serde_json escaping of a plain string never fails.
        out.extend_from_slice(&enc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchtrail_core::Timestamp;

    #[test]
    fn round_trip_shapes() {
        let v = decode(br#"{"A":1,"B":1.5,"C":"x","D":[true,null],"E":{"F":-2}}"#).unwrap();
        assert_eq!(v.get("A"), Some(&Value::Int(1)));
        assert_eq!(v.get("B"), Some(&Value::Float(1.5)));
        assert_eq!(String::from_utf8(encode(&v)).unwrap(), r#"{"A":1,"B":1.5,"C":"x","D":[true,null],"E":{"F":-2}}"#);
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        let v = Value::Struct(vec![
            ("T".into(), Value::Timestamp(Timestamp::from_secs(1_767_225_600))),
            ("U".into(), Value::Timestamp(Timestamp(1_767_225_600_500))),
            ("N".into(), Value::Float(f64::NAN)),
        ]);
        assert_eq!(String::from_utf8(encode(&v)).unwrap(), r#"{"T":1767225600,"U":1767225600.5,"N":"NaN"}"#);
    }

    #[test]
    fn floats_round_trip_exactly() {
        for text in ["123456789.12345679", "1.797693134862316e+108", "0.1", "-2.2250738585072014e-308"] {
            let v = decode(format!("{{\"V\":{text}}}").as_bytes()).unwrap();
            assert_eq!(v.get("V"), Some(&Value::Float(text.parse::<f64>().unwrap())), "{text}");
        }
    }

    proptest::proptest! {
        /// Numbers and strings are written exactly as serde_json writes them.
        #[test]
        fn scalars_encode_as_serde_json_does(f in proptest::num::f64::ANY, i in proptest::num::i64::ANY, s in ".{0,12}") {
            let mut out = Vec::new();
            write_float(f, &mut out);
            let want = if f.is_finite() { serde_json::Number::from_f64(f).unwrap().to_string() } else { String::from_utf8(out.clone()).unwrap() };
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), want);
            let mut out = Vec::new();
            write(&Value::Int(i), &mut out);
            proptest::prop_assert_eq!(out, i.to_string().into_bytes());
            let mut out = Vec::new();
            write_str(&s, &mut out);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }
    }

    /// A list of results like GetMetricData's: `n` structures of `points` numbers each.
    fn results(n: usize, points: usize) -> Value {
        Value::List(
            (0..n)
                .map(|i| {
                    Value::Struct(vec![
                        ("Id".into(), Value::String(format!("m{i}"))),
                        ("Timestamps".into(), Value::Timestamps((0..points as i64).map(|p| Timestamp(1_767_225_600_000 + p * 60_500)).collect())),
                        ("Values".into(), Value::Floats((0..points).map(|p| (p as f64 + 0.1) / (i as f64 + 3.0)).collect())),
                    ])
                })
                .collect(),
        )
    }

    proptest::proptest! {
        /// A list rendered in runs on several threads is byte for byte the list rendered on one.
        #[test]
        fn a_split_list_renders_as_one(sizes in proptest::collection::vec(0usize..40, 0..12), threads in 1usize..6) {
            // Structures of various sizes, and every third item a plain number.
            let items: Vec<Value> = sizes.iter().enumerate().map(|(i, &n)| match results(1, n) {
                Value::List(mut one) if i % 3 != 2 => one.remove(0),
                _ => Value::Int(n as i64),
            }).collect();
            let runs = cut_runs(&items, threads);
            proptest::prop_assert!(runs.len() <= threads.max(1) && runs.iter().all(|r| !r.is_empty()));
            proptest::prop_assert_eq!(runs.concat(), items.clone());
            let (mut split, mut whole) = (Vec::new(), Vec::new());
            write_list_split(&items, &mut split, threads);
            write_list(&items, &mut whole, write);
            proptest::prop_assert_eq!(split, whole);
        }
    }

    #[test]
    fn a_large_answer_renders_its_long_list_split_and_unchanged() {
        let answer = Value::Struct(vec![("MetricDataResults".into(), results(40, 2000)), ("NextToken".into(), Value::String("t".into()))]);
        assert!(encoded_len_estimate(&answer) >= SPLIT_RENDER_BYTES, "large enough to be split");
        let mut whole = Vec::new();
        write(&answer, &mut whole);
        let body = encode(&answer);
        assert_eq!(body, whole);
        let parsed: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(parsed["MetricDataResults"].as_array().map(Vec::len), Some(40));
        assert_eq!(parsed["MetricDataResults"][39]["Values"][1999], serde_json::json!((1999.0 + 0.1) / 42.0));
    }

    #[test]
    fn rejects_garbage_and_non_objects() {
        assert!(decode(b"{").is_err());
        assert!(decode(b"[1]").is_err());
        assert!(decode(b"\xff\xfe").is_err());
        assert_eq!(decode(b"  ").unwrap(), Value::empty_struct());
    }
}
