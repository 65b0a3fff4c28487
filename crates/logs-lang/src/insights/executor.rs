//! Execution state: a bounded top-k heap, a dedup table or stats groups fed record by record,
//! mergeable, and the end of the pipeline run when results are asked for.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use super::aggregate::{Acc, Origin};
use super::ast::{Command, Expr, Stats};
use super::eval::{eval, run_row_ops, Rec, RecRef, RowState, Stored};
use super::plan::{FrontEnd, Plan};
use super::value::{sort_cmp_opt, Value};

/// Where a row stands in the output order: `sort` keys (the last `sort` command first), then
/// @timestamp descending, @ptr ascending, and the row's index among one record's `unnest` rows.
#[derive(Clone, Debug)]
pub(crate) struct SortKey {
    keys: KeyValues,
    timestamp: i64,
    ptr: Arc<str>,
    seq: u32,
}

/// Values of sort keys, each with `true` for descending.
type KeyValues = Vec<(Option<Value>, bool)>;

fn cmp_keys(a: &[(Option<Value>, bool)], b: &[(Option<Value>, bool)]) -> Ordering {
    for ((x, desc), (y, _)) in a.iter().zip(b) {
        let ord = match (x, y) {
            (Some(x), Some(y)) if *desc => sort_cmp_opt(Some(y), Some(x)),
            _ => sort_cmp_opt(x.as_ref(), y.as_ref()),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A sort key that borrows its parts, to test a row against the heap before copying anything.
#[derive(Clone, Copy)]
struct KeyRef<'k> {
    keys: &'k [(Option<Value>, bool)],
    timestamp: i64,
    ptr: &'k str,
    seq: u32,
}

fn cmp_key_refs(a: KeyRef<'_>, b: KeyRef<'_>) -> Ordering {
    cmp_keys(a.keys, b.keys)
        .then_with(|| b.timestamp.cmp(&a.timestamp))
        .then_with(|| a.ptr.cmp(b.ptr))
        .then_with(|| a.seq.cmp(&b.seq))
}

impl SortKey {
    fn as_ref(&self) -> KeyRef<'_> {
        KeyRef {
            keys: &self.keys,
            timestamp: self.timestamp,
            ptr: &self.ptr,
            seq: self.seq,
        }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_key_refs(self.as_ref(), other.as_ref())
    }
}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SortKey {}

#[derive(Clone, Debug)]
struct Entry {
    key: SortKey,
    row: Stored,
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}

/// The `cap` first rows in output order; the heap's top is the worst kept row.
#[derive(Clone, Debug)]
struct TopK {
    cap: usize,
    heap: BinaryHeap<Entry>,
}

impl TopK {
    fn new(cap: usize) -> TopK {
        TopK {
            cap,
            heap: BinaryHeap::new(),
        }
    }

    fn would_keep(&self, key: KeyRef<'_>) -> bool {
        self.cap > 0
            && (self.heap.len() < self.cap
                || self
                    .heap
                    .peek()
                    .is_some_and(|worst| cmp_key_refs(key, worst.key.as_ref()).is_lt()))
    }

    fn offer(&mut self, e: Entry) {
        if !self.would_keep(e.key.as_ref()) {
            return;
        }
        self.heap.push(e);
        if self.heap.len() > self.cap {
            self.heap.pop();
        }
    }

    fn into_sorted(self) -> Vec<Entry> {
        self.heap.into_sorted_vec()
    }
}

/// One `stats` group.
#[derive(Clone, Debug)]
struct Group {
    by: Vec<Option<Value>>,
    accs: Vec<Acc>,
}

/// One `by` value as a group key: a timestamp (bin, datefloor…) by its milliseconds, anything
/// else by its rendered text, so values that render alike fall in one group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyPart {
    Time(i64),
    Text(String),
}

fn key_part(v: &Value) -> KeyPart {
    match v {
        Value::Time(t) => KeyPart::Time(*t),
        other => KeyPart::Text(other.render()),
    }
}

/// Stats groups keyed by their `by` values.
#[derive(Clone, Debug, Default)]
struct Groups {
    map: HashMap<Vec<Option<KeyPart>>, Group>,
}

impl Groups {
    fn add(&mut self, stats: &Stats, row: &RowState<'_>) {
        let by: Vec<Option<Value>> = stats.by.iter().map(|(e, _)| eval(e, row, None)).collect();
        let key: Vec<Option<KeyPart>> = by.iter().map(|v| v.as_ref().map(key_part)).collect();
        let group = self.map.entry(key).or_insert_with(|| Group {
            by,
            accs: stats.aggs.iter().map(|a| Acc::new(a.func)).collect(),
        });
        for (acc, agg) in group.accs.iter_mut().zip(&stats.aggs) {
            let v = match &agg.arg {
                None => Some(Value::Bool(true)),
                Some(e) => eval(e, row, None),
            };
            acc.add(v, || {
                let ts = row.timestamp()?;
                let ptr = row.get("@ptr").map(|p| p.render()).unwrap_or_default();
                Some(Origin {
                    timestamp: ts,
                    ptr,
                    seq: row.seq,
                })
            });
        }
    }

