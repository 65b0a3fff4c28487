//! Pins segment format version 1: header bytes, trailer position, and a committed fixture
//! that every later version of the reader must still open.
//!
//! Regenerate the fixture (only when deliberately introducing a new format version, keeping
//! the old file) with `WATCHTRAIL_REGEN_FIXTURES=1`.

use bytes::Bytes;
use watchtrail_store::segment::{SEGMENT_HEADER_LEN, SEGMENT_TRAILER_LEN};
use watchtrail_store::{KeyFilter, Record, SegmentBuilder, SegmentReader};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/segment-v1.bin");

fn fixture_records() -> Vec<Record> {
    vec![
        Record::new("mem/host-a", 1_700_000_000_000, "42"),
        Record::new("cpu/host-a", 1_700_000_060_000, "2.5"),
        Record::new("cpu/host-b", 1_700_000_000_000, "0.25"),
        Record::new("cpu/host-a", 1_700_000_000_000, "1.5"),
        Record::new("mem/host-a", 1_699_999_999_000, ""),
        Record::new("cpu/host-a", 1_700_000_060_000, "2.5-duplicate"),
    ]
}

fn expected_sorted() -> Vec<Record> {
    vec![
        Record::new("cpu/host-a", 1_700_000_000_000, "1.5"),
        Record::new("cpu/host-a", 1_700_000_060_000, "2.5"),
        Record::new("cpu/host-a", 1_700_000_060_000, "2.5-duplicate"),
        Record::new("cpu/host-b", 1_700_000_000_000, "0.25"),
        Record::new("mem/host-a", 1_699_999_999_000, ""),
        Record::new("mem/host-a", 1_700_000_000_000, "42"),
    ]
}

fn build_fixture() -> Vec<u8> {
    // Tiny blocks (one or two records each) so that the fixture has several blocks.
    SegmentBuilder::new()
        .block_bytes(24)
        .build(fixture_records())
        .unwrap()
}

fn check_v1_layout(bytes: &[u8]) {
    assert_eq!(
        &bytes[..SEGMENT_HEADER_LEN],
        b"WTSEG\x01\x00",
        "header: magic + u16 LE version 1"
    );
    let trailer = &bytes[bytes.len() - SEGMENT_TRAILER_LEN..];
    assert_eq!(&trailer[..2], &[1, 0], "trailer starts with the version");
    assert_eq!(
        &trailer[SEGMENT_TRAILER_LEN - 5..],
        b"WTSEG",
        "file ends with the magic"
    );
    let u64_at = |o: usize| u64::from_le_bytes(trailer[o..o + 8].try_into().unwrap());
    let i64_at = |o: usize| i64::from_le_bytes(trailer[o..o + 8].try_into().unwrap());
    assert_eq!(i64_at(4), 1_699_999_999_000, "min_ts");
    assert_eq!(i64_at(12), 1_700_000_060_000, "max_ts");
    assert_eq!(u64_at(20), 6, "record count");
    assert_eq!(u64_at(28), 3, "distinct keys");
    let index_offset = u64_at(36) as usize;
    let block_count = u32::from_le_bytes(bytes[index_offset..index_offset + 4].try_into().unwrap());
    assert_eq!(block_count, 4, "block count at the start of the index");
    let first_block_offset = u64::from_le_bytes(
        bytes[index_offset + 4..index_offset + 12]
            .try_into()
            .unwrap(),
    );
    assert_eq!(
        first_block_offset, SEGMENT_HEADER_LEN as u64,
        "blocks start right after the header"
    );
}

fn check_reads(bytes: Vec<u8>) {
    let seg = SegmentReader::open(Bytes::from(bytes)).unwrap();
    assert_eq!(seg.version(), 1);
    assert_eq!(seg.record_count(), 6);
    assert_eq!(seg.distinct_keys(), 3);
    assert_eq!(seg.block_count(), 4);
    assert_eq!(
        (seg.min_ts(), seg.max_ts()),
        (1_699_999_999_000, 1_700_000_060_000)
    );
    assert_eq!(seg.read_all().unwrap(), expected_sorted());
    assert_eq!(
        seg.scan(
            &KeyFilter::Prefix(b"cpu/".to_vec()),
            1_700_000_000_001,
            i64::MAX
        )
        .unwrap(),
        expected_sorted()[1..3].to_vec()
    );
    assert_eq!(
        seg.scan(&KeyFilter::Exact(b"mem/host-a".to_vec()), 0, i64::MAX)
            .unwrap(),
        expected_sorted()[4..].to_vec()
    );
    assert!(seg.may_contain_key(b"cpu/host-b"));
}

#[test]
fn fresh_segment_has_the_v1_layout() {
    let bytes = build_fixture();
    check_v1_layout(&bytes);
    check_reads(bytes);
}

#[test]
fn committed_v1_fixture_still_opens() {
    if std::env::var_os("WATCHTRAIL_REGEN_FIXTURES").is_some() {
        std::fs::write(FIXTURE, build_fixture()).unwrap();
    }
    let bytes = std::fs::read(FIXTURE).expect("tests/fixtures/segment-v1.bin is committed");
    check_v1_layout(&bytes);
    check_reads(bytes);
}
