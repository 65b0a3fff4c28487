use std::sync::Arc;
use watchtrail_store::{Catalog, SegmentMeta, SqliteCatalog, StoreError, CATALOG_SCHEMA_VERSION};

fn meta(id: &str, stream: &str, min_ts: i64, max_ts: i64, max_lsn: u64) -> SegmentMeta {
    SegmentMeta {
        id: id.into(),
        stream: stream.into(),
        path: format!("segments/{stream}/{id}.seg"),
        min_ts,
        max_ts,
        records: 10,
        bytes: 1000,
        level: 0,
        max_lsn,
        created_at: 1_700_000_000_000,
    }
}

fn ids(v: &[SegmentMeta]) -> Vec<&str> {
    v.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn add_overlap_replace_remove() {
    let cat: Arc<dyn Catalog> = Arc::new(SqliteCatalog::open_in_memory().unwrap());
    cat.add_segment(&meta("s1", "metrics", 0, 99, 10)).unwrap();
    cat.add_segment(&meta("s2", "metrics", 100, 199, 20))
        .unwrap();
    cat.add_segment(&meta("s3", "metrics", 150, 300, 30))
        .unwrap();
    cat.add_segment(&meta("l1", "logs", 0, 1000, 5)).unwrap();
    assert!(
        cat.add_segment(&meta("s1", "metrics", 0, 1, 1)).is_err(),
        "ids are unique"
    );
    assert!(matches!(
        cat.add_segment(&meta("bad", "metrics", 5, 4, 1)),
        Err(StoreError::InvalidArgument(_))
    ));

    assert_eq!(cat.streams().unwrap(), vec!["logs", "metrics"]);
    assert_eq!(
        ids(&cat.segments("metrics").unwrap()),
        vec!["s1", "s2", "s3"]
    );
    assert_eq!(
        cat.segments("metrics").unwrap()[1],
        meta("s2", "metrics", 100, 199, 20)
    );
    // [from, to): from inclusive against max_ts, to exclusive against min_ts.
    assert_eq!(
        ids(&cat.segments_overlapping("metrics", 99, 100).unwrap()),
        vec!["s1"]
    );
    assert_eq!(
        ids(&cat.segments_overlapping("metrics", 100, 101).unwrap()),
        vec!["s2"]
    );
    assert_eq!(
        ids(&cat.segments_overlapping("metrics", 160, 170).unwrap()),
        vec!["s2", "s3"]
    );
    assert_eq!(
        ids(&cat.segments_overlapping("metrics", 301, 400).unwrap()),
        Vec::<&str>::new()
    );
    assert!(cat
        .segments_overlapping("metrics", 50, 50)
        .unwrap()
        .is_empty());
    assert_eq!(
        ids(&cat
            .segments_overlapping("logs", i64::MIN, i64::MAX)
            .unwrap()),
        vec!["l1"]
    );
    assert_eq!(cat.max_lsn("metrics").unwrap(), 30);
    assert_eq!(cat.max_lsn("nothing").unwrap(), 0);

    let mut merged = meta("m1", "metrics", 0, 199, 20);
    merged.level = 1;
    cat.replace_segments(&["s1".into(), "s2".into()], std::slice::from_ref(&merged))
        .unwrap();
    assert_eq!(ids(&cat.segments("metrics").unwrap()), vec!["m1", "s3"]);
    assert_eq!(cat.segments("metrics").unwrap()[0].level, 1);

    // A replace whose inputs are gone changes nothing.
    let err = cat
        .replace_segments(
            &["s3".into(), "s1".into()],
            &[meta("m2", "metrics", 0, 300, 30)],
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(ids(&cat.segments("metrics").unwrap()), vec!["m1", "s3"]);
    // A failing insert rolls back the removals too.
    assert!(cat
        .replace_segments(&["s3".into()], &[meta("m1", "metrics", 0, 1, 1)])
        .is_err());
    assert_eq!(ids(&cat.segments("metrics").unwrap()), vec!["m1", "s3"]);

    assert_eq!(
        cat.remove_segments(&["s3".into(), "missing".into()])
            .unwrap(),
        1
    );
    assert_eq!(ids(&cat.segments("metrics").unwrap()), vec!["m1"]);
    assert_eq!(cat.remove_segments(&["m1".into()]).unwrap(), 1);
    assert!(cat.segments("metrics").unwrap().is_empty());
    assert_eq!(
        cat.max_lsn("metrics").unwrap(),
        30,
        "the lsn high-water mark survives removals"
    );
    assert_eq!(cat.streams().unwrap(), vec!["logs", "metrics"]);
}

#[test]
fn settings() {
    let cat = SqliteCatalog::open_in_memory().unwrap();
    assert_eq!(cat.get_setting("account_id").unwrap(), None);
    assert_eq!(
        cat.setting_or_insert("account_id", "123456789012").unwrap(),
        "123456789012"
    );
    assert_eq!(
        cat.setting_or_insert("account_id", "999999999999").unwrap(),
        "123456789012"
    );
    assert_eq!(
        cat.get_setting("account_id").unwrap().as_deref(),
        Some("123456789012")
    );
    cat.put_setting("region", "us-east-1").unwrap();
    cat.put_setting("region", "eu-west-1").unwrap();
    assert_eq!(
        cat.get_setting("region").unwrap().as_deref(),
        Some("eu-west-1")
    );
}

#[test]
fn file_catalog_survives_reopen_and_uses_wal_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/catalog.db");
    {
        let cat = SqliteCatalog::open(&path).unwrap();
        assert_eq!(cat.schema_version().unwrap(), CATALOG_SCHEMA_VERSION);
        cat.add_segment(&meta("s1", "metrics", 0, 10, 7)).unwrap();
        cat.put_setting("account_id", "123456789012").unwrap();
        assert!(
            dir.path().join("nested/catalog.db-wal").exists(),
            "journal_mode=WAL"
        );
    }
    let cat = SqliteCatalog::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), CATALOG_SCHEMA_VERSION);
    assert_eq!(
        cat.segments("metrics").unwrap(),
        vec![meta("s1", "metrics", 0, 10, 7)]
    );
    assert_eq!(cat.max_lsn("metrics").unwrap(), 7);
    assert_eq!(
        cat.setting_or_insert("account_id", "other").unwrap(),
        "123456789012"
    );
    drop(cat);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    let err = SqliteCatalog::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer than supported"), "{err}");
}

#[test]
fn unsigned_values_out_of_sqlite_range_are_rejected() {
    let cat = SqliteCatalog::open_in_memory().unwrap();
    let mut m = meta("s1", "metrics", 0, 1, 1);
    m.max_lsn = u64::MAX;
    assert!(matches!(
        cat.add_segment(&m),
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(cat.segments("metrics").unwrap().is_empty());
}
