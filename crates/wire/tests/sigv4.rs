//! SigV4 verification against requests signed by the official `aws-sigv4` crate.

mod sigv4_support;

use sigv4_support::*;
use std::io::Write;
use std::time::Duration;
use watchtrail_core::{AwsError, Timestamp};
use watchtrail_wire::sigv4::{peek_scope, verify, AuthError, CredentialScope, Verified, Verifier};

const PUT_METRIC_DATA: &[u8] =
    br#"{"Namespace":"App","MetricData":[{"MetricName":"Latency","Value":12.5,"Unit":"Milliseconds"}]}"#;
const PUT_LOG_EVENTS: &[u8] = br#"{"logGroupName":"/app","logStreamName":"s1","logEvents":[{"timestamp":1767225600000,"message":"hello"}]}"#;
const CW_TARGET: &str = "GraniteServiceVersion20100801.PutMetricData";
const LOGS_TARGET: &str = "Logs_20140328.PutLogEvents";
const MINUTE: Duration = Duration::from_secs(60);

fn check(received: &Received) -> Result<Verified, AuthError> {
    verify(&received.as_request(), &store(), ts(t0()))
}

fn check_at(received: &Received, now: Timestamp) -> Result<Verified, AuthError> {
    verify(&received.as_request(), &store(), now)
}

/// Asserts the error's code, and that its message leaks neither a secret nor the signature.
fn expect_err(result: Result<Verified, AuthError>, code: &str, received: &Received) -> AuthError {
    let err = result.expect_err("verification should fail");
    assert_eq!(err.code(), code, "unexpected error: {err:?}");
    let message = err.message();
    for secret in [SECRET, SESSION_SECRET, SESSION_TOKEN] {
        assert!(!message.contains(secret), "message leaks a secret: {message}");
    }
    let signature = received.signature();
    assert!(signature.len() < 16 || !message.contains(&signature), "message leaks the signature: {message}");
    err
}

#[test]
fn header_signed_json_post_for_monitoring_verifies() {
    let received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();
    assert!(received.authorization().contains("/monitoring/aws4_request"));
    let verified = check(&received).unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: AKID.to_string(),
            principal: principal(),
            region: "us-east-1".to_string(),
            service: "monitoring".to_string(),
            presigned: false,
        }
    );
}

#[test]
fn header_signed_json_post_for_logs_verifies_in_any_region() {
    let spec = Spec { region: "eu-west-3", ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) };
    let verified = check(&spec.sign()).unwrap();
    assert_eq!((verified.service.as_str(), verified.region.as_str()), ("logs", "eu-west-3"));
}

#[test]
fn session_token_must_match_the_stored_one() {
    let spec = Spec {
        akid: SESSION_AKID,
        secret: SESSION_SECRET,
        token: Some(SESSION_TOKEN),
        ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS)
    };
    let received = spec.sign();
    assert_eq!(received.headers["x-amz-security-token"], SESSION_TOKEN);
    assert_eq!(check(&received).unwrap().access_key_id, SESSION_AKID);

    let wrong = Spec { token: Some("another-token"), ..spec.clone() }.sign();
    let err = expect_err(check(&wrong), "InvalidClientTokenId", &wrong);
    assert_eq!(err.access_key_id(), Some(SESSION_AKID));

    let missing = Spec { token: None, ..spec.clone() }.sign();
    expect_err(check(&missing), "InvalidClientTokenId", &missing);

    let unexpected =
        Spec { token: Some(SESSION_TOKEN), ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) }.sign();
    expect_err(check(&unexpected), "InvalidClientTokenId", &unexpected);

    let presigned = Spec {
        akid: SESSION_AKID,
        secret: SESSION_SECRET,
        token: Some(SESSION_TOKEN),
        ..Spec::presigned_get("http://localhost:4566/?Action=ListMetrics", 5 * MINUTE)
    }
    .sign();
    assert!(presigned.query.as_deref().unwrap().contains("X-Amz-Security-Token="));
    assert!(check(&presigned).unwrap().presigned);
}

