//! The canonical request, the string to sign and the signing key, built from what the server
//! received, the way the AWS SDKs build them for non-S3 services.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

type HmacSha256 = Hmac<Sha256>;

/// Everything but the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~`.
const QUERY_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// As [`QUERY_SET`], but `/` is kept.
const PATH_SET: &AsciiSet = &QUERY_SET.remove(b'/');

/// The canonical URI of a raw, still percent-encoded path, for non-S3 services: dot segments
/// and empty segments removed (RFC 3986 §5.2.4, as aws-sigv4 and botocore do), then every byte
/// outside the unreserved set and `/` percent-encoded again, so `%` becomes `%25`.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    let normalized = normalize_path(raw_path);
    percent_encode(normalized.as_bytes(), PATH_SET).to_string()
}

fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let absolute = if path.starts_with('/') { Cow::Borrowed(path) } else { Cow::Owned(format!("/{path}")) };
    if !(absolute.contains('.') || absolute.contains("//")) {
        return absolute;
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut out = String::with_capacity(absolute.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    let ends_with_slash = ["/", "/.", "/./", "/..", "/../"].iter().any(|s| absolute.ends_with(s));
    if out.is_empty() || (ends_with_slash && !out.ends_with('/')) {
        out.push('/');
    }
    Cow::Owned(out)
}

/// Decodes a raw query string the way aws-sigv4 does (`application/x-www-form-urlencoded`:
/// `&`-separated, `+` is a space, invalid UTF-8 replaced); empty pairs are dropped.
pub(crate) fn decode_query(raw: Option<&str>) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).collect()).unwrap_or_default()
}

/// The canonical query string: each decoded name and value re-encoded with the unreserved set,
/// pairs sorted by encoded name then encoded value, joined with `&`. For presigned requests
/// `X-Amz-Signature` is left out.
pub(crate) fn canonical_query(params: &[(Cow<'_, str>, Cow<'_, str>)], presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| {
            (
                percent_encode(k.as_bytes(), QUERY_SET).to_string(),
                percent_encode(v.as_bytes(), QUERY_SET).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
    }
    out
}

/// Appends one canonical header value: leading and trailing spaces removed and runs of spaces
/// collapsed to one (spaces only, as aws-sigv4 and the AWS CRT signer do).
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    let end = value.iter().rposition(|&b| b != b' ').map_or(start, |i| i + 1);
    let mut previous_space = false;
    for &b in &value[start..end] {
        if b == b' ' && previous_space {
            continue;
        }
        previous_space = b == b' ';
        out.push(b);
    }
}

/// Whether a header's value is redacted when a canonical request is logged.
fn is_sensitive(name: &str) -> bool {
    matches!(name, "authorization" | "x-amz-security-token" | "cookie" | "proxy-authorization")
}

/// Builds the canonical request up to, but not including, the payload hash; the caller appends
/// the hash candidate(s). Also returns a redacted copy for logging.
pub(crate) fn canonical_request_prefix(
    method: &str,
    uri: &str,
    query: &str,
    headers: &http::HeaderMap,
    signed_headers: &str,
) -> (Vec<u8>, String) {
    let mut out = Vec::with_capacity(256);
    let mut shown = String::with_capacity(256);
    for part in [method, uri, query] {
        out.extend_from_slice(part.as_bytes());
        out.push(b'\n');
    }
    shown.push_str(&String::from_utf8_lossy(&out));
    for name in signed_headers.split(';') {
        let lower = name.trim().to_ascii_lowercase();
        let line_start = out.len();
        out.extend_from_slice(lower.as_bytes());
        out.push(b':');
        let value_start = out.len();
        for (i, value) in headers.get_all(lower.as_str()).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed(&mut out, value.as_bytes());
        }
        if is_sensitive(&lower) {
            shown.push_str(&format!("{lower}:<redacted {} bytes>\n", out.len() - value_start));
        } else {
            shown.push_str(&String::from_utf8_lossy(&out[line_start..]));
            shown.push('\n');
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    shown.push('\n');
    shown.push_str(signed_headers);
    shown.push('\n');
    (out, shown)
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!("{}\n{amz_date}\n{scope}\n{}", super::parse::ALGORITHM, sha256_hex(canonical_request))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        // HMAC accepts keys of any length; an all-zero key would only fail verification.
        Err(_) => [0; 32],
    }
}

