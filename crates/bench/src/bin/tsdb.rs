//! `tsdb-bench`: the storage benchmark of `bench/metrics`. One node-exporter-like dataset,
//! written once as Prometheus remote-write bodies, replayed byte for byte into Watchtrail,
//! VictoriaMetrics and Prometheus; then one comparable range query against each.
//!
//! - `generate`: `hosts × 100` series (labels `instance`, `job` and per-family ones: CPU
//!   counters with decimals, memory and filesystem gauges, mostly-constant error counters,
//!   load averages, constant info series) at a 15-second step over `hours`, in requests of
//!   `series_per_request × samples_per_series` samples, time-ordered, into one file of
//!   `[u32 body length][u32 samples][u32 series chunk][snappy body]` records.
//! - `load`: sends every record of the file over `concurrency` keep-alive connections,
//!   optionally SigV4-signed (service `aps`), and reports samples, seconds and failures. Like
//!   Prometheus's own sharding, a series chunk always goes through the same connection, in
//!   order, so no receiver sees a series' samples out of order.
//! - `query-prom`: PromQL `query_range`, median latency of `runs` runs, series and points.
//! - `query-watchtrail`: GetMetricData (awsJson 1.0) with one SEARCH expression, all pages,
//!   median latency of `runs` runs, series and points.

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use prost::Message;
use serde_json::{json, Value};
use std::io::{BufWriter, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use watchtrail_metrics_lang::remote_write::{Label, Sample, TimeSeries, WriteRequest};

const STEP_MS: i64 = 15_000;
const SERIES_PER_HOST: usize = 100;

#[derive(Debug, Parser)]
#[command(name = "tsdb-bench", about = "Remote-write dataset, loader and range-query timer for bench/metrics")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Writes the dataset file.
    Generate {
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 100)]
        hosts: usize,
        #[arg(long, default_value_t = 24)]
        hours: i64,
        /// The dataset ends at this time (epoch seconds).
        #[arg(long)]
        end: i64,
        #[arg(long, default_value_t = 200)]
        series_per_request: usize,
        #[arg(long, default_value_t = 10)]
        samples_per_series: usize,
    },
    /// Sends the dataset file to a remote-write URL.
    Load {
        #[arg(long)]
        file: std::path::PathBuf,
        /// `http://host:port/path?query`.
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Sign with SigV4 (service `aps`) using these keys (`AKID:SECRET`).
        #[arg(long)]
        sign: Option<String>,
    },
    /// A PromQL range query (VictoriaMetrics, Prometheus).
    QueryProm {
        #[arg(long)]
        url: String,
        #[arg(long)]
        query: String,
        #[arg(long)]
        start: i64,
        #[arg(long)]
        end: i64,
        #[arg(long, default_value_t = 60)]
        step: i64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// A GetMetricData SEARCH (Watchtrail).
    QueryWatchtrail {
        #[arg(long)]
        url: String,
        #[arg(long)]
        search: String,
        #[arg(long)]
        start: i64,
        #[arg(long)]
        end: i64,
        #[arg(long, default_value_t = 60)]
        period: i64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// `AKID:SECRET`.
        #[arg(long)]
        sign: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let out = rt.block_on(async move {
        match cli.command {
            Cmd::Generate { out, hosts, hours, end, series_per_request, samples_per_series } => {
                generate(&out, hosts, hours, end, series_per_request, samples_per_series)
            }
            Cmd::Load { file, url, concurrency, sign } => load(&file, &url, concurrency, sign.as_deref()).await,
            Cmd::QueryProm { url, query, start, end, step, runs } => query_prom(&url, &query, start, end, step, runs).await,
            Cmd::QueryWatchtrail { url, search, start, end, period, runs, sign } => query_watchtrail(&url, &search, start, end, period, runs, &sign).await,
        }
    });
    match out {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tsdb-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// SplitMix64.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(seed: u64) -> f64 {
    (mix(seed) >> 11) as f64 / (1u64 << 53) as f64
}

/// How a series' value evolves.
#[derive(Clone, Copy)]
enum Shape {
    /// A counter growing by about `rate` per step, values rounded to 2 decimals.
    Counter { rate: f64 },
    /// A counter that almost never moves (errors, drops).
    RareCounter,
    /// A gauge wandering around `base` by up to `spread`, rounded to `decimals`.
    Gauge { base: f64, spread: f64, decimals: i32 },
    /// Always the same value.
    Constant(f64),
    /// The sample's own timestamp in seconds (node_time_seconds).
    Clock,
}

struct SeriesDef {
    labels: Vec<Label>,
    shape: Shape,
    seed: u64,
}

fn label(n: &str, v: &str) -> Label {
    Label { name: n.into(), value: v.into() }
}

/// The 100 series of one host.
fn host_series(host: usize) -> Vec<SeriesDef> {
    let instance = format!("host-{host:04}:9100");
    let mut out = Vec::with_capacity(SERIES_PER_HOST);
    let mut add = |name: &str, extra: &[(&str, &str)], shape: Shape| {
        let mut labels = vec![label("__name__", name), label("instance", &instance), label("job", "node")];
        labels.extend(extra.iter().map(|(n, v)| label(n, v)));
        let seed = mix(host as u64 * 1000 + out.len() as u64);
        out.push(SeriesDef { labels, shape, seed });
    };
    for cpu in 0..8 {
        let c = cpu.to_string();
        for (mode, rate) in [("idle", 14.2), ("user", 0.55), ("system", 0.21), ("iowait", 0.03)] {
            add("node_cpu_seconds_total", &[("cpu", &c), ("mode", mode)], Shape::Counter { rate });
        }
    }
    for (m, base) in [("MemAvailable", 6.1e9), ("MemFree", 1.2e9), ("Cached", 3.3e9), ("Buffers", 2.1e8), ("Active", 4.4e9), ("Inactive", 2.2e9)] {
        add(&format!("node_memory_{m}_bytes"), &[], Shape::Gauge { base, spread: base * 0.02, decimals: 0 });
    }
    for (dev, mp, size) in [("sda1", "/", 1.0e11), ("sdb1", "/data", 5.0e11), ("tmpfs", "/run", 1.6e9)] {
        add("node_filesystem_size_bytes", &[("device", dev), ("mountpoint", mp)], Shape::Constant(size));
        add("node_filesystem_avail_bytes", &[("device", dev), ("mountpoint", mp)], Shape::Gauge { base: size * 0.4, spread: size * 0.001, decimals: 0 });
        add("node_filesystem_free_bytes", &[("device", dev), ("mountpoint", mp)], Shape::Gauge { base: size * 0.45, spread: size * 0.001, decimals: 0 });
    }
    for dev in ["eth0", "lo"] {
        for (dir, rate) in [("receive", 1.0), ("transmit", 0.7)] {
            add(&format!("node_network_{dir}_bytes_total"), &[("device", dev)], Shape::Counter { rate: rate * 2.0e5 });
            add(&format!("node_network_{dir}_packets_total"), &[("device", dev)], Shape::Counter { rate: rate * 300.0 });
            add(&format!("node_network_{dir}_errs_total"), &[("device", dev)], Shape::RareCounter);
            add(&format!("node_network_{dir}_drop_total"), &[("device", dev)], Shape::RareCounter);
        }
    }
    for dev in ["sda", "sdb"] {
        add("node_disk_read_bytes_total", &[("device", dev)], Shape::Counter { rate: 4.0e5 });
        add("node_disk_written_bytes_total", &[("device", dev)], Shape::Counter { rate: 9.0e5 });
        add("node_disk_io_time_seconds_total", &[("device", dev)], Shape::Counter { rate: 0.8 });
        add("node_disk_reads_completed_total", &[("device", dev)], Shape::Counter { rate: 40.0 });
    }
    for (name, base) in [("node_load1", 1.2), ("node_load5", 1.1), ("node_load15", 1.0)] {
        add(name, &[], Shape::Gauge { base, spread: 0.6, decimals: 2 });
    }
    for (name, rate) in [("node_context_switches_total", 5.0e4), ("node_intr_total", 3.0e4), ("node_forks_total", 40.0)] {
        add(name, &[], Shape::Counter { rate });
    }
    add("node_procs_running", &[], Shape::Gauge { base: 3.0, spread: 2.0, decimals: 0 });
    add("node_procs_blocked", &[], Shape::Gauge { base: 0.0, spread: 1.0, decimals: 0 });
    add("node_time_seconds", &[], Shape::Clock);
    add("node_boot_time_seconds", &[], Shape::Constant(1.76e9));
    for collector in [
        "arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats", "edac", "entropy", "filefd", "filesystem",
        "hwmon", "infiniband", "ipvs", "loadavg", "mdadm", "meminfo", "netclass",
    ] {
        add("node_scrape_collector_duration_seconds", &[("collector", collector)], Shape::Gauge { base: 0.002, spread: 0.0015, decimals: 6 });
    }
    debug_assert_eq!(out.len(), SERIES_PER_HOST);
    out
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// The value of series `def` at step `k` (timestamp `t` ms); counters integrate their steps.
fn value(def: &SeriesDef, k: i64, t: i64, state: &mut f64) -> f64 {
    let r = unit(def.seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    match def.shape {
        Shape::Counter { rate } => {
            *state += rate * (0.5 + r);
            round(*state, 2)
        }
        Shape::RareCounter => {
            if r < 0.0005 {
                *state += 1.0;
            }
            *state
        }
        Shape::Gauge { base, spread, decimals } => round((base + spread * (2.0 * r - 1.0)).max(0.0), decimals),
        Shape::Constant(c) => c,
        Shape::Clock => (t / 1000) as f64,
    }
}

fn generate(out: &std::path::Path, hosts: usize, hours: i64, end: i64, per_request: usize, per_series: usize) -> Result<Value, String> {
    let series: Vec<SeriesDef> = (0..hosts).flat_map(host_series).collect();
    let steps = hours * 3600 * 1000 / STEP_MS;
    let start_ms = end * 1000 - steps * STEP_MS;
    let mut state = vec![0.0f64; series.len()];
    let mut file = BufWriter::new(std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?);
    let mut encoder = snap::raw::Encoder::new();
    let (mut requests, mut samples, mut bytes) = (0u64, 0u64, 0u64);
    let mut k0 = 0i64;
    while k0 < steps {
        let k1 = (k0 + per_series as i64).min(steps);
        for (chunk_no, chunk) in (0..series.len()).collect::<Vec<_>>().chunks(per_request).enumerate() {
            let mut req = WriteRequest { timeseries: Vec::with_capacity(chunk.len()) };
            for &i in chunk {
                let def = &series[i];
                let mut ts = TimeSeries { labels: def.labels.clone(), samples: Vec::with_capacity((k1 - k0) as usize) };
                for k in k0..k1 {
                    let t = start_ms + k * STEP_MS;
                    ts.samples.push(Sample { value: value(def, k, t, &mut state[i]), timestamp: t });
                }
                req.timeseries.push(ts);
            }
            let n = (chunk.len() as i64 * (k1 - k0)) as u32;
            let body = encoder.compress_vec(&req.encode_to_vec()).map_err(|e| e.to_string())?;
            file.write_all(&(body.len() as u32).to_le_bytes()).map_err(|e| e.to_string())?;
            file.write_all(&n.to_le_bytes()).map_err(|e| e.to_string())?;
            file.write_all(&(chunk_no as u32).to_le_bytes()).map_err(|e| e.to_string())?;
            file.write_all(&body).map_err(|e| e.to_string())?;
            requests += 1;
            samples += n as u64;
            bytes += body.len() as u64;
        }
        k0 = k1;
    }
    file.flush().map_err(|e| e.to_string())?;
    Ok(json!({
        "series": series.len(), "samples": samples, "requests": requests, "snappy_bytes": bytes,
        "start_ms": start_ms, "end_ms": start_ms + steps * STEP_MS, "step_ms": STEP_MS,
    }))
}

/// `(samples, series chunk, body)` of every record.
fn read_records(path: &std::path::Path) -> Result<Vec<(u32, u32, Bytes)>, String> {
    let mut data = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut data)).map_err(|e| format!("{}: {e}", path.display()))?;
    let data = Bytes::from(data);
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= data.len() {
        let word = |i: usize| u32::from_le_bytes(data[at + i..at + i + 4].try_into().unwrap());
        let (len, n, chunk) = (word(0) as usize, word(4), word(8));
        out.push((n, chunk, data.slice(at + 12..at + 12 + len)));
        at += 12 + len;
    }
    Ok(out)
}

struct Endpoint {
    addr: String,
    host: String,
    path: String,
}

fn endpoint(url: &str) -> Result<Endpoint, String> {
    let rest = url.strip_prefix("http://").ok_or("the URL must start with http://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok(Endpoint { addr: host.to_string(), host: host.to_string(), path: path.to_string() })
}

fn identity(keys: &str) -> Result<Identity, String> {
    let (a, s) = keys.split_once(':').ok_or("--sign takes AKID:SECRET")?;
    Ok(aws_credential_types::Credentials::new(a, s, None, None, "tsdb-bench").into())
}

fn signed(headers: &mut Vec<(String, String)>, method: &str, uri: &str, body: &[u8], id: &Identity, service: &str) -> Result<(), String> {
    let params = v4::SigningParams::builder()
        .identity(id)
        .region("us-east-1")
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let pairs: Vec<(String, String)> = headers.clone();
    let signable = SignableRequest::new(method, uri, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), SignableBody::Bytes(body)).map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    for (k, v) in instructions.headers() {
        headers.push((k.to_string(), v.to_string()));
    }
    Ok(())
}

async fn connect(addr: &str) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn exchange(sender: &mut Option<http1::SendRequest<Full<Bytes>>>, addr: &str, req: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
    let usable = match sender.as_mut() {
        Some(s) => s.ready().await.is_ok(),
        None => false,
    };
    if !usable {
        *sender = Some(connect(addr).await?);
    }
    let resp = sender.as_mut().unwrap().send_request(req).await.map_err(|e| format!("send: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    Ok((status, body))
}

async fn load(file: &std::path::Path, url: &str, concurrency: usize, sign_keys: Option<&str>) -> Result<Value, String> {
    let records = Arc::new(read_records(file)?);
    let ep = Arc::new(endpoint(url)?);
    let id = Arc::new(sign_keys.map(identity).transpose()?);
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (records, ep, id, failed, first_error) = (records.clone(), ep.clone(), id.clone(), failed.clone(), first_error.clone());
        workers.push(tokio::spawn(async move {
            let mut sender = None;
            for (_, chunk, body) in records.iter() {
                if *chunk as usize % concurrency != w {
                    continue;
                }
                let mut headers = vec![
                    ("host".to_string(), ep.host.clone()),
                    ("content-type".to_string(), "application/x-protobuf".to_string()),
                    ("content-encoding".to_string(), "snappy".to_string()),
                    ("x-prometheus-remote-write-version".to_string(), "0.1.0".to_string()),
                ];
                if let Some(id) = id.as_ref() {
                    if let Err(e) = signed(&mut headers, "POST", &format!("http://{}{}", ep.host, ep.path), body, id, "aps") {
                        first_error.lock().unwrap().get_or_insert(e);
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
                let mut b = http::Request::builder().method("POST").uri(ep.path.as_str());
                for (k, v) in &headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                let req = b.body(Full::new(body.clone())).expect("request");
                match exchange(&mut sender, &ep.addr, req).await {
                    Ok((s, _)) if (200..300).contains(&s) => {}
                    Ok((s, b)) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert(format!("HTTP {s}: {}", String::from_utf8_lossy(&b[..b.len().min(300)])));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert(e);
                        sender = None;
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())?;
    }
    let secs = started.elapsed().as_secs_f64();
    let samples: u64 = records.iter().map(|r| r.0 as u64).sum();
    let failed = failed.load(Ordering::Relaxed);
    let first_error = first_error.lock().unwrap().clone();
    Ok(json!({ "requests": records.len(), "samples": samples, "seconds": secs, "samples_per_second": samples as f64 / secs, "failed_requests": failed, "first_error": first_error }))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn query_prom(url: &str, query: &str, start: i64, end: i64, step: i64, runs: usize) -> Result<Value, String> {
    let ep = endpoint(url)?;
    let q: String = form_encode(&[("query", query), ("start", &start.to_string()), ("end", &end.to_string()), ("step", &step.to_string())]);
    let path = format!("{}/api/v1/query_range?{q}", ep.path.trim_end_matches('/'));
    let mut sender = None;
    let mut lat = Vec::new();
    let (mut series, mut points) = (0usize, 0usize);
    for _ in 0..runs {
        let req = http::Request::builder().method("GET").uri(path.as_str()).header("host", ep.host.as_str()).body(Full::new(Bytes::new())).expect("request");
        let t = Instant::now();
        let (status, body) = exchange(&mut sender, &ep.addr, req).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)])));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
        series = result.len();
        points = result.iter().map(|r| r["values"].as_array().map_or(0, Vec::len)).sum();
    }
    Ok(json!({ "median_ms": median(lat.clone()), "runs_ms": lat, "series": series, "points": points }))
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect::<String>();
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[allow(clippy::too_many_arguments)]
async fn query_watchtrail(url: &str, search: &str, start: i64, end: i64, period: i64, runs: usize, keys: &str) -> Result<Value, String> {
    let ep = endpoint(url)?;
    let id = identity(keys)?;
    let mut sender = None;
    let mut lat = Vec::new();
    let (mut series, mut points) = (0usize, 0usize);
    for _ in 0..runs {
        // As for PromQL: the time from sending each page's request to holding its whole
        // answer; reading the answer (needed for the next page's token) is not timed.
        let mut waited = std::time::Duration::ZERO;
        let mut token: Option<String> = None;
        let mut labels = std::collections::HashSet::new();
        let mut n = 0usize;
        loop {
            let mut body = json!({
                "MetricDataQueries": [{"Id": "s", "Expression": format!("SEARCH('{search}', 'Average', {period})")}],
                "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending",
            });
            if let Some(tk) = &token {
                body["NextToken"] = json!(tk);
            }
            let body = Bytes::from(body.to_string());
            let mut headers = vec![
                ("host".to_string(), ep.host.clone()),
                ("content-type".to_string(), "application/x-amz-json-1.0".to_string()),
                ("x-amz-target".to_string(), "GraniteServiceVersion20100801.GetMetricData".to_string()),
            ];
            signed(&mut headers, "POST", &format!("http://{}/", ep.host), &body, &id, "monitoring")?;
            let mut b = http::Request::builder().method("POST").uri("/");
            for (k, v) in &headers {
                b = b.header(k.as_str(), v.as_str());
            }
            let t = Instant::now();
            let (status, resp) = exchange(&mut sender, &ep.addr, b.body(Full::new(body)).expect("request")).await?;
            waited += t.elapsed();
            if status != 200 {
                return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&resp[..resp.len().min(500)])));
            }
            let v: Value = serde_json::from_slice(&resp).map_err(|e| e.to_string())?;
            for r in v["MetricDataResults"].as_array().cloned().unwrap_or_default() {
                labels.insert(r["Label"].as_str().unwrap_or("").to_string());
                n += r["Values"].as_array().map_or(0, Vec::len);
            }
            token = v["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        lat.push(waited.as_secs_f64() * 1000.0);
        series = labels.len();
        points = n;
    }
    Ok(json!({ "median_ms": median(lat.clone()), "runs_ms": lat, "series": series, "points": points }))
}