    fn merge(&mut self, other: Groups) {
        for (k, g) in other.map {
            match self.map.get_mut(&k) {
                Some(mine) => {
                    for (a, b) in mine.accs.iter_mut().zip(g.accs) {
                        a.merge(b);
                    }
                }
                None => {
                    self.map.insert(k, g);
                }
            }
        }
    }

    /// One row per group, ordered by the `by` values ascending (in sort order).
    fn rows(self, stats: &Stats) -> Vec<Stored> {
        let mut groups: Vec<(Vec<Option<KeyPart>>, Group)> = self.map.into_iter().collect();
        groups.sort_by(|(ka, a), (kb, b)| {
            a.by.iter()
                .zip(&b.by)
                .map(|(x, y)| sort_cmp_opt(x.as_ref(), y.as_ref()))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                .then_with(|| ka.cmp(kb))
        });
        groups
            .into_iter()
            .enumerate()
            .map(|(i, (_, g))| {
                let results: Vec<Option<Value>> = g
                    .accs
                    .iter()
                    .zip(&stats.aggs)
                    .map(|(acc, agg)| acc.result(agg))
                    .collect();
                let mut fields: Vec<(String, Option<Value>)> = stats
                    .by
                    .iter()
                    .zip(g.by)
                    .map(|((_, name), v)| (name.clone(), v))
                    .collect();
                let empty = RowState::new(None, Vec::new(), 0);
                for (e, name) in &stats.items {
                    let v = eval(e, &empty, Some(&results));
                    match fields.iter_mut().find(|(n, _)| n == name) {
                        Some(slot) => slot.1 = v,
                        None => fields.push((name.clone(), v)),
                    }
                }
                Stored {
                    rec: None,
                    fields,
                    seq: i as u32,
                }
            })
            .collect()
    }
}

/// The streaming part of the state.
#[derive(Clone, Debug)]
enum Front {
    Rows(TopK),
    Dedup {
        winners: HashMap<Vec<String>, Entry>,
        nulls: TopK,
    },
    Stats(Groups),
}

/// Runs one query over records pushed in any order; see [`super::Executor`].
#[derive(Clone, Debug)]
pub(crate) struct State {
    plan: Arc<Plan>,
    limit: usize,
    front: Front,
    matched: u64,
}

/// The sort key values of a row: the last `sort` command's keys first.
fn key_values(row: &RowState<'_>) -> KeyValues {
    let mut keys = Vec::new();
    for k in row.sort_keys.iter().rev() {
        keys.extend(k.iter().cloned());
    }
    keys
}

fn key_ref<'k>(keys: &'k KeyValues, rec: &RecRef<'k>, seq: u32) -> KeyRef<'k> {
    KeyRef {
        keys,
        timestamp: rec.timestamp,
        ptr: rec.ptr,
        seq,
    }
}

fn owned_key(keys: KeyValues, rec: &RecRef<'_>, seq: u32) -> SortKey {
    SortKey {
        keys,
        timestamp: rec.timestamp,
        ptr: Arc::from(rec.ptr),
        seq,
    }
}

fn dedup_key(fields: &[Expr], row: &RowState<'_>) -> Option<Vec<String>> {
    fields
        .iter()
        .map(|e| eval(e, row, None).map(|v| v.render()))
        .collect()
}

impl State {
    pub(crate) fn new(plan: Arc<Plan>, limit: usize) -> State {
        let front = match &plan.front_end {
            FrontEnd::Rows => Front::Rows(TopK::new(limit)),
            FrontEnd::Limit(n) => Front::Rows(TopK::new((*n).min(limit))),
            FrontEnd::Dedup(_) => Front::Dedup {
                winners: HashMap::new(),
                nulls: TopK::new(limit),
            },
            FrontEnd::Stats(_) => Front::Stats(Groups::default()),
        };
        State {
            plan,
            limit,
            front,
            matched: 0,
        }
    }

    pub(crate) fn records_matched(&self) -> u64 {
        self.matched
    }

