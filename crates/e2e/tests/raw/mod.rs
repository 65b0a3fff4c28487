//! A raw CloudWatch client for protocol tests: requests built by hand in each of CloudWatch's
//! three wire protocols (awsJson1_0, rpcv2Cbor, awsQuery), signed with the official `aws-sigv4`
//! signer, sent over a plain TCP connection as HTTP/1.1, and responses parsed without any SDK.
//!
//! Parameters are described once, protocol-neutrally, as a `serde_json::Value` in the shape of
//! the AWS model (`{"Namespace": "A", "MetricData": [{"MetricName": "m", "Value": 1.0}]}`), and
//! rendered in each protocol:
//!
//! | Value | awsJson1_0 | rpcv2Cbor | awsQuery |
//! |---|---|---|---|
//! | object | object | map | `A.B=…` |
//! | array | array | array | `A.member.N=…` (1-based); empty: `A=` |
//! | integer | number | integer | text |
//! | float (`1.0`) | number | 64-bit float | text |
//! | [`ts`] marker | epoch seconds | tag 1 over a 64-bit float | ISO 8601 |
//! | [`nan`]/[`inf`]/[`neg_inf`] marker | `"NaN"`, `"Infinity"`, `"-Infinity"` strings | half-precision NaN/±Inf | `NaN`, `Infinity`, `-Infinity` |
//!
//! (These are the encodings botocore and the Rust SDK produce: botocore's serializers map
//! non-finite doubles to those strings in JSON and Query, and to half floats in CBOR.)
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `X-Amz-Target` prefix of CloudWatch (awsJson1_0).
pub const JSON_TARGET_PREFIX: &str = "GraniteServiceVersion20100801";
/// Service name in rpcv2Cbor paths.
pub const CBOR_SERVICE: &str = "GraniteServiceVersion20100801";
/// awsQuery `Version`.
pub const QUERY_VERSION: &str = "2010-08-01";
/// Smithy namespace of CloudWatch's shapes (`__type` prefix).
pub const SHAPE_NAMESPACE: &str = "com.amazonaws.cloudwatch";
/// SigV4 signing name of CloudWatch.
pub const SIGNING_NAME: &str = "monitoring";
/// How long any exchange may take before the test calls it a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const TS_MARK: &str = "$timestamp";
const DOUBLE_MARK: &str = "$double";

/// One of CloudWatch's wire protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// awsJson1_0 with `x-amzn-query-mode` (botocore ≥ 1.42.7).
    Json,
    /// Smithy rpcv2Cbor (aws-sdk-cloudwatch ≥ 1.100).
    Cbor,
    /// awsQuery (older SDKs, the CLI v1, hand-written requests).
    Query,
}

impl Proto {
    /// Every protocol, in the order reports list them.
    pub const ALL: [Proto; 3] = [Proto::Json, Proto::Cbor, Proto::Query];

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Json => "json",
            Proto::Cbor => "cbor",
            Proto::Query => "query",
        }
    }

    /// The response format errors come back in.
    pub fn error_format(self) -> Format {
        match self {
            Proto::Json => Format::Json,
            Proto::Cbor => Format::Cbor,
            Proto::Query => Format::Xml,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------------
// Protocol-neutral parameters
// ---------------------------------------------------------------------------------------------

/// A timestamp parameter, epoch seconds.
pub fn ts(secs: i64) -> Value {
    serde_json::json!({ TS_MARK: secs })
}

/// A timestamp parameter with fractional seconds.
pub fn ts_f(secs: f64) -> Value {
    serde_json::json!({ TS_MARK: secs })
}

/// A NaN double parameter.
pub fn nan() -> Value {
    serde_json::json!({ DOUBLE_MARK: "NaN" })
}

/// A +Infinity double parameter.
pub fn inf() -> Value {
    serde_json::json!({ DOUBLE_MARK: "Infinity" })
}

/// A -Infinity double parameter.
pub fn neg_inf() -> Value {
    serde_json::json!({ DOUBLE_MARK: "-Infinity" })
}

/// A finite double parameter (always rendered as a float, never as an integer).
pub fn double(x: f64) -> Value {
    serde_json::Number::from_f64(x).map(Value::Number).expect("finite double")
}

fn marker<'a>(v: &'a Value, mark: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(mark),
        _ => None,
    }
}

