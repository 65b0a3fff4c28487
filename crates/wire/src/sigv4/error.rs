//! Why a request failed SigV4 verification, worded as AWS words it.

use watchtrail_core::{AwsError, Fault};

/// The message AWS sends when the computed signature differs from the one provided.
pub(crate) const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match \
the signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
service documentation for details.";

/// A request that failed authentication.
///
/// Codes, HTTP statuses and messages follow AWS's "Common Errors". [`AwsError::code`] is the
/// code Query clients (and `x-amzn-query-error`) see; [`AwsError::shape`] is the exception name
/// AWS's JSON services put in `__type` for the same failure (for example
/// `UnrecognizedClientException` for [`AuthError::InvalidClientTokenId`]).
///
/// Messages never contain a secret access key, a session token, or the signature of the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Neither an `Authorization` header nor presigned query parameters were present (403).
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The signature information is malformed or incomplete: a missing `Credential`,
    /// `SignedHeaders` or `Signature`, a bad credential scope, an unsupported algorithm, a
    /// missing or malformed date, `host` not signed, or a bad `X-Amz-Expires` (400).
    #[error("{message}")]
    IncompleteSignature {
        /// AWS-style explanation of what is missing or malformed.
        message: String,
        /// The access key id, when it could be read.
        access_key_id: Option<String>,
    },

    /// The request date is more than 15 minutes away from the server's clock, or a presigned
    /// URL is past `X-Amz-Date + X-Amz-Expires` (400).
    #[error("{message}")]
    RequestExpired {
        /// `Signature expired: …`, `Signature not yet current: …` or `Request has expired`.
        message: String,
        /// The access key id of the request.
        access_key_id: Option<String>,
    },

    /// The signature does not match, the credential-scope date differs from the request date,
    /// or `x-amz-content-sha256` differs from the body's hash (403).
    #[error("{message}")]
    SignatureDoesNotMatch {
        /// AWS-style explanation.
        message: String,
        /// The access key id of the request.
        access_key_id: Option<String>,
    },

    /// The access key id is unknown, or the session token is missing, unexpected or wrong (403).
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId {
        /// The access key id the request named.
        access_key_id: String,
    },
}

impl AuthError {
    /// The access key id the failed request named, when it could be read; lets failed calls be
    /// journaled against the key.
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            AuthError::MissingAuthenticationToken => None,
            AuthError::IncompleteSignature { access_key_id, .. }
            | AuthError::RequestExpired { access_key_id, .. }
            | AuthError::SignatureDoesNotMatch { access_key_id, .. } => access_key_id.as_deref(),
            AuthError::InvalidClientTokenId { access_key_id } => Some(access_key_id),
        }
    }

    pub(crate) fn incomplete(message: impl Into<String>, key: Option<&str>) -> Self {
        AuthError::IncompleteSignature { message: message.into(), access_key_id: key.map(str::to_string) }
    }

    pub(crate) fn expired(message: impl Into<String>, key: &str) -> Self {
        AuthError::RequestExpired { message: message.into(), access_key_id: Some(key.to_string()) }
    }

    pub(crate) fn mismatch(message: impl Into<String>, key: &str) -> Self {
        AuthError::SignatureDoesNotMatch { message: message.into(), access_key_id: Some(key.to_string()) }
    }

    pub(crate) fn invalid_token(key: &str) -> Self {
        AuthError::InvalidClientTokenId { access_key_id: key.to_string() }
    }
}

impl AwsError for AuthError {
    fn code(&self) -> &str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationToken",
            AuthError::IncompleteSignature { .. } => "IncompleteSignature",
            AuthError::RequestExpired { .. } => "RequestExpired",
            AuthError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            AuthError::InvalidClientTokenId { .. } => "InvalidClientTokenId",
        }
    }

    fn shape(&self) -> &str {
        match self {
            AuthError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthError::IncompleteSignature { .. } => "IncompleteSignatureException",
            AuthError::RequestExpired { .. } => "InvalidSignatureException",
            AuthError::SignatureDoesNotMatch { .. } => "InvalidSignatureException",
            AuthError::InvalidClientTokenId { .. } => "UnrecognizedClientException",
        }
    }

    fn fault(&self) -> Fault {
        Fault::Sender
    }

    fn status(&self) -> u16 {
        match self {
            AuthError::IncompleteSignature { .. } | AuthError::RequestExpired { .. } => 400,
            AuthError::MissingAuthenticationToken
            | AuthError::SignatureDoesNotMatch { .. }
            | AuthError::InvalidClientTokenId { .. } => 403,
        }
    }
}

