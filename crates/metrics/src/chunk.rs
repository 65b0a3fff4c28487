//! One series' samples encoded together (a chunk): the unit of storage in segments, so the
//! series key is written once per chunk rather than once per sample, and reading a series
//! decodes only its own chunks.
//!
//! Format (`version` byte first):
//! - `1` *singles*: every sample a single value at one storage resolution.
//!   `resolution u8 · count varint · timestamps · values`. Timestamps: the first as a zigzag
//!   varint (ms), then deltas of deltas as zigzag varints (a fixed scrape interval costs one
//!   zero byte a sample, which block compression then removes). Values, one of:
//!   - `3` *packed deltas*: every value is `m / 10^e` exactly for one `e ≤ 9` and
//!     `|m| < 2^53`: `e u8 · first m zigzag varint · dmin zigzag varint · width u8 ·` the
//!     deltas of `m` minus `dmin`, bit-packed at `width` bits each (little-endian fields,
//!     back to back, the last byte zero-padded). A counter with a steady rate takes a few
//!     bits a sample, a constant none;
//!   - `4` *packed offsets*: `e u8 · vmin zigzag varint · width u8 ·` each `m - vmin`,
//!     bit-packed: noisy gauges, whose deltas spread twice as wide as their values. The
//!     encoder writes whichever of `3` and `4` is shorter;
//!   - `0` *decimal* (written by earlier builds, still read): `e u8 · first m zigzag varint ·
//!     deltas of m zigzag varints`;
//!   - `1` *xor*: each value's bits XOR the previous, as a control byte (`0`: equal; else
//!     leading zero bytes `<< 4 | significant bytes`) and the significant bytes.
//! - `2` *general*: the samples as a postcard list (statistic sets, distributions, rolled
//!   steps, mixed resolutions).
//!
//! Decoding never panics on arbitrary bytes; it reports them as corrupt.

use watchtrail_core::varint::{put_uvarint, read_uvarint, unzigzag, zigzag};
use crate::model::{Sample, SampleValue};
use watchtrail_core::Timestamp;

const SINGLES: u8 = 1;
const GENERAL: u8 = 2;
const DECIMAL: u8 = 0;
const XOR: u8 = 1;
const PACKED_DELTAS: u8 = 3;
const PACKED_OFFSETS: u8 = 4;
/// Largest decimal exponent tried.
const MAX_DECIMALS: u32 = 9;

/// Why bytes are not a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkError(pub String);

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt sample chunk: {}", self.0)
    }
}

