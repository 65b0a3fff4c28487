//! The awsJson fast path (`codec::json_typed`) never disagrees with the `Value` path: whenever
//! it decodes a body, the `Value` path decodes the same body to the same input; and the bodies
//! where serde_json is more lenient than AWS (arrays as structures, objects as enums, blobs,
//! strings as numbers, nulls, ISO timestamps) are left to the `Value` path.

use proptest::prelude::*;
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
struct Dim {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Item {
    name: String,
    #[serde(default)]
    dims: Vec<Dim>,
    at: Option<Timestamp>,
    value: Option<f64>,
    values: Option<Vec<f64>>,
    kind: Option<Kind>,
    resolution: Option<i32>,
    flag: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Input {
    namespace: String,
    items: Option<Vec<Item>>,
    blob: Option<serde_bytes_like::Blob>,
}

/// A byte-string field, as blob members are declared.
mod serde_bytes_like {
    use serde::Deserialize;

    #[derive(Debug, PartialEq)]
    pub struct Blob(pub Vec<u8>);

    impl<'de> Deserialize<'de> for Blob {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Blob;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(v.to_vec()))
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Blob, E> {
                    Ok(Blob(v))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }
}

fn slow(body: &str) -> Option<Input> {
    let v = json::decode(body.as_bytes()).ok()?;
    from_value(&v).ok()
}

fn fast(body: &str) -> Option<Input> {
    json_typed::from_slice(body.as_bytes())
}

/// The property every body must satisfy.
fn agree(body: &str) -> Option<Input> {
    let f = fast(body);
    if let Some(f) = &f {
        assert_eq!(Some(f), slow(body).as_ref(), "fast path decoded {body} differently from the Value path");
    }
    f
}

#[test]
fn well_typed_bodies_take_the_fast_path_and_match() {
    let body = r#"{"Namespace":"NS","Items":[{"Name":"m","Dims":[{"Name":"a","Value":"b"}],"At":1767225600,"Value":1.5,"Values":[1,2.5],"Kind":"Count","Resolution":60,"Flag":true},{"Name":"n","At":1767225600.25,"Value":-3}],"Unknown":{"x":[1]}}"#;
    let input = agree(body).expect("fast path");
    let items = input.items.unwrap();
    assert_eq!(items[0].at, Some(Timestamp(1_767_225_600_000)));
    assert_eq!(items[1].at, Some(Timestamp(1_767_225_600_250)));
    assert_eq!(items[0].values, Some(vec![1.0, 2.5]));
    assert_eq!(items[0].kind, Some(Kind::Count));
    assert_eq!(items[1].value, Some(-3.0));
    // Optional members sent as null are absent on both paths.
    let input = agree(r#"{"Namespace":"NS","Items":null,"Blob":null}"#).expect("fast path");
    assert_eq!(input.items, None);
}

#[test]
fn lenient_forms_are_left_to_the_value_path() {
    for body in [
        // serde_json would read these; AWS's JSON protocol does not mean them.
        r#"["NS"]"#,
        r#"{"Namespace":"NS","Items":[["m"]]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Kind":{"Count":null}}]}"#,
        r#"{"Namespace":"NS","Blob":"aGVsbG8="}"#,
        // The Value path coerces these, or reports them precisely.
        r#"{"Namespace":"NS","Items":[{"Name":"m","Value":"1.5"}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Value":"NaN"}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","At":"2026-01-01T00:00:00Z"}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Resolution":"60"}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Flag":"true"}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Dims":null}]}"#,
        r#"{"Namespace":null}"#,
        r#"{"Namespace":7}"#,
        r#"{"Namespace":"a","Namespace":"b"}"#,
        r#"{"Namespace":"NS"} trailing"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","Resolution":60.5}]}"#,
        r#"{"Namespace":"NS","Items":[{"Name":"m","At":1e300}]}"#,
        "",
        "   ",
    ] {
        assert!(fast(body).is_none(), "fast path must refuse {body}");
    }
    // Blobs, strings for numbers and ISO timestamps still decode — on the Value path.
    assert_eq!(slow(r#"{"Namespace":"NS","Blob":"aGVsbG8="}"#).unwrap().blob.unwrap().0, b"hello");
    assert_eq!(slow(r#"{"Namespace":"NS","Items":[{"Name":"m","Value":"1.5"}]}"#).unwrap().items.unwrap()[0].value, Some(1.5));
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("\"Count\"".to_string()),
        Just("\"Bogus\"".to_string()),
        Just("\"1.5\"".to_string()),
        Just("\"2026-01-01T00:00:00Z\"".to_string()),
        Just("\"aGk=\"".to_string()),
        any::<i32>().prop_map(|i| i.to_string()),
        (0u64..u64::MAX).prop_map(|i| i.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        (1_000_000_000i64..2_000_000_000).prop_map(|s| s.to_string()),
        "[a-z]{0,6}".prop_map(|s| format!("\"{s}\"")),
    ]
}

fn member(name: &'static str) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        3 => scalar().prop_map(move |v| Some(format!("\"{name}\":{v}"))),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(move |v| Some(format!("\"{name}\":[{}]", v.join(",")))),
    ]
}

fn item() -> impl Strategy<Value = String> {
    (member("Name"), member("At"), member("Value"), member("Values"), member("Kind"), member("Resolution"), member("Flag"), member("Dims"))
        .prop_map(|(a, b, c, d, e, f, g, h)| format!("{{{}}}", [a, b, c, d, e, f, g, h].into_iter().flatten().collect::<Vec<_>>().join(",")))
}

fn body() -> impl Strategy<Value = String> {
    (member("Namespace"), prop::collection::vec(item(), 0..4), member("Blob"), any::<bool>()).prop_map(|(ns, items, blob, with_items)| {
        let mut members: Vec<String> = ns.into_iter().chain(blob).collect();
        if with_items {
            members.push(format!("\"Items\":[{}]", items.join(",")));
        }
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn fast_and_value_paths_never_disagree(b in body()) {
        agree(&b);
    }
}

#[test]
fn the_generator_exercises_both_paths() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fast_ok, mut slow_only) = (0, 0);
    for _ in 0..2000 {
        let b = body().new_tree(&mut runner).unwrap().current();
        match (agree(&b).is_some(), slow(&b).is_some()) {
            (true, _) => fast_ok += 1,
            (false, true) => slow_only += 1,
            _ => {}
        }
    }
    assert!(fast_ok >= 50 && slow_only >= 50, "fast {fast_ok}, Value-path only {slow_only}");
}
