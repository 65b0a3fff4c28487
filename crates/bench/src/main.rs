//! `metrics-api-bench`: a load generator for CloudWatch PutMetricData and GetMetricStatistics.
//!
//! Every request is signed with the official `aws-sigv4` crate (service `monitoring`,
//! region `us-east-1`) and sent over HTTP/1.1 keep-alive. Each of the `--concurrency` workers
//! owns exactly one connection (reopened only if the server closes it), so the number of
//! connections equals the concurrency. Request bodies are generated deterministically from
//! `--base-time`, so two peers given the same base time receive byte-identical bodies (only
//! the `Host` header, `X-Amz-Date` and the signature differ).
//!
//! Subcommands (each prints one JSON object on stdout):
//! - `seed`: a fixed number of PutMetricData calls (identical data on every peer).
//! - `put`: PutMetricData for a fixed duration; calls/s and latency.
//! - `get-stats`: GetMetricStatistics over the seeded series; latency percentiles.
//! - `probe`: one PutMetricData and one GetMetricStatistics, with status and body shown.
//!
//! Any answer other than HTTP 200 counts as an error; a run with errors has `"flagged": true`
//! and keeps a few samples of the failing responses.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NAMESPACE: &str = "Bench/MetricsApi";
const METRICS: [(&str, &str); 4] =
    [("Latency", "Milliseconds"), ("Requests", "Count"), ("Errors", "Count"), ("PayloadBytes", "Bytes")];
const HOSTS: usize = 8;
/// Distinct PutMetricData bodies cycled through by the workers.
const PUT_POOL: usize = 64;
/// Seeded data spans this many minutes before the base time.
const SPREAD_MINUTES: u64 = 10;
const REGION: &str = "us-east-1";
const SERVICE: &str = "monitoring";
const MAX_ERROR_SAMPLES: usize = 5;

#[derive(Debug, Parser)]
#[command(name = "metrics-api-bench", about = "PutMetricData / GetMetricStatistics load generator")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// PutMetricData for a fixed duration.
    Put(PutArgs),
    /// A fixed number of PutMetricData calls (the same data on every peer).
    Seed(SeedArgs),
    /// GetMetricStatistics over the seeded series (1-hour window, period 60).
    GetStats(GetArgs),
    /// One PutMetricData and one GetMetricStatistics; prints statuses and bodies.
    Probe(Common),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Protocol {
    /// awsJson1_0 with `x-amzn-query-mode: true`.
    Json,
    /// awsQuery (form-encoded body, XML answer).
    Query,
}

#[derive(Debug, Args, Clone)]
struct Common {
    /// Base URL, e.g. http://127.0.0.1:4590 (loopback only).
    #[arg(long)]
    endpoint: String,
    #[arg(long, value_enum, default_value = "json")]
    protocol: Protocol,
    /// Epoch seconds that timestamps in bodies are derived from [default: now]. Give both peers
    /// the same value to send them byte-identical bodies.
    #[arg(long)]
    base_time: Option<u64>,
    #[arg(long, env = "BENCH_ACCESS_KEY_ID", default_value = "AKIABENCHMARK0000001")]
    access_key_id: String,
    #[arg(long, env = "BENCH_SECRET_ACCESS_KEY", default_value = "benchmarkSecretKey0000000000000000000000")]
    secret_access_key: String,
    /// Tokio worker threads of the load generator (it shares the CPU with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Per-request timeout in seconds (a timeout counts as an error).
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Label copied into the JSON output.
    #[arg(long, default_value = "")]
    label: String,
}

#[derive(Debug, Args)]
struct PutArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Datums per PutMetricData call.
    #[arg(long, default_value_t = 20)]
    datums: usize,
    /// Upper bound on calls, whatever the duration.
    #[arg(long, default_value_t = 5_000_000)]
    max_calls: u64,
}

#[derive(Debug, Args)]
struct SeedArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Number of PutMetricData calls.
    #[arg(long, default_value_t = 256)]
    calls: u64,
    #[arg(long, default_value_t = 20)]
    datums: usize,
    /// Upper bound on the time spent, whatever the count.
    #[arg(long, default_value_t = 60)]
    max_secs: u64,
}

