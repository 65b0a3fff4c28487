//! Opaque pagination tokens. A token names where the next page starts and carries a
//! fingerprint of the request it belongs to, so that reusing it with different parameters is
//! detected.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

/// A short hash of the request parameters a token belongs to.
pub fn fingerprint(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Encodes a resume key of kind `kind` (e.g. the last metric returned).
pub fn encode_token<T: Serialize>(after: &T, kind: &str) -> String {
    let body = serde_json::json!({ "k": kind, "a": after });
    URL_SAFE_NO_PAD.encode(body.to_string())
}

/// Decodes a token produced by [`encode_token`] for the same kind.
pub fn decode_token<T: DeserializeOwned>(token: &str, kind: &str) -> Option<T> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    if v.get("k")?.as_str()? != kind {
        return None;
    }
    serde_json::from_value(v.get("a")?.clone()).ok()
}

/// Encodes where the next page of a result sequence starts, for the request with
/// `fingerprint`, with the id its computed result is kept under, if it is kept.
pub fn encode_page(offset: usize, fingerprint: &str, kept: Option<&str>) -> String {
    encode_token(&(offset, fingerprint, kept), "page")
}

/// Decodes a page token: the offset and the kept result's id; `None` when malformed or
/// issued for another request.
pub fn decode_page(token: &str, fingerprint: &str) -> Option<(usize, Option<String>)> {
    let (offset, fp, kept): (usize, String, Option<String>) = decode_token(token, "page")?;
    (fp == fingerprint).then_some((offset, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_mismatches() {
        let t = encode_page(42, "abc", None);
        assert_eq!(decode_page(&t, "abc"), Some((42, None)));
        assert_eq!(decode_page(&t, "abd"), None);
        assert_eq!(decode_page("garbage!", "abc"), None);
        let kept = encode_page(7, "abc", Some("id1"));
        assert_eq!(decode_page(&kept, "abc"), Some((7, Some("id1".to_string()))));
        let k = encode_token(&"x".to_string(), "list");
        assert_eq!(decode_token::<String>(&k, "list").as_deref(), Some("x"));
        assert_eq!(decode_token::<String>(&k, "other"), None);
    }
}
