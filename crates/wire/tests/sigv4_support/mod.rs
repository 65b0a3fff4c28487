//! Shared helpers for the SigV4 tests: requests signed by the official `aws-sigv4` crate,
//! turned into what the server sees, and an in-memory credential store.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use watchtrail_core::{AccountId, Principal, Timestamp};
use watchtrail_wire::sigv4::{CredentialStore, SignedRequest, StoredCredential};

pub const AKID: &str = "AKIAWATCHTRAIL000001";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const SESSION_AKID: &str = "ASIAWATCHTRAIL000002";
pub const SESSION_SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
pub const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJH";
pub const ACCOUNT: &str = "123456789012";

/// 2026-01-01T00:00:00Z in seconds.
pub const T0_SECS: u64 = 1_767_225_600;

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0_SECS)
}

pub fn ts(t: SystemTime) -> Timestamp {
    Timestamp::from_millis(t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64)
}

pub fn principal() -> Principal {
    Principal::root(&AccountId::new(ACCOUNT).unwrap())
}

/// A store with a long-term key ([`AKID`]) and a temporary one ([`SESSION_AKID`]).
pub struct Store(pub HashMap<String, StoredCredential>);

impl CredentialStore for Store {
    fn lookup(&self, access_key_id: &str) -> Option<StoredCredential> {
        self.0.get(access_key_id).cloned()
    }
}

pub fn store() -> Store {
    let mut map = HashMap::new();
    map.insert(
        AKID.to_string(),
        StoredCredential {
            secret_access_key: SECRET.to_string(),
            principal: principal(),
            session_token: None,
        },
    );
    map.insert(
        SESSION_AKID.to_string(),
        StoredCredential {
            secret_access_key: SESSION_SECRET.to_string(),
            principal: principal(),
            session_token: Some(SESSION_TOKEN.to_string()),
        },
    );
    Store(map)
}

/// A request as the server receives it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn as_request(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    pub fn authorization(&self) -> String {
        self.headers.get("authorization").unwrap().to_str().unwrap().to_string()
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers
            .insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }

    /// The signature, wherever it is (empty when there is none).
    pub fn signature(&self) -> String {
        if let Some(auth) = self.headers.get("authorization") {
            let auth = String::from_utf8_lossy(auth.as_bytes());
            return auth.split_once("Signature=").map(|(_, s)| s.to_string()).unwrap_or_default();
        }
        let query = self.query.as_deref().unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "X-Amz-Signature")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }
}

/// What to sign.
#[derive(Clone)]
pub struct Spec<'a> {
    pub method: &'a str,
    /// Full URI, already percent-encoded (`http://localhost:4566/path?query`).
    pub uri: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
    pub service: &'a str,
    pub region: &'a str,
    pub time: SystemTime,
    pub akid: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    /// `Some` for a presigned URL valid this long.
    pub presign: Option<Duration>,
    /// Send and sign `x-amz-content-sha256`.
    pub content_sha256_header: bool,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body hash.
    pub unsigned_payload: bool,
}

impl<'a> Spec<'a> {
    /// A CloudWatch awsJson1_0 `PutMetricData`, header-signed at [`t0`] with [`AKID`].
    pub fn json_post(service: &'a str, target: &'a str, body: &'a [u8]) -> Self {
        Spec {
            method: "POST",
            uri: "http://localhost:4566/",
            headers: vec![("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target)],
            body,
            service,
            region: "us-east-1",
            time: t0(),
            akid: AKID,
            secret: SECRET,
            token: None,
            presign: None,
            content_sha256_header: false,
            unsigned_payload: false,
        }
    }

    /// A presigned GET of `uri`, valid for `expires`.
    pub fn presigned_get(uri: &'a str, expires: Duration) -> Self {
        Spec {
            method: "GET",
            uri,
            headers: vec![],
            body: b"",
            presign: Some(expires),
            ..Spec::json_post("monitoring", "", b"")
        }
    }

    /// Signs with the official aws-sigv4 signer and returns what the server would receive.
    pub fn sign(&self) -> Received {
        let uri: http::Uri = self.uri.parse().expect("test URI");
        let mut request = http::Request::builder().method(self.method).uri(uri.clone());
        let mut headers: Vec<(String, String)> =
            self.headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            headers.push(("host".to_string(), uri.authority().unwrap().to_string()));
        }
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let mut request = request.body(self.body.to_vec()).unwrap();

        let mut settings = SigningSettings::default();
        if let Some(expires) = self.presign {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        if self.content_sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let identity: Identity =
            Credentials::new(self.akid, self.secret, self.token.map(str::to_string), None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let body = if self.unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(self.body)
        };
        let signable = SignableRequest::new(
            self.method,
            self.uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            body,
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);

        Received {
            method: request.method().as_str().to_string(),
            path: request.uri().path().to_string(),
            query: request.uri().query().map(str::to_string),
            headers: request.headers().clone(),
            body: request.body().clone(),
        }
    }
}
