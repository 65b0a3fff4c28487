//! `SEARCH(' {Namespace, Dim1, …} SearchTerm ', 'Stat', Period)` (reference `cloudwatch.md`
//! §3.4, the User Guide's search-expression syntax).
//!
//! - The **schema** `{ns, d1, d2}` keeps metrics in namespace `ns` whose dimension names are
//!   exactly `d1, d2` (in any order); `{ns}` keeps metrics without dimensions. Names with
//!   spaces or other characters are double-quoted.
//! - The **search term** is terms joined by `AND` (also implied by a space), `OR` and `NOT`
//!   (case-sensitive), with parentheses; `NOT` binds tightest, then `AND`, then `OR`. A term
//!   may be limited to one property: `MetricName=…`, `Namespace=…`, or `<DimensionName>=…`
//!   (the metric has that dimension and its value matches).
//! - A **quoted** term matches a metric name, namespace, dimension name or dimension value
//!   exactly (case-sensitive; `\"`, `\\`, `\(`, `\)` are escapes).
//! - An **unquoted** term matches by tokens. Names split into tokens at non-alphanumeric
//!   characters, at a lowercase→uppercase change, before the last capital of a capital run
//!   followed by lowercase (`SDBFailure` → `SDB`, `Failure`) and around digit runs. The term
//!   splits the same way and must equal a run of consecutive tokens of one name; a part of
//!   the term that is a single token compares case-insensitively (`count`, `COUNT`), a part
//!   that is several tokens (`CustomCount`, `Count1`) case-sensitively, so `couNT` and
//!   `count1` do not find `CustomCount1`. A term also matches a whole name with the
//!   delimiters removed, case-insensitively (`customcount1`).

use super::value::{fail, MathError};

/// Longest search text (characters), the User Guide's limit.
pub const MAX_SEARCH_CHARS: usize = 1024;

/// A parsed search.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    schema: Option<Schema>,
    term: Option<Term>,
}

#[derive(Clone, Debug, PartialEq)]
struct Schema {
    namespace: String,
    dimensions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Term {
    And(Box<Term>, Box<Term>),
    Or(Box<Term>, Box<Term>),
    Not(Box<Term>),
    Match { property: Option<Property>, text: String, exact: bool },
}

#[derive(Clone, Debug, PartialEq)]
enum Property {
    MetricName,
    Namespace,
    Dimension(String),
}

/// What a search looks at in one metric.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Metric name.
    pub metric_name: &'a str,
    /// Dimensions as (name, value).
    pub dimensions: &'a [(&'a str, &'a str)],
}

