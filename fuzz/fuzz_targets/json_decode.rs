//! awsJson bodies: decoding never panics, and whatever decodes re-encodes to JSON that decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_wire::codec::json;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = json::decode(data) {
        let bytes = json::encode(&v);
        if let Err(e) = json::decode(&bytes) {
            panic!("re-encoded JSON does not decode: {e}: {}", String::from_utf8_lossy(&bytes));
        }
    }
});
