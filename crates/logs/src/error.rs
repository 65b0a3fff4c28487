//! Errors of the Logs service and their AWS codes (the one place they are mapped).

use watchtrail_core::{AwsError, Fault};

/// A Logs operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// `InvalidParameterException`: a parameter is missing, malformed or out of range.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `InvalidOperationException`.
    #[error("{0}")]
    InvalidOperation(String),
    /// `OperationAbortedException`: a conflicting change (deletion protection).
    #[error("{0}")]
    OperationAborted(String),
    /// `MalformedQueryException`: a Logs Insights query that does not compile.
    #[error("{0}")]
    MalformedQuery(String),
    /// Storage failed; details are logged, not sent (`ServiceUnavailableException`).
    #[error("{0}")]
    Internal(String),
}

impl LogsError {
    /// AWS's wording for a value that breaks a model constraint:
    /// `1 validation error detected: Value 'x' at 'p' failed to satisfy constraint: ...`.
    pub fn constraint(param: &str, value: impl std::fmt::Display, constraint: &str) -> Self {
        LogsError::InvalidParameter(format!("1 validation error detected: Value '{value}' at '{param}' failed to satisfy constraint: {constraint}"))
    }

    /// `The specified log group does not exist.`
    pub fn no_group() -> Self {
        LogsError::ResourceNotFound("The specified log group does not exist.".into())
    }

    /// `The specified log stream does not exist.`
    pub fn no_stream() -> Self {
        LogsError::ResourceNotFound("The specified log stream does not exist.".into())
    }
}

impl AwsError for LogsError {
    fn code(&self) -> &str {
        match self {
            LogsError::InvalidParameter(_) => "InvalidParameterException",
            LogsError::ResourceNotFound(_) => "ResourceNotFoundException",
            LogsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            LogsError::LimitExceeded(_) => "LimitExceededException",
            LogsError::InvalidOperation(_) => "InvalidOperationException",
            LogsError::OperationAborted(_) => "OperationAbortedException",
            LogsError::MalformedQuery(_) => "MalformedQueryException",
            LogsError::Internal(_) => "ServiceUnavailableException",
        }
    }

    fn fault(&self) -> Fault {
        match self {
            LogsError::Internal(_) => Fault::Receiver,
            _ => Fault::Sender,
        }
    }

    fn message(&self) -> String {
        match self {
            LogsError::Internal(_) => "The service cannot complete the request.".to_string(),
            other => other.to_string(),
        }
    }
}

/// Logs a storage failure and turns it into the error clients see.
pub(crate) fn internal(e: impl std::fmt::Display) -> LogsError {
    tracing::error!(error = %e, "logs storage failure");
    LogsError::Internal(e.to_string())
}

/// Result alias.
pub type Result<T> = std::result::Result<T, LogsError>;