impl Search {
    /// Parses the text between SEARCH's single quotes.
    pub fn parse(text: &str) -> Result<Search, MathError> {
        if text.chars().count() > MAX_SEARCH_CHARS {
            return fail(format!("a search expression is at most {MAX_SEARCH_CHARS} characters"));
        }
        let mut rest = text.trim_start();
        let mut schema = None;
        if let Some(inner) = rest.strip_prefix('{') {
            let close = find_unquoted(inner, '}').ok_or_else(|| MathError("the search schema has no closing '}'".into()))?;
            let mut items = Vec::new();
            for item in split_unquoted(&inner[..close], ',') {
                items.push(unquote(item.trim())?);
            }
            let namespace = items.first().cloned().filter(|n| !n.is_empty());
            let Some(namespace) = namespace else { return fail("the search schema needs a namespace first") };
            if items[1..].iter().any(String::is_empty) {
                return fail("the search schema has an empty dimension name");
            }
            schema = Some(Schema { namespace, dimensions: items[1..].to_vec() });
            rest = inner[close + 1..].trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
        let tokens = lex_terms(rest)?;
        let term = if tokens.is_empty() {
            None
        } else {
            let mut p = TermParser { tokens, pos: 0, depth: 0 };
            let t = p.or()?;
            if p.pos != p.tokens.len() {
                return fail(format!("unexpected {:?} in the search term", p.tokens[p.pos]));
            }
            Some(t)
        };
        if schema.is_none() && term.is_none() {
            return fail("a search needs a schema, a search term, or both");
        }
        Ok(Search { schema, term })
    }

    /// Whether the metric is found by this search.
    pub fn matches(&self, m: &Candidate) -> bool {
        if let Some(s) = &self.schema {
            if s.namespace != m.namespace || s.dimensions.len() != m.dimensions.len() {
                return false;
            }
            if !s.dimensions.iter().all(|d| m.dimensions.iter().any(|(n, _)| n == d)) {
                return false;
            }
        }
        self.term.as_ref().is_none_or(|t| t.matches(m))
    }

    /// The dimension names of the schema, in the order written (for labels).
    pub fn schema_dimensions(&self) -> &[String] {
        self.schema.as_ref().map_or(&[], |s| &s.dimensions)
    }
}

impl Term {
    fn matches(&self, m: &Candidate) -> bool {
        match self {
            Term::And(a, b) => a.matches(m) && b.matches(m),
            Term::Or(a, b) => a.matches(m) || b.matches(m),
            Term::Not(a) => !a.matches(m),
            Term::Match { property, text, exact } => {
                let test = |field: &str| if *exact { field == text } else { partial_match(text, field) };
                match property {
                    None => {
                        test(m.namespace)
                            || test(m.metric_name)
                            || m.dimensions.iter().any(|(n, v)| test(n) || test(v))
                    }
                    Some(Property::MetricName) => test(m.metric_name),
                    Some(Property::Namespace) => test(m.namespace),
                    Some(Property::Dimension(d)) => m.dimensions.iter().any(|(n, v)| n == d && test(v)),
                }
            }
        }
    }
}

/// The base tokens of a name, with their original case.
pub fn tokens(s: &str) -> Vec<&str> {
    let bytes: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (k, &(i, c)) in bytes.iter().enumerate() {
        if !c.is_alphanumeric() {
            if let Some(st) = start.take() {
                out.push(&s[st..i]);
            }
            continue;
        }
        if let Some(st) = start {
            let prev = bytes[k - 1].1;
            let next = bytes.get(k + 1).map(|p| p.1);
            let boundary = (c.is_numeric() != prev.is_numeric())
                || (c.is_uppercase() && prev.is_lowercase())
                || (c.is_uppercase() && prev.is_uppercase() && next.is_some_and(char::is_lowercase));
            if boundary {
                out.push(&s[st..i]);
                start = Some(i);
            }
        } else {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// An unquoted term against one name (see the module docs).
fn partial_match(term: &str, field: &str) -> bool {
    // The term's tokens, each with whether it compares case-insensitively.
    let mut wanted: Vec<(&str, bool)> = Vec::new();
    for part in term.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()) {
        let t = tokens(part);
        let single = t.len() == 1;
        wanted.extend(t.into_iter().map(|x| (x, single)));
    }
    if wanted.is_empty() {
        return false;
    }
    let have = tokens(field);
    let eq = |a: &str, (b, ci): (&str, bool)| if ci { a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase() } else { a == b };
    if have.len() >= wanted.len() {
        for i in 0..=have.len() - wanted.len() {
            if wanted.iter().enumerate().all(|(k, w)| eq(have[i + k], *w)) {
                return true;
            }
        }
    }
    // The whole name, delimiters removed, is a token too (`customcount1`).
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    squash(field) == squash(term)
}

fn find_unquoted(s: &str, target: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == target && !quoted {
            return Some(i);
        }
    }
    None
}

fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find_unquoted(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len_utf8()..];
    }
    out.push(rest);
    out
}

