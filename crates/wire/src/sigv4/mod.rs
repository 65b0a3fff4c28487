//! Verification of AWS Signature Version 4 on incoming requests.
//!
//! Both forms that the AWS clients send are accepted: the `Authorization` header
//! (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` plus `X-Amz-Date`) and
//! presigned URLs (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//! `X-Amz-SignedHeaders`, `X-Amz-Signature` in the query string).
//!
//! The canonical request is rebuilt from the request exactly as received, the way the AWS SDKs
//! build it for non-S3 services:
//!
//! - **URI**: the raw (still percent-encoded) path, with dot segments and empty segments
//!   removed, then percent-encoded again except for unreserved characters and `/` (so `%2F`
//!   becomes `%252F`). An empty path is `/`.
//! - **Query**: decoded as `application/x-www-form-urlencoded` (as aws-sigv4 does, so a literal
//!   `+` is a space), re-encoded with the RFC 3986 unreserved set, sorted by name then value;
//!   `X-Amz-Signature` is left out of presigned requests.
//! - **Headers**: those listed in `SignedHeaders`, in the order given, `name:value` with values
//!   trimmed of spaces and runs of spaces collapsed, repeated headers joined with `,`. A listed
//!   header that is absent contributes an empty value. `host` must be listed.
//! - **Payload hash**: hex SHA-256 of the raw body bytes (for gzip bodies: the compressed bytes).
//!   An `x-amz-content-sha256` header, when present, must be `UNSIGNED-PAYLOAD` or equal that
//!   hash, and is then used as the payload hash. See [`Verifier::verify`] for presigned requests.
//!
//! Request times must be within 15 minutes of the server's clock; the signature is compared in
//! constant time; derived signing keys are cached by [`Verifier`].

mod canonical;
mod error;
mod parse;

pub use error::AuthError;

use canonical::SigningKeyCache;
use parse::AuthParams;
use std::fmt;
use std::sync::OnceLock;
use watchtrail_core::{Principal, Timestamp};

/// The payload hash used by clients that do not sign the body.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far a request's date may be from the server's clock, in milliseconds.
const MAX_SKEW_MS: i64 = 15 * Timestamp::MINUTE;
/// Signing keys cached by [`Verifier::new`].
const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// What the verifier needs from a request, borrowed.
#[derive(Clone, Copy)]
pub struct SignedRequest<'a> {
    /// HTTP method as received (`POST`).
    pub method: &'a str,
    /// The path as received, still percent-encoded, without the query string.
    pub path: &'a str,
    /// The raw query string (without `?`), if the request had one.
    pub query: Option<&'a str>,
    /// All request headers.
    pub headers: &'a http::HeaderMap,
    /// The raw body as received (not decompressed).
    pub body: &'a [u8],
}

impl fmt::Debug for SignedRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Looks up secrets by access key id.
pub trait CredentialStore: Send + Sync {
    /// The credential for `access_key_id`, or `None` when the key is unknown.
    fn lookup(&self, access_key_id: &str) -> Option<StoredCredential>;
}

/// A secret access key and the identity it authenticates.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The secret the request must be signed with.
    pub secret_access_key: String,
    /// The identity a request signed with this key acts as.
    pub principal: Principal,
    /// For temporary credentials: the session token requests must carry in
    /// `X-Amz-Security-Token`. When `None`, a request carrying a token is rejected.
    pub session_token: Option<String>,
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("secret_access_key", &"<redacted>")
            .field("principal", &self.principal)
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A request whose signature checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// The identity behind the key.
    pub principal: Principal,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope (`monitoring`, `logs`, …).
    pub service: String,
    /// Whether the signature came from the query string (a presigned URL).
    pub presigned: bool,
}

/// The credential scope of a request: `AKID/yyyymmdd/region/service/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CredentialScope {
    /// The access key id.
    pub access_key_id: String,
    /// The scope date, `yyyymmdd`, as sent.
    pub date: String,
    /// The region, as sent.
    pub region: String,
    /// The signing service name, as sent (`monitoring`, `logs`, `cloudtrail`, `events`).
    pub service: String,
}

/// Verifies SigV4 signatures, caching derived signing keys (deriving one costs four HMACs).
///
/// One `Verifier` is meant to be shared by all requests; it is `Send + Sync`.
pub struct Verifier {
    cache: SigningKeyCache,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("cached_keys", &self.cache.len()).finish()
    }
}