#[test]
fn presigned_get_with_query_params_verifies() {
    let spec = Spec::presigned_get(
        "http://localhost:4566/?Action=GetMetricStatistics&Namespace=AWS%2FEC2&Dimensions.member.1.Name=InstanceId",
        15 * MINUTE,
    );
    let received = spec.sign();
    assert!(received.headers.get("authorization").is_none());
    let verified = check(&received).unwrap();
    assert!(verified.presigned);
    assert_eq!(verified.service, "monitoring");
    // Still valid at the last second of its lifetime.
    assert!(check_at(&received, ts(t0() + 15 * MINUTE)).is_ok());
}

#[test]
fn presigned_post_with_body_verifies_and_binds_the_body() {
    let spec = Spec { presign: Some(10 * MINUTE), ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) };
    let received = spec.sign();
    assert!(check(&received).unwrap().presigned);
    let mut altered = received.clone();
    altered.body[3] ^= 1;
    expect_err(check(&altered), "SignatureDoesNotMatch", &altered);
}

#[test]
fn presigned_with_unsigned_payload_verifies_with_any_body() {
    let spec = Spec { unsigned_payload: true, ..Spec::presigned_get("http://localhost:4566/x", 5 * MINUTE) };
    let mut received = spec.sign();
    assert!(check(&received).is_ok());
    received.body = b"whatever".to_vec();
    assert!(check(&received).is_ok());
}

#[test]
fn wrong_secret_is_signature_does_not_match() {
    let received =
        Spec { secret: "not-the-secret", ..Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA) }.sign();
    let err = expect_err(check(&received), "SignatureDoesNotMatch", &received);
    assert_eq!(err.status(), 403);
    assert_eq!(err.access_key_id(), Some(AKID));
    assert_eq!(
        err.message(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access \
         Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn any_change_to_body_or_signed_parts_is_rejected() {
    let received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();

    let mut body = received.clone();
    body.body[10] = body.body[10].wrapping_add(1);
    expect_err(check(&body), "SignatureDoesNotMatch", &body);

    let mut header = received.clone();
    header.set_header("x-amz-target", "GraniteServiceVersion20100801.DeleteAlarms");
    expect_err(check(&header), "SignatureDoesNotMatch", &header);

    let mut path = received.clone();
    path.path = "/other".to_string();
    expect_err(check(&path), "SignatureDoesNotMatch", &path);

    let mut query = received.clone();
    query.query = Some("a=1".to_string());
    expect_err(check(&query), "SignatureDoesNotMatch", &query);

    let mut method = received.clone();
    method.method = "PUT".to_string();
    expect_err(check(&method), "SignatureDoesNotMatch", &method);

    let mut region = received.clone();
    let auth = region.authorization().replace("/us-east-1/", "/us-west-2/");
    region.set_header("authorization", &auth);
    expect_err(check(&region), "SignatureDoesNotMatch", &region);

    // Headers that were not signed may change (proxies add them); the signed ones may not.
    let mut unsigned = received.clone();
    unsigned.set_header("user-agent", "changed-by-a-proxy");
    unsigned.set_header("x-forwarded-for", "10.0.0.1");
    assert!(check(&unsigned).is_ok());
}

#[test]
fn gzip_body_is_verified_over_the_compressed_bytes() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&PUT_METRIC_DATA.repeat(200)).unwrap();
    let compressed = encoder.finish().unwrap();
    let spec = Spec {
        headers: vec![
            ("content-type", "application/x-amz-json-1.0"),
            ("content-encoding", "gzip"),
            ("x-amz-target", CW_TARGET),
        ],
        ..Spec::json_post("monitoring", CW_TARGET, &compressed)
    };
    let received = spec.sign();
    assert!(check(&received).is_ok());
    let mut decompressed = received.clone();
    decompressed.body = PUT_METRIC_DATA.repeat(200);
    expect_err(check(&decompressed), "SignatureDoesNotMatch", &decompressed);
}

