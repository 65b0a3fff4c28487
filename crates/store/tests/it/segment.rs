use bytes::Bytes;
use proptest::prelude::*;
use watchtrail_store::{KeyFilter, Record, RecordRef, SegmentBuilder, SegmentReader};

const KEYS: &[&[u8]] = &[
    b"",
    b"a",
    b"ab",
    b"abc",
    b"abd",
    b"b",
    b"ba",
    b"b\xff",
    b"b\xff\xff",
    b"cpu/host-1",
    b"cpu/host-2",
];

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(|k| k.to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ]
}

fn ts() -> impl Strategy<Value = i64> {
    prop_oneof![6 => -40i64..40, 1 => any::<i64>(), 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
}

fn record() -> impl Strategy<Value = Record> {
    (key(), ts(), prop::collection::vec(any::<u8>(), 0..24)).prop_map(|(key, ts, value)| Record {
        key,
        ts,
        value,
    })
}

fn filter() -> impl Strategy<Value = KeyFilter> {
    prop_oneof![
        Just(KeyFilter::All),
        key().prop_map(KeyFilter::Exact),
        key().prop_map(KeyFilter::Prefix)
    ]
}

/// What a scan must return: the stable (key, ts) sort of the input, filtered naively.
fn naive(records: &[Record], filter: &KeyFilter, from: i64, to: i64) -> Vec<Record> {
    let mut sorted = records.to_vec();
    sorted.sort_by(|a, b| a.key.cmp(&b.key).then(a.ts.cmp(&b.ts)));
    sorted
        .into_iter()
        .filter(|r| filter.matches(&r.key) && r.ts >= from && r.ts < to)
        .collect()
}

fn build(records: Vec<Record>, block_bytes: usize) -> SegmentReader {
    let bytes = SegmentBuilder::new()
        .block_bytes(block_bytes)
        .build(records)
        .unwrap();
    SegmentReader::open(Bytes::from(bytes)).unwrap()
}

fn sample_segment() -> Vec<u8> {
    let recs = (0..300)
        .map(|i| {
            Record::new(
                format!("k{}", i % 7),
                i * 13 - 1000,
                vec![i as u8; (i % 9) as usize],
            )
        })
        .collect();
    SegmentBuilder::new().block_bytes(200).build(recs).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_and_filters_agree_with_naive(
        records in prop::collection::vec(record(), 0..120),
        block_bytes in prop_oneof![Just(1usize), 16usize..512, Just(65536usize)],
        queries in prop::collection::vec((filter(), ts(), ts()), 1..6),
    ) {
        let seg = build(records.clone(), block_bytes);
        let mut stable = records.clone();
        stable.sort_by(|a, b| a.key.cmp(&b.key).then(a.ts.cmp(&b.ts)));
        prop_assert_eq!(seg.read_all().unwrap(), stable);
        prop_assert_eq!(seg.record_count(), records.len() as u64);
        if let (Some(lo), Some(hi)) = (records.iter().map(|r| r.ts).min(), records.iter().map(|r| r.ts).max()) {
            prop_assert_eq!((seg.min_ts(), seg.max_ts()), (lo, hi));
        }
        for r in &records {
            prop_assert!(seg.may_contain_key(&r.key));
        }
        prop_assert_eq!(
            seg.scan(&KeyFilter::All, i64::MIN, i64::MAX).unwrap(),
            naive(&records, &KeyFilter::All, i64::MIN, i64::MAX)
        );
        for (f, a, b) in queries {
            let (from, to) = (a.min(b), a.max(b));
            prop_assert_eq!(seg.scan(&f, from, to).unwrap(), naive(&records, &f, from, to), "filter {:?} [{}, {})", f, from, to);
        }
    }

    #[test]
    fn multi_key_scans_agree_with_naive(
        records in prop::collection::vec(record(), 0..120),
        block_bytes in prop_oneof![Just(1usize), 16usize..512, Just(65536usize)],
        keys in prop::collection::btree_set(key(), 0..8),
        (a, b) in (ts(), ts()),
    ) {
        let seg = build(records.clone(), block_bytes);
        let keys: Vec<Vec<u8>> = keys.into_iter().collect();
        let (from, to) = (a.min(b), a.max(b));
        let mut got: Vec<(usize, Record)> = Vec::new();
        seg.scan_keys(&keys, from, to, &mut |i, r| {
            got.push((i, Record { key: r.key.to_vec(), ts: r.ts, value: r.value.to_vec() }));
            Ok(())
        }).unwrap();
        let mut want: Vec<(usize, Record)> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            want.extend(naive(&records, &KeyFilter::Exact(k.clone()), from, to).into_iter().map(|r| (i, r)));
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn streamed_records_build_the_same_bytes(
        records in prop::collection::vec(record(), 0..120),
        block_bytes in prop_oneof![Just(1usize), 16usize..512, Just(65536usize)],
    ) {
        let builder = SegmentBuilder::new().block_bytes(block_bytes);
        let mut stable = records.clone();
        stable.sort_by(Record::cmp_key_ts);
        let mut enc = builder.encoder(0).unwrap();
        for r in &stable {
            // Each record from a buffer reused right after the push.
            let (key, value) = (r.key.clone(), r.value.clone());
            enc.push(RecordRef { key: &key, ts: r.ts, value: &value }).unwrap();
        }
        prop_assert_eq!(enc.finish().unwrap(), builder.build(records).unwrap());
    }

    #[test]
    fn open_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(seg) = SegmentReader::open(Bytes::from(bytes)) {
            let _ = seg.read_all();
        }
    }

    #[test]
    fn every_truncation_and_bit_flip_is_detected(cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)) {
        let good = sample_segment();
        let truncated = good[..cut.index(good.len())].to_vec();
        let err = SegmentReader::open(Bytes::from(truncated)).unwrap_err();
        prop_assert!(err.is_corruption());

        let mut damaged = good.clone();
        for (at, mask) in flips {
            damaged[at.index(good.len())] ^= mask;
        }
        // Every byte of a segment is covered by a magic check or a checksum.
        if damaged != good {
            let err = SegmentReader::open(Bytes::from(damaged)).unwrap_err();
            prop_assert!(err.is_corruption(), "{}", err);
        }
    }

    #[test]
    fn valid_header_with_garbage_never_panics(tail in prop::collection::vec(any::<u8>(), 0..400), valid_trailer in any::<bool>()) {
        let mut bytes = b"WTSEG\x01\x00".to_vec();
        bytes.extend_from_slice(&tail);
        if valid_trailer {
            let good = sample_segment();
            bytes.extend_from_slice(&good[good.len() - 89..]);
        }
        if let Ok(seg) = SegmentReader::open(Bytes::from(bytes)) {
            let _ = seg.read_all();
        }
    }
}

