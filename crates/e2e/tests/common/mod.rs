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
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(ts.server.endpoint())
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
