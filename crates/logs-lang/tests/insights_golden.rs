//! Runs tests/golden/logs_insights.cases (format in its header): every case's query over the
//! fixed records, pushed in file order, in reverse order, and split over three merged
//! executors; all three must give the expected table (or the expected error).

use watchtrail_logs_lang::insights::{LogRecord, Query, Row};

const CASES: &str = include_str!("../../../tests/golden/logs_insights.cases");
const INGESTION_DELAY_MS: i64 = 1_500;

struct Record {
    ptr: String,
    group: String,
    stream: String,
    timestamp: i64,
    message: String,
}

#[derive(Default)]
struct Case {
    name: String,
    line: usize,
    query: String,
    limit: Option<usize>,
    columns: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    error: Option<String>,
    error_at: Option<(usize, usize)>,
    matched: Option<u64>,
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `2024-03-10T10:00:05.000` → epoch ms (UTC).
fn parse_time(s: &str) -> i64 {
    let n = |a: usize, b: usize| {
        s[a..b]
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("bad time {s}"))
    };
    let days = days_from_civil(n(0, 4), n(5, 7), n(8, 10));
    days * 86_400_000 + n(11, 13) * 3_600_000 + n(14, 16) * 60_000 + n(17, 19) * 1000 + n(20, 23)
}

fn load() -> (Vec<Record>, Vec<Case>) {
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut records = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut in_rows = false;
    for (i, line) in CASES.lines().enumerate() {
        if let Some(name) = line.strip_prefix("=== ") {
            cases.push(Case {
                name: name.to_string(),
                line: i + 1,
                ..Case::default()
            });
            in_rows = false;
            continue;
        }
        let Some(case) = cases.last_mut() else {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("group ") {
                let (short, full) = rest
                    .split_once(" = ")
                    .expect("group <short> = <account>:<name>");
                groups.push((short.to_string(), full.to_string()));
            } else if let Some(rest) = line.strip_prefix("record ") {
                let mut parts = rest.splitn(5, ' ');
                let mut next = || {
                    parts
                        .next()
                        .expect("record <ptr> <group> <stream> <time> <message>")
                        .to_string()
                };
                let (ptr, group, stream, time, message) = (next(), next(), next(), next(), next());
                let group = groups
                    .iter()
                    .find(|(s, _)| *s == group)
                    .map(|(_, f)| f.clone())
                    .expect("unknown group");
                records.push(Record {
                    ptr,
                    group,
                    stream,
                    timestamp: parse_time(&time),
                    message,
                });
            } else {
                panic!("line {}: unexpected {line:?}", i + 1);
            }
            continue;
        };
        if in_rows {
            if let Some(row) = line.strip_prefix("| ") {
                case.rows
                    .push(row.split(" | ").map(str::to_string).collect());
                continue;
            }
            if line == "|" {
                case.rows.push(vec![String::new()]);
                continue;
            }
        }
        if let Some(header) = line.strip_prefix("-> ") {
            in_rows = true;
            if header == "none" {
                case.columns = Some(Vec::new());
            } else {
                case.columns = Some(header.split(" | ").map(str::to_string).collect());
            }
        } else if let Some(msg) = line.strip_prefix("!! ") {
            case.error = Some(msg.to_string());
        } else if let Some(at) = line.strip_prefix("at: ") {
            let (s, e) = at.split_once("..").expect("at: <start>..<end>");
            case.error_at = Some((s.parse().expect("start"), e.parse().expect("end")));
        } else if let Some(n) = line.strip_prefix("matched: ") {
            case.matched = Some(n.parse().expect("matched: <n>"));
        } else if let Some(n) = line.strip_prefix(">> limit ") {
            case.limit = Some(n.parse().expect(">> limit <n>"));
        } else if case.columns.is_none() && case.error.is_none() {
            if !case.query.is_empty() {
                case.query.push('\n');
            }
            case.query.push_str(line);
        } else if !(line.starts_with('#') || line.trim().is_empty()) {
            panic!(
                "line {}: unexpected {line:?} in case {:?}",
                i + 1,
                case.name
            );
        }
    }
    (records, cases)
}

fn log_record(r: &Record) -> LogRecord<'_> {
    LogRecord {
        timestamp: r.timestamp,
        ingestion_time: r.timestamp + INGESTION_DELAY_MS,
        message: &r.message,
        log_stream: &r.stream,
        log_group: &r.group,
        ptr: &r.ptr,
    }
}

fn run(q: &Query, limit: Option<usize>, records: &[&Record], splits: usize) -> (Vec<Row>, u64) {
    let mut executors: Vec<_> = (0..splits).map(|_| q.executor(limit)).collect();
    for (i, r) in records.iter().enumerate() {
        executors[i % splits].push(&log_record(r));
    }
    let mut first = executors.remove(0);
    for e in executors {
        first.merge(e);
    }
    let matched = first.records_matched();
    let snapshot = first.snapshot();
    let rows = first.finish();
    assert_eq!(snapshot, rows, "snapshot differs from finish");
    (rows, matched)
}

fn show(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn golden_cases() {
    let (records, cases) = load();
    assert!(records.len() >= 20, "dataset too small");
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = Query::parse(&case.query);
        let where_ = format!("case {:?} (line {})", case.name, case.line);
        match (&case.error, outcome) {
            (Some(want), Err(e)) => {
                if &e.message != want {
                    failures.push(format!(
                        "{where_}: error {:?}, expected {:?}",
                        e.message, want
                    ));
                }
                if let Some((s, end)) = case.error_at {
                    if (e.start_char_offset, e.end_char_offset) != (s, end) {
                        failures.push(format!(
                            "{where_}: error at {}..{}, expected {s}..{end}",
                            e.start_char_offset, e.end_char_offset
                        ));
                    }
                }
            }
            (Some(want), Ok(_)) => {
                failures.push(format!("{where_}: parsed, expected error {want:?}"))
            }
            (None, Err(e)) => failures.push(format!("{where_}: error {:?}", e.message)),
            (None, Ok(q)) => {
                let Some(columns) = &case.columns else {
                    failures.push(format!("{where_}: no expected table"));
                    continue;
                };
                let expected: Vec<Row> = case
                    .rows
                    .iter()
                    .map(|vals| {
                        assert_eq!(vals.len(), columns.len(), "{where_}: row width {vals:?}");
                        columns
                            .iter()
                            .zip(vals)
                            .filter(|(_, v)| v.as_str() != "~")
                            .map(|(c, v)| (c.clone(), v.clone()))
                            .collect()
                    })
                    .collect();
                let forward: Vec<&Record> = records.iter().collect();
                let backward: Vec<&Record> = records.iter().rev().collect();
                for (label, order, splits) in [
                    ("forward", &forward, 1),
                    ("backward", &backward, 1),
                    ("split", &forward, 3),
                ] {
                    let (rows, matched) = run(&q, case.limit, order, splits);
                    if rows != expected {
                        failures.push(format!(
                            "{where_} [{label}]:\n  got:\n{}\n  expected:\n{}",
                            show(&rows),
                            show(&expected)
                        ));
                        break;
                    }
                    if let Some(m) = case.matched {
                        if m != matched {
                            failures.push(format!(
                                "{where_} [{label}]: recordsMatched {matched}, expected {m}"
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
