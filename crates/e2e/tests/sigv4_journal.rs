//! SigV4 through the running server: valid, presigned, wrong secret, altered body, expired
//! date, unknown key and missing headers each get the right outcome in every CloudWatch
//! protocol, and every call — failed ones included — is in the activity journal with the key
//! it was signed with and never a secret.

mod common;
mod raw;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use raw::{Client, Proto, Request};
use serde_json::json;
use std::time::{Duration, SystemTime};

const PROTOS: [Proto; 3] = [Proto::Json, Proto::Cbor, Proto::Query];

/// Signs `req` as `akid`/`secret` at `time`, in headers or (presigned) in the query string.
fn sign_at(client: &Client, req: &mut Request, akid: &str, secret: &str, time: SystemTime, presign: bool) {
    let host = client.addr.to_string();
    req.set_header("host", host.clone());
    let identity: Identity = Credentials::new(akid, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    if presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("monitoring")
        .time(time)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let uri = format!("http://{host}{}", req.path);
    let headers = req.headers.clone();
    let signable = SignableRequest::new(&req.method, uri, headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), SignableBody::Bytes(&req.body))
        .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    for (name, value) in instructions.headers() {
        req.set_header(name, value);
    }
    let extra: Vec<String> = instructions.params().iter().map(|(k, v)| format!("{}={}", raw::percent_encode(k), raw::percent_encode(v))).collect();
    if !extra.is_empty() {
        let sep = if req.path.contains('?') { '&' } else { '?' };
        req.path = format!("{}{sep}{}", req.path, extra.join("&"));
    }
}