#[test]
fn requests_more_than_15_minutes_off_are_expired() {
    let past =
        Spec { time: t0() - 16 * MINUTE, ..Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA) }.sign();
    let err = expect_err(check(&past), "RequestExpired", &past);
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.message(),
        "Signature expired: 20251231T234400Z is now earlier than 20251231T234500Z (20260101T000000Z - 15 min.)"
    );
    assert_eq!(err.access_key_id(), Some(AKID));

    let future =
        Spec { time: t0() + 16 * MINUTE, ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) }.sign();
    let err = expect_err(check(&future), "RequestExpired", &future);
    assert_eq!(
        err.message(),
        "Signature not yet current: 20260101T001600Z is still later than 20260101T001500Z (20260101T000000Z + 15 min.)"
    );

    for offset in [-15i64, -14, 14, 15] {
        let time = if offset < 0 {
            t0() - MINUTE * offset.unsigned_abs() as u32
        } else {
            t0() + MINUTE * offset as u32
        };
        let received = Spec { time, ..Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA) }.sign();
        assert!(check(&received).is_ok(), "{offset} minutes should be accepted");
    }
}

#[test]
fn presigned_url_after_its_expiry_is_expired() {
    let received = Spec::presigned_get("http://localhost:4566/?Action=ListMetrics", 5 * MINUTE).sign();
    let err =
        expect_err(check_at(&received, ts(t0() + 5 * MINUTE).plus_millis(1000)), "RequestExpired", &received);
    assert_eq!(err.message(), "Request has expired");
    // A presigned URL may be used long after 15 minutes while it is valid.
    let week = Spec::presigned_get("http://localhost:4566/", Duration::from_secs(604_800)).sign();
    assert!(check_at(&week, ts(t0() + Duration::from_secs(604_000))).is_ok());
    // But not dated too far in the future.
    let future =
        Spec { time: t0() + 20 * MINUTE, ..Spec::presigned_get("http://localhost:4566/", 60 * MINUTE) }
            .sign();
    expect_err(check(&future), "RequestExpired", &future);
}

#[test]
fn x_amz_expires_outside_one_second_to_one_week_is_rejected() {
    for (expires, needle) in [(0u64, "not '0'"), (604_801, "less than a week")] {
        let received = Spec::presigned_get("http://localhost:4566/", Duration::from_secs(expires)).sign();
        assert!(received.query.as_deref().unwrap().contains(&format!("X-Amz-Expires={expires}")));
        let err = expect_err(check(&received), "IncompleteSignature", &received);
        assert!(err.message().contains(needle), "{}", err.message());
    }
    let mut received = Spec::presigned_get("http://localhost:4566/", MINUTE).sign();
    received.query = Some(received.query.unwrap().replace("X-Amz-Expires=60", "X-Amz-Expires=-5"));
    expect_err(check(&received), "IncompleteSignature", &received);
}

#[test]
fn unknown_access_key_is_invalid_client_token_id() {
    let received =
        Spec { akid: "AKIAUNKNOWNKEY000000", ..Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA) }
            .sign();
    let err = expect_err(check(&received), "InvalidClientTokenId", &received);
    assert_eq!(err.access_key_id(), Some("AKIAUNKNOWNKEY000000"));
    assert_eq!(err.message(), "The security token included in the request is invalid.");
    let api = err.to_api_error();
    assert_eq!((api.status, api.shape.as_str()), (403, "UnrecognizedClientException"));
}

#[test]
fn missing_authorization_is_missing_authentication_token() {
    let mut received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();
    received.headers.remove("authorization");
    let err = expect_err(check(&received), "MissingAuthenticationToken", &received);
    assert_eq!((err.status(), err.message().as_str()), (403, "Request is missing Authentication Token"));
    assert_eq!(err.access_key_id(), None);
}

/// A valid header-signed request whose `Authorization` header is replaced by `auth`.
fn with_authorization(auth: &str) -> Received {
    let mut received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();
    received.set_header("authorization", auth);
    received
}

