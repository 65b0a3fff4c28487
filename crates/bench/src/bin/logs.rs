//! `logs-bench`: data and load for `bench/logs`.
//!
//! Subcommands (each prints one JSON object on stdout, except `gen`):
//! - `gen`: writes N realistic log lines (`nginx` access lines or `json` application lines),
//!   deterministic from the seed, one per line; a rare token appears in 1 line of 100,000.
//! - `ingest`: sends a line file as PutLogEvents batches of up to 10,000 events (and at most
//!   1,048,576 bytes counting 26 per event) over `--concurrency` connections, round-robin
//!   over `--streams` streams; events are spread evenly over the hour before `--base-ms`.
//! - `filter`: FilterLogEvents with a pattern over a group, every page; counts matches.
//! - `insights`: StartQuery, then GetQueryResults until Complete; rows and statistics.
//!
//! Requests are signed with the official `aws-sigv4` crate (service `logs`) and sent over
//! HTTP/1.1 keep-alive to loopback only. Any answer other than 200 fails the run.

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
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The token `gen` plants in one line of [`RARE_EVERY`].
pub const RARE_TOKEN: &str = "XQZRARE";
const RARE_EVERY: u64 = 100_000;

#[derive(Debug, Parser)]
#[command(name = "logs-bench", about = "CloudWatch Logs data and load for bench/logs")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write log lines.
    Gen(GenArgs),
    /// PutLogEvents a line file.
    Ingest(IngestArgs),
    /// FilterLogEvents over a group.
    Filter(FilterArgs),
    /// A Logs Insights query.
    Insights(InsightsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Nginx,
    Json,
}

#[derive(Debug, Args)]
struct GenArgs {
    #[arg(long, value_enum)]
    kind: Kind,
    #[arg(long)]
    events: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Debug, Args)]
struct Common {
    #[arg(long)]
    endpoint: String,
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY")]
    secret_access_key: String,
    #[arg(long)]
    group: String,
}

#[derive(Debug, Args)]
struct IngestArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    file: std::path::PathBuf,
    #[arg(long, default_value_t = 8)]
    streams: usize,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long)]
    base_ms: i64,
    /// Send at most this many events (0: the whole file).
    #[arg(long, default_value_t = 0)]
    limit: usize,
}

#[derive(Debug, Args)]
struct FilterArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    pattern: String,
}

#[derive(Debug, Args)]
struct InsightsArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    query: String,
    #[arg(long)]
    start_s: i64,
    #[arg(long)]
    end_s: i64,
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const PATHS: [&str; 12] = ["/", "/index.html", "/api/v1/users", "/api/v1/orders", "/api/v1/orders/checkout", "/static/app.js", "/static/app.css", "/images/logo.png", "/api/v1/search", "/health", "/login", "/api/v2/items"];
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
];
const STATUSES: [u32; 10] = [200, 200, 200, 200, 200, 200, 304, 404, 500, 503];
const METHODS: [&str; 4] = ["GET", "GET", "GET", "POST"];
const LEVELS: [&str; 5] = ["INFO", "INFO", "INFO", "WARN", "ERROR"];
const SERVICES: [&str; 4] = ["checkout", "search", "auth", "inventory"];

fn gen_line(kind: Kind, i: u64, rng: &mut Rng) -> String {
    let rare = i % RARE_EVERY == RARE_EVERY / 2;
    match kind {
        Kind::Nginx => {
            let ip = format!("10.{}.{}.{}", rng.below(4), rng.below(256), rng.below(256));
            let sec = i / 200;
            let (m, s) = ((sec / 60) % 60, sec % 60);
            let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
            let path = if rare { format!("/api/v1/{RARE_TOKEN}") } else { format!("{}{}", rng.pick(&PATHS), if rng.below(3) == 0 { format!("?id={}", rng.below(100_000)) } else { String::new() }) };
            format!(
                r#"{ip} - - [22/Nov/2026:10:{m:02}:{s:02} +0000] "{} {path} HTTP/1.1" {status} {} "-" "{}" {}.{:03}"#,
                rng.pick(&METHODS),
                200 + rng.below(50_000),
                rng.pick(&AGENTS),
                rng.below(2),
                rng.below(1000)
            )
        }
        Kind::Json => {
            let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
            let msg = if rare { RARE_TOKEN.to_string() } else { format!("request handled for {}", rng.pick(&PATHS)) };
            format!(
                r#"{{"level":"{}","service":"{}","requestId":"{:016x}","status":{status},"latencyMs":{},"path":"{}","user":"u{}","message":"{msg}"}}"#,
                rng.pick(&LEVELS),
                rng.pick(&SERVICES),
                rng.next(),
                rng.below(2000),
                rng.pick(&PATHS),
                rng.below(10_000)
            )
        }
    }
}