/// `"text"` with escapes removed, or the text as is.
fn unquote(s: &str) -> Result<String, MathError> {
    match s.strip_prefix('"') {
        Some(inner) => {
            let Some(inner) = inner.strip_suffix('"') else { return fail(format!("unterminated quote in {s:?}")) };
            Ok(unescape(inner))
        }
        None => Ok(s.to_string()),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Term { property: Option<String>, text: String, exact: bool },
}

fn lex_terms(s: &str) -> Result<Vec<Tok>, MathError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize| -> Result<String, MathError> {
        let mut text = String::new();
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return fail("unterminated quote in the search term"),
                Some('\\') => {
                    if let Some(&n) = chars.get(*i + 1) {
                        text.push(n);
                    }
                    *i += 2;
                }
                Some('"') => {
                    *i += 1;
                    return Ok(text);
                }
                Some(&c) => {
                    text.push(c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '"' {
            let text = quoted(&mut i)?;
            out.push(Tok::Term { property: None, text, exact: true });
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')' | '"' | '=') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'=') {
                i += 1;
                let property = match word.as_str() {
                    "" => return fail("a property name is missing before '='"),
                    "MetricName" => "MetricName".to_string(),
                    "Namespace" => "Namespace".to_string(),
                    other => other.to_string(),
                };
                if chars.get(i) == Some(&'"') {
                    let text = quoted(&mut i)?;
                    out.push(Tok::Term { property: Some(property), text, exact: true });
                } else {
                    let vs = i;
                    while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')' | '"') {
                        i += 1;
                    }
                    let text: String = chars[vs..i].iter().collect();
                    if text.is_empty() {
                        return fail(format!("{property}= needs a value"));
                    }
                    out.push(Tok::Term { property: Some(property), text, exact: false });
                }
                continue;
            }
            out.push(match word.as_str() {
                "AND" => Tok::And,
                "OR" => Tok::Or,
                "NOT" => Tok::Not,
                _ => Tok::Term { property: None, text: word, exact: false },
            });
        }
    }
    Ok(out)
}

struct TermParser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl TermParser {
    fn or(&mut self) -> Result<Term, MathError> {
        self.depth += 1;
        if self.depth > 32 {
            return fail("the search term nests too deeply");
        }
        let mut l = self.and()?;
        while self.tokens.get(self.pos) == Some(&Tok::Or) {
            self.pos += 1;
            let r = self.and()?;
            l = Term::Or(Box::new(l), Box::new(r));
        }
        self.depth -= 1;
        Ok(l)
    }

    fn and(&mut self) -> Result<Term, MathError> {
        let mut l = self.not()?;
        loop {
            match self.tokens.get(self.pos) {
                Some(Tok::And) => self.pos += 1,
                Some(Tok::Open | Tok::Not | Tok::Term { .. }) => {}
                _ => return Ok(l),
            }
            let r = self.not()?;
            l = Term::And(Box::new(l), Box::new(r));
        }
    }

