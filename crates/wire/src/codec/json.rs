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
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| MalformedBody(format!("body is not valid JSON: {e}")))?;
    match json {
        serde_json::Value::Object(_) => Ok(from_json(json)),
        _ => Err(MalformedBody("body must be a JSON object".into())),
    }
}

fn from_json(j: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s),
        J::Array(a) => Value::List(a.into_iter().map(from_json).collect()),
        J::Object(o) => Value::Struct(o.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
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
