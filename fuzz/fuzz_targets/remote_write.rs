//! Prometheus remote-write bodies: decoding (snappy or not) never panics nor allocates past
//! the decompression limit, and every decoded series maps or is refused with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_metrics_lang::remote_write::{decode, map_series};

fuzz_target!(|data: &[u8]| {
    let (snappy, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => return,
    };
    if let Ok(req) = decode(body, if snappy { Some("snappy") } else { None }) {
        for ts in req.timeseries {
            if let Ok(s) = map_series(ts) {
                assert!(s.samples.iter().all(|(_, v)| v.is_finite()));
                assert!(s.dimensions.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }
});
