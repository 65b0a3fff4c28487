//! AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary messages of
//! streaming answers such as CloudWatch Logs' StartLiveTail.
//!
//! A message is `[total length u32][headers length u32][prelude CRC32][headers][payload]
//! [message CRC32]`, big-endian, CRC-32 (IEEE) over everything before it. Headers here are
//! all strings (type 7): `[name length u8][name][7][value length u16][value]`.

/// The content type of an event-stream body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Encodes one message with string headers.
pub fn encode_message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        h.push(name.len() as u8);
        h.extend_from_slice(name);
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value);
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// An event message: `:message-type` `event`, its `:event-type`, a JSON payload.
pub fn event(event_type: &str, json: &[u8]) -> Vec<u8> {
    encode_message(&[(":message-type", "event"), (":event-type", event_type), (":content-type", "application/json")], json)
}

/// A modeled exception message: `:message-type` `exception`, its `:exception-type`.
pub fn exception(exception_type: &str, message: &str) -> Vec<u8> {
    let payload = serde_json::json!({ "message": message }).to_string();
    encode_message(&[(":message-type", "exception"), (":exception-type", exception_type), (":content-type", "application/json")], payload.as_bytes())
}

/// Decodes one message from the front of `buf`: its string headers, payload and length.
/// `None` if `buf` does not start with a complete, intact message.
pub fn decode_message(buf: &[u8]) -> Option<(Vec<(String, String)>, Vec<u8>, usize)> {
    let total = u32::from_be_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    let hlen = u32::from_be_bytes(buf.get(4..8)?.try_into().ok()?) as usize;
    if total < 16 || buf.len() < total || 12 + hlen + 4 > total {
        return None;
    }
    if crc32fast::hash(&buf[..8]) != u32::from_be_bytes(buf[8..12].try_into().ok()?) {
        return None;
    }
    if crc32fast::hash(&buf[..total - 4]) != u32::from_be_bytes(buf[total - 4..total].try_into().ok()?) {
        return None;
    }
    let mut headers = Vec::new();
    let mut h = &buf[12..12 + hlen];
    while !h.is_empty() {
        let n = *h.first()? as usize;
        let name = std::str::from_utf8(h.get(1..1 + n)?).ok()?.to_string();
        if *h.get(1 + n)? != 7 {
            return None;
        }
        let vlen = u16::from_be_bytes(h.get(2 + n..4 + n)?.try_into().ok()?) as usize;
        let value = std::str::from_utf8(h.get(4 + n..4 + n + vlen)?).ok()?.to_string();
        headers.push((name, value));
        h = &h[4 + n + vlen..];
    }
    Some((headers, buf[12 + hlen..total - 4].to_vec(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_damage_is_refused() {
        let m = event("sessionUpdate", br#"{"a":1}"#);
        let (headers, payload, len) = decode_message(&m).expect("decodes");
        assert_eq!(len, m.len());
        assert_eq!(payload, br#"{"a":1}"#);
        assert_eq!(headers[1], (":event-type".to_string(), "sessionUpdate".to_string()));
        for i in 0..m.len() {
            let mut bad = m.clone();
            bad[i] ^= 0x40;
            assert!(decode_message(&bad).map(|d| d.1 != payload || d.0 != headers).unwrap_or(true), "flip at {i} went unnoticed");
        }
        assert!(decode_message(&m[..m.len() - 1]).is_none());
    }

    #[test]
    fn the_empty_message_matches_the_reference_test_vector() {
        // A message with no headers and no payload is 16 bytes; its prelude CRC covers 8.
        let m = encode_message(&[], b"");
        assert_eq!(&m[..8], &[0, 0, 0, 16, 0, 0, 0, 0]);
        assert_eq!(u32::from_be_bytes(m[8..12].try_into().unwrap()), 0x05c2_48eb);
        assert_eq!(u32::from_be_bytes(m[12..16].try_into().unwrap()), 0x7d98_c8ff);
    }
}
