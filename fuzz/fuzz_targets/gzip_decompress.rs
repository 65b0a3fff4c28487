//! Content-Encoding: gzip bodies: decompression never panics and never returns more than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_wire::gzip::{decompress, GzipError};

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    match decompress(data, LIMIT) {
        Ok(out) => assert!(out.len() <= LIMIT, "{} bytes over a {LIMIT}-byte limit", out.len()),
        Err(GzipError::TooLarge(l)) => assert_eq!(l, LIMIT),
        Err(GzipError::Invalid(_)) => {}
    }
});
