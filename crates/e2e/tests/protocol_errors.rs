//! Bad input at the wire level, over raw TCP/HTTP against a real in-process server: garbage
//! bodies in each protocol, bad gzip, oversized bodies, wrong content types and encodings,
//! unknown operations, Query framing errors and unauthenticated requests.
//!
//! Every case must, within a bounded time (a hang is a failure):
//! - answer with the expected 4xx status and an `x-amzn-RequestId`;
//! - carry the expected code in the protocol's own error format (awsQuery `<Error><Code>`,
//!   awsJson1_0 / rpcv2Cbor `__type`, plus `x-amzn-query-error: <Code>;Sender` whenever the
//!   request was routed to CloudWatch);
//! - appear in the activity journal under its request id with that code;
//! - leave the server healthy (a valid request right after it succeeds).
//!
//! A proptest then throws random bytes at each protocol's endpoint.

mod common;
mod raw;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use raw::{Client, Format, Proto, Request, Response, SHAPE_NAMESPACE};
use serde_json::{json, Value};
use std::time::Duration;

const PUT: &str = "PutMetricData";
/// Limit on any single exchange in these tests.
const BOUND: Duration = Duration::from_secs(20);
const MIB: usize = 1024 * 1024;

/// What a case must get back.
struct Case {
    name: String,
    /// The protocol the request speaks (decides the expected error format).
    proto: Proto,
    req: Request,
    sign: bool,
    status: u16,
    /// The query error code (`<Code>`, `x-amzn-query-error`, journal).
    code: &'static str,
    /// The `__type` shape name for JSON / CBOR.
    shape: &'static str,
    /// Whether the request reached CloudWatch's routing (then `__type` is namespaced and
    /// `x-amzn-query-error` is present on JSON / CBOR errors).
    routed: bool,
    /// The expected error body format (defaults to the protocol's).
    format: Format,
}

impl Case {
    fn new(name: impl Into<String>, proto: Proto, req: Request, status: u16, code: &'static str, shape: &'static str) -> Self {
        Case { name: name.into(), proto, req, sign: true, status, code, shape, routed: true, format: proto.error_format() }
    }
    fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }
    fn unrouted(mut self) -> Self {
        self.routed = false;
        self
    }
    fn format(mut self, f: Format) -> Self {
        self.format = f;
        self
    }
}

/// The client-error code and shape for an undecodable body in each protocol.
fn malformed(proto: Proto) -> (&'static str, &'static str) {
    match proto {
        Proto::Query => ("MalformedQueryString", "MalformedQueryString"),
        _ => ("SerializationException", "SerializationException"),
    }
}

fn client(ts: &common::TestServer) -> Client {
    let mut c = Client::new(&ts.server.endpoint(), common::AKID, common::SECRET);
    c.timeout = BOUND;
    c
}

