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

use std::borrow::Cow;
use watchtrail_core::varint::read_uvarint;
use std::ops::Range;

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

/// The protobuf bytes of a body sent with `content_encoding` (`snappy`, as Prometheus sends,
/// or none): borrowed when the body was not compressed.
pub fn decompress<'a>(body: &'a [u8], content_encoding: Option<&str>) -> Result<Cow<'a, [u8]>, DecodeError> {
    match content_encoding.map(str::trim) {
        None | Some("") | Some("identity") => Ok(Cow::Borrowed(body)),
        Some("snappy") => {
            snappy_len(body)?;
            let owned = snap::raw::Decoder::new().decompress_vec(body).map_err(not_snappy)?;
            Ok(Cow::Owned(owned))
        }
        Some(other) => Err(DecodeError(format!("Content-Encoding {other} is not supported; remote write uses snappy"))),
    }
}

/// The decompressed length a snappy body announces, refused over [`MAX_DECODED_BYTES`] before
/// anything is decompressed.
fn snappy_len(body: &[u8]) -> Result<usize, DecodeError> {
    let len = snap::raw::decompress_len(body).map_err(not_snappy)?;
    if len > MAX_DECODED_BYTES {
        return Err(DecodeError(format!("the body decompresses to {len} bytes, over the limit of {MAX_DECODED_BYTES}")));
    }
    Ok(len)
}

fn not_snappy(e: snap::Error) -> DecodeError {
    DecodeError(format!("the body is not snappy-compressed: {e}"))
}

/// A decompression buffer kept by a thread between bodies up to this size (a larger one is
/// released after its body).
const KEPT_SCRATCH_BYTES: usize = 4 << 20;

thread_local! {
    /// The decompressed bytes of the body this thread is reading (see [`RawWrite::read_body`]).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads a body sent with `content_encoding` (`snappy`, as Prometheus sends, or none) into
/// owned messages. [`RawWrite`] reads the same bodies in place, as the receiver does.
pub fn decode(body: &[u8], content_encoding: Option<&str>) -> Result<WriteRequest, DecodeError> {
    let bytes = decompress(body, content_encoding)?;
    <WriteRequest as prost::Message>::decode(&bytes[..]).map_err(|e| DecodeError(format!("the body is not a remote-write WriteRequest: {e}")))
}

#[cold]
fn malformed(why: &str) -> DecodeError {
    DecodeError(format!("the body is not a remote-write WriteRequest: {why}"))
}

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;
/// prost's recursion limit: the nesting of messages and groups a body may have.
const RECURSION_LIMIT: u32 = 100;
/// What is left of it inside a `TimeSeries`, and inside a `Label` or `Sample`.
const IN_SERIES: u32 = RECURSION_LIMIT - 1;
const IN_LABEL: u32 = RECURSION_LIMIT - 2;

/// A protobuf reader over borrowed bytes, with prost's rules for what is malformed.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        read_uvarint(self.buf, &mut self.pos).ok_or_else(|| malformed("invalid varint"))
    }

    /// A field's number and wire type.
    #[inline]
    fn key(&mut self) -> Result<(u32, u8), DecodeError> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(malformed("invalid key value"));
        }
        let wire = (key & 7) as u8;
        if wire > FIXED32 {
            return Err(malformed("invalid wire type value"));
        }
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err(malformed("invalid tag value: 0"));
        }
        Ok((field, wire))
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| malformed("buffer underflow"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    #[inline]
    fn len_delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.varint()?;
        self.take(usize::try_from(n).map_err(|_| malformed("buffer underflow"))?)
    }

    /// Skips an unknown field (groups included, as prost does). `budget` is prost's
    /// recursion allowance at this depth: 100 in a `WriteRequest`, one less per message or
    /// group inside it.
    fn skip(&mut self, field: u32, wire: u8, budget: u32) -> Result<(), DecodeError> {
        if budget == 0 {
            return Err(malformed("recursion limit reached"));
        }
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.len_delimited().map(drop),
            FIXED32 => self.take(4).map(drop),
            START_GROUP => loop {
                let (inner, inner_wire) = self.key()?;
                if inner_wire == END_GROUP {
                    return if inner == field { Ok(()) } else { Err(malformed("unexpected end group tag")) };
                }
                self.skip(inner, inner_wire, budget - 1)?;
            },
            _ => Err(malformed("unexpected end group tag")),
        }
    }
}