/// Bytes `put_uvarint` writes for `v`.
fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bits needed for `v` (0 for 0).
fn bit_width(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// Appends `values` as `width`-bit little-endian fields, back to back, the last byte padded
/// with zero bits.
fn pack(values: impl Iterator<Item = u64>, width: u32, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let (mut acc, mut bits) = (0u128, 0u32);
    for v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// Reads the fields [`pack`] wrote.
struct Unpacker<'a> {
    bytes: &'a [u8],
    width: u32,
    mask: u64,
    /// Bit position of the next field.
    at: usize,
}

impl<'a> Unpacker<'a> {
    /// Takes the `count` fields of `width` bits at the reader's position.
    fn new(r: &mut Reader<'a>, count: usize, width: u32) -> Result<Self, ChunkError> {
        if width > 64 {
            return Err(ChunkError("bit width over 64".into()));
        }
        let len = (count as u128 * u128::from(width)).div_ceil(8);
        let end = usize::try_from(len).ok().and_then(|l| r.at.checked_add(l)).filter(|&e| e <= r.b.len()).ok_or_else(|| ChunkError("truncated".into()))?;
        let bytes = &r.b[r.at..end];
        r.at = end;
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        Ok(Unpacker { bytes, width, mask, at: 0 })
    }

    /// The next field; zero bits past the end (`new` checked the length for every field).
    #[inline]
    fn next(&mut self) -> u64 {
        let (byte, shift) = (self.at >> 3, (self.at & 7) as u32);
        self.at += self.width as usize;
        // A field of up to 56 bits and its offset in its first byte fit one 8-byte load.
        if let Some(word) = self.bytes.get(byte..byte + 8) {
            if self.width <= 56 {
                let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
                return (word >> shift) & self.mask;
            }
        }
        // Near the end, or a wider field: up to 9 bytes, zero past the end.
        let mut word = [0u8; 16];
        let tail = self.bytes.get(byte..).unwrap_or_default();
        let n = tail.len().min(9);
        word[..n].copy_from_slice(&tail[..n]);
        ((u128::from_le_bytes(word) >> shift) as u64) & self.mask
    }
}

/// Decimal mantissas (`|m| < 2^53`), as deltas or as offsets from the smallest, each
/// bit-packed after subtracting its minimum: whichever is shorter. Deltas suit counters and
/// smooth gauges, offsets suit noisy gauges (the difference of two independent values
/// spreads twice as wide as the values).
fn encode_mantissas(e: u8, m: &[i64], out: &mut Vec<u8>) {
    let (first, n) = (m.first().copied().unwrap_or(0), m.len() as u64);
    let deltas = || m.windows(2).map(|w| w[1].wrapping_sub(w[0]));
    let (dmin, dmax) = deltas().fold((i64::MAX, i64::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let (dmin, dmax) = if n > 1 { (dmin, dmax) } else { (0, 0) };
    let (vmin, vmax) = m.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (vmin, vmax) = if n > 0 { (vmin, vmax) } else { (0, 0) };
    let (dwidth, vwidth) = (bit_width(dmax.wrapping_sub(dmin) as u64), bit_width(vmax.wrapping_sub(vmin) as u64));
    let delta_bits = 8 * (uvarint_len(zigzag(first)) + uvarint_len(zigzag(dmin))) as u64 + n.saturating_sub(1) * u64::from(dwidth);
    let offset_bits = 8 * uvarint_len(zigzag(vmin)) as u64 + n * u64::from(vwidth);
    if offset_bits < delta_bits {
        out.extend_from_slice(&[PACKED_OFFSETS, e]);
        put_uvarint(out, zigzag(vmin));
        out.push(vwidth as u8);
        pack(m.iter().map(|v| v.wrapping_sub(vmin) as u64), vwidth, out);
    } else {
        out.extend_from_slice(&[PACKED_DELTAS, e]);
        put_uvarint(out, zigzag(first));
        put_uvarint(out, zigzag(dmin));
        out.push(dwidth as u8);
        pack(deltas().map(|d| d.wrapping_sub(dmin) as u64), dwidth, out);
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, ChunkError> {
        let v = *self.b.get(self.at).ok_or_else(|| ChunkError("truncated".into()))?;
        self.at += 1;
        Ok(v)
    }

    #[inline]
    fn uvarint(&mut self) -> Result<u64, ChunkError> {
        read_uvarint(self.b, &mut self.at).ok_or_else(|| ChunkError("truncated or overlong varint".into()))
    }

    #[inline]
    fn ivarint(&mut self) -> Result<i64, ChunkError> {
        self.uvarint().map(unzigzag)
    }
}

/// Encodes samples (in time order) as one chunk. Takes references so a flush encodes the
/// head's samples where they are.
pub fn encode<'a, I>(samples: I) -> Vec<u8>
where
    I: IntoIterator<Item = &'a Sample>,
    I::IntoIter: Clone + ExactSizeIterator,
{
    let samples = samples.into_iter();
    let singles = samples.clone().next().map(|f| f.resolution).filter(|r| samples.clone().all(|s| s.resolution == *r && matches!(s.value, SampleValue::Single(_))));
    let Some(resolution) = singles else {
        let mut out = vec![GENERAL];
        // A list of references serializes exactly as the list of samples.
        out.extend(postcard::to_allocvec(&samples.collect::<Vec<&Sample>>()).unwrap_or_default());
        return out;
    };
    let ts: Vec<i64> = samples.clone().map(|s| s.ts.millis()).collect();
    let values: Vec<f64> = samples.map(|s| if let SampleValue::Single(v) = s.value { v } else { 0.0 }).collect();
    encode_singles(resolution, &ts, &values)
}

/// Encodes single values at one resolution (`ts[i]` with `values[i]`, in time order) as one
/// chunk: the bytes [`encode`] gives the same samples.
pub fn encode_singles(resolution: u8, ts: &[i64], values: &[f64]) -> Vec<u8> {
    debug_assert_eq!(ts.len(), values.len());
    let mut out = Vec::with_capacity(16 + ts.len() * 3);
    out.push(SINGLES);
    out.push(resolution);
    put_uvarint(&mut out, ts.len() as u64);
    put_times(&mut out, ts.iter().copied());
    let mut m = Vec::with_capacity(values.len());
    match decimal_mantissas(values, &mut m) {
        Some(e) => encode_mantissas(e as u8, &m, &mut out),
        None => {
            out.push(XOR);
            let mut prev = 0u64;
            for v in values {
                let x = v.to_bits() ^ prev;
                prev = v.to_bits();
                if x == 0 {
                    out.push(0);
                    continue;
                }
                let lead = (x.leading_zeros() / 8) as usize;
                let trail = (x.trailing_zeros() / 8) as usize;
                let len = 8 - lead - trail;
                out.push(((lead as u8) << 4) | len as u8);
                let bytes = (x >> (8 * trail)).to_be_bytes();
                out.extend_from_slice(&bytes[8 - len..]);
            }
        }
    }
    out
}

/// `v` as `m / scale` with `|m| < 2^53`, if it is exactly that (never for -0).
#[inline]
fn mantissa(v: f64, scale: f64) -> Option<i64> {
    let m = (v * scale).round();
    (m.is_finite() && m.abs() < 9_007_199_254_740_992.0 && m / scale == v && !(v == 0.0 && v.is_sign_negative())).then_some(m as i64)
}

/// The smallest `e` such that every value is exactly `m / 10^e` with `|m| < 2^53`, and
/// those `m` (in `m`, which is cleared first).
///
/// One pass: the exponent only grows, each value raising it until the value fits. An
/// exponent is passed over only because some value does not fit it, so the one reached is
/// the smallest candidate; the values before its last raise are checked again at it (a
/// value exact at `e` is nearly always exact at `e + 1`; where it is not, the scan over
/// every exponent decides, as [`decimal_exponent_scan`]).
fn decimal_mantissas(values: &[f64], m: &mut Vec<i64>) -> Option<u32> {
    m.clear();
    let mut e = 0u32;
    let mut scale = 1f64;
    // Values before this index were checked at a smaller exponent only.
    let mut since = 0;
    for (i, &v) in values.iter().enumerate() {
        loop {
            if let Some(x) = mantissa(v, scale) {
                m.push(x);
                break;
            }
            e += 1;
            if e > MAX_DECIMALS {
                return None;
            }
            scale = 10f64.powi(e as i32);
            since = i;
        }
    }
    for (i, &v) in values[..since].iter().enumerate() {
        match mantissa(v, scale) {
            Some(x) => m[i] = x,
            None => return rescan(values, m),
        }
    }
    Some(e)
}

#[cold]
fn rescan(values: &[f64], m: &mut Vec<i64>) -> Option<u32> {
    let e = decimal_exponent_scan(values)?;
    let scale = 10f64.powi(e as i32);
    m.clear();
    m.extend(values.iter().map(|&v| mantissa(v, scale).unwrap_or_default()));
    Some(e)
}

/// The smallest `e` such that every value is exactly `m / 10^e` with `|m| < 2^53`, by
/// trying every exponent in turn.
fn decimal_exponent_scan(values: &[f64]) -> Option<u32> {
    (0..=MAX_DECIMALS).find(|&e| {
        let scale = 10f64.powi(e as i32);
        values.iter().all(|&v| mantissa(v, scale).is_some())
    })
}

/// Decodes a chunk, keeping the samples with `from ≤ ts < to`.
pub fn decode_range(bytes: &[u8], from: Timestamp, to: Timestamp, out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    decode_runs(bytes, from, to, &mut Scratch::default(), |run| run.for_each(|s| out.push(s.clone())))
}

/// Appends times as a column (chunks and commit-log parts): zigzag varints of the first
/// time, then of each delta less the one before (a fixed step is a run of zero bytes;
/// wrapping arithmetic).
pub(crate) fn put_times(out: &mut Vec<u8>, times: impl IntoIterator<Item = i64>) {
    let (mut prev_t, mut prev_d) = (0i64, 0i64);
    for (i, t) in times.into_iter().enumerate() {
        if i == 0 {
            put_uvarint(out, zigzag(t));
        } else {
            let d = t.wrapping_sub(prev_t);
            put_uvarint(out, zigzag(d.wrapping_sub(prev_d)));
            prev_d = d;
        }
        prev_t = t;
    }
}

/// Reads `count` times written by [`put_times`] from `b` at `*pos` into `ts`; `None` when
/// the bytes end first or a varint is overlong. A fixed step (every delta of delta zero,
/// one zero byte each: the usual series) is filled in without reading a varint per time.
pub(crate) fn read_times(b: &[u8], pos: &mut usize, count: usize, ts: &mut Vec<i64>) -> Option<()> {
    let next = |pos: &mut usize| read_uvarint(b, pos).map(unzigzag);
    if count == 0 {
        return Some(());
    }
    let mut t = next(pos)?;
    ts.push(t);
    if count == 1 {
        return Some(());
    }
    let mut d = next(pos)?;
    t = t.wrapping_add(d);
    ts.push(t);
    let rest = count - 2;
    // A zero byte is a whole varint (no continuation bit): the zigzag of 0.
    if b.get(*pos..pos.checked_add(rest)?).is_some_and(|z| z.iter().all(|&x| x == 0)) {
        *pos += rest;
        ts.extend((1..=rest as i64).map(|i| t.wrapping_add(d.wrapping_mul(i))));
        return Some(());
    }
    for _ in 0..rest {
        d = d.wrapping_add(next(pos)?);
        t = t.wrapping_add(d);
        ts.push(t);
    }
    Some(())
}

/// What [`decode_runs`] hands over: a chunk's single values at one resolution (the usual
/// case, as two columns), or one sample of any kind.
#[derive(Debug, Clone, Copy)]
pub enum Run<'a> {
    /// Single values, `ts[i]` with `values[i]`, in the chunk's order.
    Singles {
        /// Storage resolution in seconds.
        resolution: u8,
        /// Timestamps (ms).
        ts: &'a [i64],
        /// Values.
        values: &'a [f64],
    },
    /// One sample.
    Sample(&'a Sample),
}

impl Run<'_> {
    /// Calls `f` with each sample of the run.
    pub fn for_each(&self, mut f: impl FnMut(&Sample)) {
        match *self {
            Run::Singles { resolution, ts, values } => {
                for (&t, &v) in ts.iter().zip(values) {
                    f(&Sample { ts: Timestamp(t), resolution, value: SampleValue::Single(v) });
                }
            }
            Run::Sample(s) => f(s),
        }
    }
}

/// Buffers a reader reuses from chunk to chunk.
#[derive(Debug, Default)]
pub struct Scratch {
    ts: Vec<i64>,
    values: Vec<f64>,
}

/// Calls `f` with the samples of a chunk with `from ≤ ts < to`, in the chunk's order,
/// without collecting them: single values as one [`Run::Singles`] (decoded into `scratch`,
/// reused across calls by a reader that decodes many chunks), other samples one by one.
pub fn decode_runs(bytes: &[u8], from: Timestamp, to: Timestamp, scratch: &mut Scratch, mut f: impl FnMut(Run<'_>)) -> Result<(), ChunkError> {
    let mut r = Reader { b: bytes, at: 0 };
    match r.byte()? {
        GENERAL => {
            let all: Vec<Sample> = postcard::from_bytes(&bytes[1..]).map_err(|e| ChunkError(e.to_string()))?;
            all.iter().filter(|s| s.ts >= from && s.ts < to).for_each(|s| f(Run::Sample(s)));
            Ok(())
        }
        SINGLES => {
            let resolution = r.byte()?;
            let count = r.uvarint()? as usize;
            if count > bytes.len() {
                return Err(ChunkError("count larger than the chunk".into()));
            }
            let Scratch { ts, values } = scratch;
            ts.clear();
            values.clear();
            ts.reserve(count);
            values.reserve(count);
            read_times(r.b, &mut r.at, count, ts).ok_or_else(|| ChunkError("truncated or overlong varint".into()))?;
            let mode = r.byte()?;
            match mode {
                DECIMAL => {
                    let e = r.byte()?;
                    if u32::from(e) > MAX_DECIMALS {
                        return Err(ChunkError("decimal exponent out of range".into()));
                    }
                    let scale = 10f64.powi(i32::from(e));
                    let mut m = 0i64;
                    for i in 0..count {
                        let v = r.ivarint()?;
                        m = if i == 0 { v } else { m.wrapping_add(v) };
                        values.push(m as f64 / scale);
                    }
                }
                PACKED_DELTAS | PACKED_OFFSETS => {
                    let e = r.byte()?;
                    if u32::from(e) > MAX_DECIMALS {
                        return Err(ChunkError("decimal exponent out of range".into()));
                    }
                    let scale = 10f64.powi(i32::from(e));
                    if mode == PACKED_DELTAS {
                        let mut m = r.ivarint()?;
                        let dmin = r.ivarint()?;
                        let width = u32::from(r.byte()?);
                        let mut fields = Unpacker::new(&mut r, count.saturating_sub(1), width)?;
                        // The mantissas, the first as it is and each next one a delta on.
                        let mut mantissa = |i: usize| {
                            if i > 0 {
                                m = m.wrapping_add(dmin.wrapping_add(fields.next() as i64));
                            }
                            m
                        };
                        // Sized loops (`extend` over a range) check no capacity per value; whole
                        // numbers need no division (`x / 1.0` is `x`).
                        if e == 0 {
                            values.extend((0..count).map(|i| mantissa(i) as f64));
                        } else {
                            values.extend((0..count).map(|i| mantissa(i) as f64 / scale));
                        }
                    } else {
                        let vmin = r.ivarint()?;
                        let width = u32::from(r.byte()?);
                        let mut fields = Unpacker::new(&mut r, count, width)?;
                        if e == 0 {
                            values.extend((0..count).map(|_| vmin.wrapping_add(fields.next() as i64) as f64));
                        } else {
                            values.extend((0..count).map(|_| vmin.wrapping_add(fields.next() as i64) as f64 / scale));
                        }
                    }
                }
                XOR => {
                    let mut prev = 0u64;
                    for _ in 0..count {
                        let c = r.byte()?;
                        if c != 0 {
                            let (lead, len) = ((c >> 4) as usize, (c & 0x0f) as usize);
                            if len == 0 || lead + len > 8 {
                                return Err(ChunkError("bad xor control byte".into()));
                            }
                            let mut bytes = [0u8; 8];
                            for b in bytes.iter_mut().skip(8 - len) {
                                *b = r.byte()?;
                            }
                            let trail = 8 - lead - len;
                            prev ^= u64::from_be_bytes(bytes) << (8 * trail);
                        }
                        values.push(f64::from_bits(prev));
                    }
                }
                other => return Err(ChunkError(format!("unknown value encoding {other}"))),
            }
            // Keep the range (a chunk is in time order when written, but no order is
            // assumed of the bytes read).
            let (from, to) = (from.millis(), to.millis());
            if !ts.iter().all(|&t| t >= from && t < to) {
                let mut kept = 0;
                for i in 0..ts.len() {
                    if ts[i] >= from && ts[i] < to {
                        ts[kept] = ts[i];
                        values[kept] = values[i];
                        kept += 1;
                    }
                }
                ts.truncate(kept);
                values.truncate(kept);
            }
            if !ts.is_empty() {
                f(Run::Singles { resolution, ts, values });
            }
            Ok(())
        }
        other => Err(ChunkError(format!("unknown chunk version {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn single(t: i64, v: f64, r: u8) -> Sample {
        Sample { ts: Timestamp(t), resolution: r, value: SampleValue::Single(v) }
    }

    fn round_trip(samples: &[Sample]) -> Vec<Sample> {
        let mut out = Vec::new();
        decode_range(&encode(samples), Timestamp(i64::MIN), Timestamp(i64::MAX), &mut out).unwrap();
        out
    }

    #[test]
    fn decimals_xor_and_general_round_trip_exactly() {
        let counter: Vec<Sample> = (0..100).map(|i| single(1_000_000 + i * 15_000, ((1234.5 + i as f64 * 14.27) * 100.0).round() / 100.0, 1)).collect();
        let bytes = encode(&counter);
        assert_eq!(bytes[0], SINGLES);
        assert!(bytes.len() < 100 * 4, "a 2-decimal counter at a fixed step: {} bytes", bytes.len());
        assert_eq!(round_trip(&counter), counter);
        let noisy: Vec<Sample> = (0..50).map(|i| single(i * 1000 + (i % 3), (i as f64).sin() * 1e6, 60)).collect();
        assert_eq!(round_trip(&noisy), noisy);
        let odd = vec![single(5, -0.0, 60), single(6, f64::MAX, 60), single(6, f64::MIN_POSITIVE, 60), single(-7, 1e-300, 60)];
        let got = round_trip(&odd);
        assert_eq!(got.len(), 4);
        for (a, b) in got.iter().zip(&odd) {
            match (&a.value, &b.value) {
                (SampleValue::Single(x), SampleValue::Single(y)) => assert_eq!(x.to_bits(), y.to_bits(), "bit-exact, -0 included"),
                _ => unreachable!(),
            }
        }
        let mixed = vec![single(1, 2.0, 1), Sample { ts: Timestamp(2), resolution: 60, value: SampleValue::Stats { count: 2.0, sum: 3.0, min: 1.0, max: 2.0 } }];
        assert_eq!(encode(&mixed)[0], GENERAL);
        assert_eq!(round_trip(&mixed), mixed);
        assert!(round_trip(&[]).is_empty());
    }

    #[test]
    fn noisy_gauges_take_offsets_and_counters_take_deltas() {
        // The byte after the timestamps (a fixed 15 s step from 1,000,000: the first, the
        // first delta, then zeros).
        let mode = |bytes: &[u8], n: usize| bytes[2 + uvarint_len(n as u64) + uvarint_len(zigzag(1_000_000)) + uvarint_len(zigzag(15_000)) + n - 2];
        let mut x = 7u64;
        let mut noise = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        let gauge: Vec<Sample> = (0..240).map(|i| single(1_000_000 + i * 15_000, (500.0 + 100.0 * noise()).round() / 10.0, 1)).collect();
        let bytes = encode(&gauge);
        assert_eq!(mode(&bytes, 240), PACKED_OFFSETS);
        assert_eq!(round_trip(&gauge), gauge);
        let counter: Vec<Sample> = (0..240).map(|i| single(1_000_000 + i * 15_000, 1e6 + i as f64 * 3.0, 1)).collect();
        assert_eq!(mode(&encode(&counter), 240), PACKED_DELTAS);
        assert_eq!(round_trip(&counter), counter);
        // Offsets past the base never overflow, however far apart the values are.
        let wide = vec![single(1, -9_007_199_254_740_991.0, 1), single(2, 9_007_199_254_740_991.0, 1), single(3, 0.0, 1)];
        assert_eq!(round_trip(&wide), wide);
    }

    #[test]
    fn chunks_of_earlier_builds_still_decode() {
        // Mode 0 (decimal deltas as varints), as written before bit-packing: 1.5, 2.0 and 1.0
        // at 10, 15 and 20 ms.
        let old = [SINGLES, 1, 3, 20, 10, 0, DECIMAL, 1, 30, 10, 19];
        let mut out = Vec::new();
        decode_range(&old, Timestamp(i64::MIN), Timestamp(i64::MAX), &mut out).unwrap();
        assert_eq!(out, vec![single(10, 1.5, 1), single(15, 2.0, 1), single(20, 1.0, 1)]);
    }

    #[test]
    fn ranges_filter_and_garbage_is_an_error() {
        let s: Vec<Sample> = (0..10).map(|i| single(i * 10, i as f64, 1)).collect();
        let mut out = Vec::new();
        decode_range(&encode(&s), Timestamp(20), Timestamp(50), &mut out).unwrap();
        assert_eq!(out, s[2..5].to_vec());
        for bad in [&[][..], &[9][..], &[1, 1, 200][..], &[1, 1, 2, 0, 0, 7][..], &[1, 1, 1, 0, 1, 0x93, 1][..]] {
            assert!(decode_range(bad, Timestamp(i64::MIN), Timestamp(i64::MAX), &mut Vec::new()).is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// Every width, every count: the fields come back as packed, the last ones (read near
        /// the end of the bytes) included, and a read past the last field gives zero bits.
        #[test]
        fn packed_fields_unpack_exactly(width in 0u32..=64, raw in proptest::collection::vec(any::<u64>(), 0..40)) {
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let fields: Vec<u64> = raw.iter().map(|v| v & mask).collect();
            let mut bytes = Vec::new();
            pack(fields.iter().copied(), width, &mut bytes);
            let mut r = Reader { b: &bytes, at: 0 };
            let mut unpacker = Unpacker::new(&mut r, fields.len(), width).expect("the packed length");
            prop_assert_eq!(r.at, bytes.len());
            let got: Vec<u64> = (0..fields.len()).map(|_| unpacker.next()).collect();
            prop_assert_eq!(got, fields.clone());
            prop_assert_eq!(unpacker.next(), 0);
            let mut again = Reader { b: &bytes, at: 0 };
            prop_assert!(Unpacker::new(&mut again, fields.len() + 8, width.max(1)).is_err(), "more fields than bytes");
        }

        #[test]
        fn any_samples_round_trip(raw in proptest::collection::vec((-1_000_000i64..1_000_000, proptest::num::f64::ANY, 0u8..3), 0..60), res in prop_oneof![Just(1u8), Just(60u8)]) {
            let mut samples: Vec<Sample> = raw.iter().map(|&(t, v, k)| match k {
                0 | 1 => single(t, if v.is_nan() { 1.5 } else { v }, res),
                _ => single(t, (v.abs() % 1e6 * 100.0).round() / 100.0, res),
            }).collect();
            samples.sort_by_key(|s| s.ts);
            let got = round_trip(&samples);
            prop_assert_eq!(got.len(), samples.len());
            for (a, b) in got.iter().zip(&samples) {
                prop_assert_eq!(a.ts, b.ts);
                match (&a.value, &b.value) {
                    (SampleValue::Single(x), SampleValue::Single(y)) => prop_assert_eq!(x.to_bits(), y.to_bits()),
                    _ => prop_assert!(false),
                }
            }
        }

        /// The one-pass exponent and mantissas are those of trying every exponent in turn.
        #[test]
        fn one_pass_decimals_are_the_smallest_exponent(raw in proptest::collection::vec((-1_000_000_000i64..1_000_000_000, 0u32..12, 0u8..8), 0..40)) {
            let values: Vec<f64> = raw.iter().map(|&(n, e, k)| match k {
                0 => f64::from_bits(n as u64 ^ 0x3ff0_0000_0000_0000),
                1 => -0.0,
                _ => n as f64 / 10f64.powi(e as i32),
            }).collect();
            let mut m = vec![7];
            let got = decimal_mantissas(&values, &mut m);
            let want = decimal_exponent_scan(&values);
            prop_assert_eq!(got, want);
            if let Some(e) = want {
                let scale = 10f64.powi(e as i32);
                prop_assert_eq!(m, values.iter().map(|v| (v * scale).round() as i64).collect::<Vec<_>>());
            }
        }

        /// Times at a fixed step (read without a varint each) and with one sample off the
        /// step decode exactly, wrapping arithmetic included.
        #[test]
        fn fixed_steps_and_broken_steps_round_trip(t0 in any::<i64>(), step in prop_oneof![1i64..120_000, any::<i64>()], n in 1usize..300, off in any::<prop::sample::Index>(), by in any::<i64>(), broken: bool) {
            let mut times: Vec<i64> = (0..n as i64).map(|i| t0.wrapping_add(step.wrapping_mul(i))).collect();
            if broken {
                let i = off.index(n);
                times[i] = times[i].wrapping_add(by);
            }
            let values: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let bytes = encode_singles(1, &times, &values);
            let mut got = Vec::new();
            decode_runs(&bytes, Timestamp(i64::MIN), Timestamp(i64::MAX), &mut Scratch::default(), |run| {
                if let Run::Singles { ts, .. } = run {
                    got.extend_from_slice(ts);
                }
            })
            .unwrap();
            prop_assert_eq!(got, times);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = decode_range(&bytes, Timestamp(i64::MIN), Timestamp(i64::MAX), &mut Vec::new());
        }
    }
}