struct Client {
    host: String,
    addr: String,
    identity: Identity,
}

impl Client {
    fn new(c: &Common) -> Result<Client, String> {
        let uri: http::Uri = c.endpoint.parse().map_err(|e| format!("bad --endpoint: {e}"))?;
        let auth = uri.authority().ok_or("--endpoint needs a host")?.clone();
        if !(auth.host().starts_with("127.") || auth.host() == "localhost") {
            return Err("only loopback endpoints are allowed".into());
        }
        let addr = format!("{}:{}", if auth.host() == "localhost" { "127.0.0.1" } else { auth.host() }, auth.port_u16().unwrap_or(80));
        Ok(Client { host: auth.to_string(), addr, identity: Credentials::new(&c.access_key_id, &c.secret_access_key, None, None, "bench").into() })
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

    /// One signed awsJson 1.1 call; the answer must be 200. A connection the server closed
    /// (moto closes some) is opened again, once.
    async fn call(&self, conn: &mut Option<http1::SendRequest<Full<Bytes>>>, op: &str, body: Bytes) -> Result<Value, String> {
        match self.call_once(conn, op, body.clone()).await {
            Err(e) if e.starts_with("connection:") => {
                *conn = None;
                self.call_once(conn, op, body).await
            }
            other => other,
        }
    }

    async fn call_once(&self, conn: &mut Option<http1::SendRequest<Full<Bytes>>>, op: &str, body: Bytes) -> Result<Value, String> {
        if conn.as_mut().is_none_or(|s| s.is_closed()) {
            *conn = Some(self.connect().await?);
        }
        let sender = conn.as_mut().ok_or("no connection")?;
        sender.ready().await.map_err(|e| format!("connection: {e}"))?;
        let target = format!("Logs_20140328.{op}");
        let headers = [("host", self.host.as_str()), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
        let params = v4::SigningParams::builder().identity(&self.identity).region("us-east-1").name("logs").time(SystemTime::now()).settings(SigningSettings::default()).build().map_err(|e| e.to_string())?.into();
        let uri = format!("http://{}/", self.host);
        let signable = SignableRequest::new("POST", &uri, headers.iter().copied(), SignableBody::Bytes(&body)).map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        let mut b = http::Request::builder().method("POST").uri("/");
        for (k, v) in headers {
            b = b.header(k, v);
        }
        for (k, v) in instructions.headers() {
            b = b.header(k, v);
        }
        let req = b.header("content-length", body.len()).body(Full::new(body)).map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| format!("connection: send: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
        if status != 200 {
            return Err(format!("{op}: HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)])));
        }
        if body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&body).map_err(|e| format!("{op}: bad JSON: {e}"))
    }
}

/// Cuts the lines into PutLogEvents bodies: at most 10,000 events and 1,048,576 bytes
/// (26 per event) each, each for one stream, timestamps ascending within a body.
fn batches(lines: &[String], streams: usize, group: &str, base_ms: i64) -> Vec<(Bytes, u64, usize)> {
    let n = lines.len().max(1) as i64;
    let step = (3_600_000 / n).max(0);
    let mut out = Vec::new();
    let mut i = 0;
    let mut b = 0usize;
    while i < lines.len() {
        let mut bytes = 0usize;
        let mut events = Vec::new();
        let mut raw = 0u64;
        while i < lines.len() && events.len() < 10_000 && bytes + lines[i].len() + 26 <= 1_048_576 {
            bytes += lines[i].len() + 26;
            raw += lines[i].len() as u64;
            events.push(json!({ "timestamp": base_ms - 3_600_000 + i as i64 * step, "message": lines[i] }));
            i += 1;
        }
        let stream = format!("stream-{}", b % streams);
        let body = json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events });
        out.push((Bytes::from(body.to_string()), raw, events.len()));
        b += 1;
    }
    out
}

async fn ingest(a: IngestArgs) -> Result<Value, String> {
    let client = Arc::new(Client::new(&a.common)?);
    let file = std::fs::File::open(&a.file).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let mut lines: Vec<String> = std::io::BufReader::new(file).lines().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    if a.limit > 0 {
        lines.truncate(a.limit);
    }
    let mut conn = None;
    client.call(&mut conn, "CreateLogGroup", Bytes::from(json!({ "logGroupName": a.common.group }).to_string())).await?;
    for s in 0..a.streams {
        client.call(&mut conn, "CreateLogStream", Bytes::from(json!({ "logGroupName": a.common.group, "logStreamName": format!("stream-{s}") }).to_string())).await?;
    }
    let bodies = Arc::new(batches(&lines, a.streams, &a.common.group, a.base_ms));
    drop(lines);
    let raw: u64 = bodies.iter().map(|b| b.1).sum();
    let events: usize = bodies.iter().map(|b| b.2).sum();
    let sent_bytes: usize = bodies.iter().map(|b| b.0.len()).sum();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..a.concurrency {
        let (client, bodies, next) = (client.clone(), bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, _, _)) = bodies.get(i) else { return Ok::<(), String>(()) };
                let out = client.call(&mut conn, "PutLogEvents", body.clone()).await?;
                if out.get("rejectedLogEventsInfo").is_some() {
                    return Err(format!("events refused: {out}"));
                }
            }
        }));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())??;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(json!({ "events": events, "raw_bytes": raw, "request_bytes": sent_bytes, "calls": bodies.len(), "seconds": secs, "raw_mb_per_s_wall": raw as f64 / 1e6 / secs }))
}