#[inline]
fn expect_wire(wire: u8, expected: u8) -> Result<(), DecodeError> {
    if wire == expected {
        Ok(())
    } else {
        Err(wrong_wire(wire, expected))
    }
}

#[cold]
fn wrong_wire(wire: u8, expected: u8) -> DecodeError {
    malformed(&format!("invalid wire type: {wire} (expected {expected})"))
}

/// One series of a [`RawWrite`]: where its labels and samples are.
#[derive(Clone, Debug)]
pub struct RawSeries {
    identity: Range<usize>,
    samples: Range<usize>,
}

/// A remote-write body read in place: no label is copied into a string until
/// [`RawWrite::labels`] is asked for it, so a receiver that has seen a series before (its
/// label bytes are its [`RawWrite::identity`]) maps it without decoding its labels again.
///
/// Malformed bodies are refused by the same rules prost applies to [`WriteRequest`], except
/// that what is inside a label (its fields and their UTF-8) is checked by
/// [`RawWrite::labels`], not here: equal label bytes checked once need not be checked again.
/// A property test and the `remote_write` fuzz target hold `parse` followed by `labels` to
/// prost.
#[derive(Debug, Default)]
pub struct RawWrite {
    series: Vec<RawSeries>,
    /// Every series' label fields as sent (each field's key, length and bytes), one after another.
    identities: Vec<u8>,
    samples: Vec<Sample>,
}

impl RawWrite {
    /// Reads a body sent with `content_encoding`, as [`decompress`] then [`RawWrite::parse`]
    /// do, with a snappy body decompressed into a buffer this thread keeps for its next body:
    /// no zeroed allocation of the decompressed size per request.
    pub fn read_body(body: &[u8], content_encoding: Option<&str>) -> Result<RawWrite, DecodeError> {
        if !matches!(content_encoding.map(str::trim), Some("snappy")) {
            return RawWrite::parse(&decompress(body, content_encoding)?);
        }
        let len = snappy_len(body)?;
        SCRATCH.with(|scratch| {
            // Taken out while in use: a body read on this thread meanwhile gets its own.
            let mut buf = scratch.take();
            buf.resize(len, 0);
            let read = snap::raw::Decoder::new()
                .decompress(body, &mut buf)
                .map_err(not_snappy)
                .and_then(|n| RawWrite::parse(&buf[..n]));
            if buf.capacity() <= KEPT_SCRATCH_BYTES {
                scratch.replace(buf);
            }
            read
        })
    }

    /// Reads the protobuf bytes of a `WriteRequest` (see [`decompress`]).
    pub fn parse(bytes: &[u8]) -> Result<RawWrite, DecodeError> {
        // A sample takes at least 13 bytes as sent; most take 16 to 18. The label bytes are
        // part of the body, so they never outgrow it.
        let mut out = RawWrite { samples: Vec::with_capacity(bytes.len() / 16), identities: Vec::with_capacity(bytes.len()), ..RawWrite::default() };
        let mut c = Cursor::new(bytes);
        while !c.at_end() {
            let (field, wire) = c.key()?;
            if field == 1 {
                expect_wire(wire, LEN)?;
                let ts = c.len_delimited()?;
                out.parse_series(ts)?;
            } else {
                c.skip(field, wire, RECURSION_LIMIT)?;
            }
        }
        Ok(out)
    }

