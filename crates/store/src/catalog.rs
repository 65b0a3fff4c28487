//! The metadata catalog: which segments exist, per stream, plus small settings.
//!
//! Calls are synchronous; async callers wrap them in `spawn_blocking`.

use crate::error::{Result, StoreError};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Catalog entry describing one segment object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// Unique segment id.
    pub id: String,
    /// The stream (table) the segment belongs to.
    pub stream: String,
    /// Object path in the blob store.
    pub path: String,
    /// Smallest record timestamp (inclusive).
    pub min_ts: i64,
    /// Largest record timestamp (inclusive).
    pub max_ts: i64,
    /// Number of records.
    pub records: u64,
    /// Object size in bytes.
    pub bytes: u64,
    /// Compaction level: 0 for freshly flushed segments.
    pub level: u32,
    /// Highest WAL LSN whose records are contained in this segment.
    pub max_lsn: u64,
    /// Creation time, milliseconds since the epoch.
    pub created_at: i64,
}

/// Durable metadata store. Object-safe; share it as `Arc<dyn Catalog>`.
pub trait Catalog: Send + Sync {
    /// Registers a segment and raises the stream's LSN high-water mark.
    fn add_segment(&self, meta: &SegmentMeta) -> Result<()>;
    /// In one transaction removes `remove_ids` and adds `add`; fails with
    /// [`StoreError::Conflict`] and changes nothing if any id to remove is missing.
    fn replace_segments(&self, remove_ids: &[String], add: &[SegmentMeta]) -> Result<()>;
    /// Removes segments by id; returns how many existed.
    fn remove_segments(&self, ids: &[String]) -> Result<usize>;
    /// Segments of `stream` holding any timestamp in `[from_ts, to_ts)`, by `(min_ts, id)`.
    fn segments_overlapping(
        &self,
        stream: &str,
        from_ts: i64,
        to_ts: i64,
    ) -> Result<Vec<SegmentMeta>>;
    /// Every segment of `stream`, by `(min_ts, id)`.
    fn segments(&self, stream: &str) -> Result<Vec<SegmentMeta>>;
    /// Every stream that ever had a segment, sorted.
    fn streams(&self) -> Result<Vec<String>>;
    /// Highest LSN ever persisted to a segment of `stream` (0 if none); never decreases,
    /// even when retention drops segments.
    fn max_lsn(&self, stream: &str) -> Result<u64>;
    /// A setting's value, if set.
    fn get_setting(&self, key: &str) -> Result<Option<String>>;
    /// Sets (or replaces) a setting.
    fn put_setting(&self, key: &str, value: &str) -> Result<()>;
    /// The existing value of `key`, or stores `value` and returns it (atomic).
    fn setting_or_insert(&self, key: &str, value: &str) -> Result<String>;
}

/// Schema migrations; entry `i` upgrades the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE segments (
        id         TEXT PRIMARY KEY,
        stream     TEXT NOT NULL,
        path       TEXT NOT NULL UNIQUE,
        min_ts     INTEGER NOT NULL,
        max_ts     INTEGER NOT NULL,
        records    INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        level      INTEGER NOT NULL,
        max_lsn    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX segments_by_stream_time ON segments (stream, min_ts, max_ts);
    CREATE TABLE streams (
        name    TEXT PRIMARY KEY,
        max_lsn INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
"#];

/// The schema version this build writes.
pub const CATALOG_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// [`Catalog`] on SQLite (`journal_mode=WAL`, `synchronous=FULL`).
pub struct SqliteCatalog {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCatalog").finish_non_exhaustive()
    }
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| StoreError::InvalidArgument(format!("{what} {v} exceeds the catalog range")))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<SegmentMeta> {
    let unsigned = |i: usize| -> rusqlite::Result<u64> {
        let v: i64 = row.get(i)?;
        u64::try_from(v).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })
    };
    Ok(SegmentMeta {
        id: row.get(0)?,
        stream: row.get(1)?,
        path: row.get(2)?,
        min_ts: row.get(3)?,
        max_ts: row.get(4)?,
        records: unsigned(5)?,
        bytes: unsigned(6)?,
        level: u32::try_from(unsigned(7)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                7,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })?,
        max_lsn: unsigned(8)?,
        created_at: row.get(9)?,
    })
}

const COLUMNS: &str =
    "id, stream, path, min_ts, max_ts, records, bytes, level, max_lsn, created_at";

