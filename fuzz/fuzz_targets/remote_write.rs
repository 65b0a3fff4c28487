//! Prometheus remote-write bodies: decoding (snappy or not) never panics nor allocates past
//! the decompression limit, every decoded series maps or is refused with a reason, and the
//! in-place reader the receiver uses sees exactly the series prost sees (or refuses the body
//! exactly when prost does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_metrics_lang::remote_write::{decode, decompress, map_series, RawWrite, TimeSeries, WriteRequest};

/// Each series' labels and samples (values by their bits: NaN is not equal to itself).
type Seen = Vec<(Vec<(String, String)>, Vec<(u64, i64)>)>;

fn seen(series: impl IntoIterator<Item = TimeSeries>) -> Seen {
    series
        .into_iter()
        .map(|ts| (ts.labels.into_iter().map(|l| (l.name, l.value)).collect(), ts.samples.iter().map(|s| (s.value.to_bits(), s.timestamp)).collect()))
        .collect()
}

/// The series `RawWrite` reads (`None` when it refuses the body).
fn in_place(bytes: &[u8]) -> Option<Seen> {
    let raw = RawWrite::parse(bytes).ok()?;
    let mut timeseries = Vec::new();
    for s in raw.series() {
        timeseries.push(TimeSeries { labels: raw.labels(s).ok()?, samples: raw.samples(s).to_vec() });
    }
    Some(seen(timeseries))
}

fuzz_target!(|data: &[u8]| {
    let (snappy, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => return,
    };
    let encoding = if snappy { Some("snappy") } else { None };
    let decoded = decode(body, encoding);
    if let Ok(bytes) = decompress(body, encoding) {
        let by_prost = decoded.as_ref().ok().map(|req: &WriteRequest| seen(req.timeseries.iter().cloned()));
        assert_eq!(in_place(&bytes), by_prost);
    }
    if let Ok(req) = decoded {
        for ts in req.timeseries {
            if let Ok(s) = map_series(ts) {
                assert!(s.samples.iter().all(|(_, v)| v.is_finite()));
                assert!(s.dimensions.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }
});