/// The SigV4 signing key: HMAC chain of `AWS4<secret>` over date, region, service and
/// `aws4_request`.
pub(crate) fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, super::parse::TERMINATOR.as_bytes())
}

/// Whether `signature` (raw bytes) is the HMAC of `string_to_sign` under `key`, compared in
/// constant time.
pub(crate) fn signature_matches(key: &[u8; 32], string_to_sign: &str, signature: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return false };
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(signature).is_ok()
}

/// Compares two byte strings without an early exit on the first difference.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A bounded cache of derived signing keys, keyed by a SHA-256 of (secret, date, region,
/// service) so that secrets are not kept as map keys. Oldest entries are evicted first.
pub(crate) struct SigningKeyCache {
    capacity: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<[u8; 32], [u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl SigningKeyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        SigningKeyCache { capacity, inner: Mutex::new(CacheInner::default()) }
    }

    /// The signing key for the scope, derived on a miss.
    pub(crate) fn get(&self, secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
        if self.capacity == 0 {
            return derive_signing_key(secret, date, region, service);
        }
        let mut id = Sha256::new();
        for part in [secret, date, region, service] {
            id.update((part.len() as u64).to_be_bytes());
            id.update(part.as_bytes());
        }
        let id: [u8; 32] = id.finalize().into();
        if let Some(key) = self.lock().map.get(&id) {
            return *key;
        }
        let key = derive_signing_key(secret, date, region, service);
        let mut inner = self.lock();
        if inner.map.insert(id, key).is_none() {
            inner.order.push_back(id);
            while inner.order.len() > self.capacity {
                if let Some(old) = inner.order.pop_front() {
                    inner.map.remove(&old);
                }
            }
        }
        key
    }

    /// Number of cached keys.
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // The map stays consistent even if a holder panicked, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("//"), "/");
        assert_eq!(canonical_uri("/a b/c%2Fd"), "/a%20b/c%252Fd");
        assert_eq!(canonical_uri("/./a/../b//c/."), "/b/c/");
        assert_eq!(canonical_uri("/../.."), "/");
        assert_eq!(canonical_uri("/foo/bar/"), "/foo/bar/");
        assert_eq!(canonical_uri("foo"), "/foo");
        assert_eq!(
            canonical_uri("/test/@connections/JBDvjfGEIAMCERw%3D"),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(canonical_uri("/\u{1234}"), "/%E1%88%B4");
    }

    #[test]
    fn queries() {
        let q = decode_query(Some("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"));
        assert_eq!(canonical_query(&q, false), "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
        let q = decode_query(Some("b=2&a&a=1&&c=x+y%20z&X-Amz-Signature=s"));
        assert_eq!(canonical_query(&q, false), "X-Amz-Signature=s&a=&a=1&b=2&c=x%20y%20z");
        assert_eq!(canonical_query(&q, true), "a=&a=1&b=2&c=x%20y%20z");
        assert_eq!(canonical_query(&decode_query(None), false), "");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let mut h = http::HeaderMap::new();
        h.append("my-header", http::HeaderValue::from_static("  a   b  "));
        h.append("my-header", http::HeaderValue::from_static("c"));
        h.insert("host", http::HeaderValue::from_static("example.com"));
        let (creq, _) = canonical_request_prefix("GET", "/", "", &h, "host;my-header;missing");
        assert_eq!(
            String::from_utf8(creq).unwrap(),
            "GET\n/\n\nhost:example.com\nmy-header:a b,c\nmissing:\n\nhost;my-header;missing\n"
        );
    }

    #[test]
    fn aws_documentation_signing_key() {
        // The example from AWS's "Deriving the signing key" documentation.
        let key =
            derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(hex::encode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn cache_is_bounded_and_consistent() {
        let cache = SigningKeyCache::new(2);
        let a = cache.get("s", "20260101", "r", "logs");
        assert_eq!(a, derive_signing_key("s", "20260101", "r", "logs"));
        cache.get("s", "20260102", "r", "logs");
        cache.get("s", "20260103", "r", "logs");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("s", "20260101", "r", "logs"), a);
        assert_eq!(SigningKeyCache::new(0).get("s", "d", "r", "x"), derive_signing_key("s", "d", "r", "x"));
    }
}
