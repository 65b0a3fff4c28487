//! Unit tests and property tests of the public API (the golden cases are in
//! tests/golden/logs_insights.cases).

use proptest::prelude::*;

use super::*;

struct Owned {
    timestamp: i64,
    message: String,
    stream: String,
    ptr: String,
}

fn record(o: &Owned) -> LogRecord<'_> {
    LogRecord {
        timestamp: o.timestamp,
        ingestion_time: o.timestamp + 7,
        message: &o.message,
        log_stream: &o.stream,
        log_group: "123456789012:g",
        ptr: &o.ptr,
    }
}

fn fixed_records() -> Vec<Owned> {
    let messages = [
        r#"{"level":"INFO","n":1,"svc":"a","list":[1,2,3],"o":{"k":"v"}}"#,
        r#"{"level":"ERROR","n":2.5,"svc":"b","list":[]}"#,
        "[WARN] plain text 10.0.0.1 took 5 ms",
        "",
        r#"{"@x": null, "n": "NaN", "svc": "a"}"#,
    ];
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| Owned {
            timestamp: 1_700_000_000_000 + (i as i64 % 3) * 60_000,
            message: m.to_string(),
            stream: format!("s{}", i % 2),
            ptr: format!("p{i}"),
        })
        .collect()
}

/// Queries covering every kind of executor state and every aggregation.
const QUERIES: &[&str] = &[
    "fields @timestamp, level, n",
    "filter n > 1 | fields n, svc",
    "sort n desc | fields n | limit 3",
    "fields svc | sort svc asc | limit 2",
    "limit 4",
    "fields svc, n | dedup svc",
    "fields svc | sort n asc | dedup svc | limit 2",
    "stats count(*), count(n), count_distinct(svc), sum(n), avg(n), min(n), max(n) by svc",
    "stats stddev(n) as sd, pct(n, 50) as p, pct(n, 99) as p99 by bin(1m)",
    "stats earliest(n) as e, latest(n) as l, sortsFirst(svc) as f, sortsLast(svc) as z",
    "stats count(*) as c by svc, level | sort c desc | limit 2",
    "stats count(*) as c by svc | stats sum(c) as total",
    "fields jsonParse(@message) as js | unnest js.list into x | stats sum(x) as s, count(*) as c by svc",
    "fields jsonParse(@message) as js | unnest js.list into x | fields x | sort x desc | limit 5",
    "parse @message /(?<word>[a-z]+)/ | stats count(*) by word",
    "fields n * 0.1 as f | stats sum(f) as s, avg(f) as a, stddev(f) as d",
];

#[test]
fn parses_source() {
    let q = Query::parse(
        "SOURCE logGroups(namePrefix: ['/aws/lambda', 'my-'], class: ['INFREQUENT_ACCESS'], accountIdentifiers: ['111122223333']) | fields @message",
    )
    .unwrap();
    let s = q.source().unwrap();
    assert_eq!(s.name_prefixes, vec!["/aws/lambda", "my-"]);
    assert_eq!(s.log_group_class.as_deref(), Some("INFREQUENT_ACCESS"));
    assert_eq!(s.account_identifiers, vec!["111122223333"]);
    let all = Query::parse("SOURCE logGroups()").unwrap();
    assert_eq!(all.source(), Some(&Source::default()));
    assert!(Query::parse("fields @message").unwrap().source().is_none());
    let e = Query::parse("SOURCE logGroups(namePrefix: ['a','b','c','d','e','f'])").unwrap_err();
    assert_eq!(e.message, "SOURCE accepts at most 5 namePrefix values");
}

#[test]
fn returns_ptr_only_without_stats() {
    assert!(Query::parse("fields @message | limit 5")
        .unwrap()
        .returns_ptr());
    assert!(!Query::parse("stats count(*) by bin(5m)")
        .unwrap()
        .returns_ptr());
}

