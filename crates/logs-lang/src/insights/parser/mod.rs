//! Recursive-descent parser: query text → `SOURCE` + commands (`expr.rs`: expressions).
//! Nesting is bounded.

use regex::{Regex, RegexBuilder};

use super::ast::{Aggregation, Command, Expr, ParseSpec, Stats};
use super::error::QueryError;
use super::lexer::{Lexer, Tok, Token};
use super::Source;

mod expr;

/// Deepest expression nesting accepted (parentheses, unary operators, function arguments).
const MAX_DEPTH: usize = 64;

/// Most operator and function nodes in one expression, so that evaluating (and dropping) an
/// expression never recurses deeper than this (`1+1+…+1` builds a left-deep tree).
const MAX_NODES: usize = 512;

/// Commands AWS documents that need machine learning, indexes or other services.
const UNSUPPORTED: &[&str] = &[
    "pattern",
    "diff",
    "anomaly",
    "unmask",
    "filterindex",
    "lookup",
    "join",
    "addtotals",
    "expand",
    "compare",
];

/// A parsed query before planning.
pub(crate) struct Parsed {
    pub(crate) source: Option<Source>,
    pub(crate) commands: Vec<Command>,
    /// Character offsets of each command.
    pub(crate) spans: Vec<(usize, usize)>,
}

struct Parser<'a> {
    lx: &'a Lexer,
    pos: usize,
    depth: usize,
    /// Operator and function nodes in the expression being parsed.
    nodes: usize,
    /// Whether a `stats` command came before: then an aggregation call outside stats names
    /// the stats column of that text (`stats count(*) | sort count(*) desc`).
    seen_stats: bool,
    /// While parsing a `stats` item: the aggregations found so far (None outside stats or
    /// inside an aggregation's argument).
    aggs: Option<Vec<Aggregation>>,
}

/// Compiles a regular expression of a query with bounded size.
pub(crate) fn compile_regex(pattern: &str, start: usize, end: usize) -> Result<Regex, QueryError> {
    RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            let last = detail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid")
                .trim();
            let last = last.strip_prefix("error: ").unwrap_or(last);
            QueryError::at(
                format!("invalid regular expression /{pattern}/: {last}"),
                start,
                end,
            )
        })
}

pub(crate) fn parse(text: &str) -> Result<Parsed, QueryError> {
    let lx = Lexer::new(text);
    let mut p = Parser {
        lx: &lx,
        pos: 0,
        depth: 0,
        nodes: 0,
        seen_stats: false,
        aggs: None,
    };
    let mut source = None;
    let first = p.peek()?;
    if first.tok == Tok::Eof {
        return Err(QueryError::at(
            "the query is empty",
            0,
            text.chars().count(),
        ));
    }
    if matches!(&first.tok, Tok::Word(w) if w.eq_ignore_ascii_case("source")) {
        p.bump(&first);
        source = Some(p.source()?);
        let t = p.peek()?;
        match t.tok {
            Tok::Pipe => p.bump(&t),
            Tok::Eof => {
                return Ok(Parsed {
                    source,
                    commands: Vec::new(),
                    spans: Vec::new(),
                })
            }
            _ => return Err(p.unexpected(&t)),
        }
    }
    let mut commands = Vec::new();
    let mut spans = Vec::new();
    loop {
        let start = p.peek()?.start;
        commands.push(p.command()?);
        spans.push((start, p.pos));
        let t = p.peek()?;
        match t.tok {
            Tok::Pipe => p.bump(&t),
            Tok::Eof => break,
            _ => return Err(p.unexpected(&t)),
        }
    }
    Ok(Parsed {
        source,
        commands,
        spans,
    })
}

