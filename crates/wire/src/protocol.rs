//! Which protocol a request speaks and which operation it names.

use crate::service::ServiceSpec;

/// An AWS wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson1_0.
    AwsJson10,
    /// awsJson1_1.
    AwsJson11,
    /// Smithy rpcv2Cbor.
    RpcV2Cbor,
    /// awsQuery (form in, XML out).
    AwsQuery,
    /// Prometheus remote write 1.0 (snappy-compressed protobuf in, 204 out).
    PrometheusRemoteWrite,
}

impl Protocol {
    /// Name for logs and the activity journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::AwsJson10 => "awsJson1_0",
            Protocol::AwsJson11 => "awsJson1_1",
            Protocol::RpcV2Cbor => "rpcv2Cbor",
            Protocol::AwsQuery => "awsQuery",
            Protocol::PrometheusRemoteWrite => "prometheusRemoteWrite",
        }
    }
}

/// Where the routing rules say a request goes, before its body is decoded.
#[derive(Debug)]
pub enum Route {
    /// JSON or CBOR: service and operation are known from the target header or path.
    Named { service: &'static ServiceSpec, protocol: Protocol, operation: String },
    /// awsQuery: the operation is in the (form) body.
    Query { service: &'static ServiceSpec },
    /// A CBOR path or JSON target for a service or prefix we do not serve.
    UnknownTarget { protocol: Protocol, target: String },
    /// Nothing identifies a protocol.
    Unrecognized,
    /// An rpcv2Cbor or remote-write path with a method other than POST.
    MethodNotAllowed {
        /// The protocol of the path.
        protocol: Protocol,
    },
}

/// Applies the single-port routing rules (wire-protocols.md §4).
///
/// `scope_service` is the SigV4 credential-scope service (unverified), used to pick the Query
/// service; `query_default` serves unsigned Query requests when authentication is off.
pub fn route(
    services: &[&'static ServiceSpec],
    method: &http::Method,
    path: &str,
    url_query: Option<&str>,
    headers: &http::HeaderMap,
    scope_service: Option<&str>,
    query_default: Option<&'static ServiceSpec>,
) -> Route {
    if let Some((s, rw)) = services.iter().find_map(|s| s.remote_write.filter(|rw| rw.path == path).map(|rw| (s, rw))) {
        if method != http::Method::POST {
            return Route::MethodNotAllowed { protocol: Protocol::PrometheusRemoteWrite };
        }
        return Route::Named { service: s, protocol: Protocol::PrometheusRemoteWrite, operation: rw.operation.to_string() };
    }
    if let Some(rest) = path.strip_prefix("/service/") {
        if method != http::Method::POST {
            return Route::MethodNotAllowed { protocol: Protocol::RpcV2Cbor };
        }
        // rpcv2Cbor requests carry `smithy-protocol: rpc-v2-cbor` and must not carry a JSON
        // target header (the Smithy spec requires rejecting those).
        let protocol_ok = headers.get("smithy-protocol").and_then(|v| v.to_str().ok()) == Some("rpc-v2-cbor");
        let has_target = headers.contains_key("x-amz-target") || headers.contains_key("x-amzn-target");
        if !protocol_ok || has_target {
            return Route::UnknownTarget { protocol: Protocol::RpcV2Cbor, target: rest.to_string() };
        }
        let mut parts = rest.splitn(3, '/');
        let (svc, kw, op) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if kw == "operation" && !op.is_empty() && !op.contains('/') {
            if let Some(s) = services.iter().find(|s| s.cbor_service == Some(svc)) {
                return Route::Named { service: s, protocol: Protocol::RpcV2Cbor, operation: op.to_string() };
            }
        }
        return Route::UnknownTarget { protocol: Protocol::RpcV2Cbor, target: rest.to_string() };
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        if let Some((prefix, op)) = target.rsplit_once('.') {
            if let Some(s) = services.iter().find(|s| s.json_target_prefix == Some(prefix)) {
                let protocol = match s.json_version {
                    crate::service::JsonVersion::V1_0 => Protocol::AwsJson10,
                    crate::service::JsonVersion::V1_1 => Protocol::AwsJson11,
                };
                return Route::Named { service: s, protocol, operation: op.to_string() };
            }
        }
        let protocol = if content_type(headers).contains("1.0") { Protocol::AwsJson10 } else { Protocol::AwsJson11 };
        return Route::UnknownTarget { protocol, target: target.to_string() };
    }
    let form = content_type(headers).starts_with("application/x-www-form-urlencoded");
    let url_action = url_query.is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")));
    if form || url_action {
        let by_scope = scope_service.and_then(|n| services.iter().find(|s| s.signing_name == n && s.query.is_some()));
        if let Some(s) = by_scope.copied().or(query_default) {
            return Route::Query { service: s };
        }
    }
    Route::Unrecognized
}

/// The request's content type, lowercased, parameters included.
pub fn content_type(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