fn ts_secs(v: &Value) -> Option<f64> {
    marker(v, TS_MARK).and_then(Value::as_f64)
}

fn special_double(v: &Value) -> Option<&str> {
    marker(v, DOUBLE_MARK).and_then(Value::as_str)
}

/// Renders parameters as an awsJson1_0 body.
pub fn json_body(params: &Value) -> Vec<u8> {
    fn conv(v: &Value) -> Value {
        if let Some(secs) = ts_secs(v) {
            return if secs.fract() == 0.0 { Value::from(secs as i64) } else { double(secs) };
        }
        if let Some(s) = special_double(v) {
            return Value::String(s.to_string());
        }
        match v {
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), conv(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().map(conv).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&conv(params)).expect("JSON renders")
}

fn cbor_head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u8::MAX as u64 {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= u16::MAX as u64 {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u32::MAX as u64 {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn cbor_f64(x: f64, out: &mut Vec<u8>) {
    out.push(0xfb);
    out.extend_from_slice(&x.to_be_bytes());
}

/// Writes one item the way the AWS SDKs do: definite lengths, doubles as 64-bit floats,
/// timestamps as tag 1 over a double, non-finite doubles as half floats (botocore).
pub fn cbor_write(v: &Value, out: &mut Vec<u8>) {
    if let Some(secs) = ts_secs(v) {
        cbor_head(6, 1, out);
        cbor_f64(secs, out);
        return;
    }
    if let Some(s) = special_double(v) {
        out.push(0xf9);
        out.extend_from_slice(match s {
            "NaN" => &[0x7e, 0x00],
            "Infinity" => &[0x7c, 0x00],
            _ => &[0xfc, 0x00],
        });
        return;
    }
    match v {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                cbor_head(0, u, out);
            } else if let Some(i) = n.as_i64() {
                cbor_head(1, (-1 - i) as u64, out);
            } else {
                cbor_f64(n.as_f64().unwrap_or(f64::NAN), out);
            }
        }
        Value::String(s) => cbor_text(s, out),
        Value::Array(a) => {
            cbor_head(4, a.len() as u64, out);
            for item in a {
                cbor_write(item, out);
            }
        }
        Value::Object(m) => {
            cbor_head(5, m.len() as u64, out);
            for (k, v) in m {
                cbor_text(k, out);
                cbor_write(v, out);
            }
        }
    }
}

/// Renders parameters as an rpcv2Cbor body.
pub fn cbor_body(params: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    cbor_write(params, &mut out);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters (as botocore does).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_pairs(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    if let Some(secs) = ts_secs(v) {
        let t = watchtrail_core::Timestamp::from_secs_f64(secs).expect("timestamp in range");
        out.push((prefix.to_string(), t.to_iso8601()));
        return;
    }
    if let Some(s) = special_double(v) {
        out.push((prefix.to_string(), s.to_string()));
        return;
    }
    let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        // botocore sends an empty list as an empty value.
        Value::Array(a) if a.is_empty() => out.push((prefix.to_string(), String::new())),
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                query_pairs(&format!("{prefix}.member.{}", i + 1), item, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                query_pairs(&join(k), v, out);
            }
        }
    }
}

/// Renders `Action=<op>&Version=2010-08-01&…` for parameters.
pub fn query_body(op: &str, params: &Value) -> Vec<u8> {
    let mut pairs = vec![("Action".to_string(), op.to_string()), ("Version".to_string(), QUERY_VERSION.to_string())];
    query_pairs("", params, &mut pairs);
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Renders parameters as the body of `op` in `proto`.
pub fn body(proto: Proto, op: &str, params: &Value) -> Vec<u8> {
    match proto {
        Proto::Json => json_body(params),
        Proto::Cbor => cbor_body(params),
        Proto::Query => query_body(op, params),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// An HTTP request as it goes on the wire (`host`, `content-length` and `connection` are added
/// when sent, unless set).
#[derive(Clone, Debug)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes, exactly as sent.
    pub body: Vec<u8>,
}

impl Request {
    /// `POST path` with no headers and no body.
    pub fn post(path: impl Into<String>) -> Self {
        Request { method: "POST".into(), path: path.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// Sets a header, replacing any of the same name.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets a header, replacing any of the same name.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.remove_header(name);
        self.headers.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Removes a header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// A header's value.
    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Gzips the body and sets `Content-Encoding: gzip` (as the SDKs do above 10 KiB).
    pub fn gzip(mut self) -> Self {
        self.body = gzip(&self.body);
        self.header("content-encoding", "gzip")
    }
}

/// Gzips bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

/// An unsigned request for `op` in `proto` with an arbitrary body and the protocol's headers.
pub fn proto_request(proto: Proto, op: &str, body: Vec<u8>) -> Request {
    let req = match proto {
        Proto::Json => Request::post("/")
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("{JSON_TARGET_PREFIX}.{op}"))
            .header("x-amzn-query-mode", "true"),
        Proto::Cbor => Request::post(format!("/service/{CBOR_SERVICE}/operation/{op}"))
            .header("content-type", "application/cbor")
            .header("accept", "application/cbor")
            .header("smithy-protocol", "rpc-v2-cbor")
            .header("x-amzn-query-mode", "true"),
        Proto::Query => Request::post("/").header("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
    };
    req.body(body)
}

/// An unsigned request for `op` in `proto` carrying `params`.
pub fn request(proto: Proto, op: &str, params: &Value) -> Request {
    proto_request(proto, op, body(proto, op, params))
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// An HTTP response.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers with lowercased names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

impl Response {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `x-amzn-RequestId`.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-amzn-requestid")
    }

    /// The error carried by the response, parsed per its `Content-Type`.
    pub fn error(&self) -> ErrorInfo {
        ErrorInfo::parse(self)
    }

    /// The body as text (lossy), shortened for messages.
    pub fn body_text(&self) -> String {
        let s = String::from_utf8_lossy(&self.body);
        if s.len() > 400 {
            let mut cut = 400;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…", &s[..cut])
        } else {
            s.into_owned()
        }
    }
}

/// The format an error body came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/x-amz-json-1.0` / `-1.1`.
    Json,
    /// `application/cbor`.
    Cbor,
    /// `text/xml`.
    Xml,
    /// Anything else.
    Unknown,
}

/// An error response, read from the protocol's own places.
#[derive(Clone, Debug, Default)]
pub struct ErrorInfo {
    /// HTTP status.
    pub status: u16,
    /// Body format (from `Content-Type`).
    pub format: Option<Format>,
    /// Query: `<Code>`; JSON/CBOR: `__type` exactly as sent.
    pub code: Option<String>,
    /// Query: `<Type>` (`Sender`/`Receiver`).
    pub fault: Option<String>,
    /// `message` / `<Message>`.
    pub message: Option<String>,
    /// The `x-amzn-query-error` header.
    pub query_error: Option<String>,
    /// The `x-amzn-RequestId` header.
    pub request_id: Option<String>,
    /// Query: `<RequestId>` in the body.
    pub body_request_id: Option<String>,
}

impl ErrorInfo {
    /// Parses an error response.
    pub fn parse(resp: &Response) -> ErrorInfo {
        let ct = resp.header("content-type").unwrap_or("").to_ascii_lowercase();
        let format = if ct.starts_with("application/x-amz-json") || ct.starts_with("application/json") {
            Format::Json
        } else if ct.starts_with("application/cbor") {
            Format::Cbor
        } else if ct.contains("xml") {
            Format::Xml
        } else {
            Format::Unknown
        };
        let mut info = ErrorInfo {
            status: resp.status,
            format: Some(format),
            query_error: resp.header("x-amzn-query-error").map(str::to_string),
            request_id: resp.request_id().map(str::to_string),
            ..ErrorInfo::default()
        };
        match format {
            Format::Json => {
                if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&resp.body) {
                    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                    info.code = s("__type").or_else(|| s("code"));
                    info.message = s("message").or_else(|| s("Message"));
                }
            }
            Format::Cbor => {
                if let Ok(ciborium::Value::Map(m)) = ciborium::de::from_reader::<ciborium::Value, _>(resp.body.as_slice()) {
                    let s = |k: &str| {
                        m.iter().find(|(key, _)| key.as_text() == Some(k)).and_then(|(_, v)| v.as_text()).map(str::to_string)
                    };
                    info.code = s("__type");
                    info.message = s("message").or_else(|| s("Message"));
                }
            }
            Format::Xml => {
                let text = String::from_utf8_lossy(&resp.body);
                info.code = xml_element(&text, "Code");
                info.fault = xml_element(&text, "Type");
                info.message = xml_element(&text, "Message");
                info.body_request_id = xml_element(&text, "RequestId");
            }
            Format::Unknown => {}
        }
        info
    }

    /// The query error code: `<Code>` for Query, else the `x-amzn-query-error` code, else the
    /// `__type` without namespace.
    pub fn query_code(&self) -> Option<String> {
        if self.format == Some(Format::Xml) {
            return self.code.clone();
        }
        if let Some(h) = &self.query_error {
            return h.split(';').next().map(str::to_string);
        }
        self.code.as_ref().map(|c| c.rsplit('#').next().unwrap_or(c).to_string())
    }
}

impl fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status={} format={:?} code={:?} fault={:?} x-amzn-query-error={:?} message={:?}",
            self.status,
            self.format.unwrap_or(Format::Unknown),
            self.code.as_deref().unwrap_or("-"),
            self.fault.as_deref().unwrap_or("-"),
            self.query_error.as_deref().unwrap_or("-"),
            self.message.as_deref().map(|m| if m.len() > 200 { &m[..m.char_indices().nth(200).map(|(i, _)| i).unwrap_or(m.len())] } else { m }).unwrap_or("-"),
        )
    }
}

fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    Some(
        text[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// Sends requests to one server, signing them as one identity.
#[derive(Clone, Debug)]
pub struct Client {
    /// Server address.
    pub addr: SocketAddr,
    /// Access key id.
    pub akid: String,
    /// Secret access key.
    pub secret: String,
    /// Signing region.
    pub region: String,
    /// Signing service (`monitoring`; `aps` for remote write as Prometheus signs it).
    pub service: String,
    /// Limit on one exchange.
    pub timeout: Duration,
}

impl Client {
    /// A client for `endpoint` (`http://127.0.0.1:port`).
    pub fn new(endpoint: &str, akid: &str, secret: &str) -> Self {
        let addr = endpoint.trim_start_matches("http://").trim_end_matches('/').parse().expect("endpoint is host:port");
        Client { addr, akid: akid.into(), secret: secret.into(), region: "us-east-1".into(), service: SIGNING_NAME.into(), timeout: DEFAULT_TIMEOUT }
    }

    /// Signs `req` in place with SigV4 (the client's service and region, now), over its body
    /// bytes exactly as they will be sent.
    pub fn sign(&self, req: &mut Request) {
        let host = self.addr.to_string();
        if req.get_header("host").is_none() {
            req.set_header("host", host.clone());
        }
        for h in ["authorization", "x-amz-date"] {
            req.remove_header(h);
        }
        let uri = format!("http://{host}{}", req.path);
        let identity: Identity = Credentials::new(&self.akid, &self.secret, None, None, "raw").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing params")
            .into();
        let headers: Vec<(String, String)> = req.headers.clone();
        let signable = SignableRequest::new(
            &req.method,
            uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&req.body),
        )
        .expect("signable request");
        let (instructions, _signature) = sign(signable, &params).expect("signing").into_parts();
        for (name, value) in instructions.headers() {
            req.set_header(name, value);
        }
    }

    /// Signs and sends.
    pub async fn send(&self, mut req: Request) -> Result<Response, String> {
        self.sign(&mut req);
        self.send_unsigned(&req).await
    }

    /// Sends as is, within the client's time limit.
    pub async fn send_unsigned(&self, req: &Request) -> Result<Response, String> {
        let started = std::time::Instant::now();
        match tokio::time::timeout(self.timeout, exchange(self.addr, req)).await {
            Ok(Ok(mut r)) => {
                r.elapsed = started.elapsed();
                Ok(r)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("no complete response within {:?} (a hang)", self.timeout)),
        }
    }

    /// Renders, signs and sends `op` with `params` in `proto`; panics on transport failure.
    pub async fn call(&self, proto: Proto, op: &str, params: &Value) -> Response {
        self.send(request(proto, op, params))
            .await
            .unwrap_or_else(|e| panic!("{proto} {op}: transport failure: {e}"))
    }

    /// Whether the server still answers a valid request (ListMetrics over awsJson1_0).
    pub async fn healthy(&self) -> Result<(), String> {
        let r = self.send(request(Proto::Json, "ListMetrics", &serde_json::json!({}))).await?;
        if r.status == 200 {
            Ok(())
        } else {
            Err(format!("health probe got {}: {}", r.status, r.body_text()))
        }
    }
}

/// One request/response exchange on a fresh connection. The body is written concurrently with
/// reading the response, so a server that answers early (413) is seen even if it stops reading.
async fn exchange(addr: SocketAddr, req: &Request) -> Result<Response, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    if req.get_header("host").is_none() {
        head.push_str(&format!("host: {addr}\r\n"));
    }
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if req.get_header("content-length").is_none() && req.get_header("transfer-encoding").is_none() {
        head.push_str(&format!("content-length: {}\r\n", req.body.len()));
    }
    if req.get_header("connection").is_none() {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    let body = req.body.clone();
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            wr.write_all(chunk).await?;
        }
        wr.flush().await?;
        // Keep the write half open (no FIN) until the response has been read.
        Ok::<_, std::io::Error>(wr)
    });
    let result = read_response(&mut rd).await;
    writer.abort();
    result
}