async fn filter(a: FilterArgs) -> Result<Value, String> {
    let client = Client::new(&a.common)?;
    let mut conn = None;
    let started = Instant::now();
    let (mut matches, mut pages, mut token) = (0u64, 0u64, None::<String>);
    loop {
        let mut body = json!({ "logGroupName": a.common.group, "filterPattern": a.pattern });
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let out = client.call(&mut conn, "FilterLogEvents", Bytes::from(body.to_string())).await?;
        pages += 1;
        matches += out.get("events").and_then(Value::as_array).map_or(0, |e| e.len() as u64);
        token = out.get("nextToken").and_then(Value::as_str).map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(json!({ "pattern": a.pattern, "matches": matches, "pages": pages, "seconds": started.elapsed().as_secs_f64() }))
}

async fn insights(a: InsightsArgs) -> Result<Value, String> {
    let client = Client::new(&a.common)?;
    let mut conn = None;
    let started = Instant::now();
    let body = json!({ "logGroupName": a.common.group, "queryString": a.query, "startTime": a.start_s, "endTime": a.end_s });
    let out = client.call(&mut conn, "StartQuery", Bytes::from(body.to_string())).await?;
    let id = out.get("queryId").and_then(Value::as_str).ok_or("no queryId")?.to_string();
    loop {
        let r = client.call(&mut conn, "GetQueryResults", Bytes::from(json!({ "queryId": id }).to_string())).await?;
        match r.get("status").and_then(Value::as_str) {
            Some("Complete") => {
                let rows = r.get("results").and_then(Value::as_array).map_or(0, Vec::len);
                return Ok(json!({ "query": a.query, "rows": rows, "statistics": r["statistics"], "seconds": started.elapsed().as_secs_f64() }));
            }
            Some("Running") | Some("Scheduled") => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            other => return Err(format!("query ended {other:?}: {r}")),
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Cmd::Gen(g) = &cli.cmd {
        let mut rng = Rng(g.seed);
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        for i in 0..g.events {
            if writeln!(w, "{}", gen_line(g.kind, i, &mut rng)).is_err() {
                return std::process::ExitCode::FAILURE;
            }
        }
        return if w.flush().is_ok() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logs-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let res = rt.block_on(async move {
        match cli.cmd {
            Cmd::Ingest(a) => ingest(a).await,
            Cmd::Filter(a) => filter(a).await,
            Cmd::Insights(a) => insights(a).await,
            Cmd::Gen(_) => unreachable!("handled above"),
        }
    });
    match res {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logs-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_deterministic_and_batches_respect_the_limits() {
        let mut a = Rng(7);
        let mut b = Rng(7);
        let xs: Vec<String> = (0..30_000).map(|i| gen_line(Kind::Nginx, i, &mut a)).collect();
        let ys: Vec<String> = (0..30_000).map(|i| gen_line(Kind::Nginx, i, &mut b)).collect();
        assert_eq!(xs, ys);
        let bs = batches(&xs, 3, "g", 1_800_000_000_000);
        assert_eq!(bs.iter().map(|b| b.2).sum::<usize>(), 30_000);
        for (body, _, n) in &bs {
            let v: Value = serde_json::from_slice(body).unwrap();
            let evs = v["logEvents"].as_array().unwrap();
            assert_eq!(evs.len(), *n);
            assert!(*n <= 10_000);
            let size: usize = evs.iter().map(|e| e["message"].as_str().unwrap().len() + 26).sum();
            assert!(size <= 1_048_576);
            let ts: Vec<i64> = evs.iter().map(|e| e["timestamp"].as_i64().unwrap()).collect();
            assert!(ts.windows(2).all(|w| w[0] <= w[1]));
        }
        let j = gen_line(Kind::Json, RARE_EVERY / 2, &mut Rng(1));
        assert!(serde_json::from_str::<Value>(&j).is_ok() && j.contains(RARE_TOKEN));
    }
}
