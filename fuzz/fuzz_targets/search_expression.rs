//! SEARCH text: parsing never panics, and a parsed search answers for any metric.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_metrics_lang::math::search::{Candidate, Search};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(search) = Search::parse(text) {
        for (ns, name, dims) in [
            ("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-1")][..]),
            ("My Namespace", "Custom:Name[Special_Characters", &[][..]),
            ("é/ü", "ÀbC9x", &[("ÜÜ", ""), ("", "-")][..]),
        ] {
            let _ = search.matches(&Candidate { namespace: ns, metric_name: name, dimensions: dims });
        }
    }
});
