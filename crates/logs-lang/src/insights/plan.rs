//! How a parsed pipeline executes: a streaming front (row-local commands up to the first `stats`,
//! `limit` or `dedup`), and the rest, run over the front's bounded output when the query ends.

use super::ast::{Command, Expr, Stats};
use super::error::QueryError;

/// What ends the streaming front.
#[derive(Clone, Debug)]
pub(crate) enum FrontEnd {
    /// No such command: keep the `limit` best rows.
    Rows,
    /// `limit n`: keep the n best rows.
    Limit(usize),
    /// `dedup f, …`: keep the best row of each distinct combination.
    Dedup(Vec<Expr>),
    /// `stats …`: aggregate.
    Stats(Stats),
}

/// The executable form of a query.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Row-local commands and `sort`s, applied to each record as it arrives.
    pub(crate) front: Vec<Command>,
    pub(crate) front_end: FrontEnd,
    /// Commands applied at the end to the front's rows.
    pub(crate) rest: Vec<Command>,
    /// Result columns, in order (a row leaves out the ones it does not have).
    pub(crate) columns: Vec<String>,
    /// Whether rows end with `@ptr` (queries without `stats`).
    pub(crate) returns_ptr: bool,
}

/// Plans commands; `spans` are their character offsets, for errors.
pub(crate) fn plan(commands: Vec<Command>, spans: &[(usize, usize)]) -> Result<Plan, QueryError> {
    let span = |i: usize| spans.get(i).copied().unwrap_or((0, 0));
    let stats_at: Vec<usize> = commands
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Command::Stats(_)))
        .map(|(i, _)| i)
        .collect();
    if let Some(&third) = stats_at.get(2) {
        let (s, e) = span(third);
        return Err(QueryError::at(
            "a query can contain at most two stats commands",
            s,
            e,
        ));
    }
    let stats_count = stats_at.len();
    if let Some(i) = commands.iter().position(|c| matches!(c, Command::Dedup(_))) {
        if let Some(j) =
            (i + 1..commands.len()).find(|&j| !matches!(commands[j], Command::Limit(_)))
        {
            let (s, e) = span(j);
            return Err(QueryError::at(
                "only the limit command can follow dedup",
                s,
                e,
            ));
        }
    }
    let columns = columns(&commands);
    let returns_ptr = stats_count == 0;
    let mut iter = commands.into_iter();
    let mut front = Vec::new();
    let mut front_end = FrontEnd::Rows;
    for c in iter.by_ref() {
        match c {
            Command::Stats(s) => {
                front_end = FrontEnd::Stats(s);
                break;
            }
            Command::Limit(n) => {
                front_end = FrontEnd::Limit(n);
                break;
            }
            Command::Dedup(f) => {
                front_end = FrontEnd::Dedup(f);
                break;
            }
            other => front.push(other),
        }
    }
    Ok(Plan {
        front,
        front_end,
        rest: iter.collect(),
        columns,
        returns_ptr,
    })
}

fn push_unique(cols: &mut Vec<String>, name: &str) {
    if !cols.iter().any(|c| c == name) {
        cols.push(name.to_string());
    }
}

/// Result columns. The last `display` wins. Otherwise, after the last `stats`: its `by` names,
/// its result names, then the names of later `fields` commands. Without `stats`: the names of
/// every `fields` command, or, when there is none, `@timestamp`, `@message` and the fields
/// `parse` and `unnest` create, in command order.
fn columns(commands: &[Command]) -> Vec<String> {
    if let Some(Command::Display(names)) = commands
        .iter()
        .rev()
        .find(|c| matches!(c, Command::Display(_)))
    {
        let mut cols = Vec::new();
        names.iter().for_each(|n| push_unique(&mut cols, n));
        return cols;
    }
    let mut cols = Vec::new();
    let tail = match commands
        .iter()
        .rposition(|c| matches!(c, Command::Stats(_)))
    {
        Some(i) => {
            if let Command::Stats(s) = &commands[i] {
                s.by.iter()
                    .chain(s.items.iter())
                    .for_each(|(_, n)| push_unique(&mut cols, n));
            }
            &commands[i + 1..]
        }
        None => commands,
    };
    let has_fields = tail.iter().any(|c| matches!(c, Command::Fields(_)));
    if !has_fields && tail.len() == commands.len() {
        cols.push("@timestamp".to_string());
        cols.push("@message".to_string());
    }
    for c in tail {
        match c {
            Command::Fields(items) => items.iter().for_each(|(_, n)| push_unique(&mut cols, n)),
            Command::Parse(spec) if !has_fields => {
                spec.names.iter().for_each(|n| push_unique(&mut cols, n))
            }
            Command::Unnest { into, .. } if !has_fields => push_unique(&mut cols, into),
            _ => {}
        }
    }
    cols
}
