//! GetMetricData results kept for their next pages.
//!
//! A result larger than one page (100,800 points by default) is computed once: the first
//! call keeps it here under a random id that its `NextToken` carries, and the next calls cut
//! their pages from it instead of reading and evaluating everything again. Every page of one
//! token chain therefore comes from the same snapshot, however much data arrives meanwhile.
//!
//! An entry is found only by the request it was made for (the same account, region and
//! request fingerprint), lives [`PAGE_TTL_MS`], and the cache holds at most [`MAX_ENTRIES`]
//! results and [`MAX_POINTS`] points in total, dropping the oldest first. A token whose entry
//! is gone (expired, evicted, or issued before a restart) still works: the call computes its
//! result again, as it would without a cache.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use watchtrail_core::Timestamp;

/// How long a result waits for its next page.
pub const PAGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Most results kept.
pub const MAX_ENTRIES: usize = 64;
/// Most points kept over all results (16 bytes each: 128 MiB).
pub const MAX_POINTS: usize = 8 << 20;

struct Entry<T> {
    id: String,
    owner: String,
    created: Timestamp,
    points: usize,
    result: Arc<T>,
}

/// Results by id, oldest first.
pub struct PageCache<T> {
    entries: Mutex<VecDeque<Entry<T>>>,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        PageCache { entries: Mutex::new(VecDeque::new()) }
    }
}

impl<T> PageCache<T> {
    /// Keeps `result` (of `points` points) for the request `owner` (account, region and
    /// fingerprint, in one string) and returns its id; `None` when it is too large to keep.
    pub fn insert(&self, owner: String, now: Timestamp, points: usize, result: Arc<T>) -> Option<String> {
        if points > MAX_POINTS {
            return None;
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut entries = self.entries.lock();
        Self::expire(&mut entries, now);
        let mut held: usize = entries.iter().map(|e| e.points).sum();
        while entries.len() >= MAX_ENTRIES || held + points > MAX_POINTS {
            match entries.pop_front() {
                Some(e) => held -= e.points,
                None => break,
            }
        }
        entries.push_back(Entry { id: id.clone(), owner, created: now, points, result });
        Some(id)
    }

    /// The result kept under `id` for `owner`, if it is still here.
    pub fn get(&self, id: &str, owner: &str, now: Timestamp) -> Option<Arc<T>> {
        let mut entries = self.entries.lock();
        Self::expire(&mut entries, now);
        entries.iter().find(|e| e.id == id && e.owner == owner).map(|e| e.result.clone())
    }

    fn expire(entries: &mut VecDeque<Entry<T>>, now: Timestamp) {
        entries.retain(|e| now.millis() - e.created.millis() < PAGE_TTL_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_their_owner_until_they_expire() {
        let cache: PageCache<u32> = PageCache::default();
        let t0 = Timestamp(1_000_000);
        let id = cache.insert("acct/region/fp".into(), t0, 10, Arc::new(7)).unwrap();
        assert_eq!(cache.get(&id, "acct/region/fp", t0).as_deref(), Some(&7));
        assert!(cache.get(&id, "other/region/fp", t0).is_none(), "another owner never sees it");
        assert!(cache.get("nope", "acct/region/fp", t0).is_none());
        assert!(cache.get(&id, "acct/region/fp", Timestamp(t0.millis() + PAGE_TTL_MS - 1)).is_some());
        assert!(cache.get(&id, "acct/region/fp", Timestamp(t0.millis() + PAGE_TTL_MS)).is_none());
    }

    #[test]
    fn the_oldest_entries_make_room() {
        let cache: PageCache<usize> = PageCache::default();
        let t = Timestamp(0);
        let ids: Vec<String> = (0..MAX_ENTRIES + 1).map(|i| cache.insert("o".into(), t, 1, Arc::new(i)).unwrap()).collect();
        assert!(cache.get(&ids[0], "o", t).is_none());
        assert_eq!(cache.get(&ids[MAX_ENTRIES], "o", t).as_deref(), Some(&MAX_ENTRIES));
        // Points: a result of MAX_POINTS pushes out everything before it; a larger one is not kept.
        let big = cache.insert("o".into(), t, MAX_POINTS, Arc::new(0)).unwrap();
        assert!(cache.get(&ids[MAX_ENTRIES], "o", t).is_none());
        assert!(cache.get(&big, "o", t).is_some());
        assert!(cache.insert("o".into(), t, MAX_POINTS + 1, Arc::new(0)).is_none());
    }
}
