//! Records already in segment order, stored in two arenas.
//!
//! A flush of a large in-memory head would otherwise allocate a key and a value per record,
//! sort them by comparing keys byte by byte, and free them all again. [`SortedRecords`] is
//! appended to in segment order instead — each key once, then its records by time — so a
//! segment of a million records costs a handful of allocations and no sort.

use super::RecordRef;
use crate::error::{Result, StoreError};

/// One record: which key, its timestamp and where its value ends in the value arena (it
/// starts where the previous record's value ends).
#[derive(Debug, Clone, Copy)]
struct Row {
    key: u32,
    value_end: u32,
    ts: i64,
}

/// Records appended in `(key, ts)` order: every key once, in strictly increasing byte order,
/// each followed by its records in non-decreasing timestamp order. Appending out of order is
/// refused, so a value of this type is always in the order a segment stores.
#[derive(Debug, Default, Clone)]
pub struct SortedRecords {
    keys: Vec<u8>,
    /// End offset in `keys` of each key.
    key_ends: Vec<u32>,
    values: Vec<u8>,
    rows: Vec<Row>,
    /// Records appended under the current (last) key.
    current_rows: usize,
}

fn arena_offset(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| {
        StoreError::InvalidArgument("sorted records larger than 4 GiB in one segment".into())
    })
}

impl SortedRecords {
    /// An empty set, with room for `records` records whose values total `value_bytes`.
    pub fn with_capacity(records: usize, value_bytes: usize) -> Self {
        SortedRecords {
            values: Vec::with_capacity(value_bytes),
            rows: Vec::with_capacity(records),
            ..Default::default()
        }
    }

    fn key_at(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.key_ends[i - 1] as usize };
        &self.keys[start..self.key_ends[i] as usize]
    }

    /// Starts the records of `key`, which must sort strictly after the previous key. A key
    /// that gets no records is dropped when the next one starts (and never stored).
    pub fn start_key(&mut self, key: &[u8]) -> Result<()> {
        if let Some(last) = self.key_ends.len().checked_sub(1) {
            if key <= self.key_at(last) {
                return Err(StoreError::InvalidArgument(
                    "sorted records: keys must be appended in strictly increasing order".into(),
                ));
            }
            if self.current_rows == 0 {
                let start = if last == 0 { 0 } else { self.key_ends[last - 1] as usize };
                self.keys.truncate(start);
                self.key_ends.pop();
            }
        }
        self.keys.extend_from_slice(key);
        let end = arena_offset(self.keys.len())?;
        self.key_ends.push(end);
        self.current_rows = 0;
        Ok(())
    }

    /// Appends a record of the current key; `ts` must not be below the previous record's.
    pub fn push(&mut self, ts: i64, value: &[u8]) -> Result<()> {
        let Some(key) = self.key_ends.len().checked_sub(1) else {
            return Err(StoreError::InvalidArgument(
                "sorted records: a record needs a key (start_key first)".into(),
            ));
        };
        if self.current_rows > 0 && self.rows.last().is_some_and(|r| ts < r.ts) {
            return Err(StoreError::InvalidArgument(
                "sorted records: timestamps of a key must not decrease".into(),
            ));
        }
        self.values.extend_from_slice(value);
        let value_end = arena_offset(self.values.len())?;
        self.rows.push(Row {
            key: key as u32,
            value_end,
            ts,
        });
        self.current_rows += 1;
        Ok(())
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of distinct keys that have records.
    pub fn distinct_keys(&self) -> usize {
        self.key_ends.len() - usize::from(self.current_rows == 0 && !self.key_ends.is_empty())
    }

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = RecordRef<'_>> + '_ {
        let mut value_start = 0usize;
        self.rows.iter().map(move |r| {
            let value = &self.values[value_start..r.value_end as usize];
            value_start = r.value_end as usize;
            RecordRef {
                key: self.key_at(r.key as usize),
                ts: r.ts,
                value,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &SortedRecords) -> Vec<(Vec<u8>, i64, Vec<u8>)> {
        s.iter()
            .map(|r| (r.key.to_vec(), r.ts, r.value.to_vec()))
            .collect()
    }

    #[test]
    fn keeps_records_in_append_order_and_drops_empty_keys() {
        let mut s = SortedRecords::default();
        s.start_key(b"a").unwrap();
        s.push(1, b"x").unwrap();
        s.push(1, b"").unwrap();
        s.push(5, b"yy").unwrap();
        s.start_key(b"b").unwrap(); // no records: dropped
        s.start_key(b"c").unwrap();
        s.push(-3, b"z").unwrap();
        s.start_key(b"d").unwrap(); // trailing key without records
        assert_eq!(s.len(), 4);
        assert_eq!(s.distinct_keys(), 2);
        assert_eq!(
            collect(&s),
            vec![
                (b"a".to_vec(), 1, b"x".to_vec()),
                (b"a".to_vec(), 1, vec![]),
                (b"a".to_vec(), 5, b"yy".to_vec()),
                (b"c".to_vec(), -3, b"z".to_vec()),
            ]
        );
    }

    #[test]
    fn refuses_out_of_order_input() {
        let mut s = SortedRecords::default();
        assert!(s.push(1, b"x").is_err(), "a record before any key");
        s.start_key(b"b").unwrap();
        s.push(10, b"x").unwrap();
        assert!(s.push(9, b"x").is_err(), "time going backwards");
        assert!(s.start_key(b"b").is_err(), "the same key twice");
        assert!(s.start_key(b"a").is_err(), "a smaller key");
        assert!(s.start_key(b"ba").is_ok());
        assert!(s.push(0, b"x").is_ok(), "a new key starts its own time order");
        assert_eq!(s.len(), 2);
    }
}
