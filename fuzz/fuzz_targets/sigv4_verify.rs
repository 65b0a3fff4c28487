//! SigV4 on arbitrary headers: `peek_scope` and `verify` never panic.
//!
//! Input layout (text, lossy): the first line is the URL query string (empty for none); the next
//! lines up to an empty line are `name: value` headers; the rest is the body. Lines that are not
//! valid header names or values are skipped. `dict/sigv4.dict` gives the fuzzer the vocabulary.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use watchtrail_core::{AccountId, Principal, Timestamp};
use watchtrail_wire::sigv4::{self, CredentialStore, SignedRequest, StoredCredential};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "session-token";

struct Store(StoredCredential, StoredCredential);

impl CredentialStore for Store {
    fn lookup(&self, access_key_id: &str) -> Option<StoredCredential> {
        match access_key_id {
            AKID => Some(self.0.clone()),
            "ASIDEXAMPLE" => Some(self.1.clone()),
            _ => None,
        }
    }
}

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let principal = Principal::root(&AccountId::new("123456789012").expect("account id"));
        Store(
            StoredCredential { secret_access_key: SECRET.into(), principal: principal.clone(), session_token: None },
            StoredCredential { secret_access_key: SECRET.into(), principal, session_token: Some(TOKEN.into()) },
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let query_line = lines.next().unwrap_or_default();
    let query = String::from_utf8_lossy(query_line).into_owned();
    let query = if query.is_empty() { None } else { Some(query.as_str()) };
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name), http::HeaderValue::from_bytes(value)) {
            headers.append(n, v);
        }
    }
    let _ = sigv4::peek_scope(&headers, query);
    let req = SignedRequest { method: "POST", path: "/", query, headers: &headers, body };
    // 2026-01-01T00:00:00Z, so `X-Amz-Date: 20260101T000000Z` is within the skew.
    let _ = sigv4::verify(&req, store(), Timestamp::from_secs(1_767_225_600));
});