fn insert(tx: &Transaction<'_>, m: &SegmentMeta) -> Result<()> {
    if m.min_ts > m.max_ts {
        return Err(StoreError::InvalidArgument(format!(
            "segment {} has min_ts > max_ts",
            m.id
        )));
    }
    tx.execute(
        &format!(
            "INSERT INTO segments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            m.id,
            m.stream,
            m.path,
            m.min_ts,
            m.max_ts,
            to_i64(m.records, "records")?,
            to_i64(m.bytes, "bytes")?,
            i64::from(m.level),
            to_i64(m.max_lsn, "max_lsn")?,
            m.created_at
        ],
    )?;
    tx.execute(
        "INSERT INTO streams (name, max_lsn) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET max_lsn = max(max_lsn, excluded.max_lsn)",
        params![m.stream, to_i64(m.max_lsn, "max_lsn")?],
    )?;
    Ok(())
}

impl SqliteCatalog {
    /// Opens (creating and migrating if needed) the catalog database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode = %mode, path = %path.display(), "catalog journal mode is not wal");
        }
        Self::init(conn)
    }

    /// A catalog that lives in memory only; for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let tx = conn.transaction()?;
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
            [],
        )?;
        let current: Option<i64> = tx
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .optional()?;
        let current = match current {
            Some(v) => u32::try_from(v).map_err(|_| {
                StoreError::corruption("catalog", format!("schema version {v} is invalid"))
            })?,
            None => {
                tx.execute("INSERT INTO schema_version (version) VALUES (0)", [])?;
                0
            }
        };
        if current > CATALOG_SCHEMA_VERSION {
            return Err(StoreError::corruption(
                "catalog",
                format!(
                    "schema version {current} is newer than supported {CATALOG_SCHEMA_VERSION}"
                ),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.execute(
                "UPDATE schema_version SET version = ?1",
                params![i as i64 + 1],
            )?;
            tracing::info!(version = i + 1, "catalog schema migrated");
        }
        tx.commit()?;
        Ok(SqliteCatalog {
            conn: Mutex::new(conn),
        })
    }

    /// The schema version stored in the database.
    pub fn schema_version(&self) -> Result<u32> {
        let v: i64 = self
            .conn
            .lock()
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))?;
        Ok(u32::try_from(v).unwrap_or(0))
    }

    fn query(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<SegmentMeta>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(args, from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

impl Catalog for SqliteCatalog {
    fn add_segment(&self, meta: &SegmentMeta) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        insert(&tx, meta)?;
        tx.commit()?;
        Ok(())
    }

    fn replace_segments(&self, remove_ids: &[String], add: &[SegmentMeta]) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        for id in remove_ids {
            if tx.execute("DELETE FROM segments WHERE id = ?1", params![id])? == 0 {
                // Dropping `tx` rolls back the removals done so far.
                return Err(StoreError::Conflict(format!(
                    "segment {id} is no longer in the catalog"
                )));
            }
        }
        for m in add {
            insert(&tx, m)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn remove_segments(&self, ids: &[String]) -> Result<usize> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        let mut removed = 0;
        for id in ids {
            removed += tx.execute("DELETE FROM segments WHERE id = ?1", params![id])?;
        }
        tx.commit()?;
        Ok(removed)
    }

    fn segments_overlapping(
        &self,
        stream: &str,
        from_ts: i64,
        to_ts: i64,
    ) -> Result<Vec<SegmentMeta>> {
        if to_ts <= from_ts {
            return Ok(Vec::new());
        }
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM segments WHERE stream = ?1 AND min_ts < ?2 AND max_ts >= ?3
                 ORDER BY min_ts, id"
            ),
            params![stream, to_ts, from_ts],
        )
    }

    fn segments(&self, stream: &str) -> Result<Vec<SegmentMeta>> {
        self.query(
            &format!("SELECT {COLUMNS} FROM segments WHERE stream = ?1 ORDER BY min_ts, id"),
            params![stream],
        )
    }

    fn streams(&self) -> Result<Vec<String>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached("SELECT name FROM streams ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    fn max_lsn(&self, stream: &str) -> Result<u64> {
        let v: Option<i64> = self
            .conn
            .lock()
            .query_row(
                "SELECT max_lsn FROM streams WHERE name = ?1",
                params![stream],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
    }

    fn get_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .lock()
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.lock().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?;
        let v: String = tx.query_row(
            "SELECT value FROM settings WHERE key = ?1",
            params![key],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(v)
    }
}
