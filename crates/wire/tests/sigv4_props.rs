//! Property tests: anything aws-sigv4 signs verifies, no tampered body verifies, and arbitrary
//! input never makes the verifier panic.

mod sigv4_support;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use proptest::prelude::*;
use sigv4_support::*;
use std::time::Duration;
use watchtrail_core::AwsError;
use watchtrail_wire::sigv4::{peek_scope, SignedRequest, Verifier};

/// Only what a URI cannot carry raw: the rest of the reserved characters stay as they are.
const MINIMAL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%')
    .add(b'^')
    .add(b'|')
    .add(b'\\')
    .add(b'[')
    .add(b']');
/// Everything but the unreserved characters.
const FULL: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// For query components: `&`, `=` and `+` must also be escaped to keep their meaning.
const MINIMAL_QUERY: &AsciiSet = &MINIMAL.add(b'&').add(b'=').add(b'+');

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        1 => Just(".".to_string()),
        1 => Just("..".to_string()),
        8 => "[a-zA-Z0-9 _~%!$&'()*+,;=:@.\\-\u{e9}\u{2713}\u{1F600}]{1,12}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    (prop::collection::vec((segment(), any::<bool>()), 0..6), any::<bool>()).prop_map(
        |(segments, trailing)| {
            let mut path = String::new();
            for (s, full) in segments {
                path.push('/');
                path.extend(utf8_percent_encode(&s, if full { FULL } else { MINIMAL }));
            }
            if trailing || path.is_empty() {
                path.push('/');
            }
            path
        },
    )
}

fn query() -> impl Strategy<Value = Option<String>> {
    let text = "[a-zA-Z0-9 ~!*()'&=+%/?.,;:@\\-\u{e9}\u{2603}\u{10348}]{0,10}";
    prop::option::of(prop::collection::vec((text, text, 0..3u8), 1..6).prop_map(|pairs| {
        let parts: Vec<String> = pairs
            .iter()
            .map(|(k, v, style)| match style {
                0 => format!(
                    "{}={}",
                    form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ),
                1 => format!("{}={}", utf8_percent_encode(k, FULL), utf8_percent_encode(v, FULL)),
                _ => format!(
                    "{}={}",
                    utf8_percent_encode(k, MINIMAL_QUERY),
                    utf8_percent_encode(v, MINIMAL_QUERY)
                ),
            })
            .collect();
        parts.join("&")
    }))
}

#[derive(Debug, Clone)]
struct Case {
    path: String,
    query: Option<String>,
    body: Vec<u8>,
    service: &'static str,
    region: &'static str,
    offset_secs: i64,
    presign: Option<u64>,
    session: bool,
    custom_header: String,
}

fn case() -> impl Strategy<Value = Case> {
    (
        path(),
        query(),
        prop::collection::vec(any::<u8>(), 0..1024),
        prop::sample::select(vec!["monitoring", "logs", "cloudtrail", "events"]),
        prop::sample::select(vec!["us-east-1", "eu-west-3", "ap-southeast-2"]),
        -840i64..=840,
        prop::option::of(900u64..=604_800),
        any::<bool>(),
        "[ -~]{0,24}",
    )
        .prop_map(
            |(path, query, body, service, region, offset_secs, presign, session, custom_header)| Case {
                path,
                query,
                body,
                service,
                region,
                offset_secs,
                presign,
                session,
                custom_header,
            },
        )
}

