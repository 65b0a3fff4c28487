//! The Prometheus remote-write receiver: snappy-compressed protobuf bodies, signed as
//! Prometheus signs them (SigV4, service `aps`), stored durably and read back through the
//! official Rust SDK; refusals as Prometheus expects them (4xx, nothing half-told).

mod common;
mod raw;

use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat, ScanBy, Statistic};
use common::*;
use prost::Message;
use raw::{Client, Request};
use watchtrail_metrics_lang::remote_write::{Label, Sample, TimeSeries, WriteRequest};

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels.iter().map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect(),
        samples: samples.iter().map(|&(timestamp, value)| Sample { value, timestamp }).collect(),
    }
}

fn write(path: &str, req: &WriteRequest) -> Request {
    let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).expect("snappy");
    Request::post(path)
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(body)
}

fn prometheus_client(ts: &TestServer) -> Client {
    let mut c = Client::new(&ts.server.endpoint(), AKID, SECRET);
    c.service = "aps".into();
    c
}

fn dim(n: &str, v: &str) -> Dimension {
    Dimension::builder().name(n).value(v).build()
}

#[tokio::test]
async fn samples_are_stored_and_read_back_through_the_sdk() {
    let ts = start().await;
    let client = prometheus_client(&ts);
    let (_, now) = minute_now();
    let t0 = (now - 600) * 1000;
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let req = WriteRequest {
        timeseries: vec![
            series(
                &[("__name__", "node_cpu_seconds_total"), ("cpu", "0"), ("mode", "idle"), ("instance", "h1:9100"), ("job", "node")],
                &[(t0, 1.0), (t0 + 15_000, 2.0), (t0 + 30_000, 3.0), (t0 + 45_500, 4.0), (t0 + 60_000, stale)],
            ),
            series(&[("__name__", "up"), ("job", "node"), ("instance", "h1:9100"), ("__meta_x", "dropped")], &[(t0, 1.0)]),
        ],
    };
    let resp = client.send(write("/api/v1/write?namespace=Node", &req)).await.expect("send");
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    let rid = resp.request_id().expect("request id").to_string();

    let cw = cloudwatch(&ts);
    let listed = cw.list_metrics().namespace("Node").send().await.unwrap();
    let mut names: Vec<_> = listed.metrics().iter().map(|m| (m.metric_name().unwrap().to_string(), m.dimensions().len())).collect();
    names.sort();
    assert_eq!(names, [("node_cpu_seconds_total".to_string(), 4), ("up".to_string(), 2)], "labels are dimensions, __* labels dropped");

    let cpu_dims = [dim("cpu", "0"), dim("instance", "h1:9100"), dim("job", "node"), dim("mode", "idle")];
    let stats = cw
        .get_metric_statistics()
        .namespace("Node")
        .metric_name("node_cpu_seconds_total")
        .set_dimensions(Some(cpu_dims.to_vec()))
        .start_time(at(t0 / 1000))
        .end_time(at(t0 / 1000 + 120))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .send()
        .await
        .unwrap();
    let dp = stats.datapoints();
    assert_eq!(dp.len(), 1, "the staleness marker is not a value: {dp:?}");
    assert_eq!((dp[0].sum(), dp[0].sample_count()), (Some(10.0), Some(4.0)));

    // High resolution: 15-second samples read back at a 5-second period, timestamps floored
    // to the second.
    let metric = Metric::builder().namespace("Node").metric_name("node_cpu_seconds_total").set_dimensions(Some(cpu_dims.to_vec())).build();
    let out = cw
        .get_metric_data()
        .metric_data_queries(MetricDataQuery::builder().id("c").metric_stat(MetricStat::builder().metric(metric).period(5).stat("Maximum").build()).build())
        .start_time(at(t0 / 1000))
        .end_time(at(t0 / 1000 + 60))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .unwrap();
    let r = &out.metric_data_results()[0];
    let got: Vec<(i64, f64)> = r.timestamps().iter().map(|t| t.secs() - t0 / 1000).zip(r.values().iter().copied()).collect();
    assert_eq!(got, [(0, 1.0), (15, 2.0), (30, 3.0), (45, 4.0)]);

    // Signed for CloudWatch itself works too; without ?namespace= the namespace is Prometheus.
    let mut c2 = Client::new(&ts.server.endpoint(), AKID, SECRET);
    c2.service = "monitoring".into();
    let req = WriteRequest { timeseries: vec![series(&[("__name__", "up")], &[(t0, 0.0)])] };
    let resp = c2.send(write("/api/v1/write", &req)).await.unwrap();
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    let listed = cw.list_metrics().namespace("Prometheus").send().await.unwrap();
    assert_eq!(listed.metrics().len(), 1);

    // The call is in the activity journal, summarized, with the key that signed it.
    let rec = ts.server.journal().find(&rid).expect("journaled");
    assert_eq!(rec.operation.as_deref(), Some("RemoteWrite"));
    assert_eq!(rec.protocol.as_deref(), Some("prometheusRemoteWrite"));
    assert_eq!((rec.http_status, rec.access_key_id.as_deref()), (204, Some(AKID)));
    assert!(rec.request_parameters.as_ref().is_some_and(|p| p["bodyBytes"].as_u64().unwrap_or(0) > 0), "{:?}", rec.request_parameters);
}

