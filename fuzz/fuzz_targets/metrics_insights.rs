//! Metrics Insights queries: parsing never panics, and a parsed query answers for any metric
//! with a group of one value per GROUP BY key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_metrics_lang::insights::Query;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(q) = Query::parse(text) {
        assert!(q.limit.is_none_or(|l| (1..=500).contains(&l)), "{text:?}");
        for dims in [&[][..], &[("InstanceId", "i-1"), ("Group", "x")][..]] {
            let _ = q.matches(q.namespace(), &q.metric, dims);
            assert_eq!(q.group_of(dims).len(), q.group_by.len());
        }
    }
});
