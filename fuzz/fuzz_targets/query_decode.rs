//! awsQuery form bodies: decoding never panics and never builds huge lists from large indexes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_wire::codec::query;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = query::decode(data) {
        // The tree renders for the journal without panicking.
        let _ = q.params.to_json();
    }
});
