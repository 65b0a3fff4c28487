//! Kills a process that is appending to a WAL with SIGKILL and checks that every append it
//! acknowledged survives. The child is this test binary, re-executed with an env var.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use watchtrail_store::{SyncMode, Wal, WalOptions};

const CHILD_ENV: &str = "WATCHTRAIL_WAL_CRASH_CHILD_DIR";
const CYCLES: usize = 12;

fn opts() -> WalOptions {
    WalOptions {
        max_file_bytes: 8 << 10,
        sync: SyncMode::Fsync,
        ..WalOptions::default()
    }
}

/// Child entry point: a no-op unless the env var is set, then appends until killed.
#[test]
fn wal_crash_child_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async move {
        let (wal, _) = Wal::open(std::path::Path::new(&dir), opts()).unwrap();
        let wal = Arc::new(wal);
        let pid = std::process::id();
        let mut tasks = Vec::new();
        for t in 0..4u64 {
            let wal = wal.clone();
            tasks.push(tokio::spawn(async move {
                for seq in 0u64.. {
                    let batch = if seq % 5 == 0 { 3 } else { 1 };
                    let payloads: Vec<String> = (0..batch)
                        .map(|j| {
                            format!(
                                "p{pid}-t{t}-s{seq}-j{j}-{}",
                                "z".repeat((seq % 40) as usize)
                            )
                        })
                        .collect();
                    let last = wal
                        .append(payloads.iter().map(|p| p.clone().into_bytes()).collect())
                        .await
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    for (j, p) in payloads.iter().enumerate() {
                        writeln!(out, "ACK {} {p}", last + 1 - batch + j as u64).unwrap();
                    }
                    out.flush().unwrap();
                    if t == 0 && seq % 10 == 9 {
                        // Checkpoint all but the newest records, so that rotations reuse
                        // spare files; announced before it happens.
                        let upto = wal.last_lsn().saturating_sub(64);
                        writeln!(out, "CKPT {upto}").unwrap();
                        out.flush().unwrap();
                        wal.checkpoint(upto).unwrap();
                        writeln!(out, "RECYCLED {}", wal.stats().recycled).unwrap();
                        out.flush().unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// A small xorshift generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Takes one complete line of the child's output into the tallies; true for an ACK. A line cut
/// short by the kill (no newline) is ignored: the child never finished announcing it.
fn read_child_line(line: &str, acked: &mut BTreeMap<u64, String>, checkpointed: &mut u64, recycled: &mut u64) -> bool {
    let Some(line) = line.strip_suffix('\n') else {
        return false;
    };
    if let Some(upto) = line.strip_prefix("CKPT ") {
        *checkpointed = (*checkpointed).max(upto.parse().unwrap());
        return false;
    }
    if let Some(n) = line.strip_prefix("RECYCLED ") {
        *recycled = (*recycled).max(n.parse().unwrap());
        return false;
    }
    let Some(rest) = line.strip_prefix("ACK ") else {
        return false;
    };
    let (lsn, payload) = rest.split_once(' ').unwrap();
    let lsn: u64 = lsn.parse().unwrap();
    assert!(
        acked.insert(lsn, payload.to_string()).is_none(),
        "lsn {lsn} acknowledged twice"
    );
    true
}

#[test]
fn sigkill_never_loses_acknowledged_appends() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let seed = std::env::var("WAL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("wal crash test seed {seed}");
    let mut rng = Rng(seed);
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    // Records up to here may have been checkpointed away.
    let mut checkpointed = 0u64;
    let mut recycled_rotations = 0u64;
    for cycle in 0..CYCLES {
        let target = 1 + rng.next() % 250;
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "wal_crash::wal_crash_child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        // Keep the pipe open until the child is dead, so it is killed mid-append rather than
        // failing on a closed stdout.
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        while seen < target {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if read_child_line(&line, &mut acked, &mut checkpointed, &mut recycled_rotations) {
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        // What the child wrote before it died: later acknowledgments, and checkpoints it
        // announced (and may have done) after the lines read above.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            read_child_line(&line, &mut acked, &mut checkpointed, &mut recycled_rotations);
        }
        assert!(
            seen >= target,
            "cycle {cycle}: child exited early ({status}) after {seen} acks"
        );

        let (wal, entries) = Wal::open(dir.path(), opts()).unwrap();
        let present: BTreeMap<u64, &[u8]> = entries
            .iter()
            .map(|e| (e.lsn, e.payload.as_slice()))
            .collect();
        assert!(
            entries.windows(2).all(|w| w[1].lsn == w[0].lsn + 1),
            "replayed lsns are contiguous"
        );
        for (lsn, payload) in acked.range(checkpointed + 1..) {
            assert_eq!(
                present.get(lsn).copied(),
                Some(payload.as_bytes()),
                "cycle {cycle} (seed {seed}): acknowledged lsn {lsn} lost"
            );
        }
        drop(wal);
    }
    assert!(acked.len() >= CYCLES);
    assert!(
        recycled_rotations > 0,
        "no rotation reused a spare file (seed {seed})"
    );
    println!(
        "wal crash test: {CYCLES} kills, {} acknowledged records all present",
        acked.len()
    );
}
