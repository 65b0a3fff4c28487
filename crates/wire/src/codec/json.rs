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

/// Encodes a value as a JSON body. `Null` at the top level becomes `{}`.
pub fn encode(v: &Value) -> Vec<u8> {
    // Sized up front: a large answer (a GetMetricData page is a few MB) grows no buffer.
    let mut out = Vec::with_capacity(encoded_len_estimate(v).max(256));
    match v {
        Value::Null => out.extend_from_slice(b"{}"),
        _ => write(v, &mut out),
    }
    out
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
        Value::Struct(members) | Value::Map(members) => {
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
                write(v, out);
            }
            out.push(b'}');
        }
    }
}

/// `[a,b,...]`, each item written by `each`.
#[inline]
fn write_list<T>(items: &[T], out: &mut Vec<u8>, each: impl Fn(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(item, out);
    }
    out.push(b']');
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

    #[test]
    fn rejects_garbage_and_non_objects() {
        assert!(decode(b"{").is_err());
        assert!(decode(b"[1]").is_err());
        assert!(decode(b"\xff\xfe").is_err());
        assert_eq!(decode(b"  ").unwrap(), Value::empty_struct());
    }
}
