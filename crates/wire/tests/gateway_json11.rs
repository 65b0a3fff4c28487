//! The gateway speaks awsJson1_1 for services other than CloudWatch (Logs, CloudTrail,
//! EventBridge): bare `__type` names, no `x-amzn-query-error`, the 1.1 content type, and the
//! same activity record for every outcome — once, also when a write commits it with its data.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use watchtrail_core::{AccountId, ApiError, ManualClock, Timestamp};
use watchtrail_wire::service::{InputErrors, JsonVersion, ServiceSpec};
use watchtrail_wire::{AuthMode, Body, Gateway, GatewayConfig, IncomingRequest, MemoryActivitySink, OperationInfo, Registry, RequestContext};

static ECHO: ServiceSpec = ServiceSpec {
    signing_name: "echo",
    json_target_prefix: Some("Echo_20240101"),
    json_version: JsonVersion::V1_1,
    cbor_service: None,
    query: None,
    query_compatible: false,
    shape_namespace: "com.example.echo",
    input_errors: InputErrors { missing: ("InvalidParameterException", "InvalidParameterException"), invalid: ("InvalidParameterException", "InvalidParameterException") },
    remote_write: None,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EchoIn {
    message: String,
    at: Option<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EchoOut {
    message: String,
    at: Option<Timestamp>,
}

fn gateway(sink: Arc<MemoryActivitySink>) -> Gateway {
    let mut reg = Registry::new();
    reg.register(&ECHO, OperationInfo::new("Echo"), |_ctx: RequestContext, i: EchoIn| async move {
        if i.message == "boom" {
            return Err(ApiError::new("ResourceNotFoundException", "ResourceNotFoundException", watchtrail_core::Fault::Sender, 400, "no boom here"));
        }
        Ok(EchoOut { message: i.message, at: i.at })
    });
    Gateway::new(
        reg,
        GatewayConfig {
            auth: AuthMode::Disabled,
            account_id: AccountId::new("123456789012").unwrap(),
            clock: Arc::new(ManualClock::new(Timestamp::from_secs(1_767_225_600))),
            journal: sink,
        },
    )
}

fn req(target: &str, body: &str) -> IncomingRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/x-amz-json-1.1".parse().unwrap());
    headers.insert("x-amz-target", target.parse().unwrap());
    IncomingRequest { method: http::Method::POST, uri: "/".parse().unwrap(), headers, body: Body::Complete(Bytes::from(body.to_string())), remote: "127.0.0.1:9".parse().unwrap() }
}

#[tokio::test]
async fn json_1_1_success_errors_and_journal() {
    let sink = Arc::new(MemoryActivitySink::default());
    let gw = gateway(sink.clone());

    let ok = gw.handle(req("Echo_20240101.Echo", r#"{"message":"hi","at":1767225600.5}"#)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "application/x-amz-json-1.1");
    assert!(ok.headers().contains_key("x-amzn-requestid"));
    assert_eq!(std::str::from_utf8(ok.body()).unwrap(), r#"{"message":"hi","at":1767225600.5}"#);

    let err = gw.handle(req("Echo_20240101.Echo", r#"{"message":"boom"}"#)).await;
    assert_eq!(err.status(), 400);
    assert!(!err.headers().contains_key("x-amzn-query-error"), "only query-compatible services send it");
    let v: serde_json::Value = serde_json::from_slice(err.body()).unwrap();
    assert_eq!(v["__type"], "ResourceNotFoundException", "JSON 1.1 uses the bare shape name");
    assert_eq!(v["message"], "no boom here");

    let missing = gw.handle(req("Echo_20240101.Echo", "{}")).await;
    let v: serde_json::Value = serde_json::from_slice(missing.body()).unwrap();
    assert_eq!(v["__type"], "InvalidParameterException");
    assert_eq!(v["message"], "The parameter message is required.");

    let unknown = gw.handle(req("Echo_20240101.Nope", "{}")).await;
    let v: serde_json::Value = serde_json::from_slice(unknown.body()).unwrap();
    assert_eq!(v["__type"], "UnknownOperationException");

    let records = sink.records();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].operation.as_deref(), Some("Echo"));
    assert_eq!(records[0].protocol.as_deref(), Some("awsJson1_1"));
    assert_eq!(records[0].principal_arn.as_deref(), Some("arn:aws:iam::123456789012:root"));
    assert_eq!(records[1].error_code.as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(records[2].error_code.as_deref(), Some("InvalidParameterException"));
    assert_eq!(records[3].error_code.as_deref(), Some("UnknownOperationException"));
}

/// A write operation: commits its data through the request's activity transaction, then
/// succeeds, or (message "fail-after") fails after committing.
fn writer_gateway(sink: Arc<MemoryActivitySink>, applied: Arc<std::sync::atomic::AtomicU64>) -> Gateway {
    let mut reg = Registry::new();
    reg.register(&ECHO, OperationInfo::new("Write").no_output(), move |ctx: RequestContext, i: EchoIn| {
        let applied = applied.clone();
        async move {
            let step = Box::new(move |lsn: u64| applied.store(lsn, std::sync::atomic::Ordering::SeqCst));
            ctx.activity
                .commit(watchtrail_wire::DataWrite { kind: 1, bytes: i.message.clone().into_bytes(), on_durable: step })
                .await
                .map_err(|_| ApiError::internal("InternalFailure"))?;
            if i.message == "fail-after" {
                return Err(ApiError::internal("InternalFailure"));
            }
            Ok(())
        }
    });
    Gateway::new(
        reg,
        GatewayConfig {
            auth: AuthMode::Disabled,
            account_id: AccountId::new("123456789012").unwrap(),
            clock: Arc::new(ManualClock::new(Timestamp::from_secs(1_767_225_600))),
            journal: sink,
        },
    )
}

#[tokio::test]
async fn a_write_commits_its_record_with_its_data_once() {
    let sink = Arc::new(MemoryActivitySink::default());
    let applied = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let gw = writer_gateway(sink.clone(), applied.clone());

    let ok = gw.handle(req("Echo_20240101.Write", r#"{"message":"hi"}"#)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(applied.load(std::sync::atomic::Ordering::SeqCst), 1, "the data's on-durable step ran");
    let records = sink.records();
    assert_eq!(records.len(), 1, "the record committed with the data is not appended again");
    assert_eq!((records[0].operation.as_deref(), records[0].http_status, records[0].error_code.as_deref()), (Some("Write"), 200, None));
    assert_eq!(records[0].request_id, ok.headers()["x-amzn-requestid"].to_str().unwrap());

    // A handler that fails after committing: the committed record says success, so the
    // failure is recorded as well.
    let failed = gw.handle(req("Echo_20240101.Write", r#"{"message":"fail-after"}"#)).await;
    assert_eq!(failed.status(), 500);
    let records = sink.records();
    assert_eq!(records.len(), 3);
    assert_eq!((records[1].http_status, records[2].http_status), (200, 500));
    assert_eq!(records[2].error_code.as_deref(), Some("InternalFailure"));
    assert_eq!(records[1].request_id, records[2].request_id);
}
