//! The Logs control plane in memory: log groups, their streams and settings, per
//! (account, region). Changed only by applying [`LogOp`]s in LSN order (on the commit log's
//! writer thread once durable, or at replay), and saved as a snapshot so the log can be
//! checkpointed.

use crate::log_part::{LogOp, NewGroup, Scope};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One log stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stream {
    /// Creation time (ms).
    pub creation_time: i64,
    /// The LSN that created it: stored events of an earlier stream of the same name (deleted
    /// since) have lower LSNs and are not this stream's.
    pub created_lsn: u64,
    /// Earliest event timestamp.
    pub first_event: Option<i64>,
    /// Latest event timestamp.
    pub last_event: Option<i64>,
    /// Latest ingestion time.
    pub last_ingestion: Option<i64>,
    /// Message bytes stored.
    pub stored_bytes: u64,
}

/// One log group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Unique id (names the segment stream).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Creation time (ms).
    pub creation_time: i64,
    /// Retention, or never expire.
    pub retention_days: Option<i32>,
    /// Log group class.
    pub class: String,
    /// KMS key id given at creation.
    pub kms_key_id: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Streams by name.
    pub streams: BTreeMap<String, Stream>,
    /// Metric filters by name.
    pub metric_filters: BTreeMap<String, crate::metric_filter::MetricFilterDef>,
    /// The filters have turned every event of the group up to this LSN into datapoints.
    pub filter_cursor: u64,
}

impl Group {
    /// Message bytes stored in all streams.
    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }
}

/// Events an applied op adds to the unflushed head.
#[derive(Debug)]
pub struct AppliedEvents {
    /// The group's id.
    pub group: u64,
    /// The stream's name.
    pub stream: String,
    /// Ingestion time.
    pub ingested: i64,
    /// Request index of the first event.
    pub first_index: u32,
    /// `(timestamp, message)` pairs.
    pub events: Vec<(i64, String)>,
}

/// Every log group, and what the store must still clean up.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Groups by scope, then name.
    pub partitions: BTreeMap<Scope, BTreeMap<String, Group>>,
    /// The next group id to hand out.
    pub next_group_id: u64,
    /// The highest LSN applied.
    pub applied_lsn: u64,
    /// Deleted groups whose segments are still to be removed.
    pub dropped: Vec<u64>,
    /// Group id → (scope, name), rebuilt on load.
    #[serde(skip)]
    by_id: HashMap<u64, (Scope, String)>,
}

impl State {
    /// Restores a snapshot written by [`State::snapshot`].
    pub fn restore(bytes: &[u8]) -> Result<State, postcard::Error> {
        let mut s: State = postcard::from_bytes(bytes)?;
        s.reindex();
        Ok(s)
    }

    /// The state as bytes.
    pub fn snapshot(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(self)
    }

    fn reindex(&mut self) {
        self.by_id = self.partitions.iter().flat_map(|(scope, groups)| groups.values().map(move |g| (g.id, (scope.clone(), g.name.clone())))).collect();
    }

    /// A group by scope and name.
    pub fn group(&self, scope: &Scope, name: &str) -> Option<&Group> {
        self.partitions.get(scope)?.get(name)
    }

    /// Groups of a scope, by name.
    pub fn groups(&self, scope: &Scope) -> Option<&BTreeMap<String, Group>> {
        self.partitions.get(scope)
    }

    /// A group by id.
    pub fn group_by_id(&self, id: u64) -> Option<(&Scope, &Group)> {
        let (scope, name) = self.by_id.get(&id)?;
        let g = self.partitions.get(scope)?.get(name)?;
        Some((scope, g))
    }

    fn group_mut(&mut self, id: u64) -> Option<&mut Group> {
        let (scope, name) = self.by_id.get(&id)?;
        self.partitions.get_mut(scope)?.get_mut(name)
    }

    /// The groups with at least one metric filter, with their filter cursors.
    pub fn filtered_groups(&self) -> HashMap<u64, u64> {
        self.partitions.values().flat_map(|gs| gs.values()).filter(|g| !g.metric_filters.is_empty()).map(|g| (g.id, g.filter_cursor)).collect()
    }

    /// Every group id with its scope (for maintenance).
    pub fn group_ids(&self) -> Vec<(u64, Scope, Option<i32>)> {
        self.partitions.iter().flat_map(|(s, gs)| gs.values().map(move |g| (g.id, s.clone(), g.retention_days))).collect()
    }

