//! Extended statistic names: parsing never panics, and what parses has sane bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_metrics_lang::extended::{Bounds, ExtendedStatistic};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(stat) = ExtendedStatistic::parse(text) {
        let (lo, hi, percent) = match stat.bounds {
            Bounds::Percent { lo, hi } => (lo, hi, true),
            Bounds::Value { lo, hi } => (lo, hi, false),
        };
        assert!(lo.is_some() || hi.is_some(), "{text:?}: a range with no bound");
        for b in [lo, hi].into_iter().flatten() {
            assert!(b.is_finite(), "{text:?}");
            assert!(!percent || (0.0..=100.0).contains(&b), "{text:?}: percentage {b}");
        }
        if let (Some(l), Some(h)) = (lo, hi) {
            assert!(l < h, "{text:?}: {l} >= {h}");
        }
    }
});
