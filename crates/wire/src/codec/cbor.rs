//! rpcv2Cbor bodies.
//!
//! Decoding goes through `ciborium` (definite and indefinite lengths, any float width).
//! Encoding is hand-written so that doubles are always 64-bit floats and timestamps are tag 1
//! over a double: the Rust SDK's decoder refuses integers where the model says double.

use super::MalformedBody;
use crate::value::Value;
use watchtrail_core::Timestamp;

/// Deepest nesting accepted in a request body.
const MAX_DEPTH: usize = 64;

/// Decodes a CBOR body; an empty body is an empty structure.
pub fn decode(body: &[u8]) -> Result<Value, MalformedBody> {
    if body.is_empty() {
        return Ok(Value::empty_struct());
    }
    let mut reader = body;
    let cv: ciborium::Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|e| MalformedBody(format!("body is not valid CBOR: {e}")))?;
    if !reader.is_empty() {
        return Err(MalformedBody("trailing bytes after the CBOR body".into()));
    }
    match cv {
        ciborium::Value::Map(_) => from_cbor(cv, 0),
        _ => Err(MalformedBody("body must be a CBOR map".into())),
    }
}

fn from_cbor(v: ciborium::Value, depth: usize) -> Result<Value, MalformedBody> {
    use ciborium::Value as C;
    if depth > MAX_DEPTH {
        return Err(MalformedBody("body is nested too deeply".into()));
    }
    Ok(match v {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(b),
        C::Integer(i) => {
            let i: i128 = i.into();
            Value::Int(i64::try_from(i).map_err(|_| MalformedBody("integer out of range".into()))?)
        }
        C::Float(f) => Value::Float(f),
        C::Text(s) => Value::String(s),
        C::Bytes(b) => Value::Blob(b),
        C::Tag(1, inner) => match *inner {
            C::Integer(i) => {
                let i: i128 = i.into();
                let secs = i64::try_from(i).map_err(|_| MalformedBody("timestamp out of range".into()))?;
                Value::Timestamp(Timestamp::from_secs_checked(secs).ok_or_else(|| MalformedBody("timestamp out of range".into()))?)
            }
            C::Float(f) => Value::Timestamp(
                Timestamp::from_secs_f64(f).ok_or_else(|| MalformedBody("timestamp out of range".into()))?,
            ),
            _ => return Err(MalformedBody("tag 1 must hold a number".into())),
        },
        C::Tag(_, inner) => from_cbor(*inner, depth + 1)?,
        C::Array(a) => Value::List(a.into_iter().map(|x| from_cbor(x, depth + 1)).collect::<Result<_, _>>()?),
        C::Map(m) => {
            let mut members = Vec::with_capacity(m.len());
            for (k, v) in m {
                let key = match k {
                    C::Text(s) => s,
                    _ => return Err(MalformedBody("map keys must be text".into())),
                };
                members.push((key, from_cbor(v, depth + 1)?));
            }
            Value::Struct(members)
        }
        _ => return Err(MalformedBody("unsupported CBOR item".into())),
    })
}

/// Encodes a value as a CBOR body. Top-level `Null` encodes to an empty body (operations
/// without output return no body).
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if !matches!(v, Value::Null) {
        write(v, &mut out);
    }
    out
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u8::MAX as u64 {
        out.push(m | 24);
        out.push(n as u8);
    } else if n <= u16::MAX as u64 {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u32::MAX as u64 {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn write_f64(f: f64, out: &mut Vec<u8>) {
    out.push(0xfb);
    out.extend_from_slice(&f.to_be_bytes());
}

fn write_text(s: &str, out: &mut Vec<u8>) {
    head(3, s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn write(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Int(i) if *i >= 0 => head(0, *i as u64, out),
        Value::Int(i) => head(1, (-1 - *i) as u64, out),
        Value::Float(f) => write_f64(*f, out),
        Value::String(s) => write_text(s, out),
        Value::Blob(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Timestamp(t) => {
            head(6, 1, out);
            write_f64(t.secs_f64(), out);
        }
        Value::List(items) => {
            head(4, items.len() as u64, out);
            for item in items {
                write(item, out);
            }
        }
        Value::Floats(items) => {
            head(4, items.len() as u64, out);
            for f in items {
                write_f64(*f, out);
            }
        }
        Value::Timestamps(items) => {
            head(4, items.len() as u64, out);
            for t in items {
                head(6, 1, out);
                write_f64(t.secs_f64(), out);
            }
        }
        Value::Struct(members) | Value::Map(members) => {
            let n = members.iter().filter(|(_, v)| !matches!(v, Value::Null)).count();
            head(5, n as u64, out);
            for (k, v) in members.iter().filter(|(_, v)| !matches!(v, Value::Null)) {
                write_text(k, out);
                write(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_ciborium() {
        let v = Value::Struct(vec![
            ("Int".into(), Value::Int(-300)),
            ("Big".into(), Value::Int(1 << 40)),
            ("D".into(), Value::Float(2.0)),
            ("S".into(), Value::String("é".repeat(30))),
            ("T".into(), Value::Timestamp(Timestamp(1_767_225_600_250))),
            ("L".into(), Value::List(vec![Value::Bool(true), Value::Blob(vec![1, 2])])),
            ("Skipped".into(), Value::Null),
        ]);
        let bytes = encode(&v);
        let back = decode(&bytes).unwrap();
        let Value::Struct(members) = back else { panic!("not a struct") };
        assert_eq!(members.len(), 6);
        assert_eq!(members[2].1, Value::Float(2.0));
        assert_eq!(members[4].1, Value::Timestamp(Timestamp(1_767_225_600_250)));
    }

    #[test]
    fn doubles_are_always_64_bit() {
        let bytes = encode(&Value::Struct(vec![("D".into(), Value::Float(1.0))]));
        assert_eq!(bytes, [0xa1, 0x61, b'D', 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode(&[0xff]).is_err());
        assert!(decode(&[0x01]).is_err(), "top level must be a map");
        assert!(decode(&[0xa1, 0x01, 0x02]).is_err(), "keys must be text");
        assert!(decode(&[0xa0, 0x00]).is_err(), "trailing bytes");
        let mut deep = vec![0x81u8; 10_000];
        deep.push(0x01);
        assert!(decode(&deep).is_err());
    }
}
