use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Datum {
    metric_name: String,
    value: Option<f64>,
    timestamp: Option<Timestamp>,
    storage_resolution: Option<i32>,
    #[serde(default)]
    dimensions: Vec<Dim>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Dim {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Input {
    namespace: String,
    #[serde(default)]
    metric_data: Vec<Datum>,
    flag: Option<bool>,
}

fn s(x: &str) -> Value {
    Value::String(x.into())
}

#[test]
fn query_text_is_coerced_to_the_requested_types() {
    let v = Value::Struct(vec![
        ("Namespace".into(), s("A")),
        ("Flag".into(), s("true")),
        (
            "MetricData".into(),
            Value::List(vec![Value::Struct(vec![
                ("MetricName".into(), s("m")),
                ("Value".into(), s("1.5")),
                ("Timestamp".into(), s("2026-01-01T00:00:00Z")),
                ("StorageResolution".into(), s("1")),
                ("Dimensions".into(), s("")),
            ])]),
        ),
    ]);
    let input: Input = from_value(&v).unwrap();
    assert_eq!(input.flag, Some(true));
    let d = &input.metric_data[0];
    assert_eq!(d.value, Some(1.5));
    assert_eq!(d.timestamp, Some(Timestamp::from_secs(1_767_225_600)));
    assert_eq!(d.storage_resolution, Some(1));
    assert!(d.dimensions.is_empty());
}

#[test]
fn json_and_cbor_numbers_and_timestamps() {
    let v = Value::Struct(vec![
        ("Namespace".into(), s("A")),
        (
            "MetricData".into(),
            Value::List(vec![Value::Struct(vec![
                ("MetricName".into(), s("m")),
                ("Value".into(), Value::Int(3)),
                ("Timestamp".into(), Value::Float(1_767_225_600.5)),
            ])]),
        ),
    ]);
    let input: Input = from_value(&v).unwrap();
    assert_eq!(input.metric_data[0].value, Some(3.0));
    assert_eq!(input.metric_data[0].timestamp, Some(Timestamp(1_767_225_600_500)));
}

#[test]
fn missing_and_invalid_members_name_their_path() {
    let v = Value::Struct(vec![
        ("Namespace".into(), s("A")),
        ("MetricData".into(), Value::List(vec![Value::Struct(vec![("Value".into(), s("1"))])])),
    ]);
    let e = from_value::<Input>(&v).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::Missing);
    assert_eq!(e.path, "MetricData.member.1.MetricName");
    assert_eq!(e.message, "The parameter MetricData.member.1.MetricName is required.");

    let v = Value::Struct(vec![
        ("Namespace".into(), s("A")),
        ("MetricData".into(), Value::List(vec![Value::Struct(vec![("MetricName".into(), s("m")), ("Value".into(), s("abc"))])])),
    ]);
    let e = from_value::<Input>(&v).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::Invalid);
    assert_eq!(e.path, "MetricData.member.1.Value");

    let e = from_value::<Input>(&Value::empty_struct()).unwrap_err();
    assert_eq!(e.message, "The parameter Namespace is required.");
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Out {
    label: Option<String>,
    when: Timestamp,
    stats: BTreeMap<String, f64>,
    items: Vec<i32>,
}

#[test]
fn serializer_keeps_kinds_and_drops_nones() {
    let out = Out { label: None, when: Timestamp(5_000), stats: BTreeMap::from([("p99".to_string(), 1.0)]), items: vec![1] };
    let v = to_value(&out).unwrap();
    assert_eq!(
        v,
        Value::Struct(vec![
            ("When".into(), Value::Timestamp(Timestamp(5_000))),
            ("Stats".into(), Value::Map(vec![("p99".into(), Value::Float(1.0))])),
            ("Items".into(), Value::List(vec![Value::Int(1)])),
        ])
    );
}

#[test]
fn enums_reject_unknown_values() {
    #[derive(Debug, Deserialize)]
    enum Unit {
        Seconds,
        #[serde(rename = "Bytes/Second")]
        BytesPerSecond,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct U {
        unit: Unit,
    }
    assert!(matches!(from_value::<U>(&Value::Struct(vec![("Unit".into(), s("Bytes/Second"))])).unwrap().unit, Unit::BytesPerSecond));
    assert!(matches!(from_value::<U>(&Value::Struct(vec![("Unit".into(), s("Seconds"))])).unwrap().unit, Unit::Seconds));
    let e = from_value::<U>(&Value::Struct(vec![("Unit".into(), s("Parsecs"))])).unwrap_err();
    assert_eq!(e.path, "Unit");
    assert_eq!(e.kind, DecodeErrorKind::Invalid);
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Points {
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
    mixed: Vec<serde_json::Value>,
    nested: Vec<Vec<f64>>,
}

/// The same value with every unboxed list written out as a list of scalars.
fn boxed(v: &Value) -> Value {
    match v {
        Value::Floats(_) | Value::Timestamps(_) | Value::List(_) => Value::List(v.list_items().unwrap().iter().map(boxed).collect()),
        Value::Struct(m) => Value::Struct(m.iter().map(|(k, v)| (k.clone(), boxed(v))).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), boxed(v))).collect()),
        other => other.clone(),
    }
}

proptest::proptest! {
    /// Unboxed lists of floats and timestamps are written byte for byte as the lists of
    /// scalars they stand for, in every protocol, and read back the same.
    #[test]
    fn unboxed_lists_encode_as_lists_of_scalars(
        ts in proptest::collection::vec(-4_000_000_000_000i64..4_000_000_000_000, 0..20),
        values in proptest::collection::vec(proptest::num::f64::ANY, 0..20),
        mixed_float in proptest::num::f64::NORMAL,
    ) {
        let p = Points {
            timestamps: ts.iter().map(|&t| Timestamp(t)).collect(),
            values: values.clone(),
            mixed: vec![serde_json::json!(mixed_float), serde_json::json!("x")],
            nested: vec![values.clone(), vec![]],
        };
        let v = to_value(&p).unwrap();
        if !ts.is_empty() {
            proptest::prop_assert!(matches!(v.get("Timestamps"), Some(Value::Timestamps(_))));
        }
        if !values.is_empty() {
            proptest::prop_assert!(matches!(v.get("Values"), Some(Value::Floats(_))));
        }
        proptest::prop_assert!(matches!(v.get("Mixed"), Some(Value::List(_))));
        let b = boxed(&v);
        proptest::prop_assert_eq!(crate::codec::json::encode(&v), crate::codec::json::encode(&b));
        proptest::prop_assert_eq!(crate::codec::cbor::encode(&v), crate::codec::cbor::encode(&b));
        proptest::prop_assert_eq!(crate::codec::xml::success("Op", "ns", Some(&v), "r"), crate::codec::xml::success("Op", "ns", Some(&b), "r"));
        proptest::prop_assert_eq!(v.to_json(), b.to_json());
        proptest::prop_assert_eq!(v.list_len(), None);
        proptest::prop_assert_eq!(v.get("Values").and_then(Value::list_len), Some(values.len()));
        // Read back as a typed list (inputs never carry unboxed lists, but nothing breaks).
        let back: Vec<f64> = from_value(v.get("Values").unwrap()).unwrap();
        proptest::prop_assert_eq!(back.iter().map(|f| f.to_bits()).collect::<Vec<_>>(), values.iter().map(|f| f.to_bits()).collect::<Vec<_>>());
    }
}
