//! Errors of the metrics service and their AWS codes (the one place they are mapped).

use watchtrail_core::{AwsError, Fault};

/// A metrics operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// `InvalidParameterValue`.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `MissingParameter`.
    #[error("{0}")]
    MissingParameter(String),
    /// `InvalidParameterCombination`.
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// `InvalidNextToken`.
    #[error("{0}")]
    InvalidNextToken(String),
    /// `ValidationError`: a metric math expression that cannot be evaluated (its message
    /// starts `Error in expression <id>:`).
    #[error("{0}")]
    Validation(String),
    /// Storage failed; details are logged, not sent.
    #[error("{0}")]
    Internal(String),
}

impl MetricsError {
    /// `The value X for parameter P is invalid.` in AWS's words.
    pub fn invalid_value(param: &str, value: impl std::fmt::Display) -> Self {
        MetricsError::InvalidParameterValue(format!("The value {value} for parameter {param} is invalid."))
    }
}

impl AwsError for MetricsError {
    fn code(&self) -> &str {
        match self {
            MetricsError::InvalidParameterValue(_) => "InvalidParameterValue",
            MetricsError::MissingParameter(_) => "MissingParameter",
            MetricsError::InvalidParameterCombination(_) => "InvalidParameterCombination",
            MetricsError::InvalidNextToken(_) => "InvalidNextToken",
            MetricsError::Validation(_) => "ValidationError",
            MetricsError::Internal(_) => "InternalServiceError",
        }
    }

    fn shape(&self) -> &str {
        match self {
            MetricsError::InvalidParameterValue(_) => "InvalidParameterValueException",
            MetricsError::MissingParameter(_) => "MissingRequiredParameterException",
            MetricsError::InvalidParameterCombination(_) => "InvalidParameterCombinationException",
            MetricsError::InvalidNextToken(_) => "InvalidNextToken",
            MetricsError::Validation(_) => "ValidationError",
            MetricsError::Internal(_) => "InternalServiceFault",
        }
    }

    fn fault(&self) -> Fault {
        match self {
            MetricsError::Internal(_) => Fault::Receiver,
            _ => Fault::Sender,
        }
    }

    fn message(&self) -> String {
        match self {
            MetricsError::Internal(_) => "An internal error occurred; the request was not completed".to_string(),
            other => other.to_string(),
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, MetricsError>;
