//! The request pipeline: route → authenticate → decompress → decode → dispatch → render,
//! with an activity record appended durably for every request, whatever its outcome.

use crate::activity::{sanitize, ActivitySink, ActivityTxn};
use crate::codec::{cbor, json, query, xml};
use crate::context::RequestContext;
use crate::gzip::{self, GzipError};
use crate::protocol::{content_type, route, Protocol, Route};
use crate::registry::{Prepared, RawRequest, Registered, Registry, DEFAULT_MAX_DECODED_BYTES};
use crate::service::ServiceSpec;
use crate::sigv4::{self, CredentialScope, CredentialStore, SignedRequest};
use crate::telemetry::{GatewayMetrics, LatencyLabels, OpLabels};
use crate::value::Value;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use watchtrail_core::{AccountId, ActivityRecord, ApiError, AwsError, Fault, Principal, Region, SharedClock};

/// How requests are authenticated.
#[derive(Clone)]
pub enum AuthMode {
    /// SigV4 against a credential store (the default).
    SigV4(Arc<dyn CredentialStore>),
    /// No authentication: every request acts as the root of the configured account.
    Disabled,
}

/// Gateway settings.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Authentication mode.
    pub auth: AuthMode,
    /// The account served (requests with auth off act as its root).
    pub account_id: AccountId,
    /// Time source.
    pub clock: SharedClock,
    /// Where activity records go.
    pub journal: Arc<dyn ActivitySink>,
}

/// The body as the HTTP layer read it.
#[derive(Debug)]
pub enum Body {
    /// The complete body.
    Complete(Bytes),
    /// The body exceeded the server's read ceiling and was not read.
    TooLarge {
        /// The ceiling.
        limit: usize,
    },
}

/// A request as the HTTP layer hands it over.
#[derive(Debug)]
pub struct IncomingRequest {
    /// Method.
    pub method: http::Method,
    /// Target URI (path and query).
    pub uri: http::Uri,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Body,
    /// Client address.
    pub remote: SocketAddr,
}

/// Everything needed to render the response.
/// An answer's body: complete, or streamed (an event stream).
pub enum ResponseBody {
    /// The whole body.
    Full(Bytes),
    /// Chunks sent as they are produced.
    Stream(crate::context::ByteStream),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Full(b) => f.debug_tuple("Full").field(&b.len()).finish(),
            ResponseBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

struct Reply {
    protocol: Option<Protocol>,
    service: Option<&'static ServiceSpec>,
    operation: Option<&'static str>,
    has_output: bool,
    result: Result<Value, ApiError>,
    /// The handler committed the activity record together with its data.
    journaled: bool,
    /// The body a streaming operation produced.
    stream: Option<(&'static str, crate::context::ByteStream)>,
}

/// The AWS wire gateway. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    registry: Arc<Registry>,
    cfg: GatewayConfig,
    metrics: GatewayMetrics,
}

impl Gateway {
    /// A gateway serving `registry`.
    pub fn new(registry: Registry, cfg: GatewayConfig) -> Self {
        Gateway { registry: Arc::new(registry), cfg, metrics: GatewayMetrics::default() }
    }

    /// The gateway's counters (register them with the server's Prometheus registry).
    pub fn metrics(&self) -> &GatewayMetrics {
        &self.metrics
    }

    /// Handles one request end to end. Never panics on client input; always answers. A
    /// streaming operation's body is not sent by this form (see [`Gateway::handle_streaming`]).
    pub async fn handle(&self, req: IncomingRequest) -> http::Response<Bytes> {
        self.handle_streaming(req).await.map(|b| match b {
            ResponseBody::Full(b) => b,
            ResponseBody::Stream(_) => Bytes::new(),
        })
    }

