//! The metrics part of a commit-log record: what one write stores, as replay reads it back.
//!
//! [`PartKind::MetricSeries`](watchtrail_store::PartKind) parts are a postcard
//! [`SeriesBatch`] (account, region, arrival time, each series' key once with its samples);
//! [`PartKind::Metrics`](watchtrail_store::PartKind) parts of earlier builds ([`WalBatch`], a
//! key per sample) are still replayed. New parts are written by hand from each series'
//! [`EncodedSeriesKey`], to the same bytes.

use crate::engine::encode;
use crate::error::{MetricsError, Result};
use crate::head_sample::HeadSample;
use crate::model::{Sample, SeriesKey};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use watchtrail_core::varint::{put_uvarint, zigzag};

/// One commit-log part of earlier builds ([`PartKind::Metrics`]): a key per sample. Still
/// replayed; new writes are [`SeriesBatch`]es.
#[derive(Serialize, Deserialize)]
pub(crate) struct WalBatch {
    account: String,
    region: String,
    received: i64,
    entries: Vec<(SeriesKey, Sample)>,
}

/// One commit-log part ([`PartKind::MetricSeries`]): the samples of one call, each series'
/// key once.
#[derive(Serialize, Deserialize)]
pub(crate) struct SeriesBatch {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) received: i64,
    pub(crate) series: Vec<(SeriesKey, Vec<Sample>)>,
}

impl From<WalBatch> for SeriesBatch {
    fn from(b: WalBatch) -> SeriesBatch {
        SeriesBatch { account: b.account, region: b.region, received: b.received, series: group_by_series(b.entries) }
    }
}

/// Consecutive samples of one series grouped (order kept).
pub(crate) fn group_by_series(entries: Vec<(SeriesKey, Sample)>) -> Vec<(SeriesKey, Vec<Sample>)> {
    let mut out: Vec<(SeriesKey, Vec<Sample>)> = Vec::new();
    for (key, sample) in entries {
        match out.last_mut() {
            Some((k, v)) if *k == key => v.push(sample),
            _ => out.push((key, vec![sample])),
        }
    }
    out
}

/// A series key together with the bytes the commit log and the segments store it as, built
/// once: a writer that sees the same series again (the remote-write receiver keeps these per
/// label set) neither validates, builds nor encodes its key again, and the head finds the
/// series by the slot it noted here instead of hashing and comparing the key.
#[derive(Debug)]
pub struct EncodedSeriesKey {
    key: SeriesKey,
    bytes: Box<[u8]>,
    /// The slot the head last found this key at (`u32::MAX`: none yet). A hint: the head
    /// uses it only when that slot holds this very key.
    pub(crate) slot: AtomicU32,
}

impl EncodedSeriesKey {
    /// Encodes `key`.
    pub fn new(key: SeriesKey) -> Self {
        // Strings, lists of known length and unit variants: postcard cannot fail on them.
        let bytes = encode(&key).expect("a series key always encodes").into_boxed_slice();
        EncodedSeriesKey { key, bytes, slot: AtomicU32::new(u32::MAX) }
    }

    /// The key.
    pub fn key(&self) -> &SeriesKey {
        &self.key
    }

    /// Its stored encoding.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// postcard's signed integers: zigzag varints.
fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// postcard's strings: the length, then the bytes.
fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The commit-log part of a write: exactly the bytes postcard gives the [`SeriesBatch`] of
/// these series (which replay decodes), written from each key's stored encoding instead of
/// serializing every key again.
pub(crate) fn encode_series_batch(account: &str, region: &str, received: i64, series: &[(Arc<EncodedSeriesKey>, Vec<HeadSample>)]) -> Result<Vec<u8>> {
    let keys: usize = series.iter().map(|(k, _)| k.bytes.len() + 5).sum();
    let samples: usize = series.iter().map(|(_, s)| s.len()).sum();
    // A single value is at most 10 + 1 + 1 + 8 bytes.
    let mut out = Vec::with_capacity(account.len() + region.len() + 32 + keys + samples * 20);
    put_str(&mut out, account);
    put_str(&mut out, region);
    put_i64(&mut out, received);
    put_uvarint(&mut out, series.len() as u64);
    for (key, samples) in series {
        out.extend_from_slice(&key.bytes);
        put_uvarint(&mut out, samples.len() as u64);
        for sample in samples {
            match sample {
                HeadSample::Single { ts, value, resolution } => {
                    put_i64(&mut out, ts.millis());
                    out.push(*resolution);
                    out.push(0); // `SampleValue::Single`'s index
                    out.extend_from_slice(&value.to_le_bytes());
                }
                HeadSample::Other(sample) => out = postcard::to_extend(&**sample, out).map_err(|e| MetricsError::Internal(format!("encode: {e}")))?,
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::decode;
    use crate::model::{Dimension, MetricKey, Rolled, SampleValue, Unit};
    use proptest::prelude::*;
    use watchtrail_core::Timestamp;

    /// Any sample value, single values most often.
    pub(crate) fn arb_value() -> impl Strategy<Value = SampleValue> {
        prop_oneof![
            4 => any::<f64>().prop_map(SampleValue::Single),
            1 => (any::<f64>(), any::<f64>(), any::<f64>(), any::<f64>()).prop_map(|(count, sum, min, max)| SampleValue::Stats { count, sum, min, max }),
            1 => proptest::collection::vec((any::<f64>(), any::<f64>()), 0..4).prop_map(SampleValue::Distribution),
            1 => (any::<u32>(), any::<f64>(), proptest::option::of(proptest::collection::vec((any::<f64>(), any::<f64>()), 0..3)))
                .prop_map(|(step_s, count, values)| SampleValue::Rolled(Box::new(Rolled { step_s, count, sum: count, min: 0.0, max: count, values }))),
        ]
    }

    fn arb_series() -> impl Strategy<Value = (SeriesKey, Vec<Sample>)> {
        let key = ("[A-Za-z/]{1,8}", "[a-z_]{1,12}", proptest::collection::vec(("[a-z]{1,6}", "\\PC{0,30}"), 0..4), any::<bool>()).prop_map(|(ns, name, dims, seconds)| SeriesKey {
            metric: MetricKey::new(ns, name, dims.into_iter().map(|(n, v)| Dimension { name: n.into(), value: v.into() }).collect()),
            unit: if seconds { Unit::Seconds } else { Unit::None },
        });
        let sample = (any::<i64>(), any::<u8>(), arb_value()).prop_map(|(t, resolution, value)| Sample { ts: Timestamp(t), resolution, value });
        (key, proptest::collection::vec(sample, 0..6))
    }

    proptest! {
        /// Replay decodes what the write path encodes by hand with postcard's `SeriesBatch`.
        #[test]
        fn a_hand_encoded_batch_is_the_postcard_batch(account in "[0-9]{0,12}", region in "\\PC{0,12}", received in any::<i64>(), series in proptest::collection::vec(arb_series(), 0..5)) {
            let shared: Vec<_> = series.iter().map(|(k, s)| (Arc::new(EncodedSeriesKey::new(k.clone())), crate::head_sample::head_samples(s.clone()))).collect();
            let by_hand = encode_series_batch(&account, &region, received, &shared).unwrap();
            let batch = SeriesBatch { account, region, received, series };
            prop_assert_eq!(&by_hand, &encode(&batch).unwrap());
            let back: SeriesBatch = decode(&by_hand).unwrap();
            prop_assert_eq!(back.series.len(), batch.series.len());
        }
    }
}
