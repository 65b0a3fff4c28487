//! Metrics Insights: the SQL dialect of GetMetricData (reference `cloudwatch.md` §3.6).
//!
//! ```text
//! SELECT FUNCTION(metricName)
//! FROM namespace | SCHEMA(namespace[, dimKey ...])
//! [WHERE condition] [GROUP BY dimKey[, ...]]
//! [ORDER BY FUNCTION() [ASC | DESC]] [LIMIT n]
//! ```
//!
//! - `FUNCTION` is `AVG`, `COUNT`, `MAX`, `MIN` or `SUM`. Keywords are case-insensitive;
//!   identifiers (metric, namespace, dimension names) are case-sensitive. An identifier with
//!   characters other than `[A-Za-z0-9_]`, or spelled like a keyword, is double-quoted (`\"`
//!   escapes a quote); dimension values are single-quoted (`\'` escapes a quote).
//! - `FROM ns` takes every metric of that name in the namespace; `SCHEMA(ns)` only those
//!   without dimensions; `SCHEMA(ns, k1, k2)` only those whose dimension names are exactly
//!   `k1, k2`, in any order.
//! - `WHERE` combines `key = 'v'`, `key != 'v'`, `key [NOT] IN ('v', …)` and
//!   `key [NOT] LIKE 'pattern'` (`%` any run, `_` one character) with `AND`, `OR`, `NOT` and
//!   parentheses. A metric without the key satisfies none of them (decision: as SQL's NULL).
//! - `GROUP BY` keys: a metric without a key is in group `Other` for it.
//! - Order: by `ORDER BY FUNCTION()` over each group's whole time range (ties and the default
//!   by label), else by label; labels compare case-insensitively, then byte-wise. `LIMIT`
//!   is 1–500 (the series limit).

use crate::math::value::{fail, MathError};

/// Most metrics one query processes.
pub const MAX_METRICS: usize = 10_000;
/// Most series one query returns (and the largest `LIMIT`).
pub const MAX_SERIES: usize = 500;
/// The group name for metrics without a GROUP BY key.
pub const OTHER: &str = "Other";

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `AVG`: Average.
    Avg,
    /// `COUNT`: SampleCount.
    Count,
    /// `MAX`: Maximum.
    Max,
    /// `MIN`: Minimum.
    Min,
    /// `SUM`: Sum.
    Sum,
}

impl Func {
    fn parse(word: &str) -> Option<Func> {
        Some(match word.to_ascii_uppercase().as_str() {
            "AVG" => Func::Avg,
            "COUNT" => Func::Count,
            "MAX" => Func::Max,
            "MIN" => Func::Min,
            "SUM" => Func::Sum,
            _ => return None,
        })
    }

    /// The CloudWatch statistic it computes.
    pub fn statistic(self) -> &'static str {
        match self {
            Func::Avg => "Average",
            Func::Count => "SampleCount",
            Func::Max => "Maximum",
            Func::Min => "Minimum",
            Func::Sum => "Sum",
        }
    }
}

/// Where the metrics come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `FROM ns`: any dimensions.
    Namespace(String),
    /// `FROM SCHEMA(ns, k…)`: exactly these dimension names.
    Schema {
        /// Namespace.
        namespace: String,
        /// Dimension names.
        dimensions: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>, bool),
    Like(String, String, bool),
}

/// A parsed Metrics Insights query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The aggregate of every period.
    pub func: Func,
    /// The metric name.
    pub metric: String,
    /// `FROM`.
    pub source: Source,
    filter: Option<Cond>,
    /// `GROUP BY` keys.
    pub group_by: Vec<String>,
    /// `ORDER BY FUNCTION() [DESC]`: the function and whether descending.
    pub order_by: Option<(Func, bool)>,
    /// `LIMIT`.
    pub limit: Option<usize>,
}