    /// Handles one request end to end; a streaming operation that succeeds answers with its
    /// stream as the body.
    pub async fn handle_streaming(&self, req: IncomingRequest) -> http::Response<ResponseBody> {
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let now = self.cfg.clock.now();
        let mut rec = ActivityRecord {
            time: now,
            request_id: request_id.clone(),
            account_id: None,
            principal_arn: None,
            principal_type: None,
            access_key_id: None,
            source_ip: req.remote.ip().to_string(),
            user_agent: req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
            service: None,
            operation: None,
            protocol: None,
            region: None,
            http_status: 0,
            error_code: None,
            error_message: None,
            request_parameters: None,
            read_only: false,
        };
        if let Body::Complete(b) = &req.body {
            self.metrics.request_bytes.inc_by(b.len() as u64);
        }
        let mut reply = self.process(&req, &request_id, &mut rec).await;
        let stream = reply.stream.take();
        // The error a handler declared before committing its data (a partial success).
        let committed_error = if reply.journaled { rec.error_code.clone() } else { None };
        let mut response = render(&reply, &request_id);

        // The reply's names win; a call that reached its handler already carries them.
        set_if_different(&mut rec.protocol, reply.protocol.map(Protocol::as_str));
        set_if_different(&mut rec.service, reply.service.map(|s| s.signing_name));
        set_if_different(&mut rec.operation, reply.operation);
        rec.http_status = response.status().as_u16();
        if let Err(e) = &reply.result {
            rec.error_code = Some(e.code.clone());
            rec.error_message = Some(e.message.clone());
        }
        let labels = OpLabels {
            service: reply.service.map(|s| s.signing_name).unwrap_or("unknown").to_string(),
            operation: reply.operation.unwrap_or("unknown").to_string(),
            status: format!("{}xx", rec.http_status / 100),
        };
        let journaled = if reply.journaled {
            let announced = matches!(&reply.result, Err(e) if committed_error.as_deref() == Some(e.code.as_str()));
            if reply.result.is_ok() || announced {
                Ok(())
            } else {
                // The record already committed says the call succeeded; record the failure too.
                tracing::error!(request_id = %request_id, "operation failed after committing its data");
                self.cfg.journal.append(&rec).await
            }
        } else {
            self.cfg.journal.append(&rec).await
        };
        if let Err(e) = journaled {
            // The call's effect may already be durable, but it must not go unrecorded silently:
            // the client is told the request failed and the operator sees the error.
            tracing::error!(error = %e, request_id = %request_id, "activity journal append failed");
            self.metrics.journal_failures.inc();
            let err = ApiError::new("ServiceUnavailable", "ServiceUnavailable", Fault::Receiver, 503, "The activity journal is unavailable; retry the request");
            response = render(&Reply { result: Err(err), ..reply }, &request_id);
        }
        self.metrics.requests.get_or_create(&labels).inc();
        self.metrics
            .latency
            .get_or_create(&LatencyLabels { service: labels.service, operation: labels.operation })
            .observe(started.elapsed().as_secs_f64());
        match stream {
            Some((content_type, body)) if response.status() == http::StatusCode::OK => {
                let (mut parts, _) = response.into_parts();
                if let Ok(v) = http::HeaderValue::from_str(content_type) {
                    parts.headers.insert(http::header::CONTENT_TYPE, v);
                }
                http::Response::from_parts(parts, ResponseBody::Stream(body))
            }
            _ => response.map(ResponseBody::Full),
        }
    }