    fn not(&mut self) -> Result<Term, MathError> {
        if self.tokens.get(self.pos) == Some(&Tok::Not) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > 32 {
                return fail("the search term nests too deeply");
            }
            let t = self.not()?;
            self.depth -= 1;
            return Ok(Term::Not(Box::new(t)));
        }
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let t = self.or()?;
                if self.tokens.get(self.pos) != Some(&Tok::Close) {
                    return fail("a '(' in the search term is not closed");
                }
                self.pos += 1;
                Ok(t)
            }
            Some(Tok::Term { property, text, exact }) => {
                self.pos += 1;
                let property = property.map(|p| match p.as_str() {
                    "MetricName" => Property::MetricName,
                    "Namespace" => Property::Namespace,
                    _ => Property::Dimension(p),
                });
                Ok(Term::Match { property, text, exact })
            }
            Some(t) => fail(format!("unexpected {t:?} in the search term")),
            None => fail("the search term ends early"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand<'a>(ns: &'a str, name: &'a str, dims: &'a [(&'a str, &'a str)]) -> Candidate<'a> {
        Candidate { namespace: ns, metric_name: name, dimensions: dims }
    }

    #[test]
    fn tokenization_as_documented() {
        assert_eq!(tokens("CustomCount1"), ["Custom", "Count", "1"]);
        assert_eq!(tokens("SDBFailure"), ["SDB", "Failure"]);
        assert_eq!(tokens("Project2-trial333"), ["Project", "2", "trial", "333"]);
        assert_eq!(tokens("Network-Errors_2"), ["Network", "Errors", "2"]);
        assert_eq!(tokens("AWS/EC2"), ["AWS", "EC", "2"]);
    }

    #[test]
    fn partial_matches_as_documented() {
        for t in ["count", "Count", "COUNT", "CustomCount", "Count1", "custom", "1"] {
            assert!(partial_match(t, "CustomCount1"), "{t}");
        }
        for t in ["couNT", "customcount", "count1", "ustom"] {
            assert!(!partial_match(t, "CustomCount1"), "{t}");
        }
        for t in ["network/errors", "network+errors", "network-errors", "Network_Errors"] {
            assert!(partial_match(t, "Network-Errors-2"), "{t}");
            assert!(partial_match(t, "NetworkErrors2"), "{t}");
        }
        assert!(partial_match("customcount1", "CustomCount1"), "the whole name, delimiters removed");
    }

    #[test]
    fn schema_and_boolean_terms() {
        static CPU: [(&str, &str); 1] = [("InstanceId", "i-1234567890123456")];
        static OTHER: [(&str, &str); 1] = [("InstanceId", "i-9")];
        static TWO: [(&str, &str); 2] = [("InstanceId", "i-9"), ("AutoScalingGroupName", "web")];
        let (cpu, other, two) = (&CPU, &OTHER, &TWO);
        let m = |d: &'static [(&'static str, &'static str)]| cand("AWS/EC2", "CPUUtilization", d);
        let s = Search::parse(" {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" NOT i-1234567890123456 ").unwrap();
        assert!(!s.matches(&m(cpu)));
        assert!(s.matches(&m(other)));
        assert!(!s.matches(&m(two)), "the schema's dimension set is exact");
        let s = Search::parse("(EC2 OR EBS) AND MetricName=Utilization").unwrap();
        assert!(s.matches(&m(other)));
        assert!(!s.matches(&cand("AWS/Lambda", "CPUUtilization", other)));
        let s = Search::parse("NOT Namespace=AWS").unwrap();
        assert!(!s.matches(&m(other)));
        assert!(s.matches(&cand("MyApp", "Latency", &[])));
        let s = Search::parse(r#"{"My Namespace", "Dimension@Name"}, "Custom:Name[Special_Characters""#).unwrap();
        assert!(s.matches(&cand("My Namespace", "Custom:Name[Special_Characters", &[("Dimension@Name", "x")])));
        let s = Search::parse("{MyApp}").unwrap();
        assert!(s.matches(&cand("MyApp", "Latency", &[])));
        assert!(!s.matches(&cand("MyApp", "Latency", &[("Host", "a")])), "{{ns}} alone: no dimensions");
        let s = Search::parse(r#"InstanceType="t2.micro" Namespace="AWS/EC2""#).unwrap();
        assert!(s.matches(&cand("AWS/EC2", "CPUUtilization", &[("InstanceType", "t2.micro")])));
        assert!(!s.matches(&cand("AWS/EC2", "CPUUtilization", &[("InstanceType", "t2.micro2")])));
        let s = Search::parse(r#""Europe\\France Traffic\(Network\)""#).unwrap();
        assert!(s.matches(&cand("N", r"Europe\France Traffic(Network)", &[])));
    }

    #[test]
    fn bad_searches_are_refused() {
        for text in ["", "   ", "{", "{}", "{ns, }", "a OR", "(a", "a)", "NOT", "\"open", "=x", "Host="] {
            assert!(Search::parse(text).is_err(), "{text:?}");
        }
        assert!(Search::parse(&"a ".repeat(600)).is_err(), "over 1024 characters");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_searches_never_panic(s in "[a-zA-Z0-9 {}(),=\"\\\\:/._-]{0,48}") {
            if let Ok(q) = Search::parse(&s) {
                let _ = q.matches(&cand("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-1")]));
            }
        }
    }
}