async fn read_response(rd: &mut tokio::net::tcp::OwnedReadHalf) -> Result<Response, String> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // Parse what we have.
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let status = parsed.code.unwrap_or(0);
                let hdrs: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                if (100..200).contains(&status) {
                    buf.drain(..n);
                    continue;
                }
                let mut rest = buf[n..].to_vec();
                let get = |name: &str| hdrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                let body = if let Some(len) = get("content-length") {
                    let len: usize = len.trim().parse().map_err(|_| format!("bad content-length {len:?}"))?;
                    while rest.len() < len {
                        let k = rd.read(&mut chunk).await.map_err(|e| format!("read body: {e}"))?;
                        if k == 0 {
                            return Err(format!("connection closed after {} of {len} body bytes", rest.len()));
                        }
                        rest.extend_from_slice(&chunk[..k]);
                    }
                    rest.truncate(len);
                    rest
                } else if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
                    loop {
                        if let Some(done) = dechunk(&rest)? {
                            break done;
                        }
                        let k = rd.read(&mut chunk).await.map_err(|e| format!("read body: {e}"))?;
                        if k == 0 {
                            return Err("connection closed inside a chunked body".into());
                        }
                        rest.extend_from_slice(&chunk[..k]);
                    }
                } else {
                    loop {
                        let k = rd.read(&mut chunk).await.map_err(|e| format!("read body: {e}"))?;
                        if k == 0 {
                            break rest;
                        }
                        rest.extend_from_slice(&chunk[..k]);
                    }
                };
                return Ok(Response { status, headers: hdrs, body, elapsed: Duration::ZERO });
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(format!("unparseable response head ({e}): {:?}", String::from_utf8_lossy(&buf))),
        }
        let k = rd.read(&mut chunk).await.map_err(|e| format!("read head: {e} (after {} bytes)", buf.len()))?;
        if k == 0 {
            return Err(format!("connection closed before a complete response ({} bytes received)", buf.len()));
        }
        buf.extend_from_slice(&chunk[..k]);
    }
}

/// Decodes a complete chunked body, or `None` if more bytes are needed.
fn dechunk(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = data[pos..].windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let line = std::str::from_utf8(&data[pos..pos + eol]).map_err(|_| "bad chunk size line")?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        pos += eol + 2;
        if size == 0 {
            return Ok(Some(out));
        }
        if data.len() < pos + size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&data[pos..pos + size]);
        pos += size + 2;
    }
}

/// Self-checks of the renderers (called from a test in each including file that wants them).
pub fn self_check() {
    let p = serde_json::json!({"A": [1, 2.5], "T": ts(1_767_225_600), "N": nan(), "E": []});
    assert_eq!(String::from_utf8(json_body(&p)).unwrap(), r#"{"A":[1,2.5],"E":[],"N":"NaN","T":1767225600}"#);
    assert_eq!(
        String::from_utf8(query_body("Op", &p)).unwrap(),
        "Action=Op&Version=2010-08-01&A.member.1=1&A.member.2=2.5&E=&N=NaN&T=2026-01-01T00%3A00%3A00Z"
    );
    let c = cbor_body(&serde_json::json!({"D": 1.0, "T": ts(1)}));
    assert_eq!(c, [0xa2, 0x61, b'D', 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x61, b'T', 0xc1, 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
}