    async fn process(&self, req: &IncomingRequest, request_id: &str, rec: &mut ActivityRecord) -> Reply {
        let scope = sigv4::peek_scope(&req.headers, req.uri.query());
        if let Some(s) = &scope {
            rec.access_key_id = Some(s.access_key_id.clone());
            rec.region = Some(s.region.clone());
            rec.service = Some(s.service.clone());
        }
        let services = self.registry.services();
        let query_default = services.iter().find(|s| s.query.is_some()).copied();
        let routed = route(services, &req.method, req.uri.path(), req.uri.query(), &req.headers, scope.as_ref().map(|s| s.service.as_str()), query_default);
        let (service, protocol, named_op) = match routed {
            Route::Named { service, protocol, operation } => (service, protocol, Some(operation)),
            Route::Query { service } => (service, Protocol::AwsQuery, None),
            Route::UnknownTarget { protocol, target } => {
                rec.operation = Some(target.clone());
                let mut err = ApiError::client("UnknownOperationException", format!("The target {target} is not a known operation"));
                if protocol == Protocol::RpcV2Cbor {
                    // A routing miss, as Smithy's rpcv2Cbor router answers it.
                    err = err.with_status(404);
                }
                return Reply { protocol: Some(protocol), service: None, operation: None, has_output: false, result: Err(err), journaled: false, stream: None };
            }
            Route::MethodNotAllowed { protocol } => {
                let what = if protocol == Protocol::PrometheusRemoteWrite { "Prometheus remote write" } else { "rpcv2Cbor operations" };
                let err = ApiError::new("MethodNotAllowed", "MethodNotAllowed", Fault::Sender, 405, format!("{what} accept POST only, not {}", req.method));
                return Reply { protocol: Some(protocol), service: None, operation: None, has_output: false, result: Err(err), journaled: false, stream: None };
            }
            Route::Unrecognized => {
                let err = ApiError::client(
                    "UnknownOperationException",
                    "The request does not identify an operation: send X-Amz-Target, a /service/<name>/operation/<Op> path, or a form with Action",
                );
                return Reply { protocol: None, service: None, operation: None, has_output: false, result: Err(err), journaled: false, stream: None };
            }
        };
        let fail = |operation: Option<&'static str>, err: ApiError| Reply {
            protocol: Some(protocol),
            service: Some(service),
            operation,
            has_output: false,
            result: Err(err),
            journaled: false,
            stream: None,
        };
        // The operation is known up front for JSON and CBOR; look it up so limits apply early.
        let mut op: Option<&Registered> = None;
        if let Some(name) = &named_op {
            rec.operation = Some(name.clone());
            op = self.registry.get(service, name);
        }
        let raw = match &req.body {
            Body::Complete(b) => b,
            Body::TooLarge { limit } => {
                return fail(op.map(|o| o.info.name), too_large(*limit));
            }
        };
        if let Some(o) = op {
            if raw.len() > o.info.max_request_bytes {
                return fail(Some(o.info.name), too_large(o.info.max_request_bytes));
            }
        }

        // Authenticate over the raw bytes (the signature covers the compressed body).
        let (principal, region) = match self.authenticate(req, raw, service, protocol, scope.as_ref()) {
            Ok(ok) => ok,
            Err(e) => {
                self.metrics.auth_failures.inc();
                return fail(op.map(|o| o.info.name), e);
            }
        };
        rec.account_id = Some(principal.account_id.to_string());
        rec.principal_arn = Some(principal.arn.clone());
        rec.principal_type = Some(principal.kind.as_str().to_string());
        rec.region = Some(region.to_string());

        // Decompress (a raw protocol's handler reads its own encoding).
        let decoded_limit = op.map(|o| o.info.max_decoded_bytes).unwrap_or(DEFAULT_MAX_DECODED_BYTES);
        let encoding = if protocol == Protocol::PrometheusRemoteWrite { Encoding::Identity } else { content_encoding(&req.headers) };
        let body: std::borrow::Cow<'_, [u8]> = match encoding {
            Encoding::Identity => std::borrow::Cow::Borrowed(raw.as_ref()),
            Encoding::Gzip => match gzip::decompress(raw, decoded_limit) {
                Ok(b) => std::borrow::Cow::Owned(b),
                Err(GzipError::TooLarge(l)) => return fail(op.map(|o| o.info.name), too_large(l)),
                Err(e @ GzipError::Invalid(_)) => return fail(op.map(|o| o.info.name), malformed(protocol, e.to_string())),
            },
            Encoding::Other(enc) => {
                let err = ApiError::new("UnsupportedMediaType", "UnsupportedMediaTypeException", Fault::Sender, 415, format!("Content-Encoding {enc} is not supported; use gzip or none"));
                return fail(op.map(|o| o.info.name), err);
            }
        };

