//! Expressions: precedence climbing from `or` down to primaries, function calls and
//! aggregations, with the nesting and size bounds of the parser.

use super::super::ast::{AggFn, Aggregation, BinOp, Expr, Pattern};
use super::super::error::QueryError;
use super::super::functions::Func;
use super::super::lexer::{Tok, Token};
use super::super::value::Value;
use super::{compile_regex, is_keyword, Parser, MAX_DEPTH, MAX_NODES};

impl Parser<'_> {
    pub(super) fn enter(&mut self, t: &Token) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::at(
                "the query is nested too deeply",
                t.start,
                t.end,
            ));
        }
        Ok(())
    }

    /// Counts one operator or function node of the current expression.
    pub(super) fn node(&mut self) -> Result<(), QueryError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            let t = self.peek()?;
            return Err(QueryError::at(
                "the query is nested too deeply",
                t.start,
                t.end,
            ));
        }
        Ok(())
    }

    pub(super) fn expr(&mut self) -> Result<Expr, QueryError> {
        let t = self.peek()?;
        if self.depth == 0 {
            self.nodes = 0;
        }
        self.enter(&t)?;
        let r = self.or();
        self.depth -= 1;
        r
    }

    pub(super) fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.eat_word("or")? {
            self.node()?;
            let right = self.and()?;
            left = Expr::Bin(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not()?;
        while self.eat_word("and")? {
            self.node()?;
            let right = self.not()?;
            left = Expr::Bin(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn not(&mut self) -> Result<Expr, QueryError> {
        let t = self.peek()?;
        if Self::is_word(&t, "not") {
            self.bump(&t);
            self.node()?;
            self.enter(&t)?;
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    pub(super) fn pattern(&mut self) -> Result<Pattern, QueryError> {
        let t = self.peek_operand()?;
        self.bump(&t);
        match t.tok {
            Tok::Str(s) => Ok(Pattern::Substring(s)),
            Tok::Regex(r) => Ok(Pattern::Regex(compile_regex(&r, t.start, t.end)?)),
            _ => Err(self.unexpected(&t)),
        }
    }

    pub(super) fn list(&mut self) -> Result<Vec<Expr>, QueryError> {
        self.expect(Tok::LBracket)?;
        let mut out = Vec::new();
        if self.eat(Tok::RBracket)? {
            return Ok(out);
        }
        loop {
            self.node()?;
            out.push(self.additive()?);
            if self.eat(Tok::RBracket)? {
                return Ok(out);
            }
            self.expect(Tok::Comma)?;
        }
    }

    pub(super) fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.additive()?;
        let t = self.peek()?;
        if matches!(
            &t.tok,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::Match
        ) || Self::is_word(&t, "like")
            || Self::is_word(&t, "in")
            || Self::is_word(&t, "not")
        {
            self.node()?;
        }
        let op = match &t.tok {
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Match => {
                self.bump(&t);
                let pattern = self.pattern()?;
                return Ok(Expr::Like {
                    expr: Box::new(left),
                    pattern,
                    negated: false,
                });
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("like") => {
                self.bump(&t);
                let pattern = self.pattern()?;
                return Ok(Expr::Like {
                    expr: Box::new(left),
                    pattern,
                    negated: false,
                });
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("in") => {
                self.bump(&t);
                let list = self.list()?;
                return Ok(Expr::In {
                    expr: Box::new(left),
                    list,
                    negated: false,
                });
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => {
                let after = self.lx.token(t.end, false)?;
                if Self::is_word(&after, "like") {
                    self.bump(&after);
                    let pattern = self.pattern()?;
                    return Ok(Expr::Like {
                        expr: Box::new(left),
                        pattern,
                        negated: true,
                    });
                }
                if Self::is_word(&after, "in") {
                    self.bump(&after);
                    let list = self.list()?;
                    return Ok(Expr::In {
                        expr: Box::new(left),
                        list,
                        negated: true,
                    });
                }
                return Ok(left);
            }
            _ => return Ok(left),
        };
        self.bump(&t);
        let right = self.additive()?;
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    pub(super) fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.multiplicative()?;
        loop {
            let t = self.peek()?;
            let op = match t.tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump(&t);
            self.node()?;
            let right = self.multiplicative()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    pub(super) fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        loop {
            let t = self.peek()?;
            let op = match t.tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(left),
            };
            self.bump(&t);
            self.node()?;
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    pub(super) fn unary(&mut self) -> Result<Expr, QueryError> {
        let t = self.peek()?;
        if t.tok == Tok::Minus {
            self.bump(&t);
            self.node()?;
            self.enter(&t)?;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(match inner? {
                Expr::Lit(Value::Num(n)) => Expr::Lit(Value::Num(-n)),
                other => Expr::Neg(Box::new(other)),
            });
        }
        let base = self.primary()?;
        let t = self.peek()?;
        if t.tok == Tok::Caret {
            self.bump(&t);
            self.node()?;
            self.enter(&t)?;
            let exponent = self.unary();
            self.depth -= 1;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exponent?)));
        }
        Ok(base)
    }

    pub(super) fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self.peek_operand()?;
        match t.tok.clone() {
            Tok::Num(n) => {
                self.bump(&t);
                Ok(Expr::Lit(Value::Num(n)))
            }
            Tok::Str(s) => {
                self.bump(&t);
                Ok(Expr::Lit(Value::Str(s)))
            }
            Tok::Period(p) => {
                self.bump(&t);
                Ok(Expr::Period(p))
            }
            Tok::Quoted(name) => {
                self.bump(&t);
                Ok(Expr::Field(name))
            }
            Tok::LParen => {
                self.bump(&t);
                let e = self.expr()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Tok::Word(w) if !is_keyword(&w) => {
                self.bump(&t);
                let next = self.peek()?;
                if next.tok == Tok::LParen && !w.contains('.') && !w.starts_with('@') {
                    self.bump(&next);
                    return self.call(&w, &t);
                }
                Ok(Expr::Field(w))
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    /// A function call; the name and `(` are consumed.
    pub(super) fn call(&mut self, name: &str, name_tok: &Token) -> Result<Expr, QueryError> {
        self.node()?;
        let lower = name.to_ascii_lowercase();
        if let Some(agg) = AggFn::by_name(&lower) {
            return self.aggregation(agg, name, name_tok);
        }
        let Some(func) = Func::by_name(&lower) else {
            return Err(QueryError::at(
                format!("unknown function {name}"),
                name_tok.start,
                name_tok.end,
            ));
        };
        self.enter(name_tok)?;
        let args = self.args();
        self.depth -= 1;
        let args = args?;
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(QueryError::at(
                format!("wrong number of arguments to {name}: {} given", args.len()),
                name_tok.start,
                self.pos,
            ));
        }
        if let Some(i) = func.period_arg() {
            if !matches!(args.get(i), Some(Expr::Period(_))) {
                return Err(QueryError::at(
                    format!(
                        "{name} needs a time period such as 5m as argument {}",
                        i + 1
                    ),
                    name_tok.start,
                    self.pos,
                ));
            }
        }
        for (i, a) in args.iter().enumerate() {
            if matches!(a, Expr::Period(_)) && func.period_arg() != Some(i) {
                return Err(QueryError::at(
                    format!("a time period is not a valid argument to {name}"),
                    name_tok.start,
                    self.pos,
                ));
            }
        }
        Ok(Expr::Call(func, args))
    }

    /// Arguments after `(` up to and including `)`.
    pub(super) fn args(&mut self) -> Result<Vec<Expr>, QueryError> {
        let mut args = Vec::new();
        if self.eat(Tok::RParen)? {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(Tok::RParen)? {
                return Ok(args);
            }
            self.expect(Tok::Comma)?;
        }
    }

    pub(super) fn aggregation(
        &mut self,
        func: AggFn,
        name: &str,
        name_tok: &Token,
    ) -> Result<Expr, QueryError> {
        if self.aggs.is_none() && self.seen_stats {
            self.aggs = Some(Vec::new());
            let parsed = self.aggregation(func, name, name_tok);
            self.aggs = None;
            parsed?;
            return Ok(Expr::Field(self.lx.slice(name_tok.start, self.pos)));
        }
        let Some(outer) = self.aggs.take() else {
            return Err(QueryError::at(
                format!("{name} is an aggregation function: use it in a stats command"),
                name_tok.start,
                name_tok.end,
            ));
        };
        // Nested aggregations are refused: `self.aggs` is None while the arguments parse.
        let parsed = (|| {
            if func == AggFn::Count {
                let t = self.peek()?;
                if t.tok == Tok::RParen {
                    self.bump(&t);
                    return Ok((AggFn::CountAll, None, 0.0));
                }
                if t.tok == Tok::Star {
                    self.bump(&t);
                    self.expect(Tok::RParen)?;
                    return Ok((AggFn::CountAll, None, 0.0));
                }
            }
            self.enter(name_tok)?;
            let args = self.args();
            self.depth -= 1;
            let mut args = args?;
            let want = if func == AggFn::Pct { 2 } else { 1 };
            if args.len() != want {
                return Err(QueryError::at(
                    format!("wrong number of arguments to {name}: {} given", args.len()),
                    name_tok.start,
                    self.pos,
                ));
            }
            let mut percent = 0.0;
            if func == AggFn::Pct {
                match args.pop() {
                    Some(Expr::Lit(Value::Num(p))) if (0.0..=100.0).contains(&p) => percent = p,
                    _ => {
                        return Err(QueryError::at(
                            "the second argument of pct must be a number from 0 to 100",
                            name_tok.start,
                            self.pos,
                        ))
                    }
                }
            }
            Ok((func, args.pop(), percent))
        })();
        let mut outer = outer;
        let (func, arg, percent) = match parsed {
            Ok(v) => v,
            Err(e) => {
                self.aggs = Some(outer);
                return Err(e);
            }
        };
        outer.push(Aggregation { func, arg, percent });
        let index = outer.len() - 1;
        self.aggs = Some(outer);
        Ok(Expr::Agg(index))
    }
}
