//! The series of one account and region in the metric head: each in a slot for the life of
//! the process, found by a shared key's noted slot, by key, in key order or from a key on.

use crate::head_sample::HeadSample;
use crate::log_part::EncodedSeriesKey;
use crate::model::SeriesKey;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use watchtrail_core::Timestamp;

/// A series key as a batch carries it to the head: owned (a replayed record) or shared (a
/// new write, whose key may know its slot).
pub(crate) trait HeadKey {
    /// The series' slot in `part`, created if the series is new.
    fn slot_in(self, part: &mut Partition) -> usize;
}

impl HeadKey for SeriesKey {
    fn slot_in(self, part: &mut Partition) -> usize {
        match part.find(&self) {
            Some(slot) => slot,
            None => part.insert(Arc::new(EncodedSeriesKey::new(self))),
        }
    }
}

impl HeadKey for Arc<EncodedSeriesKey> {
    fn slot_in(self, part: &mut Partition) -> usize {
        part.slot_of_shared(&self)
    }
}

/// What the head knows about one series.
#[derive(Default)]
pub(crate) struct SeriesState {
    /// When data for the series last arrived.
    pub(crate) last_ingest: Timestamp,
    /// Samples not yet in a segment, in LSN order. A flush that takes them all takes the
    /// buffer and leaves a spare one an earlier flush emptied, so a busy series goes on
    /// writing into memory already in use instead of growing a fresh buffer on the log's
    /// writer thread (the allocator's copies and the kernel's page faults).
    pub(crate) head: Vec<HeadSample>,
    /// The log record of each run of `head` (lengths add up to `head.len()`), in LSN order.
    pub(crate) lsns: Vec<LsnRun>,
    /// Flushes in a row that found nothing new for the series; at [`crate::engine::IDLE_FLUSHES`] its
    /// buffer is released.
    pub(crate) idle_flushes: u8,
    /// The series index entry changed since the last flush.
    pub(crate) index_dirty: bool,
}

/// A run of a series' head samples that came in one log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LsnRun {
    /// The record's LSN.
    pub(crate) lsn: u64,
    /// How many samples.
    pub(crate) len: usize,
}

impl SeriesState {
    /// Appends the samples of the log record `lsn` (no earlier than any the series holds).
    pub(crate) fn push(&mut self, lsn: u64, mut samples: Vec<HeadSample>) {
        if samples.is_empty() {
            return;
        }
        match self.lsns.last_mut() {
            Some(run) if run.lsn == lsn => run.len += samples.len(),
            last => {
                debug_assert!(last.is_none_or(|r| r.lsn < lsn), "head samples out of LSN order");
                self.lsns.push(LsnRun { lsn, len: samples.len() });
            }
        }
        if self.head.is_empty() && self.head.capacity() < samples.len() {
            // Nothing to keep: the samples' own buffer becomes the head's.
            self.head = samples;
        } else {
            self.head.append(&mut samples);
        }
    }

    /// The LSN of the oldest head sample.
    pub(crate) fn min_lsn(&self) -> Option<u64> {
        self.lsns.first().map(|r| r.lsn)
    }
}

/// One series of a partition: its key (shared with the writers that know it) and state.
pub(crate) struct HeadSeries {
    pub(crate) key: Arc<EncodedSeriesKey>,
    pub(crate) state: SeriesState,
}

/// The series of one account and region. A series keeps its slot (index into `series`) for
/// the life of the process.
#[derive(Default)]
pub(crate) struct Partition {
    pub(crate) series: Vec<HeadSeries>,
    /// Slots by key hash, for lookups by key.
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Slots in key order, for listings and range scans.
    order: BTreeMap<SeriesKey, u32>,
}