        // Decode.
        let ctype = content_type(&req.headers);
        let (op, input) = match protocol {
            Protocol::AwsJson10 | Protocol::AwsJson11 => {
                if !(ctype.starts_with("application/x-amz-json-1.") || ctype.starts_with("application/json")) {
                    return fail(op.map(|o| o.info.name), unsupported_media(&ctype, service.json_version.content_type()));
                }
                let Some(op) = op else { return fail(None, unknown_operation(protocol, named_op.as_deref().unwrap_or(""))) };
                if let Some(prepared) = op.handler.prepare_json(&body) {
                    (op, Input::Prepared(prepared))
                } else {
                    match json::decode(&body) {
                        Ok(v) => (op, Input::Value(v)),
                        Err(e) => return fail(Some(op.info.name), malformed(protocol, e.0)),
                    }
                }
            }
            Protocol::RpcV2Cbor => {
                if !body.is_empty() && !ctype.starts_with("application/cbor") {
                    return fail(op.map(|o| o.info.name), unsupported_media(&ctype, "application/cbor"));
                }
                let Some(op) = op else { return fail(None, unknown_operation(protocol, named_op.as_deref().unwrap_or(""))) };
                match cbor::decode(&body) {
                    Ok(v) => (op, Input::Value(v)),
                    Err(e) => return fail(Some(op.info.name), malformed(protocol, e.0)),
                }
            }
            Protocol::PrometheusRemoteWrite => {
                if !ctype.starts_with("application/x-protobuf") {
                    return fail(op.map(|o| o.info.name), unsupported_media(&ctype, "application/x-protobuf"));
                }
                let Some(op) = op else { return fail(None, unknown_operation(protocol, named_op.as_deref().unwrap_or(""))) };
                let content_encoding = req.headers.get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_ascii_lowercase());
                (op, Input::Raw(RawRequest { body: raw.clone(), content_encoding, url_query: req.uri.query().map(str::to_string) }))
            }
            Protocol::AwsQuery => {
                let form: &[u8] = if body.is_empty() { req.uri.query().unwrap_or("").as_bytes() } else { &body };
                let q = match query::decode(form) {
                    Ok(q) => q,
                    Err(e) => return fail(None, malformed(protocol, e.0)),
                };
                let Some(action) = q.action else {
                    return fail(None, ApiError::client("MissingAction", "The request must contain the parameter Action."));
                };
                rec.operation = Some(action.clone());
                let spec = service.query.as_ref();
                if let (Some(v), Some(spec)) = (&q.version, spec) {
                    if v != spec.version {
                        return fail(None, ApiError::client("InvalidAction", format!("Could not find operation {action} for version {v}")));
                    }
                }
                let Some(op) = self.registry.get(service, &action) else {
                    return fail(None, unknown_operation(protocol, &action));
                };
                if raw.len() > op.info.max_request_bytes {
                    return fail(Some(op.info.name), too_large(op.info.max_request_bytes));
                }
                if body.len() > op.info.max_decoded_bytes {
                    return fail(Some(op.info.name), too_large(op.info.max_decoded_bytes));
                }
                (op, Input::Value(q.params))
            }
        };
        rec.read_only = op.info.read_only;
        rec.request_parameters = Some(match (&input, op.info.summarize) {
            (Input::Prepared(p), _) => p.summary(),
            (Input::Raw(r), _) => serde_json::json!({ "bodyBytes": r.body.len(), "contentEncoding": r.content_encoding }),
            (Input::Value(v), Some(f)) => f(v),
            (Input::Value(v), None) => sanitize(v.to_json()),
        });

        // The record as it reads if the call succeeds: a handler that writes data commits it in
        // the same log record as its data.
        rec.protocol = Some(protocol.as_str().to_string());
        rec.service = Some(service.signing_name.to_string());
        rec.operation = Some(op.info.name.to_string());
        rec.http_status = if protocol == Protocol::PrometheusRemoteWrite { 204 } else { 200 };
        let access_key_id = rec.access_key_id.clone();
        let received_at = rec.time;
        let txn = ActivityTxn::new(self.cfg.journal.clone(), std::mem::take(rec));
        let ctx = RequestContext {
            request_id: request_id.to_string(),
            account_id: principal.account_id.clone(),
            principal,
            access_key_id,
            region,
            received_at,
            protocol,
            source_ip: req.remote.ip(),
            activity: txn.clone(),
            stream: Default::default(),
        };
        let slot = ctx.stream.clone();
        let result = call_contained(op, ctx, input).await;
        let stream = if result.is_ok() { slot.take() } else { None };
        *rec = txn.take_record();
        let journaled = txn.is_committed();
        if let Err(e) = &result {
            if e.fault == Fault::Receiver {
                tracing::error!(request_id, operation = op.info.name, code = %e.code, "operation failed on the server side");
            }
        }
        Reply { protocol: Some(protocol), service: Some(service), operation: Some(op.info.name), has_output: op.info.has_output, result, journaled, stream }
    }

    /// Who is calling, and in which region. `scope` is the credential scope `process` already
    /// read (unverified); with auth off it only supplies the region.
    fn authenticate(&self, req: &IncomingRequest, raw: &[u8], service: &ServiceSpec, protocol: Protocol, scope: Option<&CredentialScope>) -> Result<(Principal, Region), ApiError> {
        match &self.cfg.auth {
            AuthMode::Disabled => {
                let region = scope
                    .and_then(|s| Region::new(s.region.clone()).ok())
                    .unwrap_or_else(Region::default_region);
                Ok((Principal::root(&self.cfg.account_id), region))
            }
            AuthMode::SigV4(store) => {
                let signed = SignedRequest {
                    method: req.method.as_str(),
                    path: req.uri.path(),
                    query: req.uri.query(),
                    headers: &req.headers,
                    body: raw,
                };
                let verified = sigv4::verify(&signed, store.as_ref(), self.cfg.clock.now()).map_err(|e| e.to_api_error())?;
                let remote_write_names = service.remote_write.filter(|_| protocol == Protocol::PrometheusRemoteWrite).map(|rw| rw.signing_names);
                let allowed = match remote_write_names {
                    Some(names) => names.contains(&verified.service.as_str()),
                    None => verified.service == service.signing_name,
                };
                if !allowed {
                    return Err(ApiError::new(
                        "SignatureDoesNotMatch",
                        "SignatureDoesNotMatch",
                        Fault::Sender,
                        403,
                        format!("Credential should be scoped to correct service: '{}'.", service.signing_name),
                    ));
                }
                let region = Region::new(verified.region.clone()).map_err(|_| {
                    ApiError::new("SignatureDoesNotMatch", "SignatureDoesNotMatch", Fault::Sender, 403, format!("Credential should be scoped to a valid region, not '{}'.", verified.region))
                })?;
                Ok((verified.principal, region))
            }
        }
    }
}

