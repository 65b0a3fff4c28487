//! Prometheus remote write 1.0: the body of a `POST /api/v1/write` (a snappy-compressed
//! protobuf `WriteRequest`) read into series, and how Prometheus labels map onto CloudWatch
//! metrics.
//!
//! Mapping (documented for users in the README):
//! - `__name__` is the MetricName; a series without one is refused.
//! - Every other label is a dimension, except labels starting with `__` (Prometheus-internal),
//!   which are dropped. Dimensions are sorted by name.
//! - The namespace is not in the series: the receiver takes it from the URL (`?namespace=`).
//! - A sample is a value at a millisecond timestamp. NaN (including Prometheus's staleness
//!   marker) and ±Inf are not values and are skipped; exemplars, native histograms and
//!   metadata are ignored.
//!
//! Checking names, values and timestamps against CloudWatch's rules is the receiver's job
//! (`watchtrail_metrics::ops`), with the same rules as PutMetricData.

/// Largest decompressed body accepted (a 1,048,576-sample request is about 20 MB).
pub const MAX_DECODED_BYTES: usize = 64 << 20;

/// `prometheus.WriteRequest` (fields this receiver reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// `timeseries = 1`.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// `labels = 1`.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// `samples = 2`.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// `name = 1`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `value = 2`.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// `value = 1`.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// `timestamp = 2`, milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Why a body is not a remote-write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a body sent with `content_encoding` (`snappy`, as Prometheus sends, or none).
pub fn decode(body: &[u8], content_encoding: Option<&str>) -> Result<WriteRequest, DecodeError> {
    let owned;
    let bytes: &[u8] = match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => body,
        Some("snappy") => {
            let len = snap::raw::decompress_len(body).map_err(|e| DecodeError(format!("the body is not snappy-compressed: {e}")))?;
            if len > MAX_DECODED_BYTES {
                return Err(DecodeError(format!("the body decompresses to {len} bytes, over the limit of {MAX_DECODED_BYTES}")));
            }
            owned = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| DecodeError(format!("the body is not snappy-compressed: {e}")))?;
            &owned
        }
        Some(other) => return Err(DecodeError(format!("Content-Encoding {other} is not supported; remote write uses snappy"))),
    };
    <WriteRequest as prost::Message>::decode(bytes).map_err(|e| DecodeError(format!("the body is not a remote-write WriteRequest: {e}")))
}

/// A series as CloudWatch sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// MetricName (`__name__`).
    pub metric_name: String,
    /// Dimensions (the other labels), sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// `(timestamp ms, value)`, finite values only.
    pub samples: Vec<(i64, f64)>,
    /// Samples skipped because their value was NaN or infinite.
    pub skipped: usize,
}

/// The CloudWatch view of one series; `Err` names why it has none (no `__name__`).
pub fn map_series(ts: TimeSeries) -> Result<Series, String> {
    let mut name = None;
    let mut dimensions = Vec::with_capacity(ts.labels.len());
    for l in ts.labels {
        if l.name == "__name__" {
            name = Some(l.value);
        } else if !l.name.starts_with("__") {
            dimensions.push((l.name, l.value));
        }
    }
    let Some(metric_name) = name else { return Err("a series has no __name__ label".into()) };
    dimensions.sort();
    let total = ts.samples.len();
    let samples: Vec<(i64, f64)> = ts.samples.into_iter().filter(|s| s.value.is_finite()).map(|s| (s.timestamp, s.value)).collect();
    let skipped = total - samples.len();
    Ok(Series { metric_name, dimensions, samples, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn label(n: &str, v: &str) -> Label {
        Label { name: n.into(), value: v.into() }
    }

    #[test]
    fn snappy_protobuf_round_trip_and_mapping() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![label("__name__", "node_cpu_seconds_total"), label("mode", "idle"), label("cpu", "0"), label("__tmp", "x")],
                samples: vec![
                    Sample { value: 1.5, timestamp: 1000 },
                    Sample { value: f64::from_bits(0x7ff0_0000_0000_0002), timestamp: 2000 },
                    Sample { value: f64::INFINITY, timestamp: 3000 },
                ],
            }],
        };
        let raw = req.encode_to_vec();
        let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        let back = decode(&body, Some("snappy")).unwrap();
        assert_eq!(back.encode_to_vec(), raw, "NaN is not equal to itself: compare the encodings");
        assert_eq!(decode(&raw, None).unwrap().encode_to_vec(), raw, "an uncompressed body is read too");
        let s = map_series(back.timeseries.into_iter().next().unwrap()).unwrap();
        assert_eq!(s.metric_name, "node_cpu_seconds_total");
        assert_eq!(s.dimensions, [("cpu".to_string(), "0".to_string()), ("mode".to_string(), "idle".to_string())]);
        assert_eq!((s.samples, s.skipped), (vec![(1000, 1.5)], 2), "the staleness marker and +Inf are skipped");
        assert!(map_series(TimeSeries { labels: vec![label("job", "x")], samples: vec![] }).is_err());
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(decode(b"not snappy", Some("snappy")).is_err());
        assert!(decode(&[0xff, 0xff, 0xff], None).is_err());
        assert!(decode(b"", Some("gzip")).is_err());
        // A snappy header claiming more than the limit is refused before decompressing.
        let mut huge = Vec::new();
        let mut n = (MAX_DECODED_BYTES + 1) as u64;
        while n >= 0x80 {
            huge.push((n as u8) | 0x80);
            n >>= 7;
        }
        huge.push(n as u8);
        assert!(decode(&huge, Some("snappy")).unwrap_err().0.contains("over the limit"));
        assert_eq!(decode(b"", Some("snappy")).map(|r| r.timeseries.len()).unwrap_or(0), 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256), snappy in proptest::bool::ANY) {
            if let Ok(req) = decode(&body, if snappy { Some("snappy") } else { None }) {
                for ts in req.timeseries {
                    let _ = map_series(ts);
                }
            }
        }
    }
}