#[test]
fn malformed_authorization_headers_are_incomplete_signature() {
    let good = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign().authorization();
    let cred = format!("Credential={AKID}/20260101/us-east-1/monitoring/aws4_request");
    let sh = "SignedHeaders=content-type;host;x-amz-date;x-amz-target";
    let sig = format!("Signature={}", "ab".repeat(32));
    let cases: Vec<(String, &str)> = vec![
        (format!("AWS4-HMAC-SHA256 {sh}, {sig}"), "Authorization header requires 'Credential' parameter."),
        (format!("AWS4-HMAC-SHA256 {cred}, {sig}"), "Authorization header requires 'SignedHeaders' parameter."),
        (format!("AWS4-HMAC-SHA256 {cred}, {sh}"), "Authorization header requires 'Signature' parameter."),
        (good.replace("aws4_request", "aws5_request"), "valid terminator: 'aws4_request', not 'aws5_request'"),
        (format!("AWS4-HMAC-SHA256 Credential={AKID}/20260101/monitoring/aws4_request, {sh}, {sig}"), "Credential should be of the form"),
        (good.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"),
        (good.replace("content-type;host;", "content-type;"), "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."),
        (format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders, {sig}"), "'SignedHeaders' not a valid key=value pair (missing equal-sign)"),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.secret".to_string(),
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer <redacted>",
        ),
        (String::new(), "Authorization header requires 'Credential' parameter."),
    ];
    for (auth, needle) in cases {
        let received = with_authorization(&auth);
        let err = expect_err(check(&received), "IncompleteSignature", &received);
        assert!(err.message().contains(needle), "for {auth:?}: {}", err.message());
        assert_eq!(err.status(), 400);
        assert!(!err.message().contains("eyJhbGciOiJIUzI1NiJ9"), "bearer token echoed");
    }
    // The key is reported whenever the credential could be read.
    let received = with_authorization(&good.replace("content-type;host;", "content-type;"));
    assert_eq!(check(&received).unwrap_err().access_key_id(), Some(AKID));
    // AWS echoes the header, but never the signature.
    let received = with_authorization(&format!("AWS4-HMAC-SHA256 {cred}, {sig}"));
    let message = check(&received).unwrap_err().message();
    assert!(message.ends_with("Signature=<redacted>"), "{message}");
}

#[test]
fn missing_or_malformed_date_is_incomplete_signature() {
    let mut received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();
    received.headers.remove("x-amz-date");
    let err = expect_err(check(&received), "IncompleteSignature", &received);
    assert!(err.message().starts_with("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential="));
    assert_eq!(err.access_key_id(), Some(AKID));

    received.set_header("x-amz-date", "2026-01-01T00:00:00Z");
    let err = expect_err(check(&received), "IncompleteSignature", &received);
    assert!(err
        .message()
        .starts_with("Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'."));
}

#[test]
fn scope_date_must_equal_request_date() {
    let mut received = Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA).sign();
    let auth = received.authorization().replace("/20260101/", "/20251231/");
    received.set_header("authorization", &auth);
    let err = expect_err(check(&received), "SignatureDoesNotMatch", &received);
    assert_eq!(
        err.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != \
         '20260101', from '20260101T000000Z'."
    );
}