/// Sets `slot` to `value` when one is given and differs (without reallocating an equal string).
fn set_if_different(slot: &mut Option<String>, value: Option<&str>) {
    if let Some(v) = value {
        if slot.as_deref() != Some(v) {
            *slot = Some(v.to_string());
        }
    }
}

/// A decoded input: the protocol-neutral tree, (awsJson fast path) the typed input itself, or
/// (raw operations) the body as received.
enum Input {
    Value(Value),
    Prepared(Box<dyn Prepared>),
    Raw(RawRequest),
}

/// Runs a handler so that a panic becomes a 500 answer (and an activity record) instead of a
/// dropped connection.
async fn call_contained(op: &Registered, ctx: RequestContext, input: Input) -> Result<Value, ApiError> {
    use futures::FutureExt;
    use std::panic::AssertUnwindSafe;
    let name = op.info.name;
    let request_id = ctx.request_id.clone();
    let start = AssertUnwindSafe(|| match input {
        Input::Value(v) => op.handler.call(ctx, v),
        Input::Prepared(p) => p.run(ctx),
        Input::Raw(r) => op.handler.call_raw(ctx, r),
    });
    let fut = match std::panic::catch_unwind(start) {
        Ok(f) => f,
        Err(_) => return Err(handler_panicked(name, &request_id)),
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(handler_panicked(name, &request_id)),
    }
}

fn handler_panicked(operation: &str, request_id: &str) -> ApiError {
    tracing::error!(operation, request_id, "operation handler panicked");
    ApiError::internal("InternalFailure")
}

enum Encoding {
    Identity,
    Gzip,
    Other(String),
}

fn content_encoding(headers: &http::HeaderMap) -> Encoding {
    let mut gzip = false;
    for v in headers.get_all(http::header::CONTENT_ENCODING) {
        for part in v.to_str().unwrap_or("?").split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "" | "identity" => {}
                "gzip" | "x-gzip" => gzip = true,
                other => return Encoding::Other(other.to_string()),
            }
        }
    }
    if gzip { Encoding::Gzip } else { Encoding::Identity }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new("RequestEntityTooLarge", "RequestEntityTooLarge", Fault::Sender, 413, format!("Request size exceeded {limit} bytes"))
}

fn malformed(protocol: Protocol, detail: String) -> ApiError {
    match protocol {
        Protocol::AwsQuery => ApiError::client("MalformedQueryString", detail),
        _ => ApiError::client("SerializationException", detail),
    }
}