#[tokio::test]
async fn refusals_are_4xx_and_what_is_valid_is_stored() {
    let ts = start().await;
    let client = prometheus_client(&ts);
    let (_, now) = minute_now();
    let t0 = (now - 600) * 1000;
    let ok = WriteRequest { timeseries: vec![series(&[("__name__", "up")], &[(t0, 1.0)])] };

    let unsigned = client.send_unsigned(&write("/api/v1/write", &ok)).await.unwrap();
    assert_eq!(unsigned.status, 403, "{}", unsigned.body_text());
    let mut logs = prometheus_client(&ts);
    logs.service = "logs".into();
    let wrong_service = logs.send(write("/api/v1/write", &ok)).await.unwrap();
    assert_eq!(wrong_service.status, 403);
    assert!(wrong_service.body_text().contains("SignatureDoesNotMatch"), "{}", wrong_service.body_text());
    let mut get = write("/api/v1/write", &ok);
    get.method = "GET".into();
    assert_eq!(client.send(get).await.unwrap().status, 405);
    let mut json = write("/api/v1/write", &ok);
    json.set_header("content-type", "application/json");
    assert_eq!(client.send(json).await.unwrap().status, 415);
    let garbage = Request::post("/api/v1/write").header("content-type", "application/x-protobuf").header("content-encoding", "snappy").body(b"not snappy at all".to_vec());
    let resp = client.send(garbage).await.unwrap();
    assert_eq!(resp.status, 400);
    assert!(resp.body_text().contains("snappy"), "{}", resp.body_text());
    let bad_ns = client.send(write("/api/v1/write?namespace=", &ok)).await.unwrap();
    assert_eq!(bad_ns.status, 400, "an empty namespace is refused");

    // A batch mixing good and bad series: the good samples are stored, the answer is 400 and
    // says what was refused.
    let many: Vec<(String, String)> = (0..31).map(|i| (format!("l{i:02}"), "v".to_string())).collect();
    let mut many_labels: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    many_labels.push(("__name__", "wide"));
    let mixed = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "good"), ("host", "a")], &[(t0, 5.0), (t0 - 21 * 86_400_000, 6.0)]),
            series(&[("host", "nameless")], &[(t0, 7.0)]),
            series(&many_labels, &[(t0, 8.0), (t0 + 1000, 9.0)]),
            series(&[("__name__", "good"), ("host", "b")], &[(t0, 10.0), (t0 + 1000, f64::NAN)]),
        ],
    };
    let resp = client.send(write("/api/v1/write?namespace=Mixed", &mixed)).await.unwrap();
    assert_eq!(resp.status, 400);
    let text = resp.body_text();
    assert!(text.contains("stored 2 samples, refused 4"), "{text}");
    assert!(text.contains("skipped 1 NaN"), "{text}");
    let rid = resp.request_id().unwrap().to_string();
    let rec = ts.server.journal().find(&rid).expect("journaled once");
    assert_eq!((rec.http_status, rec.error_code.as_deref()), (400, Some("InvalidParameterValue")));

    let cw = cloudwatch(&ts);
    let listed = cw
        .list_metrics()
        .namespace("Mixed")
        .dimensions(DimensionFilter::builder().name("host").build())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.metrics().len(), 2, "both good series are stored");
    let stats = cw
        .get_metric_statistics()
        .namespace("Mixed")
        .metric_name("good")
        .dimensions(dim("host", "a"))
        .start_time(at(t0 / 1000 - 60))
        .end_time(at(t0 / 1000 + 60))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    assert_eq!(stats.datapoints().iter().map(|d| d.sum().unwrap()).sum::<f64>(), 5.0);
}