#[derive(Debug, Args)]
struct GetArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 1000)]
    requests: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Upper bound on the time spent, whatever the count.
    #[arg(long, default_value_t = 60)]
    max_secs: u64,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Cmd::Put(a) => a.common.threads,
        Cmd::Seed(a) => a.common.threads,
        Cmd::GetStats(a) => a.common.threads,
        Cmd::Probe(a) => a.threads,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("metrics-api-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<Value, String> {
    match cli.command {
        Cmd::Put(a) => {
            let target = Target::new(&a.common)?;
            let bodies = put_bodies(a.common.protocol, target.base_time, a.datums, PUT_POOL);
            let plan = Plan {
                op: "PutMetricData",
                bodies,
                concurrency: a.concurrency,
                max_calls: a.max_calls,
                deadline: Duration::from_secs(a.duration_secs),
            };
            let mut out = drive(&target, plan).await;
            out["datums_per_call"] = json!(a.datums);
            out["datums_per_sec"] = json!(round2(out["calls_per_sec"].as_f64().unwrap_or(0.0) * a.datums as f64));
            Ok(decorate(out, "put", &a.common, &target))
        }
        Cmd::Seed(a) => {
            let target = Target::new(&a.common)?;
            // The pool cycles, so the calls land on every series; the same count on every
            // peer gives the same stored data.
            let bodies = put_bodies(a.common.protocol, target.base_time, a.datums, PUT_POOL);
            let plan = Plan {
                op: "PutMetricData",
                bodies,
                concurrency: a.concurrency,
                max_calls: a.calls,
                deadline: Duration::from_secs(a.max_secs),
            };
            let mut out = drive(&target, plan).await;
            out["datums_per_call"] = json!(a.datums);
            Ok(decorate(out, "seed", &a.common, &target))
        }
        Cmd::GetStats(a) => {
            let target = Target::new(&a.common)?;
            let bodies = get_bodies(a.common.protocol, target.base_time);
            let plan = Plan {
                op: "GetMetricStatistics",
                bodies,
                concurrency: a.concurrency,
                max_calls: a.requests,
                deadline: Duration::from_secs(a.max_secs),
            };
            let out = drive(&target, plan).await;
            Ok(decorate(out, "get-stats", &a.common, &target))
        }
        Cmd::Probe(c) => {
            let target = Target::new(&c)?;
            let mut conn = Conn::default();
            let put = put_bodies(c.protocol, target.base_time, 20, 1).remove(0);
            let get = get_bodies(c.protocol, target.base_time).remove(0);
            let mut steps = Vec::new();
            for (op, body) in [("PutMetricData", put), ("GetMetricStatistics", get)] {
                let r = target.call(&mut conn, op, body.clone()).await;
                steps.push(match r {
                    Ok(resp) => json!({
                        "op": op,
                        "request_bytes": body.len(),
                        "status": resp.status,
                        "content_type": resp.content_type,
                        "body": String::from_utf8_lossy(&resp.body),
                        "datapoints": count_datapoints(c.protocol, &resp.body),
                    }),
                    Err(e) => json!({"op": op, "transport_error": e}),
                });
            }
            let ok = steps.iter().all(|s| s["status"] == json!(200));
            Ok(json!({"mode": "probe", "endpoint": c.endpoint, "protocol": proto_name(c.protocol), "ok": ok, "steps": steps}))
        }
    }
}

fn decorate(mut out: Value, mode: &str, c: &Common, t: &Target) -> Value {
    out["mode"] = json!(mode);
    out["label"] = json!(c.label);
    out["endpoint"] = json!(c.endpoint);
    out["protocol"] = json!(proto_name(c.protocol));
    out["base_time"] = json!(t.base_time);
    out["client_threads"] = json!(c.threads);
    out
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Json => "json",
        Protocol::Query => "query",
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Request bodies

/// Deterministic pseudo-random numbers (SplitMix64), so both peers get the same values.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A value with two decimals in [0, max).
    fn value(&mut self, max: u64) -> f64 {
        (self.next() % (max * 100)) as f64 / 100.0
    }
}

struct Datum {
    metric: &'static str,
    unit: &'static str,
    host: String,
    timestamp: u64,
    value: f64,
}

/// Datum `i` of body `b`: metric `i % 4`, host `(b + i / 4) % 8`, dimension `Service=bench`,
/// timestamp `base - (b % SPREAD_MINUTES) * 60 - (i % 50)` so that the pool covers every series
/// at every minute of the spread.
fn datums(base: u64, b: usize, n: usize) -> Vec<Datum> {
    let mut rng = Rng(b as u64 * 7919 + 1);
    (0..n)
        .map(|i| {
            let (metric, unit) = METRICS[i % METRICS.len()];
            Datum {
                metric,
                unit,
                host: format!("host-{}", (b + i / METRICS.len()) % HOSTS),
                timestamp: base - (b as u64 % SPREAD_MINUTES) * 60 - (i as u64 % 50),
                value: rng.value(1000),
            }
        })
        .collect()
}