#[test]
fn discovers_json_fields() {
    // Sorted: key order follows serde_json's map (sorted unless `preserve_order` is enabled).
    let mut fields = discover_fields(r#"{"a":{"b":1,"c":[{"d":2}, 3]},"@t":"x","n":null,"e":{}}"#);
    fields.sort();
    assert_eq!(fields, vec!["@@t", "a.b", "a.c.0.d", "a.c.1"]);
    assert!(discover_fields("not json").is_empty());
    let mut values = discover_field_values(r#"{"a":{"b":1.50},"@t":"x","ok":true,"l":["s"]}"#);
    values.sort();
    let expected = [("@@t", "x"), ("a.b", "1.5"), ("l.0", "s"), ("ok", "true")];
    assert_eq!(
        values,
        expected
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec()
    );
    assert!(discover_fields("[1,2]").is_empty());
    let wide: String = format!(
        "{{{}}}",
        (0..300)
            .map(|i| format!("\"k{i:03}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(discover_fields(&wide).len(), 200);
}

#[test]
fn every_discovered_field_reads_back() {
    let messages = [
        r#"{"a":{"b":1,"c":[{"d":2},3,[4,5]]},"@t":"x","n":null,"e":{},"f.g":"dotted","f":{"h":true}}"#,
        r#"{"list":[{"k":[{"z":"deep"}]}],"s":"text","num":1.50,"neg":-3}"#,
    ];
    for m in messages {
        let rec = eval::RecRef {
            timestamp: 0,
            ingestion_time: 0,
            message: m,
            log_stream: "",
            log_group: "",
            ptr: "",
        };
        let row = eval::RowState::new(Some(rec), Vec::new(), 0);
        for (name, value) in eval::flatten_message(m) {
            assert_eq!(row.get(&name), Some(value), "{name} in {m}");
        }
        assert_eq!(row.get("@t"), None);
        assert_eq!(row.get("a"), None);
        assert_eq!(row.get("a.c.01"), None);
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("fields {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(
        Query::parse(&deep).unwrap_err().message,
        "the query is nested too deeply"
    );
    let minus = format!("fields {}1", "-".repeat(10_000));
    assert!(Query::parse(&minus).is_err());
    let nots = format!("filter {} 1", "not ".repeat(10_000));
    assert!(Query::parse(&nots).is_err());
}

#[test]
fn long_operator_chains_are_refused() {
    let chain = format!("fields {}1", "1+".repeat(600));
    assert_eq!(
        Query::parse(&chain).unwrap_err().message,
        "the query is nested too deeply"
    );
    let ok = format!("fields {}1 as n | filter n > 0", "1+".repeat(400));
    assert!(Query::parse(&ok).is_ok());
}

#[test]
fn unnest_chains_are_bounded() {
    let chain = " | unnest js.l into x".repeat(12);
    let q = Query::parse(&format!(
        "fields jsonParse(@message) as js{chain} | stats count(*) as n"
    ))
    .unwrap();
    let o = Owned {
        timestamp: 0,
        message: r#"{"l":[1,2,3,4]}"#.into(),
        stream: "s".into(),
        ptr: "p".into(),
    };
    let mut ex = q.executor(None);
    ex.push(&record(&o));
    let rows = ex.finish();
    let n: usize = rows[0][0].1.parse().unwrap();
    assert!(n > 0 && n <= 10_000, "{n}");
}

#[test]
fn public_types_are_thread_safe() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Query>();
    send::<Executor>();
}

#[test]
fn top_k_keeps_only_the_limit() {
    let q = Query::parse("fields @ptr").unwrap();
    let mut ex = q.executor(Some(3));
    let owned: Vec<Owned> = (0..1000)
        .map(|i| Owned {
            timestamp: i,
            message: String::new(),
            stream: "s".into(),
            ptr: format!("p{i:04}"),
        })
        .collect();
    for o in &owned {
        ex.push(&record(o));
    }
    assert_eq!(ex.records_matched(), 1000);
    let rows = ex.finish();
    let ptrs: Vec<&str> = rows.iter().map(|r| r[0].1.as_str()).collect();
    assert_eq!(ptrs, vec!["p0999", "p0998", "p0997"]);
}

fn arb_records() -> impl Strategy<Value = Vec<(i64, u8, u8, u8, bool)>> {
    prop::collection::vec((0i64..6, 0u8..4, 0u8..3, 0u8..6, any::<bool>()), 0..40)
}

fn build(specs: &[(i64, u8, u8, u8, bool)]) -> Vec<Owned> {
    specs
        .iter()
        .enumerate()
        .map(|(i, (t, svc, level, n, json))| {
            let level = ["INFO", "WARN", "ERROR"][*level as usize];
            let message = if *json {
                let list: Vec<String> = (0..*n % 3).map(|k| (k + *n).to_string()).collect();
                format!(
                    r#"{{"svc":"s{svc}","level":"{level}","n":{},"list":[{}]}}"#,
                    f64::from(*n) * 1.1,
                    list.join(",")
                )
            } else {
                format!("[{level}] svc=s{svc} n={n}")
            };
            Owned {
                timestamp: 1_700_000_000_000 + t * 30_000,
                message,
                stream: format!("st{}", svc % 2),
                ptr: format!("p{i:03}"),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Pushing records in any order into any number of executors and merging them gives
    /// exactly what one executor fed in order gives.
    #[test]
    fn merge_equals_single_executor(
        specs in arb_records(),
        query in 0..QUERIES.len(),
        limit in prop::option::of(1usize..8),
        assignment in prop::collection::vec(0usize..4, 40),
        shuffle_seed in any::<u64>(),
    ) {
        let records = build(&specs);
        let q = Query::parse(QUERIES[query]).unwrap();
        let mut single = q.executor(limit);
        for r in &records {
            single.push(&record(r));
        }
        let mut order: Vec<usize> = (0..records.len()).collect();
        // A deterministic shuffle from the seed.
        let mut state = shuffle_seed | 1;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut parts: Vec<Executor> = (0..4).map(|_| q.executor(limit)).collect();
        for i in order {
            parts[assignment[i % assignment.len()]].push(&record(&records[i]));
        }
        let mut merged = parts.remove(0);
        for p in parts {
            merged.merge(p);
        }
        prop_assert_eq!(merged.records_matched(), single.records_matched());
        prop_assert_eq!(merged.snapshot(), single.snapshot());
        prop_assert_eq!(merged.finish(), single.finish());
    }

    /// Arbitrary text never panics the parser, and what parses runs.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(q) = Query::parse(&text) {
            let mut ex = q.executor(Some(10));
            for r in &fixed_records() {
                ex.push(&record(r));
            }
            let _ = ex.snapshot();
            let _ = ex.finish();
        }
    }

    /// Query-like token soup (reaches deeper into the grammar than random text).
    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(vec![
        "fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup", "unnest", "into", "by",
        "as", "and", "or", "not", "in", "like", "asc", "desc", "|", ",", "(", ")", "[", "]", "=", "!=", "<",
        ">=", "=~", "+", "-", "*", "/", "^", "%", "1", "0", "2.5", "5m", "1mo", "\"a*b\"", "'x'", "/a(?<g>b)/",
        "@message", "@timestamp", "n", "svc", "list", "count", "count_distinct", "sum", "avg", "pct", "bin",
        "jsonParse", "concat", "substr", "isIpInSubnet", "datefloor", "earliest", "sortsLast", "#", "\n",
        "SOURCE", "logGroups", ":", "`f-1`",
    ]), 0..25)) {
        let text = tokens.join(" ");
        if let Ok(q) = Query::parse(&text) {
            let mut ex = q.executor(Some(10));
            for r in &fixed_records() {
                ex.push(&record(r));
            }
            let _ = ex.finish();
        }
    }
}
