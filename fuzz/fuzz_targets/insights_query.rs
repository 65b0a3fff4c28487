//! Logs Insights queries: parsing never panics, errors point inside the query, and a parsed
//! query runs over a few fixed records with the same result whether the records go to one
//! executor in order or to two merged executors in reverse order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_logs_lang::insights::{LogRecord, Query};

const MESSAGES: &[&str] = &[
    r#"{"level":"INFO","latency":120,"user":{"id":"u1"},"tags":["a","b"],"@type":"x"}"#,
    r#"{"level":"ERROR","latency":950.5,"error":"timeout","items":[{"sku":"x1","qty":2}]}"#,
    r#"10.0.0.1 - - [10/Mar/2024:10:00:05 +0000] "GET /index.html HTTP/1.1" 200 512"#,
    "[ERROR] {foo=2, bar=data} The error was: DataIntegrityException",
    "",
];

fn record(i: usize) -> LogRecord<'static> {
    LogRecord {
        timestamp: 1_710_064_805_000 + (i as i64 % 3) * 61_000,
        ingestion_time: 1_710_064_806_500 + i as i64,
        message: MESSAGES[i],
        log_stream: if i % 2 == 0 { "s-1" } else { "s-2" },
        log_group: "111122223333:/fuzz",
        ptr: ["p0", "p1", "p2", "p3", "p4"][i],
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Query::parse(text) {
        Err(e) => {
            assert!(e.start_char_offset <= e.end_char_offset, "{text:?}: {e:?}");
            assert!(e.end_char_offset <= text.chars().count(), "{text:?}: {e:?}");
        }
        Ok(q) => {
            let mut one = q.executor(Some(7));
            for i in 0..MESSAGES.len() {
                one.push(&record(i));
            }
            let mut a = q.executor(Some(7));
            let mut b = q.executor(Some(7));
            for i in (0..MESSAGES.len()).rev() {
                if i % 2 == 0 {
                    a.push(&record(i))
                } else {
                    b.push(&record(i))
                }
            }
            a.merge(b);
            assert_eq!(a.records_matched(), one.records_matched(), "{text:?}");
            assert_eq!(a.finish(), one.finish(), "{text:?}");
        }
    }
});
