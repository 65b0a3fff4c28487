//! The metrics part of a commit-log record: what one write stores, as replay reads it back.
//!
//! New parts are [`PartKind::MetricColumns`](watchtrail_store::PartKind)
//! ([`encode_series_columns`]): each series' key once, its single values as a column of times
//! and a column of values. Parts of earlier builds are still replayed:
//! [`PartKind::MetricSeries`](watchtrail_store::PartKind) (a postcard [`SeriesBatch`]) and
//! [`PartKind::Metrics`](watchtrail_store::PartKind) ([`WalBatch`], a key per sample). All
//! of them read back as a [`SeriesBatch`].

use crate::chunk::{put_times, read_times};
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

/// The samples of one call, each series' key once: what every metric part reads back as,
/// and, postcard-encoded, a [`PartKind::MetricSeries`] part of earlier builds.
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

/// The commit-log part of a write ([`PartKind::MetricColumns`](watchtrail_store::PartKind)),
/// about half the bytes of a postcard [`SeriesBatch`] for single values:
///
/// ```text
/// part    = account:str region:str received:zigzag count:uvarint series{count}
/// series  = key (the postcard SeriesKey, as EncodedSeriesKey holds it) n:uvarint samples
/// samples = 0x00 resolution:u8 times values   n single values at one resolution
///         | 0x01 sample{n}                    anything else: postcard Samples
/// times   = n zigzag varints (chunk::put_times): the first time, then each delta less the one before
///           (a fixed step is a run of zeros; wrapping arithmetic)
/// values  = n f64, little-endian
/// str     = len:uvarint UTF-8 bytes
/// ```
pub(crate) fn encode_series_columns(account: &str, region: &str, received: i64, series: &[(Arc<EncodedSeriesKey>, Vec<HeadSample>)]) -> Result<Vec<u8>> {
    let keys: usize = series.iter().map(|(k, _)| k.bytes.len() + 7).sum();
    let samples: usize = series.iter().map(|(_, s)| s.len()).sum();
    // Most single values take a byte of time and eight of value.
    let mut out = Vec::with_capacity(account.len() + region.len() + 32 + keys + samples * 10);
    put_str(&mut out, account);
    put_str(&mut out, region);
    put_i64(&mut out, received);
    put_uvarint(&mut out, series.len() as u64);
    for (key, samples) in series {
        out.extend_from_slice(&key.bytes);
        put_uvarint(&mut out, samples.len() as u64);
        match single_resolution(samples) {
            Some(resolution) => {
                out.push(SINGLES);
                out.push(resolution);
                put_times(&mut out, samples.iter().map(|s| s.ts().millis()));
                for s in samples {
                    if let HeadSample::Single { value, .. } = s {
                        out.extend_from_slice(&value.to_le_bytes());
                    }
                }
            }
            None => {
                out.push(GENERAL);
                for s in samples {
                    out = s.with(|s| postcard::to_extend(s, out)).map_err(|e| MetricsError::Internal(format!("encode: {e}")))?;
                }
            }
        }
    }
    Ok(out)
}

/// [`encode_series_columns`]' form tag: single values at one resolution.
const SINGLES: u8 = 0;
/// [`encode_series_columns`]' form tag: postcard samples.
const GENERAL: u8 = 1;

/// The resolution of `samples` when every one is a single value at it (and there is one).
fn single_resolution(samples: &[HeadSample]) -> Option<u8> {
    let Some(HeadSample::Single { resolution, .. }) = samples.first() else { return None };
    samples.iter().all(|s| matches!(s, HeadSample::Single { resolution: r, .. } if r == resolution)).then_some(*resolution)
}