fn unsupported_media(got: &str, want: &str) -> ApiError {
    ApiError::new("UnsupportedMediaType", "UnsupportedMediaTypeException", Fault::Sender, 415, format!("Content-Type '{got}' is not supported; expected {want}"))
}

fn unknown_operation(protocol: Protocol, name: &str) -> ApiError {
    match protocol {
        Protocol::AwsQuery => ApiError::client("InvalidAction", format!("The action {name} is not valid for this web service.")),
        Protocol::RpcV2Cbor => ApiError::client("UnknownOperationException", format!("Operation {name} is not supported by this service")).with_status(404),
        _ => ApiError::client("UnknownOperationException", format!("Operation {name} is not supported by this service")),
    }
}

/// Renders a reply in its protocol.
fn render(reply: &Reply, request_id: &str) -> http::Response<Bytes> {
    let mut b = http::Response::builder().header("x-amzn-RequestId", request_id);
    if reply.protocol == Some(Protocol::PrometheusRemoteWrite) {
        // Prometheus reads the status: 2xx stored, 4xx dropped, 5xx retried.
        let built = match &reply.result {
            Ok(_) => b.status(204).body(Bytes::new()),
            Err(e) => b
                .status(e.status)
                .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(Bytes::from(format!("{}: {}\n", e.code, e.message))),
        };
        return built.unwrap_or_else(|_| http::Response::new(Bytes::new()));
    }
    let (status, content_type, body) = match (&reply.result, reply.protocol) {
        (Ok(v), Some(Protocol::AwsQuery)) => {
            let ns = reply.service.and_then(|s| s.query).map(|q| q.xml_namespace).unwrap_or("");
            let result = if reply.has_output { Some(v) } else { None };
            (200, "text/xml", xml::success(reply.operation.unwrap_or(""), ns, result, request_id))
        }
        (Ok(v), Some(Protocol::RpcV2Cbor)) => {
            b = b.header("smithy-protocol", "rpc-v2-cbor");
            let body = if reply.has_output { cbor::encode(v) } else { Vec::new() };
            (200, "application/cbor", body)
        }
        (Ok(v), Some(p)) => (200, json_ct(p), if reply.has_output { json::encode(v) } else { b"{}".to_vec() }),
        (Ok(_), None) => (200, "application/x-amz-json-1.1", b"{}".to_vec()),
        (Err(e), protocol) => {
            let query_compatible = reply.service.is_some_and(|s| s.query_compatible);
            if query_compatible && protocol != Some(Protocol::AwsQuery) {
                b = b.header("x-amzn-query-error", format!("{};{}", e.code, e.fault.as_str()));
            }
            match protocol {
                Some(Protocol::AwsQuery) => {
                    let ns = reply.service.and_then(|s| s.query).map(|q| q.xml_namespace).unwrap_or("");
                    (e.status, "text/xml", xml::error(ns, e.fault.as_str(), &e.code, &e.message, request_id))
                }
                Some(Protocol::RpcV2Cbor) => {
                    b = b.header("smithy-protocol", "rpc-v2-cbor");
                    let v = Value::Struct(vec![
                        ("__type".into(), Value::String(shape_id(reply.service, &e.shape, true))),
                        ("message".into(), Value::String(e.message.clone())),
                    ]);
                    (e.status, "application/cbor", cbor::encode(&v))
                }
                other => {
                    let p = other.unwrap_or(Protocol::AwsJson11);
                    let full = p == Protocol::AwsJson10;
                    let v = Value::Struct(vec![
                        ("__type".into(), Value::String(shape_id(reply.service, &e.shape, full))),
                        ("message".into(), Value::String(e.message.clone())),
                    ]);
                    b = b.header("x-amzn-errortype", e.shape.as_str());
                    (e.status, json_ct(p), json::encode(&v))
                }
            }
        }
    };
    b.status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Bytes::from(body))
        .unwrap_or_else(|_| http::Response::new(Bytes::new()))
}

fn json_ct(p: Protocol) -> &'static str {
    match p {
        Protocol::AwsJson10 => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

fn shape_id(service: Option<&ServiceSpec>, shape: &str, absolute: bool) -> String {
    match service {
        Some(s) if absolute => format!("{}#{}", s.shape_namespace, shape),
        _ => shape.to_string(),
    }
}