/// Renders an `Authorization` header for an error message the way AWS echoes it
/// (`Authorization=…`), except that the `Signature` value is replaced by `<redacted>`, the
/// credentials of non-SigV4 schemes (`Bearer …`, `Basic …`) are dropped, and the text is capped at
/// 512 characters.
pub(crate) fn echo_authorization(raw: &str) -> String {
    format!("Authorization={}", redact_authorization(raw))
}

/// The `Authorization` header as shown in messages: see [`echo_authorization`].
pub(crate) fn redact_authorization(raw: &str) -> String {
    const MAX: usize = 512;
    let (scheme, rest) = raw.split_once(' ').unwrap_or((raw, ""));
    let mut out = String::new();
    if scheme.starts_with("AWS4-") {
        // Redact every `Signature=` value, however the parameters are separated.
        let mut rest = raw;
        while let Some(at) = rest.find("Signature=") {
            let value_start = at + "Signature=".len();
            out.push_str(&rest[..value_start]);
            out.push_str("<redacted>");
            let tail = &rest[value_start..];
            let value_len = tail.find([',', ' ']).unwrap_or(tail.len());
            rest = &tail[value_len..];
        }
        out.push_str(rest);
        out = mask_long_hex(&out);
    } else if !rest.is_empty()
        && scheme.len() <= 32
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        // `Bearer …`, `Basic …`: the scheme helps the caller, the credential is theirs alone.
        out.push_str(scheme);
        out.push_str(" <redacted>");
    } else if !raw.is_empty() {
        out.push_str("<redacted>");
    }
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// Replaces every run of 32 or more hex digits (a signature out of place) with `<redacted>`.
fn mask_long_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 32 {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_redacts_signature_and_foreign_credentials() {
        let e =
            echo_authorization("AWS4-HMAC-SHA256 Credential=AK/20260101/r/s/aws4_request, Signature=abcdef");
        assert_eq!(
            e,
            "Authorization=AWS4-HMAC-SHA256 Credential=AK/20260101/r/s/aws4_request, Signature=<redacted>"
        );
        assert_eq!(echo_authorization("Bearer eyJhbGciOi.x.y"), "Authorization=Bearer <redacted>");
        assert_eq!(echo_authorization("Basic dXNlcjpwYXNz=="), "Authorization=Basic <redacted>");
        assert_eq!(echo_authorization("garbage"), "Authorization=<redacted>");
        assert_eq!(echo_authorization(""), "Authorization=");
        let bare = format!("AWS4-HMAC-SHA256 Credential=AK/20260101/r/s/aws4_request, {}", "ab".repeat(32));
        assert_eq!(
            echo_authorization(&bare),
            "Authorization=AWS4-HMAC-SHA256 Credential=AK/20260101/r/s/aws4_request, <redacted>"
        );
        assert!(echo_authorization(&"AWS4-HMAC-SHA256 ".repeat(100)).len() < 540);
    }

    #[test]
    fn codes_and_statuses() {
        let e = AuthError::invalid_token("AKID");
        assert_eq!((e.code(), e.status(), e.access_key_id()), ("InvalidClientTokenId", 403, Some("AKID")));
        assert_eq!(e.shape(), "UnrecognizedClientException");
        assert_eq!(AuthError::expired("x", "k").code(), "RequestExpired");
        assert_eq!(AuthError::mismatch("x", "k").shape(), "InvalidSignatureException");
        assert_eq!(AuthError::MissingAuthenticationToken.status(), 403);
        assert_eq!(AuthError::incomplete("x", None).status(), 400);
        assert_eq!(AuthError::expired("x", "k").status(), 400);
        assert_eq!(AuthError::mismatch("x", "k").to_api_error().status, 403);
    }
}
