//! Merging whole segments into one sorted run (compaction's input).
//!
//! Each input is already in `(key, ts)` order, so a k-way merge over [`RecordCursor`]s yields
//! the merged order without a sort, decoding one block per input at a time. Records are handed
//! to a sink as they come (compaction streams them into a
//! [`SegmentEncoder`](super::SegmentEncoder)), so a merge holds no more than one block per input.

use super::{RecordCursor, RecordRef, SegmentReader};
use crate::error::Result;
use std::cmp::Ordering;

/// Hands every record of `inputs` to `sink` in `(key, ts)` order and returns how many there
/// were. Records with equal `(key, ts)` come in input order (first input first, each input in
/// its stored order) — exactly what a stable sort of the inputs' concatenation gives, so
/// callers that pass inputs oldest first keep write order for duplicates.
pub fn merge_segments(
    inputs: &[&SegmentReader],
    mut sink: impl FnMut(RecordRef<'_>) -> Result<()>,
) -> Result<u64> {
    let mut count = 0u64;
    let mut cursors = inputs.iter().map(|r| r.cursor()).collect::<Result<Vec<_>>>()?;
    // The smallest record of the other inputs bounds how long the chosen input may run on.
    let mut bound_key: Vec<u8> = Vec::new();
    while let Some(best) = smallest(&cursors, None) {
        let bound = smallest(&cursors, Some(best)).and_then(|i| {
            let r = cursors[i].current()?;
            bound_key.clear();
            bound_key.extend_from_slice(r.key);
            Some((i, r.ts))
        });
        let cursor = &mut cursors[best];
        while let Some(r) = cursor.current() {
            if let Some((other, ts)) = bound {
                let order = r.key.cmp(&bound_key).then(r.ts.cmp(&ts));
                // Ties go to the earlier input.
                if order == Ordering::Greater || (order == Ordering::Equal && other < best) {
                    break;
                }
            }
            sink(r)?;
            count += 1;
            cursor.advance()?;
        }
    }
    Ok(count)
}

/// Index of the input whose current record sorts first (the earliest input on ties),
/// skipping `except` and exhausted inputs.
fn smallest(cursors: &[RecordCursor<'_>], except: Option<usize>) -> Option<usize> {
    let mut best: Option<(usize, RecordRef<'_>)> = None;
    for (i, c) in cursors.iter().enumerate() {
        if Some(i) == except {
            continue;
        }
        let Some(r) = c.current() else { continue };
        if best.is_none_or(|(_, b)| r.key.cmp(b.key).then(r.ts.cmp(&b.ts)) == Ordering::Less) {
            best = Some((i, r));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{Record, SegmentBuilder};
    use bytes::Bytes;
    use proptest::prelude::*;

    fn segment(records: Vec<Record>, block_bytes: usize) -> SegmentReader {
        let bytes = SegmentBuilder::new().block_bytes(block_bytes).build(records).unwrap();
        SegmentReader::open(Bytes::from(bytes)).unwrap()
    }

    fn merged(inputs: &[&SegmentReader]) -> Vec<Record> {
        let mut out = Vec::new();
        let n = merge_segments(inputs, |r| {
            out.push(Record::new(r.key, r.ts, r.value));
            Ok(())
        })
        .unwrap();
        assert_eq!(n, out.len() as u64);
        out
    }

    fn record() -> impl Strategy<Value = Record> {
        // Few keys and timestamps, so inputs share keys and duplicate (key, ts) pairs.
        (prop::sample::select(vec!["", "a", "ab", "b", "series/1", "series/10", "series/2"]), -3i64..4, prop::collection::vec(any::<u8>(), 0..6))
            .prop_map(|(k, ts, v)| Record::new(k.as_bytes(), ts, v))
    }

    proptest! {
        /// The merge equals a stable sort of the inputs' concatenation, duplicates in input
        /// order included, across block boundaries.
        #[test]
        fn merging_equals_a_stable_sort_of_the_concatenation(
            inputs in prop::collection::vec(prop::collection::vec(record(), 0..40), 0..6),
            block_bytes in prop::sample::select(vec![1usize, 24, 64 << 10]),
        ) {
            let readers: Vec<SegmentReader> = inputs.iter().map(|r| segment(r.clone(), block_bytes)).collect();
            let refs: Vec<&SegmentReader> = readers.iter().collect();
            let mut expected: Vec<Record> = readers.iter().flat_map(|r| r.read_all().unwrap()).collect();
            expected.sort_by(Record::cmp_key_ts);
            prop_assert_eq!(merged(&refs), expected.clone());
            // Streamed into an encoder, the merge gives the bytes the builder's own sort gives.
            let builder = SegmentBuilder::new().block_bytes(block_bytes);
            let mut enc = builder.encoder(0).unwrap();
            merge_segments(&refs, |r| enc.push(r)).unwrap();
            prop_assert_eq!(enc.finish().unwrap(), builder.build(expected).unwrap());
        }
    }

    #[test]
    fn equal_records_keep_input_order_then_stored_order() {
        let first = segment(vec![Record::new("k", 1, "a1"), Record::new("k", 1, "a2"), Record::new("k", 2, "a3")], 1);
        let second = segment(vec![Record::new("j", 9, "b0"), Record::new("k", 1, "b1"), Record::new("k", 1, "b2")], 1);
        let values = |recs: Vec<Record>| recs.into_iter().map(|r| String::from_utf8(r.value).unwrap()).collect::<Vec<_>>();
        assert_eq!(values(merged(&[&second, &first])), ["b0", "b1", "b2", "a1", "a2", "a3"]);
        assert_eq!(values(merged(&[&first, &second])), ["b0", "a1", "a2", "b1", "b2", "a3"]);
    }

    #[test]
    fn no_inputs_or_empty_inputs_merge_to_nothing() {
        assert!(merged(&[]).is_empty());
        let empty = segment(Vec::new(), 64);
        assert!(merged(&[&empty, &empty]).is_empty());
    }
}
