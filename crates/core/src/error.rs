//! The contract between a domain error and the wire: every error that can reach a client
//! implements [`AwsError`], and the gateway renders it in the protocol the client spoke.

use std::fmt;

/// Whose fault an error is, as AWS's Query protocol reports it (`<Type>Sender</Type>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The caller sent something wrong (4xx).
    Sender,
    /// The service failed (5xx).
    Receiver,
}

impl Fault {
    /// `Sender` or `Receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// An error that can be sent to an AWS client.
///
/// `code` is the short error code clients see (`InvalidParameterValue`, the awsQuery code for
/// CloudWatch); `shape` is the modeled exception shape name (`InvalidParameterValueException`)
/// used in the JSON/CBOR `__type`. For most services the two are the same.
pub trait AwsError: std::error::Error {
    /// The error code clients match on.
    fn code(&self) -> &str;
    /// The modeled shape name; defaults to the code.
    fn shape(&self) -> &str {
        self.code()
    }
    /// Client or server fault.
    fn fault(&self) -> Fault {
        Fault::Sender
    }
    /// HTTP status code.
    fn status(&self) -> u16 {
        match self.fault() {
            Fault::Sender => 400,
            Fault::Receiver => 500,
        }
    }
    /// Human-readable message, worded like AWS's.
    fn message(&self) -> String {
        self.to_string()
    }
    /// Converts into the transport form.
    fn to_api_error(&self) -> ApiError {
        ApiError {
            code: self.code().to_string(),
            shape: self.shape().to_string(),
            fault: self.fault(),
            status: self.status(),
            message: self.message(),
        }
    }
}

/// An error ready for the wire: the materialized form of any [`AwsError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// Error code (Query code for CloudWatch).
    pub code: String,
    /// Modeled shape name for JSON/CBOR `__type`.
    pub shape: String,
    /// Sender or receiver fault.
    pub fault: Fault,
    /// HTTP status.
    pub status: u16,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// A sender fault (HTTP 400) whose code and shape are the same.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            shape: code.to_string(),
            fault: Fault::Sender,
            status: 400,
            message: message.into(),
        }
    }

    /// A fully specified error.
    pub fn new(code: &str, shape: &str, fault: Fault, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            shape: shape.to_string(),
            fault,
            status,
            message: message.into(),
        }
    }

    /// An internal failure (HTTP 500). The message given to the client is generic; log details
    /// separately.
    pub fn internal(code: &str) -> Self {
        ApiError {
            code: code.to_string(),
            shape: code.to_string(),
            fault: Fault::Receiver,
            status: 500,
            message: "An internal error occurred; the request was not completed".to_string(),
        }
    }

    /// Replaces the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl AwsError for ApiError {
    fn code(&self) -> &str {
        &self.code
    }
    fn shape(&self) -> &str {
        &self.shape
    }
    fn fault(&self) -> Fault {
        self.fault
    }
    fn status(&self) -> u16 {
        self.status
    }
    fn message(&self) -> String {
        self.message.clone()
    }
    fn to_api_error(&self) -> ApiError {
        self.clone()
    }
}