fn put_bodies(p: Protocol, base: u64, n: usize, pool: usize) -> Vec<Bytes> {
    (0..pool)
        .map(|b| {
            let ds = datums(base, b, n);
            match p {
                Protocol::Json => {
                    let data: Vec<Value> = ds
                        .iter()
                        .map(|d| {
                            json!({
                                "MetricName": d.metric,
                                "Dimensions": [{"Name": "Host", "Value": d.host}, {"Name": "Service", "Value": "bench"}],
                                "Timestamp": d.timestamp,
                                "Value": d.value,
                                "Unit": d.unit,
                            })
                        })
                        .collect();
                    Bytes::from(serde_json::to_vec(&json!({"Namespace": NAMESPACE, "MetricData": data})).unwrap())
                }
                Protocol::Query => {
                    let mut s = format!("Action=PutMetricData&Version=2010-08-01&Namespace={}", form(NAMESPACE));
                    for (k, d) in ds.iter().enumerate() {
                        let m = format!("MetricData.member.{}", k + 1);
                        s.push_str(&format!(
                            "&{m}.MetricName={}&{m}.Dimensions.member.1.Name=Host&{m}.Dimensions.member.1.Value={}\
                             &{m}.Dimensions.member.2.Name=Service&{m}.Dimensions.member.2.Value=bench\
                             &{m}.Timestamp={}&{m}.Value={}&{m}.Unit={}",
                            d.metric,
                            d.host,
                            form(&iso8601(d.timestamp)),
                            d.value,
                            d.unit
                        ));
                    }
                    Bytes::from(s)
                }
            }
        })
        .collect()
}

/// One GetMetricStatistics body per series (4 metrics x 8 hosts), over the hour that ends one
/// minute after the base time, period 60, all five statistics.
fn get_bodies(p: Protocol, base: u64) -> Vec<Bytes> {
    let end = (base / 60 + 1) * 60;
    let start = end - 3600;
    let stats = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
    let mut out = Vec::new();
    for h in 0..HOSTS {
        for (metric, _) in METRICS {
            let host = format!("host-{h}");
            out.push(match p {
                Protocol::Json => Bytes::from(
                    serde_json::to_vec(&json!({
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "Host", "Value": host}, {"Name": "Service", "Value": "bench"}],
                        "StartTime": start,
                        "EndTime": end,
                        "Period": 60,
                        "Statistics": stats,
                    }))
                    .unwrap(),
                ),
                Protocol::Query => {
                    let mut s = format!(
                        "Action=GetMetricStatistics&Version=2010-08-01&Namespace={}&MetricName={metric}\
                         &Dimensions.member.1.Name=Host&Dimensions.member.1.Value={host}\
                         &Dimensions.member.2.Name=Service&Dimensions.member.2.Value=bench\
                         &StartTime={}&EndTime={}&Period=60",
                        form(NAMESPACE),
                        form(&iso8601(start)),
                        form(&iso8601(end)),
                    );
                    for (i, st) in stats.iter().enumerate() {
                        s.push_str(&format!("&Statistics.member.{}={st}", i + 1));
                    }
                    Bytes::from(s)
                }
            });
        }
    }
    out
}