    /// Applies one durable op; returns the events it adds, if any. Ops that no longer fit
    /// (a stream deleted between a put's check and its commit) change nothing.
    pub fn apply(&mut self, lsn: u64, op: LogOp) -> Option<AppliedEvents> {
        self.applied_lsn = self.applied_lsn.max(lsn);
        match op {
            LogOp::CreateGroup { scope, group } => {
                let NewGroup { id, name, time, class, kms_key_id, tags, deletion_protection } = group;
                self.next_group_id = self.next_group_id.max(id + 1);
                let groups = self.partitions.entry(scope.clone()).or_default();
                if groups.contains_key(&name) {
                    return None;
                }
                // The DELIVERY class keeps events for one day, always.
                let retention_days = (class == "DELIVERY").then_some(crate::service::DELIVERY_RETENTION_DAYS);
                let g = Group { id, name: name.clone(), creation_time: time, retention_days, class, kms_key_id, deletion_protection, tags: tags.into_iter().collect(), streams: BTreeMap::new(), metric_filters: BTreeMap::new(), filter_cursor: 0 };
                groups.insert(name.clone(), g);
                self.by_id.insert(id, (scope, name));
                None
            }
            LogOp::DeleteGroup { id, .. } => {
                if let Some((scope, name)) = self.by_id.remove(&id) {
                    if let Some(groups) = self.partitions.get_mut(&scope) {
                        groups.remove(&name);
                        if groups.is_empty() {
                            self.partitions.remove(&scope);
                        }
                    }
                    self.dropped.push(id);
                }
                None
            }
            LogOp::CreateStream { group, stream, time, .. } => {
                if let Some(g) = self.group_mut(group) {
                    g.streams.entry(stream).or_insert(Stream { creation_time: time, created_lsn: lsn, ..Stream::default() });
                }
                None
            }
            LogOp::DeleteStream { group, stream, .. } => {
                if let Some(g) = self.group_mut(group) {
                    g.streams.remove(&stream);
                }
                None
            }
            LogOp::Retention { group, days, .. } => {
                if let Some(g) = self.group_mut(group) {
                    g.retention_days = days;
                }
                None
            }
            LogOp::Tags { group, set, remove, .. } => {
                if let Some(g) = self.group_mut(group) {
                    g.tags.extend(set);
                    for k in remove {
                        g.tags.remove(&k);
                    }
                }
                None
            }
            LogOp::PutMetricFilter { group, mut filter, .. } => {
                if let Some(g) = self.group_mut(group) {
                    filter.created_lsn = lsn;
                    g.metric_filters.insert(filter.name.clone(), filter);
                }
                None
            }
            LogOp::DeleteMetricFilter { group, name, .. } => {
                if let Some(g) = self.group_mut(group) {
                    g.metric_filters.remove(&name);
                }
                None
            }
            LogOp::MetricCursor { cursors } => {
                for (group, upto) in cursors {
                    if let Some(g) = self.group_mut(group) {
                        g.filter_cursor = g.filter_cursor.max(upto);
                    }
                }
                None
            }
            LogOp::Events { group, stream, ingested, first_index, events, .. } => {
                let st = self.group_mut(group)?.streams.get_mut(&stream)?;
                for (ts, msg) in &events {
                    st.first_event = Some(st.first_event.map_or(*ts, |f| f.min(*ts)));
                    st.last_event = Some(st.last_event.map_or(*ts, |l| l.max(*ts)));
                    st.stored_bytes += msg.len() as u64;
                }
                st.last_ingestion = Some(st.last_ingestion.map_or(ingested, |l| l.max(ingested)));
                Some(AppliedEvents { group, stream, ingested, first_index, events })
            }
        }
    }

    /// The LSN that created `stream` of group `id`, if both exist.
    pub fn stream_since(&self, id: u64, stream: &str) -> Option<u64> {
        self.group_by_id(id)?.1.streams.get(stream).map(|s| s.created_lsn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope { account: "111122223333".into(), region: "us-east-1".into() }
    }

    fn new_group(id: u64, name: &str) -> LogOp {
        LogOp::CreateGroup { scope: scope(), group: NewGroup { id, name: name.into(), time: 1, class: "STANDARD".into(), kms_key_id: None, tags: vec![], deletion_protection: false } }
    }

    #[test]
    fn ops_build_groups_streams_and_stats_and_survive_a_snapshot() {
        let mut s = State::default();
        s.apply(1, new_group(0, "g"));
        s.apply(2, LogOp::CreateStream { scope: scope(), group: 0, stream: "a".into(), time: 2 });
        let ev = s.apply(3, LogOp::Events { scope: scope(), group: 0, stream: "a".into(), ingested: 50, first_index: 0, events: vec![(10, "xy".into()), (20, "z".into())] });
        assert_eq!(ev.map(|e| e.events.len()), Some(2));
        assert!(s.apply(4, LogOp::Events { scope: scope(), group: 0, stream: "missing".into(), ingested: 50, first_index: 0, events: vec![(1, "q".into())] }).is_none());
        let restored = State::restore(&s.snapshot().unwrap()).unwrap();
        let g = restored.group(&scope(), "g").unwrap();
        let st = &g.streams["a"];
        assert_eq!((st.first_event, st.last_event, st.last_ingestion, st.stored_bytes, st.created_lsn), (Some(10), Some(20), Some(50), 3, 2));
        assert_eq!(restored.group_by_id(0).map(|(_, g)| g.name.as_str()), Some("g"));
        assert_eq!((restored.next_group_id, restored.applied_lsn), (1, 4));
        let mut r = restored;
        r.apply(5, LogOp::DeleteGroup { scope: scope(), id: 0 });
        assert!(r.group(&scope(), "g").is_none() && r.dropped == vec![0]);
    }
}