impl Case {
    fn sign(&self) -> Option<Received> {
        let uri = match &self.query {
            Some(q) => format!("http://localhost:4566{}?{q}", self.path),
            None => format!("http://localhost:4566{}", self.path),
        };
        // Not every generated path is a valid URI for the signer; those cases are skipped.
        uri.parse::<http::Uri>().ok()?;
        let time = if self.offset_secs < 0 {
            t0() - Duration::from_secs(self.offset_secs.unsigned_abs())
        } else {
            t0() + Duration::from_secs(self.offset_secs as u64)
        };
        let (akid, secret, token) = if self.session {
            (SESSION_AKID, SESSION_SECRET, Some(SESSION_TOKEN))
        } else {
            (AKID, SECRET, None)
        };
        let uri: &str = Box::leak(uri.into_boxed_str());
        let spec = Spec {
            uri,
            headers: vec![
                ("content-type", "application/x-amz-json-1.1"),
                ("x-custom", self.custom_header.as_str()),
            ],
            body: &self.body,
            service: self.service,
            region: self.region,
            time,
            akid,
            secret,
            token,
            presign: self.presign.map(Duration::from_secs),
            ..Spec::json_post(self.service, "", b"")
        };
        Some(spec.sign())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn everything_aws_sigv4_signs_verifies(case in case()) {
        let Some(received) = case.sign() else { return Ok(()) };
        let verifier = Verifier::new();
        let result = verifier.verify(&received.as_request(), &store(), ts(t0()));
        prop_assert!(result.is_ok(), "{:?} for {:?}", result, received);
        let verified = result.unwrap();
        prop_assert_eq!(verified.service.as_str(), case.service);
        prop_assert_eq!(verified.presigned, case.presign.is_some());
    }

    #[test]
    fn a_single_changed_body_byte_never_verifies(
        case in case(),
        body in prop::collection::vec(any::<u8>(), 1..512),
        index in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let case = Case { body, ..case };
        let Some(mut received) = case.sign() else { return Ok(()) };
        let at = index.index(received.body.len());
        received.body[at] = received.body[at].wrapping_add(delta);
        let err = Verifier::new().verify(&received.as_request(), &store(), ts(t0())).unwrap_err();
        prop_assert_eq!(err.code(), "SignatureDoesNotMatch");
    }
}

/// Pieces that make random `Authorization` headers reach deep into the parser.
fn auth_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AWS4-HMAC-SHA256 ".to_string()),
        Just("AWS4-ECDSA-P256-SHA256 ".to_string()),
        Just("Credential=".to_string()),
        Just(format!("{AKID}/20260101/us-east-1/monitoring/aws4_request")),
        Just("/".to_string()),
        Just("SignedHeaders=host;x-amz-date".to_string()),
        Just("Signature=".to_string()),
        Just("ab".repeat(32)),
        Just(", ".to_string()),
        Just("=".to_string()),
        Just(",".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

fn authorization() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop_oneof![0x20u8..=0x7e, 0x80u8..=0xff, Just(b'\t')], 0..200),
        prop::collection::vec(auth_fragment(), 0..12).prop_map(|f| f.concat().into_bytes()),
    ]
}

fn query_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_string()),
        Just(format!("X-Amz-Credential={AKID}%2F20260101%2Fus-east-1%2Flogs%2Faws4_request")),
        Just("X-Amz-Credential=%2F%2F%2F%2F".to_string()),
        Just("X-Amz-Date=20260101T000000Z".to_string()),
        "X-Amz-Date=[0-9TZ]{0,17}",
        "X-Amz-Expires=-?[0-9]{0,25}",
        Just("X-Amz-SignedHeaders=host".to_string()),
        "X-Amz-Signature=[0-9a-f]{0,70}",
        Just("X-Amz-Security-Token=abc".to_string()),
        "[ -~]{0,12}",
        "%[0-9A-Fa-f]{0,2}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics_on_arbitrary_input(
        auth in prop::option::of(authorization()),
        date in prop::option::of("[ -~]{0,20}|2026010[0-9]T0000[0-9]{2}Z"),
        query in prop::option::of(prop::collection::vec(query_fragment(), 0..8).prop_map(|f| f.join("&"))),
        path in "\\PC{0,30}",
        method in "[A-Z]{0,7}",
        body in prop::collection::vec(any::<u8>(), 0..64),
        now_ms in any::<i64>(),
    ) {
        let mut headers = http::HeaderMap::new();
        if let Some(value) = auth.and_then(|a| http::HeaderValue::from_bytes(&a).ok()) {
            headers.insert("authorization", value);
        }
        if let Some(value) = date.and_then(|d| http::HeaderValue::from_str(&d).ok()) {
            headers.insert("x-amz-date", value);
        }
        headers.insert("host", http::HeaderValue::from_static("localhost"));
        let req = SignedRequest { method: &method, path: &path, query: query.as_deref(), headers: &headers, body: &body };
        let verifier = Verifier::with_cache_capacity(4);
        for now in [ts(t0()), watchtrail_core::Timestamp::from_millis(now_ms)] {
            let result = verifier.verify(&req, &store(), now);
            prop_assert!(result.is_err());
            let err = result.unwrap_err();
            prop_assert!(!err.message().contains(SECRET));
            prop_assert!(err.message().len() < 2048, "overlong message: {}", err.message());
        }
        let _ = peek_scope(&headers, query.as_deref());
    }
}