/// Minimal form encoding for the characters our bodies contain.
fn form(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => o.push(b as char),
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

/// `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds (Howard Hinnant's civil-from-days).
fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn count_datapoints(p: Protocol, body: &[u8]) -> Option<usize> {
    datapoints_and_samples(p, body).map(|(n, _)| n)
}

/// Number of datapoints and the sum of their SampleCount. Peers may bucket differently (moto
/// starts its buckets at the earliest datapoint, not on a period boundary), so the sample total
/// is what shows that both hold the same data.
fn datapoints_and_samples(p: Protocol, body: &[u8]) -> Option<(usize, f64)> {
    match p {
        Protocol::Json => {
            let v = serde_json::from_slice::<Value>(body).ok()?;
            let a = v.get("Datapoints")?.as_array()?;
            Some((a.len(), a.iter().filter_map(|d| d.get("SampleCount")?.as_f64()).sum()))
        }
        Protocol::Query => {
            let s = std::str::from_utf8(body).ok()?;
            if !s.contains("GetMetricStatisticsResult") {
                return None;
            }
            let samples = s
                .split("<SampleCount>")
                .skip(1)
                .filter_map(|x| x.split('<').next()?.trim().parse::<f64>().ok())
                .sum();
            Some((s.matches("<Timestamp>").count(), samples))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signing and sending

struct Target {
    protocol: Protocol,
    host: String,
    addr: String,
    uri: String,
    identity: Identity,
    base_time: u64,
    timeout: Duration,
}

/// A worker's connection and how many times it was opened.
#[derive(Default)]
struct Conn(Option<http1::SendRequest<Full<Bytes>>>, u64);

struct Resp {
    status: u16,
    content_type: String,
    body: Bytes,
}

impl Target {
    fn new(c: &Common) -> Result<Self, String> {
        let uri: http::Uri = c.endpoint.parse().map_err(|e| format!("bad --endpoint: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err("--endpoint must be http://HOST:PORT".into());
        }
        let auth = uri.authority().ok_or("--endpoint needs a host")?.clone();
        let host = auth.host();
        if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
            return Err("only loopback endpoints are allowed".into());
        }
        let port = auth.port_u16().unwrap_or(80);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        Ok(Target {
            protocol: c.protocol,
            host: auth.to_string(),
            addr: format!("{}:{port}", if host == "localhost" { "127.0.0.1" } else { host.trim_matches(['[', ']']) }),
            uri: format!("http://{auth}/"),
            identity: Credentials::new(&c.access_key_id, &c.secret_access_key, None, None, "bench").into(),
            base_time: c.base_time.unwrap_or(now),
            timeout: Duration::from_secs(c.timeout_secs),
        })
    }

    /// Builds and signs one request (signature computed now, per request).
    fn request(&self, op: &str, body: Bytes) -> Result<http::Request<Full<Bytes>>, String> {
        let target = format!("GraniteServiceVersion20100801.{op}");
        let mut headers: Vec<(&str, &str)> = vec![("host", &self.host)];
        match self.protocol {
            Protocol::Json => {
                headers.push(("content-type", "application/x-amz-json-1.0"));
                headers.push(("x-amz-target", &target));
                headers.push(("x-amzn-query-mode", "true"));
            }
            Protocol::Query => headers.push(("content-type", "application/x-www-form-urlencoded; charset=utf-8")),
        }
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable =
            SignableRequest::new("POST", &self.uri, headers.iter().copied(), SignableBody::Bytes(&body)).map_err(|e| e.to_string())?;
        let (instructions, _sig) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        let mut b = http::Request::builder().method("POST").uri("/");
        for (k, v) in &headers {
            b = b.header(*k, *v);
        }
        for (k, v) in instructions.headers() {
            b = b.header(k, v);
        }
        b.header("content-length", body.len()).body(Full::new(body)).map_err(|e| e.to_string())
    }

    async fn connect(&self) -> Result<http1::SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.addr).await.map_err(|e| format!("connect {}: {e}", self.addr))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends one signed request on the worker's connection, reconnecting first if the server
    /// closed it (moto's server may close after a response). Returns the full response.
    async fn call(&self, conn: &mut Conn, op: &str, body: Bytes) -> Result<Resp, String> {
        let fut = async {
            let reuse = match conn.0.as_mut() {
                Some(s) => s.ready().await.is_ok(),
                None => false,
            };
            if !reuse {
                conn.0 = Some(self.connect().await?);
                conn.1 += 1;
            }
            let sender = conn.0.as_mut().unwrap();
            let req = self.request(op, body)?;
            let resp = sender.send_request(req).await.map_err(|e| {
                format!("send: {e}")
            });
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    conn.0 = None;
                    return Err(e);
                }
            };
            let status = resp.status().as_u16();
            let content_type =
                resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let close = resp.headers().get("connection").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
            let body = resp.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
            if close {
                conn.0 = None;
            }
            Ok(Resp { status, content_type, body })
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                conn.0 = None;
                Err(format!("timeout after {:?}", self.timeout))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The load loop

struct Plan {
    op: &'static str,
    bodies: Vec<Bytes>,
    concurrency: usize,
    max_calls: u64,
    deadline: Duration,
}

#[derive(Default)]
struct Shared {
    errors: Vec<Value>,
    status_counts: std::collections::BTreeMap<String, u64>,
    datapoints: std::collections::BTreeMap<String, u64>,
}

async fn drive(target: &Target, plan: Plan) -> Value {
    let target = Arc::new(Target {
        protocol: target.protocol,
        host: target.host.clone(),
        addr: target.addr.clone(),
        uri: target.uri.clone(),
        identity: target.identity.clone(),
        base_time: target.base_time,
        timeout: target.timeout,
    });
    let bodies = Arc::new(plan.bodies);
    let next = Arc::new(AtomicU64::new(0));
    let connects = Arc::new(AtomicU64::new(0));
    let shared = Arc::new(Mutex::new(Shared::default()));
    let cpu0 = self_cpu_secs();
    let start = Instant::now();
    let stop_at = start + plan.deadline;
    let mut handles = Vec::new();
    for _ in 0..plan.concurrency.max(1) {
        let (target, bodies, next, connects, shared) =
            (target.clone(), bodies.clone(), next.clone(), connects.clone(), shared.clone());
        let op = plan.op;
        let max_calls = plan.max_calls;
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::default();
            let mut lat_ok: Vec<u32> = Vec::with_capacity(4096);
            let (mut errors, mut transport) = (0u64, 0u64);
            loop {
                if Instant::now() >= stop_at {
                    break;
                }
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= max_calls {
                    break;
                }
                let body = bodies[(n % bodies.len() as u64) as usize].clone();
                let t0 = Instant::now();
                let r = target.call(&mut conn, op, body).await;
                let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                match r {
                    Ok(resp) if resp.status == 200 => {
                        lat_ok.push(us);
                        if op == "GetMetricStatistics" {
                            let k = datapoints_and_samples(target.protocol, &resp.body)
                                .map(|(n, s)| format!("{n} datapoints/{s} samples"))
                                .unwrap_or_else(|| "unparsed".into());
                            *shared.lock().unwrap().datapoints.entry(k).or_default() += 1;
                        }
                    }
                    Ok(resp) => {
                        errors += 1;
                        let mut s = shared.lock().unwrap();
                        *s.status_counts.entry(resp.status.to_string()).or_default() += 1;
                        if s.errors.len() < MAX_ERROR_SAMPLES {
                            s.errors.push(json!({
                                "status": resp.status,
                                "content_type": resp.content_type,
                                "body": String::from_utf8_lossy(&resp.body[..resp.body.len().min(600)]),
                                "elapsed_ms": us as f64 / 1000.0,
                            }));
                        }
                    }
                    Err(e) => {
                        transport += 1;
                        let mut s = shared.lock().unwrap();
                        *s.status_counts.entry("transport".into()).or_default() += 1;
                        if s.errors.len() < MAX_ERROR_SAMPLES {
                            s.errors.push(json!({"transport_error": e, "elapsed_ms": us as f64 / 1000.0}));
                        }
                    }
                }
            }
            connects.fetch_add(conn.1, Ordering::Relaxed);
            (lat_ok, errors, transport)
        }));
    }
    let mut lat = Vec::new();
    let (mut errors, mut transport) = (0u64, 0u64);
    for h in handles {
        let (l, e, t) = h.await.expect("worker");
        lat.extend(l);
        errors += e;
        transport += t;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = self_cpu_secs().zip(cpu0).map(|(a, b)| round2(a - b));
    lat.sort_unstable();
    let ok = lat.len() as u64;
    let pct = |q: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let idx = ((q * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1;
        (lat[idx] as f64 / 1000.0 * 1000.0).round() / 1000.0
    };
    let mean = if lat.is_empty() { f64::NAN } else { lat.iter().map(|&x| x as f64).sum::<f64>() / lat.len() as f64 / 1000.0 };
    let s = shared.lock().unwrap();
    let total_errors = errors + transport;
    json!({
        "op": plan.op,
        "concurrency": plan.concurrency,
        "elapsed_secs": round2(elapsed),
        "calls": ok + total_errors,
        "ok": ok,
        "errors": total_errors,
        "http_errors": errors,
        "transport_errors": transport,
        "flagged": total_errors > 0,
        "calls_per_sec": round2(ok as f64 / elapsed),
        "latency_ms": {
            "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0),
            "mean": (mean * 1000.0).round() / 1000.0,
        },
        "connections_opened": connects.load(Ordering::Relaxed),
        "client_cpu_secs": cpu,
        "error_status_counts": s.status_counts,
        "error_samples": s.errors,
        "responses_by_datapoints_and_samples": s.datapoints,
    })
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, 100 ticks/s).
fn self_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
    }

    #[test]
    fn bodies_are_deterministic_and_sized() {
        let a = put_bodies(Protocol::Json, 1_767_225_600, 20, 4);
        let b = put_bodies(Protocol::Json, 1_767_225_600, 20, 4);
        assert_eq!(a, b);
        let v: Value = serde_json::from_slice(&a[0]).unwrap();
        assert_eq!(v["MetricData"].as_array().unwrap().len(), 20);
        let q = put_bodies(Protocol::Query, 1_767_225_600, 20, 1);
        let q = std::str::from_utf8(&q[0]).unwrap();
        assert!(q.contains("MetricData.member.20.Unit="));
        assert!(q.contains("Timestamp=2026-01-01T00%3A00%3A00Z"));
        assert_eq!(get_bodies(Protocol::Json, 1_767_225_600).len(), 32);
    }
}