    pub(crate) fn push(&mut self, rec: RecRef<'_>) {
        let mut rows = Vec::new();
        run_row_ops(
            &self.plan.front,
            RowState::new(Some(rec), Vec::new(), 0),
            &mut rows,
        );
        if rows.is_empty() {
            return;
        }
        self.matched += 1;
        let mut owned: Option<Arc<Rec>> = None;
        let own = |owned: &mut Option<Arc<Rec>>| {
            owned
                .get_or_insert_with(|| Arc::new(Rec::own(&rec)))
                .clone()
        };
        match (&mut self.front, &self.plan.front_end) {
            (Front::Rows(top), _) => {
                for row in rows {
                    let keys = key_values(&row);
                    if top.would_keep(key_ref(&keys, &rec, row.seq)) {
                        let key = owned_key(keys, &rec, row.seq);
                        top.offer(Entry {
                            key,
                            row: row.to_stored(Some(own(&mut owned))),
                        });
                    }
                }
            }
            (Front::Dedup { winners, nulls }, FrontEnd::Dedup(fields)) => {
                for row in rows {
                    let keys = key_values(&row);
                    let this = key_ref(&keys, &rec, row.seq);
                    match dedup_key(fields, &row) {
                        None => {
                            if nulls.would_keep(this) {
                                let key = owned_key(keys, &rec, row.seq);
                                nulls.offer(Entry {
                                    key,
                                    row: row.to_stored(Some(own(&mut owned))),
                                });
                            }
                        }
                        Some(k) => {
                            if winners
                                .get(&k)
                                .is_none_or(|cur| cmp_key_refs(this, cur.key.as_ref()).is_lt())
                            {
                                let key = owned_key(keys, &rec, row.seq);
                                winners.insert(
                                    k,
                                    Entry {
                                        key,
                                        row: row.to_stored(Some(own(&mut owned))),
                                    },
                                );
                            }
                        }
                    }
                }
            }
            (Front::Stats(groups), FrontEnd::Stats(stats)) => {
                for row in &rows {
                    groups.add(stats, row);
                }
            }
            _ => {}
        }
    }

    pub(crate) fn merge(&mut self, other: State) {
        self.matched += other.matched;
        match (&mut self.front, other.front) {
            (Front::Rows(a), Front::Rows(b)) => b.heap.into_iter().for_each(|e| a.offer(e)),
            (
                Front::Dedup { winners, nulls },
                Front::Dedup {
                    winners: w2,
                    nulls: n2,
                },
            ) => {
                for (k, e) in w2 {
                    if winners.get(&k).is_none_or(|cur| e.key < cur.key) {
                        winners.insert(k, e);
                    }
                }
                n2.heap.into_iter().for_each(|e| nulls.offer(e));
            }
            (Front::Stats(a), Front::Stats(b)) => a.merge(b),
            _ => {}
        }
    }

    /// The result rows, as (field, value) pairs.
    pub(crate) fn finish(self) -> Vec<Vec<(String, String)>> {
        let plan = self.plan;
        let mut rows: Vec<Stored> = match self.front {
            Front::Rows(top) => top.into_sorted().into_iter().map(|e| e.row).collect(),
            Front::Dedup { winners, nulls } => {
                let mut all: Vec<Entry> =
                    winners.into_values().chain(nulls.into_sorted()).collect();
                all.sort();
                all.into_iter().map(|e| e.row).collect()
            }
            Front::Stats(groups) => match &plan.front_end {
                FrontEnd::Stats(stats) => groups.rows(stats),
                _ => Vec::new(),
            },
        };
        for c in &plan.rest {
            rows = apply_batch(c, rows);
        }
        rows.truncate(self.limit);
        rows.iter().map(|s| render_row(&plan, s)).collect()
    }
}

/// Applies one command to all rows at once (the commands after the streaming front).
fn apply_batch(c: &Command, rows: Vec<Stored>) -> Vec<Stored> {
    match c {
        Command::Limit(n) => rows.into_iter().take(*n).collect(),
        Command::Sort(keys) => {
            let mut keyed: Vec<(KeyValues, Stored)> = rows
                .into_iter()
                .map(|s| {
                    let row = RowState::from_stored(&s);
                    let k = keys
                        .iter()
                        .map(|(e, desc)| (eval(e, &row, None), *desc))
                        .collect();
                    (k, s)
                })
                .collect();
            keyed.sort_by(|a, b| cmp_keys(&a.0, &b.0));
            keyed.into_iter().map(|(_, s)| s).collect()
        }
        Command::Dedup(fields) => {
            let mut seen = std::collections::HashSet::new();
            rows.into_iter()
                .filter(|s| match dedup_key(fields, &RowState::from_stored(s)) {
                    None => true,
                    Some(k) => seen.insert(k),
                })
                .collect()
        }
        Command::Stats(stats) => {
            let mut groups = Groups::default();
            for s in &rows {
                groups.add(stats, &RowState::from_stored(s));
            }
            groups.rows(stats)
        }
        other => {
            let ops = std::slice::from_ref(other);
            let mut out = Vec::new();
            for s in &rows {
                let mut produced = Vec::new();
                run_row_ops(ops, RowState::from_stored(s), &mut produced);
                out.extend(produced.iter().map(|r| r.to_stored(s.rec.clone())));
            }
            out
        }
    }
}

fn render_row(plan: &Plan, s: &Stored) -> Vec<(String, String)> {
    let row = RowState::from_stored(s);
    let mut out: Vec<(String, String)> = plan
        .columns
        .iter()
        .filter_map(|c| row.get(c).map(|v| (c.clone(), v.render())))
        .collect();
    if plan.returns_ptr {
        if let Some(rec) = &s.rec {
            out.retain(|(c, _)| c != "@ptr");
            out.push(("@ptr".to_string(), rec.view().ptr.to_string()));
        }
    }
    out
}
