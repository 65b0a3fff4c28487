//! Tokens of a query. The parser pulls them one at a time and says whether a `/` may start a
//! regular expression there (operand position) or is the division operator.

use super::error::QueryError;
use super::time::{parse_unit, Period};

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: command, keyword, function or field name (`@message`, `a.b.0`).
    Word(String),
    /// A backticked field name.
    Quoted(String),
    /// A number literal.
    Num(f64),
    /// A time period literal such as `5m`.
    Period(Period),
    /// A string literal in single or double quotes.
    Str(String),
    /// A regular expression between slashes.
    Regex(String),
    Pipe,
    Comma,
    Colon,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Percent,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    Match,
    Eof,
}

/// A token with its character offsets in the query (`end` exclusive).
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The query as characters, so that offsets are character offsets like AWS's
/// `startCharOffset`/`endCharOffset`.
pub(crate) struct Lexer {
    chars: Vec<char>,
}

fn word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '@' || c == '$'
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@' || c == '.' || c == '$'
}

impl Lexer {
    pub(crate) fn new(text: &str) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
        }
    }

    /// AWS's message for a symbol the grammar does not allow here.
    pub(crate) fn unexpected(&self, found: &str, start: usize, end: usize) -> QueryError {
        let before = &self.chars[..start.min(self.chars.len())];
        let line = 1 + before.iter().filter(|c| **c == '\n').count();
        let column = before.iter().rev().take_while(|c| **c != '\n').count();
        QueryError::at(
            format!("unexpected symbol found {found} at line {line} and position {column}"),
            start,
            end,
        )
    }

    /// The source text between two character offsets.
    pub(crate) fn slice(&self, start: usize, end: usize) -> String {
        let end = end.min(self.chars.len());
        self.chars[start.min(end)..end].iter().collect()
    }

    /// Skips blanks and `#` comments (to the end of the line) from `pos`.
    fn skip_blank(&self, mut pos: usize) -> usize {
        while pos < self.chars.len() {
            let c = self.chars[pos];
            if c.is_whitespace() {
                pos += 1;
            } else if c == '#' {
                while pos < self.chars.len() && self.chars[pos] != '\n' {
                    pos += 1;
                }
            } else {
                break;
            }
        }
        pos
    }

    /// The token at `pos`. `operand` says a `/` starts a regular expression.
    pub(crate) fn token(&self, pos: usize, operand: bool) -> Result<Token, QueryError> {
        let start = self.skip_blank(pos);
        let cs = &self.chars;
        let Some(&c) = cs.get(start) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let next = cs.get(start + 1).copied();
        let one = |tok| {
            Ok(Token {
                tok,
                start,
                end: start + 1,
            })
        };
        let two = |tok| {
            Ok(Token {
                tok,
                start,
                end: start + 2,
            })
        };
        match c {
            '|' => one(Tok::Pipe),
            ',' => one(Tok::Comma),
            ':' => one(Tok::Colon),
            '(' => one(Tok::LParen),
            ')' => one(Tok::RParen),
            '[' => one(Tok::LBracket),
            ']' => one(Tok::RBracket),
            '+' => one(Tok::Plus),
            '-' => one(Tok::Minus),
            '*' => one(Tok::Star),
            '^' => one(Tok::Caret),
            '%' => one(Tok::Percent),
            '=' if next == Some('~') => two(Tok::Match),
            '=' if next == Some('=') => two(Tok::Eq),
            '=' => one(Tok::Eq),
            '!' if next == Some('=') => two(Tok::Ne),
            '<' if next == Some('=') => two(Tok::Le),
            '<' if next == Some('>') => two(Tok::Ne),
            '<' => one(Tok::Lt),
            '>' if next == Some('=') => two(Tok::Ge),
            '>' => one(Tok::Gt),
            '/' if !operand => one(Tok::Slash),
            '/' => self.regex(start),
            '"' | '\'' => self.string(start, c),
            '`' => {
                let mut i = start + 1;
                while i < cs.len() && cs[i] != '`' {
                    i += 1;
                }
                if i >= cs.len() {
                    return Err(QueryError::at(
                        "unterminated backtick-quoted field name",
                        start,
                        cs.len(),
                    ));
                }
                let name: String = cs[start + 1..i].iter().collect();
                if name.is_empty() {
                    return Err(QueryError::at(
                        "empty backtick-quoted field name",
                        start,
                        i + 1,
                    ));
                }
                Ok(Token {
                    tok: Tok::Quoted(name),
                    start,
                    end: i + 1,
                })
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                self.number(start)
            }
            c if word_start(c) => {
                let mut i = start + 1;
                while i < cs.len() && word_char(cs[i]) {
                    i += 1;
                }
                Ok(Token {
                    tok: Tok::Word(cs[start..i].iter().collect()),
                    start,
                    end: i,
                })
            }
            other => Err(self.unexpected(&other.to_string(), start, start + 1)),
        }
    }

    fn number(&self, start: usize) -> Result<Token, QueryError> {
        let cs = &self.chars;
        let mut i = start;
        while i < cs.len() && cs[i].is_ascii_digit() {
            i += 1;
        }
        let mut integer = true;
        if i < cs.len() && cs[i] == '.' && cs.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            integer = false;
            i += 1;
            while i < cs.len() && cs[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < cs.len() && (cs[i] == 'e' || cs[i] == 'E') {
            let mut j = i + 1;
            if j < cs.len() && (cs[j] == '+' || cs[j] == '-') {
                j += 1;
            }
            if j < cs.len() && cs[j].is_ascii_digit() {
                while j < cs.len() && cs[j].is_ascii_digit() {
                    j += 1;
                }
                integer = false;
                i = j;
            }
        }
        let text: String = cs[start..i].iter().collect();
        if i < cs.len() && cs[i].is_alphabetic() {
            // A period such as `5m` or `2hrs`.
            let mut j = i;
            while j < cs.len() && cs[j].is_alphabetic() {
                j += 1;
            }
            let unit_text: String = cs[i..j].iter().collect();
            let unit = parse_unit(&unit_text).filter(|_| integer).ok_or_else(|| {
                QueryError::at(format!("invalid time period {text}{unit_text}"), start, j)
            })?;
            let amount = text.parse::<i64>().ok().filter(|a| *a > 0).ok_or_else(|| {
                QueryError::at(format!("invalid time period {text}{unit_text}: the amount must be a positive integer"), start, j)
            })?;
            return Ok(Token {
                tok: Tok::Period(Period { amount, unit }),
                start,
                end: j,
            });
        }
        let value = text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| QueryError::at(format!("invalid number {text}"), start, i))?;
        Ok(Token {
            tok: Tok::Num(value),
            start,
            end: i,
        })
    }

    fn string(&self, start: usize, quote: char) -> Result<Token, QueryError> {
        let cs = &self.chars;
        let mut out = String::new();
        let mut i = start + 1;
        while i < cs.len() {
            let c = cs[i];
            if c == quote {
                return Ok(Token {
                    tok: Tok::Str(out),
                    start,
                    end: i + 1,
                });
            }
            if c == '\\' && i + 1 < cs.len() {
                let e = cs[i + 1];
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' | '"' | '\'' => out.push(e),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                i += 2;
                continue;
            }
            out.push(c);
            i += 1;
        }
        Err(QueryError::at(
            "unterminated string literal",
            start,
            cs.len(),
        ))
    }

    fn regex(&self, start: usize) -> Result<Token, QueryError> {
        let cs = &self.chars;
        let mut out = String::new();
        let mut i = start + 1;
        while i < cs.len() {
            let c = cs[i];
            if c == '/' {
                return Ok(Token {
                    tok: Tok::Regex(out),
                    start,
                    end: i + 1,
                });
            }
            if c == '\\' && i + 1 < cs.len() {
                if cs[i + 1] == '/' {
                    out.push('/');
                } else {
                    out.push('\\');
                    out.push(cs[i + 1]);
                }
                i += 2;
                continue;
            }
            out.push(c);
            i += 1;
        }
        Err(QueryError::at(
            "unterminated regular expression",
            start,
            cs.len(),
        ))
    }
}
