//! awsJson 1.0 / 1.1 bodies.
//!
//! Timestamps are written as epoch seconds (fractional when needed); non-finite doubles as the
//! strings `NaN`, `Infinity`, `-Infinity` as the Smithy JSON protocols require.

use super::MalformedBody;
use crate::value::Value;

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
    let mut out = Vec::with_capacity(256);
    match v {
        Value::Null => out.extend_from_slice(b"{}"),
        _ => write(v, &mut out),
    }
    out
}

fn write(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => write_float(*f, out),
        Value::String(s) => write_str(s, out),
        Value::Blob(b) => {
            use base64::Engine;
            write_str(&base64::engine::general_purpose::STANDARD.encode(b), out)
        }
        Value::Timestamp(t) => {
            if t.millis() % 1000 == 0 {
                out.extend_from_slice(t.secs().to_string().as_bytes())
            } else {
                write_float(t.secs_f64(), out)
            }
        }
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
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

fn write_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else {
        // serde_json's float formatting is shortest-round-trip.
        out.extend_from_slice(serde_json::Number::from_f64(f).map(|n| n.to_string()).unwrap_or_default().as_bytes());
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json escaping of a plain string never fails.
    if let Ok(enc) = serde_json::to_vec(s) {
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

    #[test]
    fn rejects_garbage_and_non_objects() {
        assert!(decode(b"{").is_err());
        assert!(decode(b"[1]").is_err());
        assert!(decode(b"\xff\xfe").is_err());
        assert_eq!(decode(b"  ").unwrap(), Value::empty_struct());
    }
}