/// Whether an expression is a Metrics Insights query rather than metric math.
pub fn is_insights(text: &str) -> bool {
    let t = text.trim_start();
    t.len() >= 6 && t[..6].eq_ignore_ascii_case("SELECT") && !t[6..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

const KEYWORDS: [&str; 21] = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "AND", "OR", "NOT", "IN", "LIKE", "ASC", "DESC", "SCHEMA", "AVG",
    "COUNT", "MAX", "MIN", "SUM", "HAVING",
];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A bare word: keyword or identifier.
    Word(String),
    /// A double-quoted identifier.
    Quoted(String),
    /// A single-quoted string.
    Str(String),
    Num(String),
    Punct(&'static str),
}

fn lex(text: &str) -> Result<Vec<Tok>, MathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let s = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[s..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let s = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            out.push(Tok::Num(chars[s..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return fail(format!("unterminated {c} in the query")),
                    Some('\\') => {
                        if let Some(&n) = chars.get(i + 1) {
                            v.push(n);
                        }
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&o) => {
                        v.push(o);
                        i += 1;
                    }
                }
            }
            out.push(if c == '"' { Tok::Quoted(v) } else { Tok::Str(v) });
        } else if c == '!' && chars.get(i + 1) == Some(&'=') {
            out.push(Tok::Punct("!="));
            i += 2;
        } else {
            let p = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                _ => return fail(format!("unexpected character {c:?} in the query")),
            };
            out.push(Tok::Punct(p));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), MathError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            fail(format!("expected {kw}, found {}", self.describe()))
        }
    }

    fn punct(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), MathError> {
        if self.punct(p) {
            Ok(())
        } else {
            fail(format!("expected {p:?}, found {}", self.describe()))
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the query".into(),
            Some(Tok::Word(w)) => format!("{w:?}"),
            Some(Tok::Quoted(w)) => format!("\"{w}\""),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Num(n)) => n.clone(),
            Some(Tok::Punct(p)) => format!("{p:?}"),
        }
    }

    fn identifier(&mut self, what: &str) -> Result<String, MathError> {
        match self.peek().cloned() {
            Some(Tok::Quoted(q)) if !q.is_empty() => {
                self.pos += 1;
                Ok(q)
            }
            Some(Tok::Word(w)) => {
                if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&w)) {
                    return fail(format!("{w} is a reserved word; write it in double quotes to use it as {what}"));
                }
                self.pos += 1;
                Ok(w)
            }
            _ => fail(format!("expected {what}, found {}", self.describe())),
        }
    }

    fn string(&mut self) -> Result<String, MathError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(s)
            }
            _ => fail(format!("expected a value in single quotes, found {}", self.describe())),
        }
    }

    fn function(&mut self) -> Result<Func, MathError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) => match Func::parse(&w) {
                Some(f) => {
                    self.pos += 1;
                    Ok(f)
                }
                None => fail(format!("{w} is not a function: use AVG, COUNT, MAX, MIN or SUM")),
            },
            _ => fail(format!("expected AVG, COUNT, MAX, MIN or SUM, found {}", self.describe())),
        }
    }

    fn or(&mut self) -> Result<Cond, MathError> {
        self.depth += 1;
        if self.depth > 32 {
            return fail("the WHERE clause nests too deeply");
        }
        let mut l = self.and()?;
        while self.keyword("OR") {
            let r = self.and()?;
            l = Cond::Or(Box::new(l), Box::new(r));
        }
        self.depth -= 1;
        Ok(l)
    }

    fn and(&mut self) -> Result<Cond, MathError> {
        let mut l = self.not()?;
        while self.keyword("AND") {
            let r = self.not()?;
            l = Cond::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Cond, MathError> {
        if self.keyword("NOT") {
            self.depth += 1;
            if self.depth > 32 {
                return fail("the WHERE clause nests too deeply");
            }
            let c = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(c)));
        }
        if self.punct("(") {
            let c = self.or()?;
            self.expect_punct(")")?;
            return Ok(c);
        }
        let key = self.identifier("a dimension name")?;
        if self.punct("=") {
            return Ok(Cond::Eq(key, self.string()?));
        }
        if self.punct("!=") {
            return Ok(Cond::Ne(key, self.string()?));
        }
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            self.expect_punct("(")?;
            let mut values = vec![self.string()?];
            while self.punct(",") {
                values.push(self.string()?);
            }
            self.expect_punct(")")?;
            return Ok(Cond::In(key, values, negated));
        }
        if self.keyword("LIKE") {
            return Ok(Cond::Like(key, self.string()?, negated));
        }
        fail(format!("expected =, !=, IN or LIKE after {key}, found {}", self.describe()))
    }
}

