//! Decode → typed input, as the gateway does: the first byte picks the codec (JSON, CBOR, Query),
//! the rest is the body; whatever decodes is read into a small operation-like input with serde
//! (`from_value`). Neither step may panic, whatever the shapes and scalars.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use std::collections::BTreeMap;
use watchtrail_core::Timestamp;
use watchtrail_wire::codec::{cbor, json, query};
use watchtrail_wire::{from_value, Value};

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
enum Kind {
    Seconds,
    #[serde(rename = "Count/Second")]
    CountPerSecond,
    None,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    name: String,
    value: String,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Datum {
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    timestamp: Option<Timestamp>,
    value: Option<f64>,
    values: Option<Vec<f64>>,
    unit: Option<Kind>,
    storage_resolution: Option<i64>,
    small: Option<u8>,
    flag: Option<bool>,
    blob: Option<Vec<u8>>,
    tags: Option<BTreeMap<String, String>>,
    nested: Option<Box<Datum>>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    namespace: String,
    metric_data: Option<Vec<Datum>>,
    period: Option<i32>,
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let decoded: Option<Value> = match selector % 3 {
        0 => json::decode(body).ok(),
        1 => cbor::decode(body).ok(),
        _ => query::decode(body).ok().map(|q| q.params),
    };
    if let Some(v) = decoded {
        let _ = from_value::<Input>(&v);
        let _ = from_value::<Datum>(&v);
        let _ = v.to_json();
    }
});