#[test]
fn sample_segment_bit_flips_everywhere_are_detected() {
    let good = sample_segment();
    for pos in 0..good.len() {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        assert!(
            SegmentReader::open(Bytes::from(bad))
                .unwrap_err()
                .is_corruption(),
            "flip at {pos} undetected"
        );
    }
}

#[test]
fn empty_and_single_huge_record_segments() {
    let seg = build(Vec::new(), 1024);
    assert_eq!(
        (
            seg.record_count(),
            seg.block_count(),
            seg.min_ts(),
            seg.max_ts()
        ),
        (0, 0, 0, 0)
    );
    assert!(seg.read_all().unwrap().is_empty());

    let big = Record::new("big", 5, vec![7u8; 300_000]);
    let seg = build(vec![big.clone(), Record::new("small", 6, "v")], 1024);
    assert_eq!(seg.block_count(), 2);
    assert_eq!(
        seg.scan(&KeyFilter::Exact(b"big".to_vec()), 0, 10).unwrap(),
        vec![big]
    );
    assert!(
        seg.byte_len() < 10_000,
        "repetitive values compress: {}",
        seg.byte_len()
    );
}

#[test]
fn multi_key_scans_decode_each_block_once() {
    // 200 keys of 10 records each, about 20 records a block: 100 adjacent keys sit in about
    // 50 blocks, which one multi-key scan decodes once each.
    let recs = (0..2000).map(|i| Record::new(format!("key-{:04}", i / 10), i64::from(i % 10), vec![i as u8; 40])).collect();
    let seg = build(recs, 1024);
    let keys: Vec<Vec<u8>> = (50..150).map(|k| format!("key-{k:04}").into_bytes()).collect();
    let mut per_key = vec![0usize; keys.len()];
    seg.scan_keys(&keys, 0, 10, &mut |i, r| {
        assert_eq!(r.key, keys[i].as_slice());
        per_key[i] += 1;
        Ok(())
    })
    .unwrap();
    assert!(per_key.iter().all(|&n| n == 10), "{per_key:?}");
    let blocks = seg.blocks_decoded();
    let holding: usize = seg.block_count() * 100 / 200;
    assert!(blocks as usize <= holding + 2, "decoded {blocks} blocks, about {holding} hold the keys");
    // Out-of-order keys are refused, not silently half-read.
    let unsorted = vec![b"key-0002".to_vec(), b"key-0001".to_vec()];
    assert!(seg.scan_keys(&unsorted, 0, 10, &mut |_, _| Ok(())).is_err());
}

#[test]
fn bloom_filter_rejects_most_absent_keys() {
    let recs = (0..500)
        .map(|i| Record::new(format!("series-{i}"), i, "v"))
        .collect();
    let seg = build(recs, 4096);
    assert_eq!(seg.distinct_keys(), 500);
    let false_positives = (0..2000)
        .filter(|i| seg.may_contain_key(format!("absent-{i}").as_bytes()))
        .count();
    assert!(false_positives < 100, "{false_positives} false positives");
    let before = seg.blocks_decoded();
    let absent = (0..2000)
        .map(|i| format!("absent-{i}"))
        .find(|k| !seg.may_contain_key(k.as_bytes()))
        .unwrap();
    assert!(seg
        .scan(&KeyFilter::Exact(absent.into_bytes()), i64::MIN, i64::MAX)
        .unwrap()
        .is_empty());
    assert_eq!(
        seg.blocks_decoded(),
        before,
        "a bloom miss decodes no block"
    );
}
