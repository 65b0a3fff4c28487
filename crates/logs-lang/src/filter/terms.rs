//! Term patterns for unstructured events: `ERROR`, `"exact phrase"`, `?OR` groups, `-exclusion`
//! and `%regex%` terms.
//!
//! Semantics: every term is a case-sensitive substring test (`ERROR` matches `ERRORCODE`).
//! A `?` starts a new alternative group and the plain and `-` terms after it join that group
//! (so `?A B ?C -D` is `(A and B) or (C and not D)`, the form aws-cdk's `anyTermGroup` writes);
//! terms before the first `?` form the first group. The pattern matches when any group has all
//! its terms present and none of its excluded terms. A quoted term that is empty or only
//! whitespace (`""`, `" "`) is true for every event.

use memchr::memmem::Finder;

use super::error::PatternError;
use super::prefilter::Cnf;
use super::regex;

/// One term.
#[derive(Clone, Debug)]
enum Atom {
    /// A substring.
    Literal(Box<Finder<'static>>),
    /// A `%regex%`.
    Regex(Box<::regex::bytes::Regex>),
    /// `""` or `" "`: always present.
    Always,
}

impl Atom {
    fn found(&self, message: &[u8]) -> bool {
        match self {
            Atom::Literal(f) => f.find(message).is_some(),
            Atom::Regex(r) => r.is_match(message),
            Atom::Always => true,
        }
    }

    fn literal(&self) -> Option<String> {
        match self {
            Atom::Literal(f) => Some(String::from_utf8_lossy(f.needle()).into_owned()),
            _ => None,
        }
    }
}

/// An alternative: all `include` present and no `exclude` present.
#[derive(Clone, Debug, Default)]
struct Group {
    include: Vec<Atom>,
    exclude: Vec<Atom>,
}

impl Group {
    fn matches(&self, message: &[u8]) -> bool {
        self.include.iter().all(|a| a.found(message))
            && !self.exclude.iter().any(|a| a.found(message))
    }
}

/// A compiled term pattern.
#[derive(Clone, Debug)]
pub(crate) struct TermPattern {
    groups: Vec<Group>,
}

/// Characters an unquoted term may hold (AWS: "alphanumeric or underscore").
fn unquoted_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// What `parse` learned besides the pattern.
pub(crate) struct Parsed {
    pub(crate) pattern: TermPattern,
    pub(crate) regexes: usize,
    /// Every term is `Always` (the pattern matches everything).
    pub(crate) match_all: bool,
    /// The pattern is exactly one `%regex%` term.
    pub(crate) lone_regex: bool,
}

/// Parses a term pattern (text that does not start with `{` or `[`).
pub(crate) fn parse(text: &str) -> Result<Parsed, PatternError> {
    let mut cur = super::cursor::Cursor::new(text);
    let mut groups: Vec<Group> = vec![Group::default()];
    let mut touched = false;
    let mut atoms = 0usize;
    let mut always = 0usize;
    let mut regex_atoms = 0usize;
    loop {
        cur.skip_ws();
        if cur.at_end() {
            break;
        }
        let or = cur.eat("?");
        if or {
            cur.skip_ws();
        }
        let exclude = cur.eat("-");
        if exclude {
            cur.skip_ws();
        }
        if cur.at_end() {
            return Err(PatternError::invalid(
                "'?' or '-' must be followed by a term",
            ));
        }
        let atom = if cur.eat("\"") {
            let body: String = cur.quoted_body()?.into_iter().map(|(c, _)| c).collect();
            if body.trim().is_empty() {
                Atom::Always
            } else {
                Atom::Literal(Box::new(Finder::new(body.as_bytes()).into_owned()))
            }
        } else if cur.eat("%") {
            regex_atoms += 1;
            Atom::Regex(Box::new(cur.regex_body()?))
        } else {
            let token = cur.take_while(|c| !c.is_whitespace() && c != '"');
            if token.is_empty() || !token.chars().all(unquoted_term_char) {
                let shown = if token.is_empty() { cur.rest() } else { token };
                return Err(PatternError::bad_chars(shown));
            }
            Atom::Literal(Box::new(Finder::new(token.as_bytes()).into_owned()))
        };
        if !cur.at_end() && !cur.peek().is_some_and(char::is_whitespace) {
            return Err(PatternError::bad_chars(
                cur.rest().split_whitespace().next().unwrap_or(""),
            ));
        }
        if or && touched {
            groups.push(Group::default());
        }
        touched = true;
        atoms += 1;
        if matches!(atom, Atom::Always) {
            always += 1;
            if exclude {
                // Excluding a term every event contains: the group can never match.
                if let Some(g) = groups.last_mut() {
                    g.exclude.push(atom);
                }
            }
            continue;
        }
        if let Some(g) = groups.last_mut() {
            if exclude {
                g.exclude.push(atom);
            } else {
                g.include.push(atom);
            }
        }
    }
    if cur.regexes > regex::MAX_REGEXES {
        return Err(PatternError::invalid(format!(
            "a filter pattern can hold at most {} regular expressions",
            regex::MAX_REGEXES
        )));
    }
    let match_all = atoms == always && groups.iter().all(|g| g.exclude.is_empty());
    let lone_regex = atoms == 1 && regex_atoms == 1 && groups.iter().all(|g| g.exclude.is_empty());
    Ok(Parsed {
        pattern: TermPattern { groups },
        regexes: cur.regexes,
        match_all,
        lone_regex,
    })
}

impl TermPattern {
    /// Whether `message` matches.
    pub(crate) fn matches(&self, message: &[u8]) -> bool {
        self.groups.iter().any(|g| g.matches(message))
    }

    /// The prefilter's clauses (see the prefilter module).
    pub(crate) fn cnf(&self) -> Cnf {
        match self.groups.as_slice() {
            [g] => g
                .include
                .iter()
                .filter_map(Atom::literal)
                .map(|l| vec![l])
                .collect(),
            groups => {
                let mut clause = Vec::new();
                for g in groups {
                    match g
                        .include
                        .iter()
                        .filter_map(Atom::literal)
                        .max_by_key(String::len)
                    {
                        Some(l) => clause.push(l),
                        None => return Vec::new(),
                    }
                }
                vec![clause]
            }
        }
    }
}
