//! The error `parse` returns, worded like CloudWatch Logs' `InvalidParameterException`.

use std::fmt;

/// A filter pattern CloudWatch Logs would refuse.
///
/// [`Display`](fmt::Display) gives the AWS-style message (what goes into the
/// `InvalidParameterException`); [`PatternError::detail`] says what exactly is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    message: String,
    detail: String,
}

impl PatternError {
    /// AWS's generic answer ("Invalid filter pattern") with our own explanation as detail.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self {
            message: "Invalid filter pattern".into(),
            detail: detail.into(),
        }
    }

    /// AWS's answer for a term (or regex) holding characters it does not accept.
    pub(crate) fn bad_chars(term: &str) -> Self {
        Self {
            message: format!("Invalid character(s) in term '{term}'"),
            detail: format!(
                "term '{term}' holds characters that need double quotes or are not allowed"
            ),
        }
    }

    /// An error whose AWS wording is known and explains itself.
    pub(crate) fn exact(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            detail: message.clone(),
            message,
        }
    }

    /// The AWS-style message, the same text `Display` writes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What exactly is wrong with the pattern (our wording, for logs and tests).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}