    fn parse_series(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        let (id_start, samples_start) = (self.identities.len(), self.samples.len());
        let mut c = Cursor::new(bytes);
        while !c.at_end() {
            if let Some((sample, end)) = standard_sample(bytes, c.pos) {
                self.samples.push(sample);
                c.pos = end;
                continue;
            }
            let start = c.pos;
            let (field, wire) = c.key()?;
            match field {
                1 => {
                    expect_wire(wire, LEN)?;
                    // The label's own fields are read (and checked) by `labels`, only for a
                    // series the caller has not seen before.
                    c.len_delimited()?;
                    self.identities.extend_from_slice(&bytes[start..c.pos]);
                }
                2 => {
                    expect_wire(wire, LEN)?;
                    let sample = c.len_delimited()?;
                    self.samples.push(parse_sample(sample)?);
                }
                _ => c.skip(field, wire, IN_SERIES)?,
            }
        }
        self.series.push(RawSeries { identity: id_start..self.identities.len(), samples: samples_start..self.samples.len() });
        Ok(())
    }

    /// The series, in the order sent.
    pub fn series(&self) -> &[RawSeries] {
        &self.series
    }

    /// The series' label fields exactly as sent: equal bytes are the same labels.
    pub fn identity(&self, s: &RawSeries) -> &[u8] {
        &self.identities[s.identity.clone()]
    }

    /// The series' samples, as sent (NaN and infinities included).
    pub fn samples(&self, s: &RawSeries) -> &[Sample] {
        &self.samples[s.samples.clone()]
    }

    /// The series' labels, decoded: a label with malformed fields or text that is not UTF-8
    /// makes the body malformed, as it does for prost.
    pub fn labels(&self, s: &RawSeries) -> Result<Vec<Label>, DecodeError> {
        let mut labels = Vec::new();
        let mut c = Cursor::new(self.identity(s));
        while !c.at_end() {
            c.key()?;
            let mut lc = Cursor::new(c.len_delimited()?);
            let mut label = Label::default();
            while !lc.at_end() {
                let (f, w) = lc.key()?;
                match f {
                    1 | 2 => {
                        expect_wire(w, LEN)?;
                        let text = utf8(lc.len_delimited()?)?;
                        if f == 1 {
                            label.name = text;
                        } else {
                            label.value = text;
                        }
                    }
                    _ => lc.skip(f, w, IN_LABEL)?,
                }
            }
            labels.push(label);
        }
        Ok(labels)
    }
}

fn utf8(b: &[u8]) -> Result<String, DecodeError> {
    std::str::from_utf8(b).map(str::to_owned).map_err(|_| malformed("invalid string value: data is not UTF-8 encoded"))
}

/// A sample field at `at` of a series' bytes as every sender writes it: key 0x12, a one-byte
/// length, then the value (key 0x09, eight bytes) and the timestamp (key 0x10, a varint that
/// ends the message). Returns it and where it ends, or `None` for anything else (which the
/// general path then reads, or refuses, exactly as before).
#[inline]
fn standard_sample(bytes: &[u8], at: usize) -> Option<(Sample, usize)> {
    let head = bytes.get(at..at.checked_add(12)?)?;
    let len = usize::from(head[1]);
    if head[0] != 0x12 || head[2] != 0x09 || head[11] != 0x10 || !(11..0x80).contains(&len) {
        return None;
    }
    let end = at + 2 + len;
    if end > bytes.len() {
        return None;
    }
    let value = f64::from_le_bytes(head[3..11].try_into().ok()?);
    // Read in the whole buffer (one word load), then held to the message's end.
    let mut pos = at + 12;
    let timestamp = read_uvarint(bytes, &mut pos)?;
    (pos == end).then_some((Sample { value, timestamp: timestamp as i64 }, end))
}

