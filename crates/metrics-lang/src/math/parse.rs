//! Metric math text → [`Expr`] (reference `cloudwatch.md` §3.2–3.4).
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! expr    := and (("OR" | "||") and)*
//! and     := cmp (("AND" | "&&") cmp)*
//! cmp     := sum (("==" | "!=" | "<=" | ">=" | "<" | ">") sum)*
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | power
//! power   := primary ("^" unary)?            (right-associative, binds tighter than unary minus)
//! primary := number | id | string | NAME "(" [expr ("," expr)*] ")" | NAME
//!          | "(" expr ")" | "[" expr ("," expr)* "]"
//! ```
//!
//! `id` starts with a lowercase letter (a query's Id); `NAME` is an uppercase word (a
//! function, or a keyword argument such as `REPEAT`, `LINEAR`, `AVG`, `ASC`). Strings are in
//! single or double quotes; a backslash keeps the next character (so `\'` does not end a
//! string) and is kept in the text, for SEARCH to read its own escapes. `SEARCH` calls are
//! numbered in order of appearance so their results can be fetched before evaluation.

use std::fmt;

/// Longest expression (characters).
pub const MAX_EXPRESSION_CHARS: usize = 2048;
/// Deepest nesting of calls, brackets and operators, so evaluation cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Number(f64),
    /// A quoted string (function argument).
    Text(String),
    /// Another query's result, by Id.
    Ref(String),
    /// An uppercase word used as an argument (`REPEAT`, `AVG`, `DESC` …).
    Keyword(String),
    /// `-x`.
    Neg(Box<Expr>),
    /// `l op r`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// `NAME(args)`.
    Call(String, Vec<Expr>),
    /// `SEARCH('query', 'Stat'[, period])`, numbered within its expression.
    Search {
        /// Order of appearance in the expression (0-based).
        index: usize,
        /// The search text between the single quotes.
        query: String,
        /// The statistic.
        stat: String,
        /// The period in seconds, when given.
        period: Option<f64>,
    },
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`, `&&`
    And,
    /// `OR`, `||`
    Or,
}

/// Why an expression does not parse. `at` is a character offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Id(String),
    Name(String),
    Str(String),
    Op(&'static str),
    End,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn tokens(text: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
        let mut lx = Lexer { chars: text.chars().collect(), pos: 0 };
        let mut out = Vec::new();
        loop {
            while lx.pos < lx.chars.len() && lx.chars[lx.pos].is_whitespace() {
                lx.pos += 1;
            }
            let at = lx.pos;
            let Some(&c) = lx.chars.get(at) else {
                out.push((at, Tok::End));
                return Ok(out);
            };
            let tok = if c.is_ascii_digit() || (c == '.' && lx.chars.get(at + 1).is_some_and(char::is_ascii_digit)) {
                lx.number()?
            } else if c.is_ascii_alphabetic() {
                let word = lx.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
                if c.is_ascii_lowercase() {
                    Tok::Id(word)
                } else if word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                    Tok::Name(word)
                } else {
                    return Err(ParseError { at, message: format!("unknown name {word:?}: function names are uppercase and Ids start with a lowercase letter") });
                }
            } else if c == '\'' || c == '"' {
                lx.string(c)?
            } else {
                let two: String = lx.chars[at..(at + 2).min(lx.chars.len())].iter().collect();
                let op = ["==", "!=", "<=", ">=", "&&", "||"].into_iter().find(|o| *o == two);
                match op {
                    Some(o) => {
                        lx.pos += 2;
                        Tok::Op(o)
                    }
                    None => {
                        let one = ["+", "-", "*", "/", "^", "<", ">", "(", ")", "[", "]", ","].into_iter().find(|o| o.starts_with(c));
                        match one {
                            Some(o) => {
                                lx.pos += 1;
                                Tok::Op(o)
                            }
                            None => return Err(ParseError { at, message: format!("unexpected character {c:?}") }),
                        }
                    }
                }
            };
            out.push((at, tok));
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.pos < self.chars.len() && f(self.chars[self.pos]) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn number(&mut self) -> Result<Tok, ParseError> {
        let at = self.pos;
        let mut text = self.take_while(|c| c.is_ascii_digit() || c == '.');
        if matches!(self.chars.get(self.pos), Some('e' | 'E')) {
            let save = self.pos;
            let mut exp = String::from("e");
            self.pos += 1;
            if let Some(&s @ ('+' | '-')) = self.chars.get(self.pos) {
                exp.push(s);
                self.pos += 1;
            }
            let digits = self.take_while(|c| c.is_ascii_digit());
            if digits.is_empty() {
                self.pos = save;
            } else {
                text.push_str(&exp);
                text.push_str(&digits);
            }
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && text.matches('.').count() <= 1 => Ok(Tok::Num(v)),
            _ => Err(ParseError { at, message: format!("{text:?} is not a number") }),
        }
    }

    fn string(&mut self, quote: char) -> Result<Tok, ParseError> {
        let at = self.pos;
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.chars.get(self.pos) {
                None => return Err(ParseError { at, message: "unterminated string".into() }),
                Some('\\') => {
                    s.push('\\');
                    if let Some(&n) = self.chars.get(self.pos + 1) {
                        s.push(n);
                    }
                    self.pos += 2;
                }
                Some(&c) if c == quote => {
                    self.pos += 1;
                    return Ok(Tok::Str(s));
                }
                Some(&c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

/// Parses one expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let chars = text.chars().count();
    if chars == 0 || text.trim().is_empty() {
        return Err(ParseError { at: 0, message: "the expression is empty".into() });
    }
    if chars > MAX_EXPRESSION_CHARS {
        return Err(ParseError { at: MAX_EXPRESSION_CHARS, message: format!("the expression is longer than {MAX_EXPRESSION_CHARS} characters") });
    }
    let toks = Lexer::tokens(text)?;
    let mut p = Parser { toks, pos: 0, depth: 0, searches: 0 };
    let e = p.expr()?;
    match p.peek() {
        Tok::End => Ok(e),
        t => Err(p.error(format!("unexpected {}", describe(t)))),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
    searches: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number {n}"),
        Tok::Id(s) => format!("Id {s:?}"),
        Tok::Name(s) => format!("{s:?}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Op(o) => format!("{o:?}"),
        Tok::End => "end of expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].1
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].1.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: String) -> ParseError {
        ParseError { at: self.toks[self.pos].0, message }
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Tok::Op(o) if *o == op) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &'static str) -> Result<(), ParseError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.error(format!("expected {op:?}, found {}", describe(self.peek()))))
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, ParseError>) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("the expression nests deeper than {MAX_DEPTH} levels")));
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.nested(|p| {
            let mut l = p.and()?;
            while p.eat_op("||") || p.eat_word("OR") {
                let r = p.and()?;
                l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
            }
            Ok(l)
        })
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Tok::Name(n) if n == w) {
            self.next();
            true
        } else {
            false
        }
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.cmp()?;
        while self.eat_op("&&") || self.eat_word("AND") {
            let r = self.cmp()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.sum()?;
        loop {
            let op = match self.peek() {
                Tok::Op("==") => BinOp::Eq,
                Tok::Op("!=") => BinOp::Ne,
                Tok::Op("<=") => BinOp::Le,
                Tok::Op(">=") => BinOp::Ge,
                Tok::Op("<") => BinOp::Lt,
                Tok::Op(">") => BinOp::Gt,
                _ => return Ok(l),
            };
            self.next();
            let r = self.sum()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(l),
            };
            self.next();
            let r = self.product()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                _ => return Ok(l),
            };
            self.next();
            let r = self.unary()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat_op("-") {
            return self.nested(|p| Ok(Expr::Neg(Box::new(p.unary()?))));
        }
        let base = self.primary()?;
        if self.eat_op("^") {
            let exp = self.nested(|p| p.unary())?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.pos;
        match self.next() {
            Tok::Num(n) => Ok(Expr::Number(n)),
            Tok::Id(id) => Ok(Expr::Ref(id)),
            Tok::Str(s) => Ok(Expr::Text(s)),
            Tok::Op("(") => {
                let e = self.expr()?;
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Op("[") => self.nested(|p| {
                let mut items = vec![p.expr()?];
                while p.eat_op(",") {
                    items.push(p.expr()?);
                }
                p.expect_op("]")?;
                Ok(Expr::Array(items))
            }),
            Tok::Name(name) => {
                if !self.eat_op("(") {
                    return Ok(Expr::Keyword(name));
                }
                self.nested(|p| {
                    let mut args = Vec::new();
                    if !p.eat_op(")") {
                        args.push(p.expr()?);
                        while p.eat_op(",") {
                            args.push(p.expr()?);
                        }
                        p.expect_op(")")?;
                    }
                    if name == "SEARCH" {
                        return p.search(args, at);
                    }
                    Ok(Expr::Call(name, args))
                })
            }
            t => {
                self.pos = at;
                Err(self.error(format!("unexpected {}", describe(&t))))
            }
        }
    }

    fn search(&mut self, args: Vec<Expr>, at: usize) -> Result<Expr, ParseError> {
        let bad = |m: &str| ParseError { at: self.toks[at].0, message: m.to_string() };
        let mut it = args.into_iter();
        let (Some(Expr::Text(query)), Some(Expr::Text(stat))) = (it.next(), it.next()) else {
            return Err(bad("SEARCH takes a quoted search expression, a quoted statistic and an optional period"));
        };
        let period = match it.next() {
            None => None,
            Some(Expr::Number(p)) => Some(p),
            Some(_) => return Err(bad("the period of SEARCH must be a number of seconds")),
        };
        if it.next().is_some() {
            return Err(bad("SEARCH takes at most three arguments"));
        }
        let index = self.searches;
        self.searches += 1;
        Ok(Expr::Search { index, query, stat, period })
    }
}

/// Calls `f` on `e` and every expression inside it, parents first, left to right.
fn visit<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    f(e);
    match e {
        Expr::Neg(x) => visit(x, f),
        Expr::Binary(_, l, r) => {
            visit(l, f);
            visit(r, f);
        }
        Expr::Array(items) | Expr::Call(_, items) => items.iter().for_each(|x| visit(x, f)),
        Expr::Number(_) | Expr::Text(_) | Expr::Ref(_) | Expr::Keyword(_) | Expr::Search { .. } => {}
    }
}

/// The Ids an expression refers to, in order of first appearance.
pub fn references(e: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    visit(e, &mut |x| {
        if let Expr::Ref(id) = x {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    });
    out
}

/// Whether the expression calls `name` anywhere.
pub fn calls(e: &Expr, name: &str) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= matches!(x, Expr::Call(n, _) if n == name));
    found
}

/// The SEARCH calls of an expression, in index order.
pub fn searches(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    visit(e, &mut |x| {
        if matches!(x, Expr::Search { .. }) {
            out.push(x);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match e {
            Expr::Number(n) => format!("{n}"),
            Expr::Text(s) => format!("{s:?}"),
            Expr::Ref(id) => id.clone(),
            Expr::Keyword(k) => k.clone(),
            Expr::Neg(x) => format!("(-{})", show(x)),
            Expr::Binary(op, l, r) => format!("({} {op:?} {})", show(l), show(r)),
            Expr::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
            Expr::Call(n, args) => format!("{n}({})", args.iter().map(show).collect::<Vec<_>>().join(", ")),
            Expr::Search { index, query, stat, period } => format!("SEARCH#{index}({query:?}, {stat:?}, {period:?})"),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let cases = [
            ("m1 + m2 * 2", "(m1 Add (m2 Mul 2))"),
            ("m1 - m2 - m3", "((m1 Sub m2) Sub m3)"),
            ("-2 ^ 2", "(-(2 Pow 2))"),
            ("2 ^ 3 ^ 2", "(2 Pow (3 Pow 2))"),
            ("2 ^ -1", "(2 Pow (-1))"),
            ("m1 > 15 AND m2 > 15 OR m3", "(((m1 Gt 15) And (m2 Gt 15)) Or m3)"),
            ("m1 < m2 && m1 != 0 || m2 == 1", "(((m1 Lt m2) And (m1 Ne 0)) Or (m2 Eq 1))"),
            ("SUM([m1, m2]) / AVG(m2)", "(SUM([m1, m2]) Div AVG(m2))"),
            ("FILL(METRICS(), REPEAT)", "FILL(METRICS(), REPEAT)"),
            ("SORT(METRICS(\"errors\"), MAX, DESC, 5)", "SORT(METRICS(\"errors\"), MAX, DESC, 5)"),
            ("1.5e3 + .5", "(1500 Add 0.5)"),
            ("(m1)", "m1"),
            (
                "SEARCH(' {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" ', 'Average', 300) * 2 + SEARCH('x', 'Sum')",
                "((SEARCH#0(\" {AWS/EC2,InstanceId} MetricName=\\\"CPUUtilization\\\" \", \"Average\", Some(300.0)) Mul 2) Add SEARCH#1(\"x\", \"Sum\", None))",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(show(&parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))), want, "{text}");
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        for (text, at) in [
            ("", 0),
            ("m1 +", 4),
            ("m1 + * 2", 5),
            ("Foo(m1)", 0),
            ("AVG(m1", 6),
            ("m1 $ m2", 3),
            ("'abc", 0),
            ("1.2.3", 0),
            ("m1 m2", 3),
            ("SEARCH(m1, 'Sum')", 0),
            ("[m1,]", 4),
        ] {
            let e = parse(text).expect_err(text);
            assert_eq!(e.at, at, "{text}: {e}");
        }
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!("{}m1{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
        let neg = format!("{}m1", "-".repeat(200));
        assert!(parse(&neg).is_err());
        let long = format!("m1{}", " + m1".repeat(500));
        assert!(parse(&long).unwrap_err().message.contains("longer than 2048"));
    }

    #[test]
    fn references_in_order() {
        let e = parse("IF(m2 > AVG(m1), m1, e3) + m2").unwrap();
        assert_eq!(references(&e), ["m2", "m1", "e3"]);
        assert!(calls(&parse("SUM(METRICS())").unwrap(), "METRICS"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "[a-zA-Z0-9_ ()\\[\\],.'\"+*/^<>=!&|-]{0,64}") {
            let _ = parse(&s);
        }
    }
}