/// A valid PutMetricData.
fn put_params() -> Value {
    json!({"Namespace": "WT/Proto", "MetricData": [{"MetricName": "m", "Value": 1.0}]})
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// A PutMetricData body in `proto` whose ignored `Pad` member brings it to exactly `size` bytes.
fn padded_put(proto: Proto, size: usize) -> Vec<u8> {
    let mut pad = size.saturating_sub(200);
    for _ in 0..8 {
        let mut p = put_params();
        p["Pad"] = Value::String("a".repeat(pad));
        let body = raw::body(proto, PUT, &p);
        if body.len() == size {
            return body;
        }
        pad = (pad as i64 + size as i64 - body.len() as i64).max(0) as usize;
    }
    panic!("could not pad a {proto} body to {size} bytes");
}

/// Runs one case; `Err` says what differed.
async fn run_case(ts: &common::TestServer, c: &Client, case: Case) -> Result<String, String> {
    let started = std::time::Instant::now();
    let resp: Response = if case.sign { c.send(case.req.clone()).await } else { c.send_unsigned(&case.req).await }
        .map_err(|e| format!("no response: {e}"))?;
    let elapsed = started.elapsed();
    let e = resp.error();
    let mut problems: Vec<String> = Vec::new();
    let rid = resp.request_id().map(str::to_string);
    if rid.is_none() {
        problems.push("no x-amzn-RequestId".into());
    }
    if resp.status != case.status {
        problems.push(format!("status {} (want {})", resp.status, case.status));
    }
    if !(400..500).contains(&resp.status) {
        problems.push("not a 4xx".into());
    }
    if e.format != Some(case.format) {
        problems.push(format!("format {:?} (want {:?})", e.format, case.format));
    }
    match case.format {
        Format::Xml => {
            if e.code.as_deref() != Some(case.code) {
                problems.push(format!("<Code> {:?} (want {})", e.code, case.code));
            }
            if e.fault.as_deref() != Some("Sender") {
                problems.push(format!("<Type> {:?}", e.fault));
            }
        }
        _ => {
            let want_type = if case.routed && case.format != Format::Unknown {
                format!("{SHAPE_NAMESPACE}#{}", case.shape)
            } else {
                case.shape.to_string()
            };
            if e.code.as_deref() != Some(want_type.as_str()) {
                problems.push(format!("__type {:?} (want {want_type})", e.code));
            }
            let want_header = case.routed.then(|| format!("{};Sender", case.code));
            if e.query_error != want_header {
                problems.push(format!("x-amzn-query-error {:?} (want {want_header:?})", e.query_error));
            }
        }
    }
    if case.format == Format::Cbor && resp.header("smithy-protocol") != Some("rpc-v2-cbor") {
        problems.push("CBOR error without smithy-protocol: rpc-v2-cbor".into());
    }
    if let Some(rid) = &rid {
        match ts.server.journal().find(rid) {
            None => problems.push("no activity record".into()),
            Some(r) if r.error_code.as_deref() != Some(case.code) || r.http_status != resp.status => {
                problems.push(format!("activity record has code {:?} status {}", r.error_code, r.http_status))
            }
            Some(_) => {}
        }
    }
    if let Err(h) = c.healthy().await {
        problems.push(format!("server unhealthy afterwards: {h}"));
    }
    let line = format!("{:<6} {:<64} -> {} {} ({} ms)", case.proto, case.name, resp.status, e.query_code().unwrap_or_default(), elapsed.as_millis());
    if problems.is_empty() {
        Ok(line)
    } else {
        Err(format!("{line}: {}; got {e}", problems.join(", ")))
    }
}

/// Runs every case against one server, prints a line per case, and fails listing every case
/// that did not behave.
async fn run_all(title: &str, cases: Vec<Case>) {
    let ts = common::start().await;
    let c = client(&ts);
    let total = cases.len();
    let mut failures = Vec::new();
    let mut out = format!("\n== {title}: {total} cases\n");
    for case in cases {
        match run_case(&ts, &c, case).await {
            Ok(line) => out.push_str(&format!("ok    {line}\n")),
            Err(why) => {
                out.push_str(&format!("FAIL  {why}\n"));
                failures.push(why);
            }
        }
    }
    out.push_str(&format!("{title}: {}/{total} cases as expected\n", total - failures.len()));
    println!("{out}");
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bodies_get_client_errors() {
    let mut cases = Vec::new();
    let json = |name: &str, body: Vec<u8>| {
        let (code, shape) = malformed(Proto::Json);
        Case::new(name, Proto::Json, raw::proto_request(Proto::Json, PUT, body), 400, code, shape)
    };
    cases.push(json("random bytes as JSON", noise(512, 1)));
    cases.push(json("truncated JSON object", br#"{"Namespace":"a","MetricData":[{"#.to_vec()));
    cases.push(json("JSON array, not an object", b"[1,2,3]".to_vec()));
    cases.push(json("JSON string, not an object", br#""PutMetricData""#.to_vec()));
    cases.push(json("JSON with invalid UTF-8 in a string", b"{\"Namespace\":\"\xff\xfe\"}".to_vec()));
    cases.push(json("JSON nested 100000 deep", {
        let mut b = b"{\"Namespace\":".to_vec();
        b.extend(std::iter::repeat_n(b'[', 100_000));
        b.extend(std::iter::repeat_n(b']', 100_000));
        b.push(b'}');
        b
    }));
    cases.push(json("JSON with trailing garbage", br#"{"Namespace":"a"} xyz"#.to_vec()));
    cases.push(json("JSON number out of range", br#"{"Namespace":"a","MetricData":[{"MetricName":"m","Value":1e999999}]}"#.to_vec()));

    let cbor = |name: &str, body: Vec<u8>| {
        let (code, shape) = malformed(Proto::Cbor);
        Case::new(name, Proto::Cbor, raw::proto_request(Proto::Cbor, PUT, body), 400, code, shape)
    };
    let mut random = noise(512, 2);
    random[0] = 0xff; // a lone "break": never valid at the top level
    cases.push(cbor("random bytes as CBOR", random));
    let valid = raw::cbor_body(&put_params());
    cases.push(cbor("truncated CBOR (first half of a valid body)", valid[..valid.len() / 2].to_vec()));
    cases.push(cbor("CBOR array, not a map", vec![0x82, 0x01, 0x02]));
    cases.push(cbor("CBOR integer, not a map", vec![0x18, 0x2a]));
    cases.push(cbor("CBOR text, not a map", vec![0x63, b'a', b'b', b'c']));
    cases.push(cbor("CBOR map with an integer key", vec![0xa1, 0x01, 0x02]));
    cases.push(cbor("CBOR map followed by trailing bytes", vec![0xa0, 0x00]));
    cases.push(cbor("CBOR nested 100000 deep", {
        let mut b = vec![0xa1, 0x61, b'a'];
        b.extend(std::iter::repeat_n(0x81u8, 100_000));
        b.push(0x01);
        b
    }));
    cases.push(cbor("CBOR indefinite map never closed", vec![0xbf, 0x61, b'a', 0x01]));
    cases.push(cbor("CBOR map claiming 2^32 entries", vec![0xba, 0xff, 0xff, 0xff, 0xff, 0x61, b'a', 0x01]));
    cases.push(cbor("CBOR array claiming 2^63 items", {
        let mut b = vec![0xa1, 0x61, b'a', 0x9b];
        b.extend_from_slice(&(1u64 << 63).to_be_bytes());
        b
    }));
    cases.push(cbor("CBOR text claiming 4 GiB", vec![0xa1, 0x61, b'a', 0x7a, 0xff, 0xff, 0xff, 0xff, b'x']));
    cases.push(cbor("CBOR text with invalid UTF-8", vec![0xa1, 0x61, b'a', 0x62, 0xff, 0xfe]));
    cases.push(cbor("CBOR tag 1 holding text", vec![0xa1, 0x61, b'T', 0xc1, 0x61, b'x']));
    cases.push(cbor("CBOR integer beyond i64", vec![0xa1, 0x61, b'a', 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));

    let query = |name: &str, body: Vec<u8>| {
        let (code, shape) = malformed(Proto::Query);
        Case::new(name, Proto::Query, raw::proto_request(Proto::Query, PUT, body), 400, code, shape)
    };
    cases.push(query("form with an empty segment (A..B)", b"Action=PutMetricData&Version=2010-08-01&Metric..Data=1".to_vec()));
    cases.push(query("form with an empty name (=1)", b"Action=PutMetricData&Version=2010-08-01&=1".to_vec()));
    cases.push(query("form with a trailing dot (Namespace.)", b"Action=PutMetricData&Version=2010-08-01&Namespace.=x".to_vec()));
    cases.push(query("form nested 40 deep", {
        let mut b = b"Action=PutMetricData&Version=2010-08-01&".to_vec();
        b.extend_from_slice("a.".repeat(40).as_bytes());
        b.extend_from_slice(b"b=1");
        b
    }));
    cases.push(query("form that is not UTF-8", b"Action=PutMetricData&Version=2010-08-01&Namespace=\xff\xfe".to_vec()));
    cases.push(query("random bytes as a form", {
        let mut b = noise(512, 3);
        b[0] = 0xff;
        b
    }));
    run_all("garbage bodies", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_gzip_is_refused() {
    // One bomb per size, shared: 17 MiB is just over PutMetricData's 16 MiB decoded ceiling;
    // 64 MiB is over the 32 MiB default that applies before a Query body names its operation.
    let mut cases = Vec::new();
    for proto in Proto::ALL {
        let (code, shape) = malformed(proto);
        let valid = raw::request(proto, PUT, &put_params());
        cases.push(Case::new(
            "Content-Encoding: gzip over plain bytes",
            proto,
            valid.clone().header("content-encoding", "gzip"),
            400,
            code,
            shape,
        ));
        let mut truncated = valid.clone().gzip();
        truncated.body.truncate(truncated.body.len() / 2);
        cases.push(Case::new("truncated gzip", proto, truncated, 400, code, shape));
        let mut bad_crc = valid.clone().gzip();
        let n = bad_crc.body.len();
        bad_crc.body[n - 8] ^= 0xff;
        cases.push(Case::new("gzip with a corrupt CRC", proto, bad_crc, 400, code, shape));
        let mut trailing = valid.clone().gzip();
        trailing.body.extend_from_slice(b"garbage after the gzip member");
        cases.push(Case::new("gzip followed by garbage", proto, trailing, 400, code, shape));

        let bomb17 = raw::proto_request(proto, PUT, padded_put(proto, 17 * MIB)).gzip();
        assert!(bomb17.body.len() < MIB, "the 17 MiB bomb compresses below the 1 MiB ceiling");
        cases.push(Case::new(
            format!("gzip bomb: {} KiB expanding to 17 MiB", bomb17.body.len() / 1024),
            proto,
            bomb17,
            413,
            "RequestEntityTooLarge",
            "RequestEntityTooLarge",
        ));
        let bomb64 = raw::proto_request(proto, PUT, vec![0u8; 64 * MIB]).gzip();
        cases.push(Case::new(
            format!("gzip bomb: {} KiB of zeros expanding to 64 MiB", bomb64.body.len() / 1024),
            proto,
            bomb64,
            413,
            "RequestEntityTooLarge",
            "RequestEntityTooLarge",
        ));
    }
    run_all("bad gzip", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let mut cases = Vec::new();
    for proto in Proto::ALL {
        let two = raw::proto_request(proto, PUT, padded_put(proto, 2 * MIB));
        cases.push(Case::new("2 MiB PutMetricData", proto, two, 413, "RequestEntityTooLarge", "RequestEntityTooLarge"));
        let over = raw::proto_request(proto, PUT, padded_put(proto, MIB + 1));
        cases.push(Case::new("PutMetricData of 1 MiB + 1 byte", proto, over, 413, "RequestEntityTooLarge", "RequestEntityTooLarge"));
        let huge = raw::proto_request(proto, PUT, padded_put(proto, 20 * MIB));
        cases.push(Case::new(
            "20 MiB body, beyond the HTTP read ceiling",
            proto,
            huge,
            413,
            "RequestEntityTooLarge",
            "RequestEntityTooLarge",
        ));
    }
    run_all("oversized bodies", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_one_mib_is_accepted() {
    let ts = common::start().await;
    let c = client(&ts);
    for proto in Proto::ALL {
        let req = raw::proto_request(proto, PUT, padded_put(proto, MIB));
        assert_eq!(req.body.len(), MIB);
        let r = c.send(req).await.unwrap_or_else(|e| panic!("{proto}: {e}"));
        assert_eq!(r.status, 200, "{proto}: exactly 1 MiB must pass the ceiling: {}", r.error());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_media_types_and_encodings_are_415() {
    let mut cases = Vec::new();
    for ct in ["text/plain", "application/xml", "application/cbor"] {
        let req = raw::request(Proto::Json, PUT, &put_params()).header("content-type", ct);
        // The error is rendered in the protocol the target names (awsJson1_0).
        cases.push(Case::new(format!("JSON target with Content-Type {ct}"), Proto::Json, req, 415, "UnsupportedMediaType", "UnsupportedMediaTypeException"));
    }
    for ct in ["application/json", "text/plain", "application/x-www-form-urlencoded"] {
        let req = raw::request(Proto::Cbor, PUT, &put_params()).header("content-type", ct);
        cases.push(Case::new(format!("CBOR path with Content-Type {ct}"), Proto::Cbor, req, 415, "UnsupportedMediaType", "UnsupportedMediaTypeException"));
    }
    let no_ct = {
        let mut r = raw::request(Proto::Cbor, PUT, &put_params());
        r.remove_header("content-type");
        r
    };
    cases.push(Case::new("CBOR body without Content-Type", Proto::Cbor, no_ct, 415, "UnsupportedMediaType", "UnsupportedMediaTypeException"));
    for enc in ["br", "deflate", "zstd", "gzip, br"] {
        for proto in Proto::ALL {
            let req = raw::request(proto, PUT, &put_params()).header("content-encoding", enc);
            cases.push(Case::new(format!("Content-Encoding: {enc}"), proto, req, 415, "UnsupportedMediaType", "UnsupportedMediaTypeException"));
        }
    }
    // A form body that is not declared as a form is not recognised as Query at all: no protocol
    // is identified, so the error is awsJson1_1-shaped and not CloudWatch's.
    let form_as_text = raw::request(Proto::Query, PUT, &put_params()).header("content-type", "text/plain");
    cases.push(
        Case::new("Query form sent as text/plain", Proto::Query, form_as_text, 400, "UnknownOperationException", "UnknownOperationException")
            .unrouted()
            .format(Format::Json),
    );
    run_all("media types and encodings", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_operations_and_targets() {
    let mut cases = Vec::new();
    let empty = json!({});
    cases.push(Case::new(
        "unknown operation (X-Amz-Target GraniteServiceVersion20100801.NoSuchOp)",
        Proto::Json,
        raw::request(Proto::Json, "NoSuchOp", &empty),
        400,
        "UnknownOperationException",
        "UnknownOperationException",
    ));
    cases.push(Case::new(
        "unknown operation (/service/GraniteServiceVersion20100801/operation/NoSuchOp)",
        Proto::Cbor,
        raw::request(Proto::Cbor, "NoSuchOp", &empty),
        404,
        "UnknownOperationException",
        "UnknownOperationException",
    ));
    cases.push(Case::new("unknown operation (Action=NoSuchOp)", Proto::Query, raw::request(Proto::Query, "NoSuchOp", &empty), 400, "InvalidAction", "InvalidAction"));
    cases.push(Case::new(
        "operation of another service (Action=PutLogEvents)",
        Proto::Query,
        raw::request(Proto::Query, "PutLogEvents", &empty),
        400,
        "InvalidAction",
        "InvalidAction",
    ));
    for target in ["Kinesis_20131202.PutRecord", "NoSuchService.PutMetricData", "PutMetricData", "GraniteServiceVersion20100801"] {
        let req = raw::request(Proto::Json, PUT, &put_params()).header("x-amz-target", target);
        cases.push(
            Case::new(format!("unknown X-Amz-Target {target}"), Proto::Json, req, 400, "UnknownOperationException", "UnknownOperationException")
                .unrouted(),
        );
    }
    for path in ["/service/NoSuchService/operation/PutMetricData", "/service/GraniteServiceVersion20100801/operation/", "/service/GraniteServiceVersion20100801/PutMetricData"] {
        let mut req = raw::request(Proto::Cbor, PUT, &put_params());
        req.path = path.to_string();
        // A Smithy routing miss, like an unknown operation of the service (docs/deviations.md).
        cases.push(
            Case::new(format!("CBOR path {path}"), Proto::Cbor, req, 404, "UnknownOperationException", "UnknownOperationException").unrouted(),
        );
    }
    run_all("unknown operations", cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_action_and_version_errors() {
    let mut cases = Vec::new();
    let form = |body: &str| raw::proto_request(Proto::Query, PUT, body.as_bytes().to_vec());
    cases.push(Case::new("missing Action", Proto::Query, form("Version=2010-08-01&Namespace=a"), 400, "MissingAction", "MissingAction"));
    cases.push(Case::new("empty form", Proto::Query, form(""), 400, "MissingAction", "MissingAction"));
    cases.push(Case::new(
        "wrong Version 2011-01-01",
        Proto::Query,
        form("Action=PutMetricData&Version=2011-01-01&Namespace=a&MetricData.member.1.MetricName=m&MetricData.member.1.Value=1"),
        400,
        "InvalidAction",
        "InvalidAction",
    ));
    cases.push(Case::new("empty Version", Proto::Query, form("Action=ListMetrics&Version="), 400, "InvalidAction", "InvalidAction"));
    cases.push(Case::new("empty Action", Proto::Query, form("Action=&Version=2010-08-01"), 400, "InvalidAction", "InvalidAction"));
    run_all("Query framing", cases).await;

    // A missing Version is accepted (docs/deviations.md).
    let ts = common::start().await;
    let c = client(&ts);
    let r = c
        .send(form("Action=PutMetricData&Namespace=a&MetricData.member.1.MetricName=m&MetricData.member.1.Value=1"))
        .await
        .expect("response");
    assert_eq!(r.status, 200, "Query without Version: {}", r.error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_requests_are_refused() {
    let ts = common::start().await;
    let c = client(&ts);
    let endpoint = ts.server.endpoint();
    let signed_by = |akid: &str, secret: &str, mut req: Request| {
        Client::new(&endpoint, akid, secret).sign(&mut req);
        req
    };
    let mut cases = Vec::new();
    for proto in Proto::ALL {
        let req = raw::request(proto, PUT, &put_params());
        cases.push(
            Case::new("unsigned request", proto, req.clone(), 403, "MissingAuthenticationToken", "MissingAuthenticationTokenException").unsigned(),
        );
        let mut tampered = signed_by(common::AKID, common::SECRET, req.clone());
        tampered.body.push(b' ');
        cases.push(
            Case::new("body changed after signing", proto, tampered, 403, "SignatureDoesNotMatch", "InvalidSignatureException").unsigned(),
        );
        let bad = signed_by(common::AKID, "not-the-secret", req.clone());
        cases.push(Case::new("signed with the wrong secret", proto, bad, 403, "SignatureDoesNotMatch", "InvalidSignatureException").unsigned());
        let bad = signed_by("AKIAUNKNOWNKEY000000", common::SECRET, req.clone());
        cases.push(Case::new("signed with an unknown access key", proto, bad, 403, "InvalidClientTokenId", "UnrecognizedClientException").unsigned());
        let garbage = req.clone().header("authorization", "AWS4-HMAC-SHA256 garbage");
        cases.push(Case::new("malformed Authorization header", proto, garbage, 400, "IncompleteSignature", "IncompleteSignatureException").unsigned());
    }
    let total = cases.len();
    let mut failures = Vec::new();
    for case in cases {
        match run_case(&ts, &c, case).await {
            Ok(line) => println!("ok    {line}"),
            Err(why) => {
                println!("FAIL  {why}");
                failures.push(why);
            }
        }
    }
    println!("unauthenticated requests: {}/{total} cases as expected", total - failures.len());
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// Requests the rpcv2Cbor spec says a server must not claim (smithy-lang/smithy
/// `smithy-rpc-v2-cbor.rst`, "Identification for claiming" and "Requests"; the smithy-rs
/// reference router answers all of them 404 `UnknownOperationException`, and 405 for a method
/// other than POST): each must get a 4xx client error, never a 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpcv2_cbor_requests_outside_the_protocol_are_rejected() {
    let ts = common::start().await;
    let c = client(&ts);
    let valid = || raw::request(Proto::Cbor, PUT, &put_params());
    let mut get = valid();
    get.method = "GET".into();
    let mut no_protocol_header = valid();
    no_protocol_header.remove_header("smithy-protocol");
    let cases: Vec<(&str, Request, &str)> = vec![
        (
            "X-Amz-Target on an rpcv2Cbor request (spec: MUST reject)",
            valid().header("x-amz-target", "GraniteServiceVersion20100801.PutMetricData"),
            "404 UnknownOperationException",
        ),
        (
            "X-Amzn-Target on an rpcv2Cbor request (spec: MUST reject)",
            valid().header("x-amzn-target", "GraniteServiceVersion20100801.PutMetricData"),
            "404 UnknownOperationException",
        ),
        ("no Smithy-Protocol header", no_protocol_header, "404 UnknownOperationException"),
        ("Smithy-Protocol: rpc-v2-json", valid().header("smithy-protocol", "rpc-v2-json"), "404 UnknownOperationException"),
        ("GET instead of POST", get, "405"),
    ];
    let mut failures = Vec::new();
    for (name, req, reference) in cases {
        let r = c.send(req).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = r.error();
        let journaled = r.request_id().and_then(|rid| ts.server.journal().find(rid)).is_some();
        let line = format!("cbor   {name:<60} -> {} {} (smithy-rs reference: {reference})", r.status, e.query_code().unwrap_or_default());
        if (400..500).contains(&r.status) && journaled {
            println!("ok    {line}");
        } else {
            println!("FAIL  {line}");
            failures.push(format!("{line}: accepted or not journaled; got {e}"));
        }
        c.healthy().await.expect("healthy");
    }
    assert!(failures.is_empty(), "{} rpcv2Cbor request(s) outside the protocol were not rejected:\n{}", failures.len(), failures.join("\n"));
}

/// rpcv2Cbor servers MUST decode every float width, including half-precision NaN/±Infinity, and
/// timestamps as tag 1 over an integer (botocore's encoding) or a float (the Rust SDK's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpcv2_cbor_accepts_every_number_encoding_clients_send() {
    let ts = common::start().await;
    let c = client(&ts);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let text = |s: &str, out: &mut Vec<u8>| {
        out.push(0x60 | s.len() as u8);
        out.extend_from_slice(s.as_bytes());
    };
    // {"Namespace": "WT/Cbor", "MetricData": [datum]} with a datum built from raw items.
    let put = |datum_items: &[(&str, Vec<u8>)]| {
        let mut b = vec![0xa2];
        text("Namespace", &mut b);
        text("WT/Cbor", &mut b);
        text("MetricData", &mut b);
        b.push(0x81);
        b.push(0xa0 | (datum_items.len() as u8 + 1));
        text("MetricName", &mut b);
        text("m", &mut b);
        for (k, v) in datum_items {
            text(k, &mut b);
            b.extend_from_slice(v);
        }
        b
    };
    let ts_uint = {
        let mut v = vec![0xc1, 0x1a];
        v.extend_from_slice(&(now as u32).to_be_bytes());
        v
    };
    let ts_f32 = {
        let mut v = vec![0xc1, 0xfa];
        v.extend_from_slice(&((now - now % 128) as f32).to_be_bytes());
        v
    };
    let accepted: Vec<(&str, Vec<u8>)> = vec![
        ("Value as a half float (1.5)", put(&[("Value", vec![0xf9, 0x3e, 0x00])])),
        ("Value as a single float (2.5)", put(&[("Value", [vec![0xfa], 2.5f32.to_be_bytes().to_vec()].concat())])),
        ("Value as an integer (7)", put(&[("Value", vec![0x07])])),
        ("Value as a negative integer (-7)", put(&[("Value", vec![0x26])])),
        ("Timestamp as tag 1 over an unsigned integer (botocore)", put(&[("Value", vec![0x01]), ("Timestamp", ts_uint)])),
        ("Timestamp as tag 1 over a single float", put(&[("Value", vec![0x01]), ("Timestamp", ts_f32)])),
        ("indefinite-length map and array", {
            let mut b = vec![0xbf];
            text("Namespace", &mut b);
            text("WT/Cbor", &mut b);
            text("MetricData", &mut b);
            b.push(0x9f);
            b.push(0xbf);
            text("MetricName", &mut b);
            text("m", &mut b);
            text("Value", &mut b);
            b.push(0x01);
            b.extend_from_slice(&[0xff, 0xff, 0xff]);
            b
        }),
    ];
    for (name, body) in accepted {
        let r = c.send(raw::proto_request(Proto::Cbor, PUT, body)).await.expect("response");
        assert_eq!(r.status, 200, "{name}: {}", r.error());
    }
    let refused: Vec<(&str, Vec<u8>)> = vec![
        ("Value as a half-float NaN", put(&[("Value", vec![0xf9, 0x7e, 0x00])])),
        ("Value as a half-float +Infinity", put(&[("Value", vec![0xf9, 0x7c, 0x00])])),
        ("Value as a half-float -Infinity", put(&[("Value", vec![0xf9, 0xfc, 0x00])])),
        ("Value as a single-float NaN", put(&[("Value", [vec![0xfa], f32::NAN.to_be_bytes().to_vec()].concat())])),
    ];
    for (name, body) in refused {
        let r = c.send(raw::proto_request(Proto::Cbor, PUT, body)).await.expect("response");
        let e = r.error();
        assert_eq!((r.status, e.query_code().as_deref()), (400, Some("InvalidParameterValue")), "{name}: {e}");
    }
}

/// Numbers at the edges of i64 in Period and the time range must get a client error like any
/// other bad value, in every protocol: never a panic, a dropped connection or a wrapped result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_numbers_get_client_errors() {
    let ts = common::start().await;
    let c = client(&ts);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    // A multiple of 60 whose value in milliseconds does not fit an i64.
    let huge_period: i64 = 60 * 200_000_000_000_000;
    let gms = |start: Value, end: Value, period: i64| {
        json!({"Namespace": "WT/Edge", "MetricName": "m", "StartTime": start, "EndTime": end, "Period": period, "Statistics": ["Sum"]})
    };
    let cases: Vec<(&str, &str, Value)> = vec![
        ("GetMetricStatistics Period 1.2e16 (a multiple of 60)", "GetMetricStatistics", gms(raw::ts(now - 3600), raw::ts(now), huge_period)),
        ("GetMetricStatistics StartTime 0, EndTime i64::MAX seconds", "GetMetricStatistics", gms(json!(0), json!(i64::MAX), 60)),
        ("GetMetricStatistics StartTime i64::MIN seconds", "GetMetricStatistics", gms(json!(i64::MIN), raw::ts(now), 60)),
        (
            "GetMetricData MetricStat.Period 1.2e16 (a multiple of 60)",
            "GetMetricData",
            json!({
                "MetricDataQueries": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "WT/Edge", "MetricName": "m"}, "Period": huge_period, "Stat": "Sum"}}],
                "StartTime": raw::ts(now - 3600),
                "EndTime": raw::ts(now),
            }),
        ),
        (
            "GetMetricData StartTime i64::MIN seconds",
            "GetMetricData",
            json!({
                "MetricDataQueries": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "WT/Edge", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}],
                "StartTime": i64::MIN,
                "EndTime": raw::ts(now),
            }),
        ),
        ("PutMetricData Timestamp i64::MIN seconds", PUT, json!({"Namespace": "WT/Edge", "MetricData": [{"MetricName": "m", "Value": 1.0, "Timestamp": i64::MIN}]})),
        ("PutMetricData StorageResolution i64::MAX", PUT, json!({"Namespace": "WT/Edge", "MetricData": [{"MetricName": "m", "Value": 1.0, "StorageResolution": i64::MAX}]})),
    ];
    let mut failures = Vec::new();
    for (name, op, params) in &cases {
        for proto in Proto::ALL {
            let line = match c.send(raw::request(proto, op, params)).await {
                Err(e) => Err(format!("{proto:<6} {name}: no response ({e})")),
                Ok(r) => {
                    let e = r.error();
                    let code = e.query_code().unwrap_or_default();
                    let line = format!("{proto:<6} {name:<60} -> {} {code}", r.status);
                    let journaled = r.request_id().and_then(|rid| ts.server.journal().find(rid)).is_some();
                    if r.status == 400 && ["InvalidParameterValue", "InvalidParameterCombination"].contains(&code.as_str()) && journaled {
                        Ok(line)
                    } else {
                        Err(format!("{line}: want 400 InvalidParameterValue/InvalidParameterCombination, journaled; got {e}"))
                    }
                }
            };
            match line {
                Ok(l) => println!("ok    {l}"),
                Err(l) => {
                    println!("FAIL  {l}");
                    failures.push(l);
                }
            }
            c.healthy().await.expect("server healthy");
        }
    }
    assert!(failures.is_empty(), "{} extreme-number request(s) not answered with a client error:\n{}", failures.len(), failures.join("\n"));
}

/// Random bytes with each protocol's headers (signed, so they reach the decoders), plain,
/// gzipped, or falsely declared gzip: always a 4xx with a request id, and the server stays up.
#[test]
fn random_bodies_get_client_errors_and_leave_the_server_healthy() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let ts = rt.block_on(common::start());
    let c = client(&ts);
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let strategy = (0usize..3, 0u8..3, vec(any::<u8>(), 0..4096));
    let result = runner.run(&strategy, |(p, encoding, bytes)| {
        let proto = Proto::ALL[p];
        let mut req = raw::proto_request(proto, PUT, bytes);
        match encoding {
            1 => req = req.gzip(),
            2 => req = req.header("content-encoding", "gzip"),
            _ => {}
        }
        let resp = rt.block_on(c.send(req)).map_err(TestCaseError::fail)?;
        prop_assert!((400..500).contains(&resp.status), "{proto}: status {} {}", resp.status, resp.error());
        prop_assert!(resp.request_id().is_some(), "{proto}: no request id");
        let e = resp.error();
        prop_assert!(e.query_code().is_some(), "{proto}: no error code in {:?}", resp.body_text());
        if let Some(rid) = resp.request_id() {
            prop_assert!(ts.server.journal().find(rid).is_some(), "{proto}: not journaled");
        }
        rt.block_on(c.healthy()).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