fn parse_sample(bytes: &[u8]) -> Result<Sample, DecodeError> {
    // As every sender encodes it: the value (key 0x09, eight bytes), then the timestamp (key
    // 0x10, a varint), nothing else. Anything else takes the general path below.
    if bytes.len() >= 11 && bytes[0] == 0x09 && bytes[9] == 0x10 {
        let value = f64::from_le_bytes(bytes[1..9].try_into().expect("eight bytes"));
        let mut c = Cursor { buf: bytes, pos: 10 };
        if let Ok(t) = c.varint() {
            if c.at_end() {
                return Ok(Sample { value, timestamp: t as i64 });
            }
        }
    }
    let mut s = Sample::default();
    let mut c = Cursor::new(bytes);
    while !c.at_end() {
        let (field, wire) = c.key()?;
        match field {
            1 => {
                expect_wire(wire, FIXED64)?;
                s.value = f64::from_le_bytes(c.take(8)?.try_into().expect("eight bytes"));
            }
            2 => {
                expect_wire(wire, VARINT)?;
                s.timestamp = c.varint()? as i64;
            }
            _ => c.skip(field, wire, IN_LABEL)?,
        }
    }
    Ok(s)
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

    /// What a reader saw: each series' labels and samples (values by their bits).
    type Seen = Vec<(Vec<(String, String)>, Vec<(u64, i64)>)>;

    fn seen_by_prost(bytes: &[u8]) -> Option<Seen> {
        let req = WriteRequest::decode(bytes).ok()?;
        Some(req.timeseries.into_iter().map(|ts| (ts.labels.into_iter().map(|l| (l.name, l.value)).collect(), ts.samples.iter().map(|s| (s.value.to_bits(), s.timestamp)).collect())).collect())
    }

    fn seen_in_place(bytes: &[u8]) -> Option<Seen> {
        let raw = RawWrite::parse(bytes).ok()?;
        raw.series()
            .iter()
            .map(|s| {
                let labels = raw.labels(s).ok()?.into_iter().map(|l| (l.name, l.value)).collect();
                Some((labels, raw.samples(s).iter().map(|x| (x.value.to_bits(), x.timestamp)).collect()))
            })
            .collect()
    }

    fn arb_request() -> impl proptest::strategy::Strategy<Value = WriteRequest> {
        use proptest::prelude::*;
        let label = ("(__name__|job|[a-z_]{1,6})", "\\PC{0,8}").prop_map(|(n, v)| Label { name: n, value: v });
        let sample = (any::<f64>(), any::<i64>()).prop_map(|(value, timestamp)| Sample { value, timestamp });
        let series = (proptest::collection::vec(label, 0..5), proptest::collection::vec(sample, 0..5)).prop_map(|(labels, samples)| TimeSeries { labels, samples });
        proptest::collection::vec(series, 0..5).prop_map(|timeseries| WriteRequest { timeseries })
    }

    #[test]
    fn label_bytes_identify_the_labels() {
        let req = WriteRequest {
            timeseries: vec![
                TimeSeries { labels: vec![label("__name__", "up"), label("job", "a")], samples: vec![Sample { value: 1.0, timestamp: 5 }] },
                TimeSeries { labels: vec![label("__name__", "up"), label("job", "b")], samples: vec![] },
                TimeSeries { labels: vec![label("__name__", "up"), label("job", "a")], samples: vec![Sample { value: 2.0, timestamp: 6 }] },
            ],
        };
        let bytes = req.encode_to_vec();
        let raw = RawWrite::parse(&bytes).unwrap();
        let s = raw.series();
        assert_eq!(s.len(), 3);
        assert_eq!(raw.identity(&s[0]), raw.identity(&s[2]));
        assert_ne!(raw.identity(&s[0]), raw.identity(&s[1]));
        assert_eq!(raw.samples(&s[2]), [Sample { value: 2.0, timestamp: 6 }]);
        assert_eq!(raw.labels(&s[1]).unwrap(), [label("__name__", "up"), label("job", "b")]);
    }

    #[test]
    fn the_in_place_reader_refuses_what_prost_refuses() {
        // A label that is not UTF-8: the body is malformed, for both readers.
        let mut bytes = WriteRequest { timeseries: vec![TimeSeries { labels: vec![label("job", "ab")], samples: vec![] }] }.encode_to_vec();
        let at = bytes.iter().rposition(|&b| b == b'b').unwrap();
        bytes[at] = 0xff;
        assert!(seen_by_prost(&bytes).is_none() && seen_in_place(&bytes).is_none());
        // A sample's value with the wrong wire type; a truncated body; groups nested too deep.
        let wrong_wire = [0x0a, 0x04, 0x12, 0x02, 0x08, 0x01];
        assert!(seen_by_prost(&wrong_wire).is_none() && seen_in_place(&wrong_wire).is_none());
        let whole = WriteRequest { timeseries: vec![TimeSeries { labels: vec![label("a", "b")], samples: vec![] }] }.encode_to_vec();
        assert!(seen_by_prost(&whole[..whole.len() - 1]).is_none() && seen_in_place(&whole[..whole.len() - 1]).is_none());
        // A ten-byte varint may only carry one bit in its last byte.
        for last in [0x01, 0x02] {
            let mut sample = vec![0x10];
            sample.extend([0xff; 9]);
            sample.push(last);
            let mut body = vec![0x0a, sample.len() as u8 + 2, 0x12, sample.len() as u8];
            body.extend(&sample);
            assert_eq!(seen_by_prost(&body).is_some(), last == 0x01);
            assert_eq!(seen_in_place(&body), seen_by_prost(&body));
        }
        for depth in [98, 99, 100, 101] {
            let mut deep = vec![0x1b; depth]; // field 3, start group
            deep.extend(std::iter::repeat_n(0x1c, depth)); // field 3, end group
            assert_eq!(seen_by_prost(&deep).is_some(), seen_in_place(&deep).is_some(), "{depth} nested groups");
        }
    }

    proptest::proptest! {
        #[test]
        fn both_readers_see_the_same_series(req in arb_request(), cut in proptest::num::usize::ANY, flip in proptest::num::u8::ANY) {
            let bytes = req.encode_to_vec();
            proptest::prop_assert_eq!(seen_in_place(&bytes), seen_by_prost(&bytes));
            proptest::prop_assert!(seen_in_place(&bytes).is_some());
            // Damaged: cut short, or one byte changed.
            let cut_bytes = &bytes[..cut % (bytes.len() + 1)];
            proptest::prop_assert_eq!(seen_in_place(cut_bytes), seen_by_prost(cut_bytes));
            if !bytes.is_empty() {
                let mut flipped = bytes.clone();
                let i = cut % bytes.len();
                flipped[i] ^= flip;
                proptest::prop_assert_eq!(seen_in_place(&flipped), seen_by_prost(&flipped));
            }
        }

        #[test]
        fn both_readers_agree_on_arbitrary_bytes(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            proptest::prop_assert_eq!(seen_in_place(&body), seen_by_prost(&body));
        }

        /// A snappy body read with the thread's kept buffer is the body decompressed and read:
        /// bodies one after another (a shorter one after a longer), damaged ones refused alike.
        #[test]
        fn a_body_read_with_the_kept_buffer_is_read_as_decompressed(reqs in proptest::collection::vec(arb_request(), 1..4), flip in proptest::num::u8::ANY) {
            let seen = |raw: RawWrite| -> Seen {
                raw.series().iter().map(|s| (raw.labels(s).unwrap_or_default().into_iter().map(|l| (l.name, l.value)).collect(), raw.samples(s).iter().map(|x| (x.value.to_bits(), x.timestamp)).collect())).collect()
            };
            for req in &reqs {
                let mut body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).expect("compresses");
                let kept = RawWrite::read_body(&body, Some("snappy")).map(seen).map_err(|e| e.0);
                let fresh = decompress(&body, Some("snappy")).map_err(|e| e.0).and_then(|b| RawWrite::parse(&b).map(seen).map_err(|e| e.0));
                proptest::prop_assert!(kept.is_ok());
                proptest::prop_assert_eq!(kept, fresh);
                let last = body.len() - 1;
                body[last] ^= flip;
                let kept = RawWrite::read_body(&body, Some("snappy")).map(seen).map_err(|e| e.0);
                let fresh = decompress(&body, Some("snappy")).map_err(|e| e.0).and_then(|b| RawWrite::parse(&b).map(seen).map_err(|e| e.0));
                proptest::prop_assert_eq!(kept, fresh);
            }
        }

        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256), snappy in proptest::bool::ANY) {
            let encoding = if snappy { Some("snappy") } else { None };
            let _ = RawWrite::read_body(&body, encoding);
            if let Ok(req) = decode(&body, encoding) {
                for ts in req.timeseries {
                    let _ = map_series(ts);
                }
            }
        }
    }
}
