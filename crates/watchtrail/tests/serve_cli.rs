//! The real `watchtrail serve` binary: configuration precedence (a flag beats the environment,
//! which beats the TOML file, which beats the default), the credentials banner, auth off, and a
//! graceful SIGTERM that flushes the metric head to segments and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_watchtrail");

/// Starts the binary; returns the child, its address and everything it printed up to then.
fn start(cmd: &mut Command) -> (std::process::Child, String, Vec<String>) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn watchtrail");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let done = line.starts_with("watchtrail listening on http://");
                lines.push(line);
                if done {
                    let addr = lines.last().map(|l| l.trim_start_matches("watchtrail listening on http://").to_string()).unwrap_or_default();
                    return (child, addr, lines);
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start: {e}; printed {lines:?}");
            }
        }
    }
}

/// One HTTP/1.1 exchange without keep-alive.
fn http(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let req = format!("{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    s.write_all(req.as_bytes()).and_then(|_| s.write_all(body)).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

fn sigterm(pid: u32) {
    let ok = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill").success();
    assert!(ok, "kill -TERM failed");
}

#[test]
fn serve_with_config_file_auth_off_and_graceful_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("watchtrail.toml");
    // The file asks for auth, a fixed account and a log level; the flag turns auth off and the
    // environment picks the listen address, so precedence is exercised both ways.
    std::fs::write(&config, format!("data_dir = {:?}\nauth = true\naccount_id = \"210987654321\"\nlog = \"warn\"\nlisten = \"127.0.0.1:1\"\n", data)).expect("config");
    let (mut child, addr, printed) = start(
        Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--auth", "off"])
            .env("WATCHTRAIL_LISTEN", "127.0.0.1:0")
            .env_remove("WATCHTRAIL_DATA_DIR")
            .env_remove("WATCHTRAIL_ROOT_ACCESS_KEY_ID")
            .env_remove("WATCHTRAIL_ROOT_SECRET_ACCESS_KEY"),
    );
    assert!(printed.iter().any(|l| l.contains("export AWS_ACCESS_KEY_ID=AKIA")), "credentials banner: {printed:?}");
    assert!(printed.iter().any(|l| l.contains("export AWS_SECRET_ACCESS_KEY=")));
    assert!(!addr.ends_with(":1"), "environment overrides the file: {addr}");

    let (status, health) = http(&addr, "GET /_watchtrail/health HTTP/1.1", b"");
    assert_eq!(status, 200);
    assert!(health.contains("\"account\":\"210987654321\""), "{health}");

    // Auth is off: an unsigned JSON request is served as the account root.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let body = format!(r#"{{"Namespace":"Cli","MetricData":[{{"MetricName":"m","Value":4,"Timestamp":{now}}}]}}"#);
    let (status, resp) = http(
        &addr,
        "POST / HTTP/1.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: GraniteServiceVersion20100801.PutMetricData\r\nx-amzn-query-mode: true",
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{resp}");

    // Graceful stop: exit 0 and the head flushed into a segment.
    sigterm(child.id());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    assert!(stderr.contains("authentication is disabled"), "auth-off warning: {stderr}");
    assert!(!stderr.contains(printed[2].trim_start_matches("  export AWS_SECRET_ACCESS_KEY=")), "secret in the logs");
    let segments = walk(&data.join("metrics").join("segments"));
    assert!(segments.iter().any(|p| p.extension().is_some_and(|e| e == "seg")), "a segment was flushed: {segments:?}");
    let activity = walk(&data.join("journal").join("segments"));
    assert!(activity.iter().any(|p| p.extension().is_some_and(|e| e == "seg")), "the activity records were flushed: {activity:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("root-credentials.json")).expect("credentials file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Restart: same account, same credentials, no new banner, data still there.
    let (mut child, addr, printed) = start(Command::new(BIN).args(["serve", "--config"]).arg(&config).args(["--auth", "off", "--listen", "127.0.0.1:0"]));
    assert!(!printed.iter().any(|l| l.contains("AWS_SECRET_ACCESS_KEY")), "credentials are printed once: {printed:?}");
    let q = format!(
        r#"{{"Namespace":"Cli","MetricName":"m","StartTime":{},"EndTime":{},"Period":60,"Statistics":["Sum"]}}"#,
        now - now % 60,
        now - now % 60 + 60
    );
    let (status, resp) = http(
        &addr,
        "POST / HTTP/1.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: GraniteServiceVersion20100801.GetMetricStatistics\r\nx-amzn-query-mode: true",
        q.as_bytes(),
    );
    assert_eq!(status, 200, "{resp}");
    assert!(resp.contains("\"Sum\":4"), "{resp}");
    sigterm(child.id());
    assert!(child.wait().expect("wait").success());
}

#[test]
fn a_different_account_id_for_an_existing_data_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, _, _) = start(Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--account-id", "111111111111", "--data-dir"]).arg(dir.path()));
    sigterm(child.id());
    assert!(child.wait().expect("wait").success());
    let out = Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--account-id", "222222222222", "--data-dir"]).arg(dir.path()).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot change it"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_data_dir_from_a_build_with_one_wal_per_service_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("journal").join("wal")).expect("legacy dir");
    let out = Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("older development build") && err.contains("journal"), "{err}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