impl Verifier {
    /// A verifier caching up to 1024 signing keys.
    pub fn new() -> Self {
        Verifier::with_cache_capacity(DEFAULT_CACHE_CAPACITY)
    }

    /// A verifier caching up to `capacity` signing keys (0 disables the cache). The cache is
    /// keyed by a SHA-256 of (secret, date, region, service) and evicts its oldest entry first.
    pub fn with_cache_capacity(capacity: usize) -> Self {
        Verifier { cache: SigningKeyCache::new(capacity) }
    }

    /// Verifies the signature of `req` against the secrets in `store`, with `now` as the
    /// server's clock.
    ///
    /// Checks run in this order: authentication present and well formed
    /// ([`AuthError::MissingAuthenticationToken`], [`AuthError::IncompleteSignature`]); scope
    /// date equal to the request date ([`AuthError::SignatureDoesNotMatch`]); request time
    /// ([`AuthError::RequestExpired`]); access key and session token
    /// ([`AuthError::InvalidClientTokenId`]); `x-amz-content-sha256` and the signature
    /// ([`AuthError::SignatureDoesNotMatch`]). A request with both an `Authorization` header and
    /// presigning query parameters is rejected as [`AuthError::IncompleteSignature`].
    ///
    /// **Presigned requests and the payload hash.** A presigned URL does not say which payload
    /// hash its signer used: aws-sigv4 and botocore hash the body (usually empty), S3-style
    /// signers use `UNSIGNED-PAYLOAD`. Unless an `x-amz-content-sha256` header settles it, the
    /// signature is first checked with the SHA-256 of the body, then with `UNSIGNED-PAYLOAD`,
    /// and either is accepted. Header-signed requests must sign the body hash (or send
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`).
    ///
    /// **Times.** Header-signed requests must be dated within 15 minutes of `now`, either way.
    /// Presigned requests may be dated at most 15 minutes in the future and are valid until
    /// `X-Amz-Date + X-Amz-Expires` inclusive; `X-Amz-Expires` must be 1..=604800.
    pub fn verify(
        &self,
        req: &SignedRequest<'_>,
        store: &dyn CredentialStore,
        now: Timestamp,
    ) -> Result<Verified, AuthError> {
        let query = canonical::decode_query(req.query);
        let params = read_auth_params(req, &query)?;
        let scope = &params.scope;
        let key = scope.access_key_id.as_str();

        let request_day = params.amz_date.get(..8).unwrap_or_default();
        if scope.date != request_day {
            return Err(AuthError::mismatch(
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_day}', from '{}'.",
                    scope.date.chars().take(16).collect::<String>(),
                    params.amz_date
                ),
                key,
            ));
        }
        check_time(&params, now)?;

        let credential = store.lookup(key).ok_or_else(|| AuthError::invalid_token(key))?;
        let token_ok = match (&params.security_token, &credential.session_token) {
            (None, None) => true,
            (Some(given), Some(stored)) => canonical::constant_time_eq(given.as_bytes(), stored.as_bytes()),
            _ => false,
        };
        if !token_ok {
            return Err(AuthError::invalid_token(key));
        }

        let hashes = payload_hashes(req, &params)?;
        let provided = match hex::decode(&params.signature) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            _ => return Err(AuthError::mismatch(error::SIGNATURE_MISMATCH, key)),
        };
        let (prefix, shown) = canonical::canonical_request_prefix(
            req.method,
            &canonical::canonical_uri(req.path),
            &canonical::canonical_query(&query, params.presigned),
            req.headers,
            &params.signed_headers,
        );
        let scope_text = format!("{}/{}/{}/{}", scope.date, scope.region, scope.service, parse::TERMINATOR);
        let signing_key =
            self.cache.get(&credential.secret_access_key, &scope.date, &scope.region, &scope.service);
        let mut canonical_request = prefix;
        let prefix_len = canonical_request.len();
        let mut tried = Vec::with_capacity(hashes.len());
        for hash in &hashes {
            canonical_request.truncate(prefix_len);
            canonical_request.extend_from_slice(hash.as_bytes());
            let string_to_sign = canonical::string_to_sign(&params.amz_date, &scope_text, &canonical_request);
            if canonical::signature_matches(&signing_key, &string_to_sign, &provided) {
                tracing::trace!(
                    access_key_id = key,
                    presigned = params.presigned,
                    "SigV4 signature verified"
                );
                return Ok(Verified {
                    access_key_id: key.to_string(),
                    principal: credential.principal,
                    region: scope.region.clone(),
                    service: scope.service.clone(),
                    presigned: params.presigned,
                });
            }
            tried.push(string_to_sign);
        }
        tracing::debug!(
            access_key_id = key,
            canonical_request = %format!("{shown}{}", hashes.join(" | ")),
            string_to_sign = %tried.join("\n--\n"),
            "SigV4 signature mismatch"
        );
        Err(AuthError::mismatch(error::SIGNATURE_MISMATCH, key))
    }
}

/// Verifies `req` with a process-wide shared [`Verifier`] (and its signing-key cache).
pub fn verify(
    req: &SignedRequest<'_>,
    store: &dyn CredentialStore,
    now: Timestamp,
) -> Result<Verified, AuthError> {
    static SHARED: OnceLock<Verifier> = OnceLock::new();
    SHARED.get_or_init(Verifier::new).verify(req, store, now)
}

/// Cheap, unverified peek at the credential scope (access key, date, region, service) from the
/// Authorization header or X-Amz-Credential query param; used for routing and for recording
/// failed calls.
///
/// The credential only has to have five `/`-separated parts (the access key id being everything
/// before the last four); the terminator, the date and the signature are not checked.
pub fn peek_scope(headers: &http::HeaderMap, query: Option<&str>) -> Option<CredentialScope> {
    let from_header = headers.get(http::header::AUTHORIZATION).and_then(|value| {
        let raw = String::from_utf8_lossy(value.as_bytes());
        parse::header_credential(&raw).and_then(parse::split_credential)
    });
    from_header.or_else(|| {
        let query = canonical::decode_query(query);
        query.iter().find(|(k, _)| k == "X-Amz-Credential").and_then(|(_, v)| parse::split_credential(v))
    })
}

fn read_auth_params(
    req: &SignedRequest<'_>,
    query: &[(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)],
) -> Result<AuthParams, AuthError> {
    let authorization = req.headers.get(http::header::AUTHORIZATION);
    match (authorization, parse::has_presign_params(query)) {
        (None, false) => Err(AuthError::MissingAuthenticationToken),
        (Some(_), true) => Err(AuthError::incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.",
            peek_scope(req.headers, req.query).map(|s| s.access_key_id).as_deref(),
        )),
        (Some(header), false) => parse::from_header(&String::from_utf8_lossy(header.as_bytes()), req.headers),
        (None, true) => parse::from_query(query),
    }
}

fn check_time(params: &AuthParams, now: Timestamp) -> Result<(), AuthError> {
    let key = params.scope.access_key_id.as_str();
    let request_ms = params.request_secs.saturating_mul(1000);
    let now_secs = now.secs();
    if request_ms.saturating_sub(now.millis()) > MAX_SKEW_MS {
        return Err(AuthError::expired(
            format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                params.amz_date,
                parse::format_basic(now_secs + MAX_SKEW_MS / 1000),
                parse::format_basic(now_secs)
            ),
            key,
        ));
    }
    match params.expires_secs {
        None if now.millis().saturating_sub(request_ms) > MAX_SKEW_MS => Err(AuthError::expired(
            format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                params.amz_date,
                parse::format_basic(now_secs - MAX_SKEW_MS / 1000),
                parse::format_basic(now_secs)
            ),
            key,
        )),
        Some(expires) if now.millis() > request_ms.saturating_add((expires as i64).saturating_mul(1000)) => {
            Err(AuthError::expired("Request has expired", key))
        }
        _ => Ok(()),
    }
}

/// The payload-hash candidates for the canonical request, in the order they are tried.
fn payload_hashes(req: &SignedRequest<'_>, params: &AuthParams) -> Result<Vec<String>, AuthError> {
    let computed = canonical::sha256_hex(req.body);
    match req.headers.get("x-amz-content-sha256") {
        Some(value) => {
            let value = String::from_utf8_lossy(value.as_bytes());
            if value == UNSIGNED_PAYLOAD || value.eq_ignore_ascii_case(&computed) {
                Ok(vec![value.into_owned()])
            } else {
                Err(AuthError::mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    &params.scope.access_key_id,
                ))
            }
        }
        None if params.presigned => Ok(vec![computed, UNSIGNED_PAYLOAD.to_string()]),
        None => Ok(vec![computed]),
    }
}