impl Query {
    /// Parses a query.
    pub fn parse(text: &str) -> Result<Query, MathError> {
        let mut p = Parser { toks: lex(text)?, pos: 0, depth: 0 };
        p.expect_keyword("SELECT")?;
        let func = p.function()?;
        p.expect_punct("(")?;
        let metric = p.identifier("a metric name")?;
        p.expect_punct(")")?;
        p.expect_keyword("FROM")?;
        let source = if p.keyword("SCHEMA") {
            p.expect_punct("(")?;
            let namespace = p.identifier("a namespace")?;
            let mut dimensions = Vec::new();
            while p.punct(",") {
                dimensions.push(p.identifier("a dimension name")?);
            }
            p.expect_punct(")")?;
            Source::Schema { namespace, dimensions }
        } else {
            Source::Namespace(p.identifier("a namespace")?)
        };
        let filter = if p.keyword("WHERE") { Some(p.or()?) } else { None };
        let mut group_by = Vec::new();
        if p.keyword("GROUP") {
            p.expect_keyword("BY")?;
            group_by.push(p.identifier("a dimension name")?);
            while p.punct(",") {
                group_by.push(p.identifier("a dimension name")?);
            }
        }
        let mut order_by = None;
        if p.keyword("ORDER") {
            p.expect_keyword("BY")?;
            let f = p.function()?;
            p.expect_punct("(")?;
            p.expect_punct(")")?;
            let desc = if p.keyword("DESC") {
                true
            } else {
                p.keyword("ASC");
                false
            };
            order_by = Some((f, desc));
        }
        let mut limit = None;
        if p.keyword("LIMIT") {
            let n = match p.peek() {
                Some(Tok::Num(n)) => n.parse::<usize>().ok(),
                _ => None,
            };
            match n {
                Some(n) if (1..=MAX_SERIES).contains(&n) => {
                    p.pos += 1;
                    limit = Some(n);
                }
                _ => return fail(format!("LIMIT takes a whole number from 1 to {MAX_SERIES}, found {}", p.describe())),
            }
        }
        if p.pos != p.toks.len() {
            return fail(format!("unexpected {} after the end of the query", p.describe()));
        }
        Ok(Query { func, metric, source, filter, group_by, order_by, limit })
    }

    /// The namespace queried.
    pub fn namespace(&self) -> &str {
        match &self.source {
            Source::Namespace(n) | Source::Schema { namespace: n, .. } => n,
        }
    }

    /// Whether the query takes this metric.
    pub fn matches(&self, namespace: &str, metric_name: &str, dimensions: &[(&str, &str)]) -> bool {
        if namespace != self.namespace() || metric_name != self.metric {
            return false;
        }
        if let Source::Schema { dimensions: want, .. } = &self.source {
            if want.len() != dimensions.len() || !want.iter().all(|w| dimensions.iter().any(|(n, _)| n == w)) {
                return false;
            }
        }
        self.filter.as_ref().is_none_or(|c| c.holds(dimensions))
    }

    /// The metric's GROUP BY values (`Other` for a missing key).
    pub fn group_of(&self, dimensions: &[(&str, &str)]) -> Vec<String> {
        self.group_by
            .iter()
            .map(|k| dimensions.iter().find(|(n, _)| n == k).map_or(OTHER.to_string(), |(_, v)| v.to_string()))
            .collect()
    }
}

impl Cond {
    fn holds(&self, dims: &[(&str, &str)]) -> bool {
        let value = |k: &str| dims.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        match self {
            Cond::And(a, b) => a.holds(dims) && b.holds(dims),
            Cond::Or(a, b) => a.holds(dims) || b.holds(dims),
            Cond::Not(a) => !a.holds(dims),
            Cond::Eq(k, v) => value(k) == Some(v.as_str()),
            Cond::Ne(k, v) => value(k).is_some_and(|x| x != v),
            Cond::In(k, vs, negated) => value(k).is_some_and(|x| vs.iter().any(|v| v == x) != *negated),
            Cond::Like(k, pattern, negated) => value(k).is_some_and(|x| like(pattern, x) != *negated),
        }
    }
}