/// Reads a [`encode_series_columns`] part; any malformed input is an error.
pub(crate) fn decode_series_columns(bytes: &[u8]) -> Result<SeriesBatch> {
    let bad = |what: &str| MetricsError::Internal(format!("commit-log metric part: {what}"));
    let mut r = Reader { bytes, pos: 0 };
    let account = r.str().ok_or_else(|| bad("account"))?;
    let region = r.str().ok_or_else(|| bad("region"))?;
    let received = r.i64().ok_or_else(|| bad("receive time"))?;
    let count = r.uvarint().ok_or_else(|| bad("series count"))?;
    let mut series = Vec::with_capacity((count as usize).min(r.rest().len()));
    for _ in 0..count {
        let (key, rest) = postcard::take_from_bytes::<SeriesKey>(r.rest()).map_err(|e| bad(&format!("series key: {e}")))?;
        r.pos = bytes.len() - rest.len();
        let n = r.uvarint().ok_or_else(|| bad("sample count"))? as usize;
        let form = r.u8().ok_or_else(|| bad("sample form"))?;
        // Every sample takes a byte at least.
        let mut samples = Vec::with_capacity(n.min(r.rest().len()));
        match form {
            SINGLES => {
                let resolution = r.u8().ok_or_else(|| bad("resolution"))?;
                let mut times = Vec::with_capacity(n.min(r.rest().len()));
                read_times(r.bytes, &mut r.pos, n, &mut times).ok_or_else(|| bad("sample time"))?;
                let values = r.take(n.checked_mul(8).ok_or_else(|| bad("sample count"))?).ok_or_else(|| bad("values"))?;
                for (t, v) in times.into_iter().zip(values.chunks_exact(8)) {
                    let v = f64::from_le_bytes(v.try_into().map_err(|_| bad("value"))?);
                    samples.push(Sample { ts: watchtrail_core::Timestamp(t), resolution, value: crate::model::SampleValue::Single(v) });
                }
            }
            GENERAL => {
                for _ in 0..n {
                    let (sample, rest) = postcard::take_from_bytes::<Sample>(r.rest()).map_err(|e| bad(&format!("sample: {e}")))?;
                    r.pos = bytes.len() - rest.len();
                    samples.push(sample);
                }
            }
            other => return Err(bad(&format!("unknown sample form {other}"))),
        }
        series.push((key, samples));
    }
    if !r.rest().is_empty() {
        return Err(bad("bytes after the last series"));
    }
    Ok(SeriesBatch { account, region, received, series })
}

/// A cursor over a part's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    fn uvarint(&mut self) -> Option<u64> {
        watchtrail_core::varint::read_uvarint(self.bytes, &mut self.pos)
    }

    fn i64(&mut self) -> Option<i64> {
        self.uvarint().map(watchtrail_core::varint::unzigzag)
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
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

    /// A series of single values at one resolution (the columns form), times in any order.
    fn arb_singles() -> impl Strategy<Value = (SeriesKey, Vec<Sample>)> {
        let key = ("[A-Za-z]{1,8}", "[a-z_]{1,12}").prop_map(|(ns, name)| SeriesKey { metric: MetricKey::new(ns, name, vec![]), unit: Unit::None });
        let times = prop_oneof![
            (any::<i64>(), 1i64..100_000, 1usize..50).prop_map(|(t0, step, n)| (0..n as i64).map(|i| t0.wrapping_add(i.wrapping_mul(step))).collect::<Vec<_>>()),
            proptest::collection::vec(any::<i64>(), 1..20),
        ];
        (key, times, any::<u8>(), any::<f64>()).prop_map(|(key, times, resolution, v)| {
            let samples = times.iter().enumerate().map(|(i, &t)| Sample { ts: Timestamp(t), resolution, value: SampleValue::Single(v + i as f64) }).collect();
            (key, samples)
        })
    }

    proptest! {
        /// Replay reads back every series and sample the write path encodes, bit for bit.
        #[test]
        fn a_columns_part_reads_back_as_its_batch(account in "[0-9]{0,12}", region in "\\PC{0,12}", received in any::<i64>(), series in proptest::collection::vec(prop_oneof![arb_series(), arb_singles()], 0..5)) {
            let shared: Vec<_> = series.iter().map(|(k, s)| (Arc::new(EncodedSeriesKey::new(k.clone())), crate::head_sample::head_samples(s.clone()))).collect();
            let bytes = encode_series_columns(&account, &region, received, &shared).unwrap();
            let back = decode_series_columns(&bytes).unwrap();
            let batch = SeriesBatch { account, region, received, series };
            // (postcard's bytes: NaN compares by its bits)
            prop_assert_eq!(encode(&back).unwrap(), encode(&batch).unwrap());
        }

        /// Cut short, flipped or arbitrary bytes are an error or some batch, never a panic.
        #[test]
        fn a_damaged_columns_part_never_panics(series in proptest::collection::vec(arb_singles(), 1..4), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), xor in 1u8.., junk in proptest::collection::vec(any::<u8>(), 0..64)) {
            let shared: Vec<_> = series.iter().map(|(k, s)| (Arc::new(EncodedSeriesKey::new(k.clone())), crate::head_sample::head_samples(s.clone()))).collect();
            let bytes = encode_series_columns("1", "r", 0, &shared).unwrap();
            prop_assert!(decode_series_columns(&bytes[..cut.index(bytes.len())]).is_err(), "a cut part is an error");
            let mut flipped = bytes.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= xor;
            let _ = decode_series_columns(&flipped);
            let _ = decode_series_columns(&junk);
        }
    }
}
