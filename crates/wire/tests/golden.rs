//! Golden files for the wire formats: what the decoders make of fixed inputs and the exact bytes
//! the gateway renders for successes and errors in each protocol. Snapshots live in
//! `tests/snapshots/`; review changes with `cargo insta review`.

use bytes::Bytes;
use serde::Serialize;
use std::sync::Arc;
use watchtrail_core::{AccountId, ApiError, Fault, ManualClock, Timestamp};
use watchtrail_wire::codec::{cbor, json, query};
use watchtrail_wire::{AuthMode, Body, Gateway, GatewayConfig, IncomingRequest, MemoryActivitySink, OperationInfo, Registry, RequestContext, Value, CLOUDWATCH};

#[test]
fn query_form_decodes_to_a_tree() {
    let q = query::decode(
        b"Action=PutMetricData&Version=2010-08-01&Namespace=App%2FWeb&MetricData.member.1.MetricName=Latency\
&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=a%20b\
&MetricData.member.1.Values.member.1=1.5&MetricData.member.1.Values.member.2=2&MetricData.member.1.Counts.member.1=3\
&MetricData.member.1.Counts.member.2=1&MetricData.member.1.Timestamp=2026-01-01T00%3A00%3A00Z\
&MetricData.member.2.MetricName=Empty&MetricData.member.2.Dimensions=&Tags.entry.1.key=k&Tags.entry.1.value=v",
    )
    .unwrap();
    insta::assert_debug_snapshot!(q);
}

#[test]
fn json_and_cbor_decode_to_the_same_tree() {
    let j = json::decode(br#"{"Namespace":"A","MetricData":[{"MetricName":"m","Value":1.5,"Timestamp":1767225600}]}"#).unwrap();
    insta::assert_debug_snapshot!("json_decoded", j);
    let c = cbor::decode(&cbor::encode(&j)).unwrap();
    // CBOR carries the integer 1767225600 as an integer too; only a timestamp tag would differ.
    assert_eq!(c, j);
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Out {
    label: String,
    datapoints: Vec<Point>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Point {
    timestamp: Timestamp,
    sum: f64,
    unit: &'static str,
    extended_statistics: std::collections::BTreeMap<String, f64>,
}

fn gateway() -> Gateway {
    let mut reg = Registry::new();
    reg.register(&CLOUDWATCH, OperationInfo::new("GetMetricStatistics"), |_ctx: RequestContext, v: serde_json::Value| async move {
        if v.get("Namespace").and_then(|n| n.as_str()) == Some("fail") {
            return Err(ApiError::new("InvalidParameterValue", "InvalidParameterValueException", Fault::Sender, 400, "The value fail for parameter Namespace is invalid."));
        }
        Ok(Out {
            label: "Latency".into(),
            datapoints: vec![Point {
                timestamp: Timestamp::from_secs(1_767_225_600),
                sum: 3.0,
                unit: "Milliseconds",
                extended_statistics: [("p99".to_string(), 2.5)].into_iter().collect(),
            }],
        })
    });
    Gateway::new(
        reg,
        GatewayConfig {
            auth: AuthMode::Disabled,
            account_id: AccountId::new("123456789012").unwrap(),
            clock: Arc::new(ManualClock::new(Timestamp::from_secs(1_767_225_600))),
            journal: Arc::new(MemoryActivitySink::default()),
        },
    )
}

async fn call(proto: &str, namespace: &str) -> String {
    let mut headers = http::HeaderMap::new();
    let (path, body): (&str, Vec<u8>) = match proto {
        "json" => {
            headers.insert("content-type", "application/x-amz-json-1.0".parse().unwrap());
            headers.insert("x-amz-target", "GraniteServiceVersion20100801.GetMetricStatistics".parse().unwrap());
            ("/", format!(r#"{{"Namespace":"{namespace}"}}"#).into_bytes())
        }
        "cbor" => {
            headers.insert("content-type", "application/cbor".parse().unwrap());
            headers.insert("smithy-protocol", "rpc-v2-cbor".parse().unwrap());
            let v = Value::Struct(vec![("Namespace".into(), Value::String(namespace.into()))]);
            ("/service/GraniteServiceVersion20100801/operation/GetMetricStatistics", cbor::encode(&v))
        }
        _ => {
            headers.insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
            ("/", format!("Action=GetMetricStatistics&Version=2010-08-01&Namespace={namespace}").into_bytes())
        }
    };
    let resp = gateway()
        .handle(IncomingRequest { method: http::Method::POST, uri: path.parse().unwrap(), headers, body: Body::Complete(Bytes::from(body)), remote: "127.0.0.1:9".parse().unwrap() })
        .await;
    let rid = resp.headers()["x-amzn-requestid"].to_str().unwrap().to_string();
    let mut out = format!("status: {}\n", resp.status());
    let mut names: Vec<_> = resp.headers().keys().map(|k| k.as_str().to_string()).collect();
    names.sort();
    for n in names {
        if n != "x-amzn-requestid" {
            out.push_str(&format!("{n}: {}\n", resp.headers()[n.as_str()].to_str().unwrap()));
        }
    }
    let body = if proto == "cbor" { hex(resp.body()) } else { String::from_utf8(resp.body().to_vec()).unwrap() };
    out.push_str(&body.replace(&rid, "<request-id>"));
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn rendered_responses_per_protocol() {
    for proto in ["json", "cbor", "query"] {
        insta::assert_snapshot!(format!("{proto}_success"), call(proto, "ok").await);
        insta::assert_snapshot!(format!("{proto}_error"), call(proto, "fail").await);
    }
}