#[test]
fn malformed_presigned_queries_are_incomplete_signature() {
    let received = Spec::presigned_get("http://localhost:4566/?Action=ListMetrics", 5 * MINUTE).sign();
    let query = received.query.clone().unwrap();
    let drop = |name: &str| -> String {
        query.split('&').filter(|p| !p.starts_with(&format!("{name}="))).collect::<Vec<_>>().join("&")
    };
    for name in ["X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"] {
        let broken = Received { query: Some(drop(name)), ..received.clone() };
        let err = expect_err(check(&broken), "IncompleteSignature", &broken);
        assert!(
            err.message().contains(&format!("AWS query-string parameters must include '{name}'.")),
            "{}",
            err.message()
        );
        assert_eq!(err.access_key_id(), Some(AKID));
    }
    let sigv4a = Received {
        query: Some(query.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")),
        ..received.clone()
    };
    expect_err(check(&sigv4a), "IncompleteSignature", &sigv4a);
    let unhosted = Received {
        query: Some(query.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date")),
        ..received.clone()
    };
    expect_err(check(&unhosted), "IncompleteSignature", &unhosted);

    let mut both = received.clone();
    both.set_header("authorization", &Spec::json_post("monitoring", CW_TARGET, b"").sign().authorization());
    let err = expect_err(check(&both), "IncompleteSignature", &both);
    assert!(err.message().starts_with("Only one auth mechanism allowed"));
}

#[test]
fn paths_needing_encoding_verify() {
    for uri in [
        "http://localhost:4566/a%20b/c%2Fd",
        "http://localhost:4566/service/GraniteServiceVersion20100801/operation/PutMetricData",
        "http://localhost:4566/a/./b/../c//d/",
        "http://localhost:4566/%E2%9C%93/~user/(x)!*'@:;=,$&+",
        "http://localhost:4566/a%2e%2E/%25",
    ] {
        let received = Spec { uri, ..Spec::json_post("monitoring", CW_TARGET, PUT_METRIC_DATA) }.sign();
        assert!(check(&received).is_ok(), "header-signed {uri}");
        let presigned = Spec { uri, ..Spec::presigned_get(uri, 5 * MINUTE) }.sign();
        assert!(check(&presigned).is_ok(), "presigned {uri}");
    }
    // The encoded slash is part of the signed path: decoding it is a different path.
    let mut received =
        Spec { uri: "http://localhost:4566/a%20b/c%2Fd", ..Spec::json_post("monitoring", CW_TARGET, b"") }
            .sign();
    received.path = "/a%20b/c/d".to_string();
    expect_err(check(&received), "SignatureDoesNotMatch", &received);
}

#[test]
fn query_strings_with_repeated_keys_empty_values_spaces_and_unicode_verify() {
    let uri = "http://localhost:4566/?b=2&a=1&a=0&empty=&flag&sp=a%20b&plus=a+b&uni=%E2%9C%93&%E2%98%83=snow&x=%2F%3D%26";
    let received =
        Spec { method: "GET", body: b"", uri, ..Spec::json_post("monitoring", CW_TARGET, b"") }.sign();
    assert!(check(&received).is_ok());
    let presigned = Spec::presigned_get(uri, 5 * MINUTE).sign();
    assert!(check(&presigned).is_ok());
    // Reordering the raw query does not change the canonical query.
    let mut reordered = received.clone();
    let mut parts: Vec<&str> = received.query.as_deref().unwrap().split('&').collect();
    parts.reverse();
    reordered.query = Some(parts.join("&"));
    assert!(check(&reordered).is_ok());
    // But changing a repeated key's value does.
    let mut changed = received.clone();
    changed.query = Some(received.query.as_deref().unwrap().replace("a=0", "a=9"));
    expect_err(check(&changed), "SignatureDoesNotMatch", &changed);
}

#[test]
fn x_amz_content_sha256_header_is_checked() {
    let spec = Spec { content_sha256_header: true, ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) };
    let received = spec.sign();
    assert!(received.headers.contains_key("x-amz-content-sha256"));
    assert!(check(&received).is_ok());
    let mut altered = received.clone();
    altered.body.push(b' ');
    let err = expect_err(check(&altered), "SignatureDoesNotMatch", &altered);
    assert!(err.message().contains("x-amz-content-sha256"));

    let unsigned = Spec { unsigned_payload: true, ..spec.clone() }.sign();
    assert_eq!(unsigned.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    let mut any_body = unsigned.clone();
    any_body.body = b"anything".to_vec();
    assert!(check(&any_body).is_ok());
}

#[test]
fn header_signed_requests_must_sign_the_body_hash() {
    // Without an x-amz-content-sha256 header, UNSIGNED-PAYLOAD is not accepted in the header form.
    let received =
        Spec { unsigned_payload: true, ..Spec::json_post("logs", LOGS_TARGET, PUT_LOG_EVENTS) }.sign();
    assert!(!received.headers.contains_key("x-amz-content-sha256"));
    expect_err(check(&received), "SignatureDoesNotMatch", &received);
}

#[test]
fn errors_map_to_aws_codes_statuses_and_shapes() {
    let cases = [
        (
            AuthError::MissingAuthenticationToken,
            "MissingAuthenticationToken",
            "MissingAuthenticationTokenException",
            403,
        ),
        (
            AuthError::IncompleteSignature { message: "x".into(), access_key_id: None },
            "IncompleteSignature",
            "IncompleteSignatureException",
            400,
        ),
        (
            AuthError::InvalidClientTokenId { access_key_id: "k".into() },
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            403,
        ),
    ];
    for (err, code, shape, status) in cases {
        let api = err.to_api_error();
        assert_eq!((api.code.as_str(), api.shape.as_str(), api.status), (code, shape, status));
        assert_eq!(api.fault, watchtrail_core::Fault::Sender);
    }
    let expired = Spec { time: t0() - 20 * MINUTE, ..Spec::json_post("logs", LOGS_TARGET, b"{}") }.sign();
    let api = check(&expired).unwrap_err().to_api_error();
    assert_eq!(
        (api.code.as_str(), api.shape.as_str(), api.status),
        ("RequestExpired", "InvalidSignatureException", 400)
    );
    let wrong = Spec { secret: "x", ..Spec::json_post("logs", LOGS_TARGET, b"{}") }.sign();
    let api = check(&wrong).unwrap_err().to_api_error();
    assert_eq!(
        (api.code.as_str(), api.shape.as_str(), api.status),
        ("SignatureDoesNotMatch", "InvalidSignatureException", 403)
    );
}

#[test]
fn date_header_can_replace_x_amz_date() {
    // Signed by hand (canonical request written out here) with aws-sigv4's key derivation.
    use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
    let date = "Thu, 01 Jan 2026 00:00:00 GMT";
    let body = b"{}";
    let canonical = format!(
        "POST\n/\n\ndate:{date}\nhost:localhost:4566\n\ndate;host\n{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/logs/aws4_request\n{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes()))
    );
    let key = generate_signing_key(SECRET, t0(), "us-east-1", "logs");
    let signature = calculate_signature(key, string_to_sign.as_bytes());
    let mut received = Received {
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: Default::default(),
        body: body.to_vec(),
    };
    received.set_header("host", "localhost:4566");
    received.set_header("date", date);
    received.set_header(
        "authorization",
        &format!("AWS4-HMAC-SHA256 Credential={AKID}/20260101/us-east-1/logs/aws4_request, SignedHeaders=date;host, Signature={signature}"),
    );
    assert_eq!(check(&received).unwrap().service, "logs");
}

#[test]
fn verifier_reuses_cached_keys_and_free_function_agrees() {
    let verifier = Verifier::new();
    let uncached = Verifier::with_cache_capacity(0);
    let store = store();
    for i in 0..50u32 {
        let body = format!("{{\"n\":{i}}}");
        let received = Spec {
            time: t0() + Duration::from_secs(u64::from(i) * 7),
            ..Spec::json_post("logs", LOGS_TARGET, body.as_bytes())
        }
        .sign();
        let now = ts(t0());
        assert!(verifier.verify(&received.as_request(), &store, now).is_ok());
        assert!(uncached.verify(&received.as_request(), &store, now).is_ok());
        assert!(verify(&received.as_request(), &store, now).is_ok());
    }
    assert!(format!("{verifier:?}").contains("cached_keys: 1"));
}

#[test]
fn peek_scope_reads_header_or_query_without_verifying() {
    let expected = CredentialScope {
        access_key_id: AKID.to_string(),
        date: "20260101".to_string(),
        region: "us-east-1".to_string(),
        service: "monitoring".to_string(),
    };
    let header = Spec::json_post("monitoring", CW_TARGET, b"").sign();
    assert_eq!(peek_scope(&header.headers, header.query.as_deref()), Some(expected.clone()));
    let presigned = Spec::presigned_get("http://localhost:4566/?a=b", MINUTE).sign();
    assert_eq!(peek_scope(&presigned.headers, presigned.query.as_deref()), Some(expected));
    // Bad signature, unknown key: still peeked.
    let unknown = with_authorization(
        "AWS4-HMAC-SHA256 Credential=AKX/20200101/eu-west-1/logs/aws4_request, Signature=00",
    );
    assert_eq!(
        peek_scope(&unknown.headers, None).map(|s| (s.access_key_id, s.service)),
        Some(("AKX".into(), "logs".into()))
    );
    assert_eq!(peek_scope(&http::HeaderMap::new(), Some("Action=ListMetrics")), None);
    assert_eq!(peek_scope(&with_authorization("Bearer x").headers, None), None);
}
