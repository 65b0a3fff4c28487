//! Literal substrings a matching message must contain, as a conjunctive normal form checked
//! with precompiled `memmem` finders before any parsing.

use memchr::memmem::Finder;

/// A conjunctive normal form: all clauses, each any of its literals.
pub(crate) type Cnf = Vec<Vec<String>>;

/// At most this many clauses come out of an `||` (dropping clauses only weakens, so stays sound).
const MAX_CLAUSES: usize = 16;

/// `a && b && …`.
pub(crate) fn and(parts: Vec<Cnf>) -> Cnf {
    parts.into_iter().flatten().collect()
}

/// `a || b || …`: the pairwise unions of the parts' clauses, capped.
pub(crate) fn or(parts: Vec<Cnf>) -> Cnf {
    let mut acc: Option<Cnf> = None;
    for part in parts {
        if part.is_empty() {
            return Vec::new();
        }
        acc = Some(match acc {
            None => part,
            Some(prev) => {
                let mut out = Vec::new();
                'outer: for a in &prev {
                    for b in &part {
                        let mut clause = a.clone();
                        clause.extend(b.iter().cloned());
                        out.push(clause);
                        if out.len() >= MAX_CLAUSES {
                            break 'outer;
                        }
                    }
                }
                out
            }
        });
    }
    acc.unwrap_or_default()
}

/// Literal substrings every matching message contains.
///
/// Soundness rules (a prefilter never excludes a matching message):
/// - Terms: each included literal of a lone term group is a clause; with several `?` groups,
///   one clause holds the longest included literal of each group (none if a group has no
///   literal). Exclusions and regexes yield nothing.
/// - Space-delimited: an `=` string condition with a non-empty core requires that core (fields
///   are raw slices of the message); numbers, regexes and `!=` yield nothing.
/// - JSON: every condition but `NOT EXISTS` requires its last key written as `"key"`; `=` on a
///   string requires its core unless that core could be the text of a number or boolean;
///   `IS TRUE`/`IS FALSE`/`IS NULL` require `true`/`false`/`null`. JSON can spell any character
///   of a string or key as a `\u` escape, so these clauses only bind messages without a
///   backslash: [`Prefilter::may_match`] lets every message holding a `\` through
///   ([`Prefilter::bypassed_by_backslash`]).
#[derive(Clone, Debug, Default)]
pub struct Prefilter {
    clauses: Vec<Vec<String>>,
    finders: Vec<Vec<Finder<'static>>>,
    bypassed_by_backslash: bool,
}

impl Prefilter {
    /// Normalises `cnf` (drops clauses with an empty literal, sorts and dedupes literals) and
    /// compiles the finders.
    pub(crate) fn new(cnf: Cnf, bypassed_by_backslash: bool) -> Self {
        let mut clauses: Vec<Vec<String>> = Vec::new();
        for mut clause in cnf {
            if clause.is_empty() || clause.iter().any(String::is_empty) {
                continue;
            }
            clause.sort();
            clause.dedup();
            if !clauses.contains(&clause) {
                clauses.push(clause);
            }
        }
        // A clause that holds all the literals of another clause says nothing more.
        let subsumed = |i: usize, c: &Vec<String>| {
            clauses
                .iter()
                .enumerate()
                .any(|(j, d)| j != i && d.len() < c.len() && d.iter().all(|l| c.contains(l)))
        };
        let keep: Vec<bool> = clauses
            .iter()
            .enumerate()
            .map(|(i, c)| !subsumed(i, c))
            .collect();
        let clauses: Vec<Vec<String>> = clauses
            .into_iter()
            .zip(keep)
            .filter_map(|(c, k)| k.then_some(c))
            .collect();
        let finders = clauses
            .iter()
            .map(|c| {
                c.iter()
                    .map(|l| Finder::new(l.as_bytes()).into_owned())
                    .collect()
            })
            .collect();
        let bypassed_by_backslash = bypassed_by_backslash && !clauses.is_empty();
        Self {
            clauses,
            finders,
            bypassed_by_backslash,
        }
    }

    /// Conjunctive normal form: every clause is a list of alternatives; a message that matches
    /// the pattern contains, for every clause, at least one of the clause's literals as a
    /// substring (unless [`Prefilter::bypassed_by_backslash`] and the message holds a `\`).
    /// Empty = no constraint.
    pub fn clauses(&self) -> &[Vec<String>] {
        &self.clauses
    }

    /// True for JSON patterns with clauses: those bind only messages without a backslash,
    /// since JSON may spell any character of a key or string as a `\u` escape.
    pub fn bypassed_by_backslash(&self) -> bool {
        self.bypassed_by_backslash
    }

    /// Fast check of all clauses (precompiled memchr::memmem finders). `false` means the
    /// pattern cannot match `message`; `true` means it may.
    pub fn may_match(&self, message: &[u8]) -> bool {
        if self.finders.is_empty() {
            return true;
        }
        if self.bypassed_by_backslash && memchr::memchr(b'\\', message).is_some() {
            return true;
        }
        self.finders
            .iter()
            .all(|clause| clause.iter().any(|f| f.find(message).is_some()))
    }
}