/// SQL `LIKE`: `%` is any run of characters, `_` exactly one.
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with backtracking to the last %.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '_' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '%' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '%' {
        i += 1;
    }
    i == p.len()
}

/// Label order: case-insensitive, then byte-wise.
pub fn label_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_clause() {
        let q = Query::parse(
            r#"select avg(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId, "Group") WHERE InstanceType = 't2.micro' AND NOT ("Group" IN ('a', 'b') OR Az LIKE 'us-%') GROUP BY InstanceId, "Group" ORDER BY max() desc LIMIT 10"#,
        )
        .unwrap();
        assert_eq!(q.func, Func::Avg);
        assert_eq!(q.metric, "CPUUtilization");
        assert_eq!(q.source, Source::Schema { namespace: "AWS/EC2".into(), dimensions: vec!["InstanceId".into(), "Group".into()] });
        assert_eq!(q.group_by, ["InstanceId", "Group"]);
        assert_eq!(q.order_by, Some((Func::Max, true)));
        assert_eq!(q.limit, Some(10));
        let dims = [("InstanceId", "i-1"), ("Group", "c"), ("InstanceType", "t2.micro")];
        assert!(!q.matches("AWS/EC2", "CPUUtilization", &dims[..2]), "the filter needs InstanceType");
        assert!(!q.matches("AWS/EC2", "CPUUtilization", &dims), "the schema's dimension set is exact");
        let q2 = Query::parse(r#"SELECT SUM(x) FROM "AWS/EC2" WHERE InstanceType = 't2.micro' AND NOT ("Group" IN ('a', 'b'))"#).unwrap();
        assert!(q2.matches("AWS/EC2", "x", &dims));
        assert_eq!(q2.group_of(&dims), Vec::<String>::new());
        let q3 = Query::parse("SELECT COUNT(x) FROM ns GROUP BY Missing, InstanceId").unwrap();
        assert_eq!(q3.group_of(&dims), ["Other", "i-1"]);
    }

    #[test]
    fn refuses_what_is_not_a_query() {
        for text in [
            "SELECT AVG(x)",
            "SELECT MEDIAN(x) FROM ns",
            "SELECT AVG(x) FROM AWS/EC2",
            "SELECT AVG(x) FROM ns WHERE k = v",
            "SELECT AVG(x) FROM ns WHERE Group = 'a'",
            "SELECT AVG(x) FROM ns GROUP BY",
            "SELECT AVG(x) FROM ns LIMIT 0",
            "SELECT AVG(x) FROM ns LIMIT 501",
            "SELECT AVG(x) FROM ns ORDER BY STDDEV()",
            "SELECT AVG(x) FROM ns extra",
            "SELECT AVG(x) FROM ns WHERE k = 'unterminated",
            "SELECT AVG(\"\") FROM ns",
        ] {
            assert!(Query::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn like_patterns() {
        assert!(like("t2.%", "t2.micro"));
        assert!(like("i-_", "i-1"));
        assert!(!like("i-_", "i-12"));
        assert!(like("%a%b%", "xxaybzz"));
        assert!(!like("a%", "ba"));
        assert!(like("%", ""));
    }

    #[test]
    fn detection() {
        assert!(is_insights("  select AVG(x) FROM ns"));
        assert!(!is_insights("SELECTED + 1"));
        assert!(!is_insights("m1 + 1"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_queries_never_panic(s in "(SELECT |FROM |WHERE |GROUP BY |ORDER BY |LIMIT |AVG|SCHEMA|[a-z]|'|\"|\\(|\\)|,|=|!=| |%|_|[0-9]){0,40}") {
            if let Ok(q) = Query::parse(&s) {
                let _ = q.matches("ns", "x", &[("k", "v")]);
                let _ = q.group_of(&[("k", "v")]);
            }
        }
    }
}
