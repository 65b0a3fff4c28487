//! The awsJson fast path never panics and never disagrees with the Value path: whatever it
//! decodes, the Value path decodes to the same typed input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use watchtrail_core::Timestamp;
use watchtrail_wire::codec::{json, json_typed};
use watchtrail_wire::value::from_value;

#[derive(Debug, Deserialize, PartialEq)]
enum Kind {
    Count,
    Seconds,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Item {
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    at: Option<Timestamp>,
    value: Option<f64>,
    kind: Option<Kind>,
    resolution: Option<i32>,
    flag: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Input {
    namespace: String,
    items: Option<Vec<Item>>,
}

fuzz_target!(|data: &[u8]| {
    if let Some(fast) = json_typed::from_slice::<Input>(data) {
        let slow: Option<Input> = json::decode(data).ok().and_then(|v| from_value(&v).ok());
        assert_eq!(Some(&fast), slow.as_ref(), "fast path disagrees on {}", String::from_utf8_lossy(data));
    }
});