impl Partition {
    /// The slot of `key`, if the series exists.
    pub(crate) fn find(&self, key: &SeriesKey) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        self.index.find(hash, |&slot| self.series[slot as usize].key.key() == key).map(|&slot| slot as usize)
    }

    /// Adds a new series; returns its slot.
    fn insert(&mut self, key: Arc<EncodedSeriesKey>) -> usize {
        let slot = self.series.len();
        let hash = self.hasher.hash_one(key.key());
        self.order.insert(key.key().clone(), slot as u32);
        key.slot.store(slot as u32, Ordering::Relaxed);
        self.series.push(HeadSeries { key, state: SeriesState::default() });
        let Partition { series, index, hasher, .. } = self;
        index.insert_unique(hash, slot as u32, |&s| hasher.hash_one(series[s as usize].key.key()));
        slot
    }

    /// The slot of a shared key: the one it noted when that slot holds this very key, else
    /// found (or created) by the key, and noted.
    fn slot_of_shared(&mut self, key: &Arc<EncodedSeriesKey>) -> usize {
        let hint = key.slot.load(Ordering::Relaxed) as usize;
        if self.series.get(hint).is_some_and(|s| Arc::ptr_eq(&s.key, key)) {
            return hint;
        }
        match self.find(key.key()) {
            Some(slot) => {
                key.slot.store(slot as u32, Ordering::Relaxed);
                slot
            }
            None => self.insert(key.clone()),
        }
    }

    /// The state of `key`, created (empty) if the series is new.
    pub(crate) fn state_mut(&mut self, key: impl HeadKey) -> &mut SeriesState {
        let slot = key.slot_in(self);
        &mut self.series[slot].state
    }

    /// The state of `key`, if the series exists.
    pub(crate) fn get(&self, key: &SeriesKey) -> Option<&SeriesState> {
        self.find(key).map(|slot| &self.series[slot].state)
    }

    /// Every series in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SeriesKey, &SeriesState)> + '_ {
        self.order.iter().map(|(k, &slot)| (k, &self.series[slot as usize].state))
    }

    /// Every series in no particular order (cheaper than [`Partition::iter`] for a caller
    /// that filters first and sorts what is left).
    pub(crate) fn iter_unordered(&self) -> impl Iterator<Item = (&SeriesKey, &SeriesState)> + '_ {
        self.series.iter().map(|s| (s.key.key(), &s.state))
    }

    /// The series from `lo` on, in key order.
    pub(crate) fn range_from<'a>(&'a self, lo: &SeriesKey) -> impl Iterator<Item = (&'a SeriesKey, &'a SeriesState)> + 'a {
        self.order.range::<SeriesKey, _>((std::ops::Bound::Included(lo), std::ops::Bound::Unbounded)).map(|(k, &slot)| (k, &self.series[slot as usize].state))
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricKey, Unit};
    use proptest::prelude::*;

    fn named(name: &str) -> SeriesKey {
        SeriesKey { metric: MetricKey::new("NS", name, vec![]), unit: Unit::None }
    }

    #[test]
    fn a_shared_key_is_found_by_its_slot_only_where_that_slot_holds_it() {
        let (mut a, mut b) = (Partition::default(), Partition::default());
        let x = Arc::new(EncodedSeriesKey::new(named("x")));
        for name in ["p", "q", "r"] {
            a.state_mut(named(name)).last_ingest = Timestamp(1);
        }
        a.state_mut(x.clone()).last_ingest = Timestamp(7);
        assert_eq!(x.slot.load(Ordering::Relaxed), 3, "the slot is noted");
        // In another partition the hint points at a different series: found by key instead.
        b.state_mut(named("y")).last_ingest = Timestamp(2);
        b.state_mut(x.clone()).last_ingest = Timestamp(8);
        assert_eq!(a.get(&named("x")).unwrap().last_ingest, Timestamp(7));
        assert_eq!(b.get(&named("x")).unwrap().last_ingest, Timestamp(8));
        assert_eq!(b.get(&named("y")).unwrap().last_ingest, Timestamp(2));
        // The same key, built anew (no hint), is the same series.
        a.state_mut(Arc::new(EncodedSeriesKey::new(named("x")))).last_ingest = Timestamp(9);
        assert_eq!(a.get(&named("x")).unwrap().last_ingest, Timestamp(9));
        assert_eq!(a.series.len(), 4);
    }

    proptest! {
        #[test]
        fn partition_lookups_listings_and_ranges_agree_with_a_sorted_set(names in proptest::collection::vec("[a-e]{1,3}", 0..200), lo in "[a-e]{0,2}") {
            let mut part = Partition::default();
            let mut model = std::collections::BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                // Owned and shared keys alike.
                let st = if i % 2 == 0 { part.state_mut(named(n)) } else { part.state_mut(Arc::new(EncodedSeriesKey::new(named(n)))) };
                st.last_ingest = Timestamp(i as i64);
                model.insert(named(n), Timestamp(i as i64));
            }
            prop_assert_eq!(part.series.len(), model.len());
            let listed: Vec<_> = part.iter().map(|(k, st)| (k.clone(), st.last_ingest)).collect();
            prop_assert_eq!(&listed, &model.clone().into_iter().collect::<Vec<_>>());
            let ranged: Vec<_> = part.range_from(&named(&lo)).map(|(k, _)| k.clone()).collect();
            prop_assert_eq!(ranged, model.range(named(&lo)..).map(|(k, _)| k.clone()).collect::<Vec<_>>());
            let mut unordered: Vec<_> = part.iter_unordered().map(|(k, st)| (k.clone(), st.last_ingest)).collect();
            unordered.sort();
            prop_assert_eq!(unordered, listed);
            for (k, t) in &model {
                prop_assert_eq!(part.get(k).map(|st| st.last_ingest), Some(*t));
            }
            prop_assert!(part.get(&named("zz")).is_none());
        }
    }
}