fn is_keyword(w: &str) -> bool {
    [
        "and", "or", "not", "like", "in", "as", "by", "asc", "desc", "into",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Result<Token, QueryError> {
        self.lx.token(self.pos, false)
    }

    fn peek_operand(&self) -> Result<Token, QueryError> {
        self.lx.token(self.pos, true)
    }

    fn bump(&mut self, t: &Token) {
        self.pos = t.end;
    }

    fn unexpected(&self, t: &Token) -> QueryError {
        if t.tok == Tok::Eof {
            return QueryError::at("unexpected end of query", t.start, t.end);
        }
        self.lx
            .unexpected(&self.lx.slice(t.start, t.end), t.start, t.end)
    }

    fn is_word(t: &Token, w: &str) -> bool {
        matches!(&t.tok, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    /// Consumes the keyword `w` if it is next.
    fn eat_word(&mut self, w: &str) -> Result<bool, QueryError> {
        let t = self.peek()?;
        if Self::is_word(&t, w) {
            self.bump(&t);
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, want: Tok) -> Result<Token, QueryError> {
        let t = self.peek()?;
        if t.tok == want {
            self.bump(&t);
            Ok(t)
        } else {
            Err(self.unexpected(&t))
        }
    }

    /// A field name: a bare word that is not a keyword, or a backticked name.
    fn field_name(&mut self) -> Result<(String, Token), QueryError> {
        let t = self.peek()?;
        match &t.tok {
            Tok::Word(w) if !is_keyword(w) => {
                self.bump(&t);
                Ok((w.clone(), t))
            }
            Tok::Quoted(w) => {
                self.bump(&t);
                Ok((w.clone(), t))
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    fn source(&mut self) -> Result<Source, QueryError> {
        let t = self.peek()?;
        if !Self::is_word(&t, "logGroups") {
            return Err(self.unexpected(&t));
        }
        self.bump(&t);
        self.expect(Tok::LParen)?;
        let mut source = Source::default();
        let mut t = self.peek()?;
        while t.tok != Tok::RParen {
            let (key, key_tok) = self.field_name()?;
            self.expect(Tok::Colon)?;
            let values = self.string_list()?;
            let span = (key_tok.start, self.pos);
            match key.to_ascii_lowercase().as_str() {
                "nameprefix" => {
                    if values.len() > 5 {
                        return Err(QueryError::at("SOURCE accepts at most 5 namePrefix values", span.0, span.1));
                    }
                    source.name_prefixes = values;
                }
                "accountidentifiers" | "accountidentifier" => {
                    if values.len() > 20 {
                        return Err(QueryError::at("SOURCE accepts at most 20 accountIdentifiers", span.0, span.1));
                    }
                    source.account_identifiers = values;
                }
                "class" | "loggroupclass" => {
                    let [class] = values.as_slice() else {
                        return Err(QueryError::at("SOURCE class takes one log class", span.0, span.1));
                    };
                    let class = class.to_ascii_uppercase();
                    if class != "STANDARD" && class != "INFREQUENT_ACCESS" {
                        return Err(QueryError::at(
                            format!("invalid log group class {class}: expected STANDARD or INFREQUENT_ACCESS"),
                            span.0,
                            span.1,
                        ));
                    }
                    source.log_group_class = Some(class);
                }
                _ => {
                    return Err(QueryError::at(
                        format!("unknown SOURCE parameter {key}: expected namePrefix, class or accountIdentifiers"),
                        key_tok.start,
                        key_tok.end,
                    ))
                }
            }
            t = self.peek()?;
            if t.tok == Tok::Comma {
                self.bump(&t);
                t = self.peek()?;
            } else if t.tok != Tok::RParen {
                return Err(self.unexpected(&t));
            }
        }
        self.bump(&t);
        Ok(source)
    }

    /// `'a'` or `['a', 'b']`.
    fn string_list(&mut self) -> Result<Vec<String>, QueryError> {
        let t = self.peek()?;
        match t.tok {
            Tok::Str(s) => {
                self.pos = t.end;
                Ok(vec![s])
            }
            Tok::LBracket => {
                self.bump(&t);
                let mut out = Vec::new();
                loop {
                    let t = self.peek()?;
                    match t.tok {
                        Tok::Str(s) => {
                            self.pos = t.end;
                            out.push(s);
                        }
                        Tok::RBracket if out.is_empty() => {
                            self.pos = t.end;
                            return Ok(out);
                        }
                        _ => return Err(self.unexpected(&t)),
                    }
                    let t = self.peek()?;
                    match t.tok {
                        Tok::Comma => self.bump(&t),
                        Tok::RBracket => {
                            self.bump(&t);
                            return Ok(out);
                        }
                        _ => return Err(self.unexpected(&t)),
                    }
                }
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let t = self.peek()?;
        let Tok::Word(word) = &t.tok else {
            return Err(self.unexpected(&t));
        };
        let lower = word.to_ascii_lowercase();
        self.bump(&t);
        match lower.as_str() {
            "fields" => Ok(Command::Fields(self.named_exprs()?)),
            "display" => {
                let mut names = vec![self.field_name()?.0];
                while self.eat(Tok::Comma)? {
                    names.push(self.field_name()?.0);
                }
                Ok(Command::Display(names))
            }
            "filter" => Ok(Command::Filter(self.expr()?)),
            "stats" => {
                let stats = self.stats();
                self.seen_stats = true;
                stats
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let e = self.expr()?;
                    let desc = if self.eat_word("desc")? {
                        true
                    } else {
                        self.eat_word("asc")?;
                        false
                    };
                    keys.push((e, desc));
                    if !self.eat(Tok::Comma)? {
                        break;
                    }
                }
                Ok(Command::Sort(keys))
            }
            "limit" => {
                let n = self.peek()?;
                match n.tok {
                    Tok::Num(v) if v >= 1.0 && v.fract() == 0.0 && v <= 1e9 => {
                        self.bump(&n);
                        Ok(Command::Limit(v as usize))
                    }
                    Tok::Num(_) => Err(QueryError::at(
                        "limit must be a positive integer",
                        n.start,
                        n.end,
                    )),
                    _ => Err(self.unexpected(&n)),
                }
            }
            "parse" => self.parse_command(),
            "dedup" => {
                let mut fields = Vec::new();
                loop {
                    let (name, _) = self.field_name()?;
                    fields.push(Expr::Field(name));
                    if !self.eat(Tok::Comma)? {
                        break;
                    }
                }
                Ok(Command::Dedup(fields))
            }
            "unnest" => {
                let expr = self.expr()?;
                let t = self.peek()?;
                if !Self::is_word(&t, "into") {
                    return Err(self.unexpected(&t));
                }
                self.bump(&t);
                let (into, _) = self.field_name()?;
                Ok(Command::Unnest { expr, into })
            }
            "source" => Err(QueryError::at(
                "SOURCE must be the first command of the query",
                t.start,
                t.end,
            )),
            other if UNSUPPORTED.contains(&other) => Err(QueryError::at(
                format!(
                    "the {word} command is not supported by this CloudWatch Logs implementation"
                ),
                t.start,
                t.end,
            )),
            _ => Err(self.unexpected(&t)),
        }
    }

    fn eat(&mut self, tok: Tok) -> Result<bool, QueryError> {
        let t = self.peek()?;
        if t.tok == tok {
            self.bump(&t);
            return Ok(true);
        }
        Ok(false)
    }

    /// `expr [as name], …`; an unnamed expression is named by its text.
    fn named_exprs(&mut self) -> Result<Vec<(Expr, String)>, QueryError> {
        let mut out = Vec::new();
        loop {
            out.push(self.named_expr()?);
            if !self.eat(Tok::Comma)? {
                return Ok(out);
            }
        }
    }

    fn named_expr(&mut self) -> Result<(Expr, String), QueryError> {
        let start_tok = self.peek()?;
        let e = self.expr()?;
        let text = self.lx.slice(start_tok.start, self.pos).trim().to_string();
        let name = if self.eat_word("as")? {
            self.field_name()?.0
        } else if let Expr::Field(f) = &e {
            f.clone()
        } else {
            text
        };
        Ok((e, name))
    }

    fn stats(&mut self) -> Result<Command, QueryError> {
        let mut items = Vec::new();
        self.aggs = Some(Vec::new());
        let result = (|| loop {
            let start = self.peek()?.start;
            let before = self.aggs.as_ref().map_or(0, Vec::len);
            let item = self.named_expr()?;
            let after = self.aggs.as_ref().map_or(0, Vec::len);
            if after == before {
                return Err(QueryError::at(
                    "each stats expression needs an aggregation function such as count() or avg(f)",
                    start,
                    self.pos,
                ));
            }
            if let Some(field) = field_outside_aggregation(&item.0) {
                return Err(QueryError::at(
                        format!("field {field} is used in stats outside an aggregation function; group by it with `by`"),
                        start,
                        self.pos,
                    ));
            }
            items.push(item);
            if !self.eat(Tok::Comma)? {
                return Ok(());
            }
        })();
        let aggs = self.aggs.take().unwrap_or_default();
        result?;
        let mut by = Vec::new();
        if self.eat_word("by")? {
            by = self.named_exprs()?;
        }
        Ok(Command::Stats(Stats { aggs, items, by }))
    }

    fn parse_command(&mut self) -> Result<Command, QueryError> {
        let mut t = self.peek_operand()?;
        let source = if matches!(t.tok, Tok::Str(_) | Tok::Regex(_)) {
            Expr::Field("@message".to_string())
        } else {
            let (name, _) = self.field_name()?;
            t = self.peek_operand()?;
            Expr::Field(name)
        };
        self.bump(&t);
        match t.tok {
            Tok::Str(glob) => {
                let stars = glob.matches('*').count();
                if stars == 0 {
                    return Err(QueryError::at(
                        "the parse pattern needs at least one * wildcard",
                        t.start,
                        t.end,
                    ));
                }
                let mut pattern = String::from("(?s)");
                let pieces: Vec<&str> = glob.split('*').collect();
                for (i, piece) in pieces.iter().enumerate() {
                    pattern.push_str(&regex::escape(piece));
                    if i + 1 < pieces.len() {
                        let trailing = i + 2 == pieces.len() && pieces[i + 1].is_empty();
                        pattern.push_str(if trailing { "(.*)" } else { "(.*?)" });
                    }
                }
                let regex = compile_regex(&pattern, t.start, t.end)?;
                let as_tok = self.peek()?;
                if !Self::is_word(&as_tok, "as") {
                    return Err(QueryError::at(
                        "a parse glob pattern needs `as` and a name for each *",
                        t.start,
                        t.end,
                    ));
                }
                self.bump(&as_tok);
                let mut names = vec![self.field_name()?.0];
                while self.eat(Tok::Comma)? {
                    names.push(self.field_name()?.0);
                }
                if names.len() != stars {
                    return Err(QueryError::at(
                        format!(
                            "the parse pattern has {stars} wildcards but {} field names",
                            names.len()
                        ),
                        t.start,
                        self.pos,
                    ));
                }
                Ok(Command::Parse(ParseSpec {
                    source,
                    regex,
                    names,
                    positional: true,
                }))
            }
            Tok::Regex(re) => {
                let regex = compile_regex(&re, t.start, t.end)?;
                let names: Vec<String> = regex
                    .capture_names()
                    .flatten()
                    .map(str::to_string)
                    .collect();
                if names.is_empty() {
                    return Err(QueryError::at(
                        "a parse regular expression needs named capturing groups such as (?<name>...)",
                        t.start,
                        t.end,
                    ));
                }
                Ok(Command::Parse(ParseSpec {
                    source,
                    regex,
                    names,
                    positional: false,
                }))
            }
            _ => Err(self.unexpected(&t)),
        }
    }
}

/// The first field an expression reads outside every aggregation (stats items may not).
fn field_outside_aggregation(e: &Expr) -> Option<String> {
    match e {
        Expr::Field(f) => Some(f.clone()),
        Expr::Lit(_) | Expr::Period(_) | Expr::Agg(_) => None,
        Expr::Neg(x) | Expr::Not(x) => field_outside_aggregation(x),
        Expr::Bin(_, a, b) => field_outside_aggregation(a).or_else(|| field_outside_aggregation(b)),
        Expr::Like { expr, .. } => field_outside_aggregation(expr),
        Expr::In { expr, list, .. } => field_outside_aggregation(expr)
            .or_else(|| list.iter().find_map(field_outside_aggregation)),
        Expr::Call(_, args) => args.iter().find_map(field_outside_aggregation),
    }
}
