//! Account ids and regions.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier that failed validation.
#[derive(Debug, thiserror::Error)]
#[error("invalid {kind}: {value:?}")]
pub struct InvalidId {
    /// What kind of id it was meant to be.
    pub kind: &'static str,
    /// The offending value.
    pub value: String,
}

/// A 12-digit AWS account id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(String);

impl AccountId {
    /// Validates and wraps a 12-digit account id.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
        let s = s.into();
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s))
        } else {
            Err(InvalidId { kind: "account id", value: s })
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS region name such as `us-east-1`. Any region named in a request's SigV4 scope is
/// served; the name is only checked for shape.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Region(String);

impl Region {
    /// Validates a region name: 1–64 characters of lowercase letters, digits and `-`.
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
        let s = s.into();
        if !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            Ok(Region(s))
        } else {
            Err(InvalidId { kind: "region", value: s })
        }
    }

    /// The region used when a request names none (unsigned requests with auth off).
    pub fn default_region() -> Self {
        Region("us-east-1".to_string())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_is_twelve_digits() {
        assert!(AccountId::new("123456789012").is_ok());
        assert!(AccountId::new("12345678901").is_err());
        assert!(AccountId::new("12345678901a").is_err());
    }

    #[test]
    fn region_shape() {
        assert!(Region::new("eu-west-3").is_ok());
        assert!(Region::new("EU").is_err());
        assert!(Region::new("").is_err());
    }
}
