//! Shared harness: an in-process Watchtrail server on an ephemeral loopback port and official
//! AWS SDK clients pointed at it.
#![allow(dead_code)]

use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::config::{BehaviorVersion, Region};
use std::path::Path;
use std::sync::Arc;
use watchtrail::{Server, ServerConfig};
use watchtrail_core::SystemClock;

/// Fixed test identity.
pub const ACCOUNT: &str = "123456789012";
/// Fixed test access key id.
pub const AKID: &str = "AKIAWATCHTRAILTEST01";
/// Fixed test secret.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A server and the directory it owns.
pub struct TestServer {
    /// The server.
    pub server: Server,
    /// Its data directory (removed on drop).
    pub dir: tempfile::TempDir,
}

/// The configuration every test server uses for `dir`.
pub fn config(dir: &Path) -> ServerConfig {
    let mut cfg = ServerConfig::for_data_dir(dir);
    cfg.account_id = Some(ACCOUNT.into());
    cfg.root_credentials = Some((AKID.into(), SECRET.into()));
    cfg.clock = Arc::new(SystemClock);
    cfg.background_jobs = false;
    cfg
}

/// Starts a server on a fresh data directory.
pub async fn start() -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(config(dir.path())).await.expect("server starts");
    TestServer { server, dir }
}

/// A CloudWatch client (CBOR protocol) for `endpoint` with the given credentials.
pub fn cloudwatch_with(endpoint: &str, akid: &str, secret: &str) -> aws_sdk_cloudwatch::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(akid, secret, None, None, "test"))
        .http_client(http)
        .build();
    aws_sdk_cloudwatch::Client::from_conf(conf)
}

/// A CloudWatch Logs client (awsJson 1.1) for the test server with the root credentials.
pub fn logs(ts: &TestServer) -> aws_sdk_cloudwatchlogs::Client {
    logs_with(&ts.server.endpoint())
}

/// A CloudWatch Logs client for `endpoint` with the root credentials.
pub fn logs_with(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(AKID, SECRET, None, None, "test"))
        .http_client(http)
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(conf)
}

/// Now in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// A CloudWatch client with the test root credentials.
pub fn cloudwatch(ts: &TestServer) -> aws_sdk_cloudwatch::Client {
    cloudwatch_with(&ts.server.endpoint(), AKID, SECRET)
}

/// Now, truncated to the minute, as an SDK timestamp; and as epoch seconds.
pub fn minute_now() -> (aws_smithy_types::DateTime, i64) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let m = secs - secs % 60;
    (aws_smithy_types::DateTime::from_secs(m), m)
}

/// An SDK timestamp from epoch seconds.
pub fn at(secs: i64) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(secs)
}

/// Re-executes this test binary to run only the test `entry` (a crash-test child), with the
/// environment variable `env` naming the data directory `dir`; waits for its `READY <endpoint>`
/// line. The child exits when its stdin closes, so it never outlives the test.
pub fn spawn_child(entry: &str, env: &str, dir: &Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([entry, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    // libtest prints "test <entry> ... " before the test's own output, so READY may follow
    // other text on its line. The reader thread keeps draining stdout afterwards.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(pos) = line.find("READY ") {
                let _ = tx.send(line[pos + 6..].trim().to_string());
            }
        }
    });
    let endpoint = match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(ep) => ep,
        Err(e) => {
            let _ = child.kill();
            panic!("child server did not become ready: {e}");
        }
    };
    (child, endpoint)
}