struct Case {
    name: &'static str,
    status: u16,
    code: Option<&'static str>,
    journal_key: Option<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signature_outcome_is_right_and_journaled() {
    let ts = common::start().await;
    let client = Client::new(&ts.server.endpoint(), common::AKID, common::SECRET);
    let now = SystemTime::now();
    let list = json!({});
    for proto in PROTOS {
        let mut cases: Vec<(Case, Request)> = Vec::new();
        let base = || raw::request(proto, "ListMetrics", &list);

        let mut r = base();
        sign_at(&client, &mut r, common::AKID, common::SECRET, now, false);
        cases.push((Case { name: "valid", status: 200, code: None, journal_key: Some(common::AKID) }, r));

        let mut r = base();
        sign_at(&client, &mut r, common::AKID, "not-the-secret", now, false);
        cases.push((Case { name: "wrong secret", status: 403, code: Some("SignatureDoesNotMatch"), journal_key: Some(common::AKID) }, r));

        let mut r = raw::request(proto, "PutMetricData", &json!({"Namespace": "Sig", "MetricData": [{"MetricName": "m", "Value": 1.0}]}));
        sign_at(&client, &mut r, common::AKID, common::SECRET, now, false);
        let last = r.body.len() - 2;
        r.body[last] ^= 0x01;
        cases.push((Case { name: "altered body", status: 403, code: Some("SignatureDoesNotMatch"), journal_key: Some(common::AKID) }, r));

        let mut r = base();
        sign_at(&client, &mut r, common::AKID, common::SECRET, now - Duration::from_secs(20 * 60), false);
        cases.push((Case { name: "expired date", status: 400, code: Some("RequestExpired"), journal_key: Some(common::AKID) }, r));

        let mut r = base();
        sign_at(&client, &mut r, "AKIAUNKNOWNKEY000000", common::SECRET, now, false);
        cases.push((Case { name: "unknown key", status: 403, code: Some("InvalidClientTokenId"), journal_key: Some("AKIAUNKNOWNKEY000000") }, r));

        let r = base().header("host", client.addr.to_string());
        cases.push((Case { name: "no signature", status: 403, code: Some("MissingAuthenticationToken"), journal_key: None }, r));

        let mut r = base();
        sign_at(&client, &mut r, common::AKID, common::SECRET, now, false);
        r.remove_header("x-amz-date");
        cases.push((Case { name: "missing X-Amz-Date", status: 400, code: Some("IncompleteSignature"), journal_key: Some(common::AKID) }, r));

        let mut r = base();
        sign_at(&client, &mut r, common::AKID, common::SECRET, now, false);
        let auth = r.get_header("authorization").expect("authorization").to_string();
        r.set_header("authorization", auth.split(", Signature=").next().unwrap_or_default().to_string());
        cases.push((Case { name: "Authorization without Signature", status: 400, code: Some("IncompleteSignature"), journal_key: Some(common::AKID) }, r));

        for (case, req) in cases {
            let resp = client.send_unsigned(&req).await.unwrap_or_else(|e| panic!("{proto} {}: {e}", case.name));
            let err = resp.error();
            assert_eq!(resp.status, case.status, "{proto} {}: {}", case.name, resp.body_text());
            assert_eq!(err.query_code().as_deref(), case.code, "{proto} {}", case.name);
            let rid = resp.request_id().unwrap_or_else(|| panic!("{proto} {}: no request id", case.name));
            let rec = ts.server.journal().find(rid).unwrap_or_else(|| panic!("{proto} {}: not in the journal", case.name));
            assert_eq!(rec.error_code.as_deref(), case.code, "{proto} {}", case.name);
            assert_eq!(rec.access_key_id.as_deref(), case.journal_key, "{proto} {}", case.name);
            assert_eq!(rec.http_status, case.status);
            assert_eq!(rec.source_ip, "127.0.0.1");
            let text = serde_json::to_string(&rec).expect("record json");
            assert!(!text.contains(common::SECRET), "{proto} {}: secret in the journal", case.name);
            if case.status == 200 {
                assert_eq!(rec.principal_arn.as_deref(), Some("arn:aws:iam::123456789012:root"));
                assert_eq!(rec.operation.as_deref(), Some("ListMetrics"));
                assert_eq!(rec.region.as_deref(), Some("us-east-1"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_query_requests_work_and_expire() {
    let ts = common::start().await;
    let client = Client::new(&ts.server.endpoint(), common::AKID, common::SECRET);
    let mk = || Request { method: "GET".into(), path: "/?Action=ListMetrics&Version=2010-08-01".into(), headers: Vec::new(), body: Vec::new() };

    let mut ok = mk();
    sign_at(&client, &mut ok, common::AKID, common::SECRET, SystemTime::now(), true);
    assert!(ok.path.contains("X-Amz-Signature="), "{}", ok.path);
    let resp = client.send_unsigned(&ok).await.expect("presigned");
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert!(resp.body_text().contains("<ListMetricsResponse"));
    let rec = ts.server.journal().find(resp.request_id().expect("rid")).expect("journaled");
    assert_eq!(rec.access_key_id.as_deref(), Some(common::AKID));
    assert_eq!(rec.protocol.as_deref(), Some("awsQuery"));

    let mut old = mk();
    sign_at(&client, &mut old, common::AKID, common::SECRET, SystemTime::now() - Duration::from_secs(600), true);
    let resp = client.send_unsigned(&old).await.expect("expired presigned");
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error().query_code().as_deref(), Some("RequestExpired"));
    assert!(ts.server.journal().find(resp.request_id().expect("rid")).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_prometheus_endpoints() {
    let ts = common::start().await;
    let client = Client::new(&ts.server.endpoint(), common::AKID, common::SECRET);
    let r = client.call(Proto::Json, "PutMetricData", &json!({"Namespace": "Ops", "MetricData": [{"MetricName": "m", "Value": 1.0}]})).await;
    assert_eq!(r.status, 200);
    let get = |path: &str| Request { method: "GET".into(), path: path.into(), headers: vec![("host".into(), client.addr.to_string())], body: Vec::new() };
    let health = client.send_unsigned(&get("/_watchtrail/health")).await.expect("health");
    assert_eq!(health.status, 200);
    let h: serde_json::Value = serde_json::from_slice(&health.body).expect("health json");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["account"], "123456789012");
    let metrics = client.send_unsigned(&get("/metrics")).await.expect("metrics");
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(text.contains(r#"watchtrail_gateway_requests_total{service="monitoring",operation="PutMetricData",status="2xx"} 1"#), "{text}");
    let value = |name: &str| -> f64 {
        text.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    // One PutMetricData: its data and its activity record are one commit-log record, one fsync.
    assert_eq!(value(r#"watchtrail_wal_records{wal="commit"}"#), 1.0);
    assert_eq!(value(r#"watchtrail_wal_fsyncs{wal="commit"}"#), 1.0);
    assert!(value("watchtrail_metric_head_samples") >= 1.0);
    // The log store's figures are exported too (nothing logged yet).
    assert_eq!(value("watchtrail_log_head_bytes"), 0.0);
    assert_eq!(value("watchtrail_log_segments_expired"), 0.0);
    assert_eq!(value("watchtrail_log_events_flushed"), 0.0);
}
