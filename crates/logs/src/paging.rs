//! Pagination tokens: opaque, tied to the request that issued them (a fingerprint of its
//! parameters), so a token reused with other parameters is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

/// A short hash of the parameters a token belongs to.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// Encodes `after` (where the next page starts) for the request with `fingerprint`.
pub fn encode<T: Serialize>(after: &T, fingerprint: &str) -> String {
    let body = serde_json::json!({ "f": fingerprint, "a": after });
    URL_SAFE_NO_PAD.encode(body.to_string())
}

/// Decodes a token of [`encode`]; `None` when malformed or issued for other parameters.
pub fn decode<T: DeserializeOwned>(token: &str, fingerprint: &str) -> Option<T> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    if v.get("f")?.as_str()? != fingerprint {
        return None;
    }
    serde_json::from_value(v.get("a")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_requests() {
        let fp = fingerprint(&["a", "b"]);
        assert_ne!(fp, fingerprint(&["ab", ""]));
        let t = encode(&("x".to_string(), 5), &fp);
        assert_eq!(decode::<(String, i64)>(&t, &fp), Some(("x".to_string(), 5)));
        assert_eq!(decode::<(String, i64)>(&t, "other"), None);
        assert_eq!(decode::<(String, i64)>("%%%", &fp), None);
    }
}
