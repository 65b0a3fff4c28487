//! The parsed form of a query: commands and expressions.

use regex::Regex;

use super::functions::Func;
use super::time::Period;
use super::value::Value;

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// What `like` / `=~` match against.
#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    /// `like "s"`: a substring (case-sensitive).
    Substring(String),
    /// `like /re/`, `=~ /re/`.
    Regex(Regex),
}

/// An expression.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Lit(Value),
    Field(String),
    Period(Period),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Like {
        expr: Box<Expr>,
        pattern: Pattern,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Call(Func, Vec<Expr>),
    /// The result of the stats command's aggregation with this index.
    Agg(usize),
}

/// An aggregation function of `stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggFn {
    /// `count()` / `count(*)`
    CountAll,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Pct,
    Stddev,
    Earliest,
    Latest,
    SortsFirst,
    SortsLast,
}

impl AggFn {
    pub(crate) fn by_name(lower: &str) -> Option<AggFn> {
        Some(match lower {
            "count" => AggFn::Count,
            "count_distinct" => AggFn::CountDistinct,
            "sum" => AggFn::Sum,
            "avg" => AggFn::Avg,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "pct" => AggFn::Pct,
            "stddev" => AggFn::Stddev,
            "earliest" => AggFn::Earliest,
            "latest" => AggFn::Latest,
            "sortsfirst" => AggFn::SortsFirst,
            "sortslast" => AggFn::SortsLast,
            _ => return None,
        })
    }
}

/// One aggregation: its function, its argument (none for `count(*)`) and `pct`'s percentile.
#[derive(Clone, Debug)]
pub(crate) struct Aggregation {
    pub(crate) func: AggFn,
    pub(crate) arg: Option<Expr>,
    pub(crate) percent: f64,
}

/// A `stats` command.
#[derive(Clone, Debug)]
pub(crate) struct Stats {
    /// Every aggregation call in `items`, referred to by `Expr::Agg(index)`.
    pub(crate) aggs: Vec<Aggregation>,
    /// The result columns: an expression over aggregations, and its name.
    pub(crate) items: Vec<(Expr, String)>,
    /// The grouping expressions and their names.
    pub(crate) by: Vec<(Expr, String)>,
}

/// How `parse` extracts fields.
#[derive(Clone, Debug)]
pub(crate) struct ParseSpec {
    /// The field parsed (`@message` when the query names none).
    pub(crate) source: Expr,
    /// The regular expression (a glob is translated to one).
    pub(crate) regex: Regex,
    /// Names of the extracted fields.
    pub(crate) names: Vec<String>,
    /// Glob form: capture group `i + 1` is `names[i]`; regex form: groups are looked up by name.
    pub(crate) positional: bool,
}

/// One command of the pipeline.
#[derive(Clone, Debug)]
pub(crate) enum Command {
    Fields(Vec<(Expr, String)>),
    Display(Vec<String>),
    Filter(Expr),
    Stats(Stats),
    /// Sort keys, each with `true` for descending.
    Sort(Vec<(Expr, bool)>),
    Limit(usize),
    Parse(ParseSpec),
    Dedup(Vec<Expr>),
    Unnest {
        expr: Expr,
        into: String,
    },
}
