//! What the gateway needs to know about a service to route to it and speak its protocols.

use crate::value::DecodeErrorKind;
use watchtrail_core::{ApiError, Fault};

/// JSON protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonVersion {
    /// awsJson1_0 (`application/x-amz-json-1.0`), full shape ids in `__type`.
    V1_0,
    /// awsJson1_1 (`application/x-amz-json-1.1`), bare shape names in `__type`.
    V1_1,
}

impl JsonVersion {
    /// The content type.
    pub fn content_type(self) -> &'static str {
        match self {
            JsonVersion::V1_0 => "application/x-amz-json-1.0",
            JsonVersion::V1_1 => "application/x-amz-json-1.1",
        }
    }
}

/// awsQuery framing details.
#[derive(Clone, Copy, Debug)]
pub struct QuerySpec {
    /// The API version clients send as `Version`.
    pub version: &'static str,
    /// XML namespace of responses.
    pub xml_namespace: &'static str,
}

/// Error spellings for input problems the gateway detects before a handler runs.
#[derive(Clone, Copy, Debug)]
pub struct InputErrors {
    /// `(code, shape)` for a missing required parameter.
    pub missing: (&'static str, &'static str),
    /// `(code, shape)` for a parameter of the wrong type or form.
    pub invalid: (&'static str, &'static str),
}

/// A Prometheus remote-write receiver (protocol 1.0: snappy-compressed protobuf
/// `WriteRequest` bodies POSTed to a fixed path).
#[derive(Clone, Copy, Debug)]
pub struct RemoteWriteSpec {
    /// The URL path (`/api/v1/write`).
    pub path: &'static str,
    /// The operation that receives the raw (still compressed) body.
    pub operation: &'static str,
    /// SigV4 services a writer may sign for: the service's own name, and `aps` (Amazon
    /// Managed Prometheus), which Prometheus's and the OpenTelemetry collector's SigV4
    /// options use.
    pub signing_names: &'static [&'static str],
}

/// A service the gateway can route to.
#[derive(Debug)]
pub struct ServiceSpec {
    /// SigV4 signing name and endpoint prefix (`monitoring`, `logs`, ...).
    pub signing_name: &'static str,
    /// `X-Amz-Target` prefix for the JSON protocol, without the trailing dot.
    pub json_target_prefix: Option<&'static str>,
    /// JSON protocol version.
    pub json_version: JsonVersion,
    /// Service name in rpcv2Cbor paths (`/service/<name>/operation/<Op>`), when supported.
    pub cbor_service: Option<&'static str>,
    /// awsQuery support.
    pub query: Option<QuerySpec>,
    /// awsQueryCompatible: JSON/CBOR errors carry `x-amzn-query-error`.
    pub query_compatible: bool,
    /// Smithy namespace for absolute shape ids (`com.amazonaws.cloudwatch`).
    pub shape_namespace: &'static str,
    /// Spellings of input errors.
    pub input_errors: InputErrors,
    /// Prometheus remote write, when the service receives it.
    pub remote_write: Option<RemoteWriteSpec>,
}

impl ServiceSpec {
    /// The error for an input that does not fit the operation's shape.
    pub fn input_error(&self, kind: &DecodeErrorKind, message: String) -> ApiError {
        let (code, shape) = match kind {
            DecodeErrorKind::Missing => self.input_errors.missing,
            DecodeErrorKind::Invalid => self.input_errors.invalid,
        };
        ApiError::new(code, shape, Fault::Sender, 400, message)
    }
}

/// CloudWatch (metrics, alarms, dashboards): three protocols, query-compatible errors.
pub static CLOUDWATCH: ServiceSpec = ServiceSpec {
    signing_name: "monitoring",
    json_target_prefix: Some("GraniteServiceVersion20100801"),
    json_version: JsonVersion::V1_0,
    cbor_service: Some("GraniteServiceVersion20100801"),
    query: Some(QuerySpec { version: "2010-08-01", xml_namespace: "http://monitoring.amazonaws.com/doc/2010-08-01/" }),
    query_compatible: true,
    shape_namespace: "com.amazonaws.cloudwatch",
    input_errors: InputErrors {
        missing: ("MissingParameter", "MissingRequiredParameterException"),
        invalid: ("InvalidParameterValue", "InvalidParameterValueException"),
    },
    remote_write: Some(RemoteWriteSpec { path: "/api/v1/write", operation: "RemoteWrite", signing_names: &["monitoring", "aps"] }),
};

/// CloudWatch Logs: awsJson 1.1 (`Logs_20140328.<Op>`), bare shape names in `__type`.
pub static LOGS: ServiceSpec = ServiceSpec {
    signing_name: "logs",
    json_target_prefix: Some("Logs_20140328"),
    json_version: JsonVersion::V1_1,
    cbor_service: None,
    query: None,
    query_compatible: false,
    shape_namespace: "com.amazonaws.cloudwatchlogs",
    input_errors: InputErrors {
        missing: ("InvalidParameterException", "InvalidParameterException"),
        invalid: ("InvalidParameterException", "InvalidParameterException"),
    },
    remote_write: None,
};
