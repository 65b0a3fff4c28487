//! rpcv2Cbor bodies: decoding never panics (nor allocates without bound on claimed lengths), and
//! whatever decodes re-encodes to CBOR that decodes to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_wire::codec::cbor;
use watchtrail_wire::Value;

/// Equality that treats NaN as equal to NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Struct(x), Value::Struct(y)) | (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = cbor::decode(data) {
        let bytes = cbor::encode(&v);
        match cbor::decode(&bytes) {
            // Null members are dropped on encode, so compare only when none were present.
            Ok(back) => {
                if !has_null(&v) {
                    assert!(same(&v, &back), "CBOR round trip changed the value: {v:?} -> {back:?}");
                }
            }
            Err(e) => panic!("re-encoded CBOR does not decode: {e}"),
        }
    }
});

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::List(l) => l.iter().any(has_null),
        Value::Struct(m) | Value::Map(m) => m.iter().any(|(_, v)| has_null(v)),
        _ => false,
    }
}
