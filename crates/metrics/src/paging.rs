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

/// Encodes an offset into a result sequence of the request with `fingerprint`.
pub fn encode_offset(offset: usize, fingerprint: &str) -> String {
    encode_token(&(offset, fingerprint), "offset")
}

/// Decodes an offset token; `None` when malformed or issued for another request.
pub fn decode_offset(token: &str, fingerprint: &str) -> Option<usize> {
    let (offset, fp): (usize, String) = decode_token(token, "offset")?;
    (fp == fingerprint).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_mismatches() {
        let t = encode_offset(42, "abc");
        assert_eq!(decode_offset(&t, "abc"), Some(42));
        assert_eq!(decode_offset(&t, "abd"), None);
        assert_eq!(decode_offset("garbage!", "abc"), None);
        let k = encode_token(&"x".to_string(), "list");
        assert_eq!(decode_token::<String>(&k, "list").as_deref(), Some("x"));
        assert_eq!(decode_token::<String>(&k, "other"), None);
    }
}
