//! Scalar functions: numeric, general, string, datetime, IP address and JSON.

use std::net::IpAddr;

use super::time::Period;
use super::value::{from_json, write_json, Value};

/// A scalar function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Abs,
    Ceil,
    Floor,
    Greatest,
    Least,
    Log,
    Sqrt,
    IsPresent,
    Coalesce,
    IsEmpty,
    IsBlank,
    Concat,
    Ltrim,
    Rtrim,
    Trim,
    Strlen,
    ToUpper,
    ToLower,
    Substr,
    Replace,
    StrContains,
    Bin,
    DateFloor,
    DateCeil,
    FromMillis,
    ToMillis,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    IsIpInSubnet,
    IsIpv4InSubnet,
    IsIpv6InSubnet,
    JsonParse,
    JsonStringify,
}

impl Func {
    /// The function of a (lower-cased) name; function names are case-insensitive.
    pub(crate) fn by_name(lower: &str) -> Option<Func> {
        Some(match lower {
            "abs" => Func::Abs,
            "ceil" => Func::Ceil,
            "floor" => Func::Floor,
            "greatest" => Func::Greatest,
            "least" => Func::Least,
            "log" => Func::Log,
            "sqrt" => Func::Sqrt,
            "ispresent" => Func::IsPresent,
            "coalesce" => Func::Coalesce,
            "isempty" => Func::IsEmpty,
            "isblank" => Func::IsBlank,
            "concat" => Func::Concat,
            "ltrim" => Func::Ltrim,
            "rtrim" => Func::Rtrim,
            "trim" => Func::Trim,
            "strlen" => Func::Strlen,
            "toupper" => Func::ToUpper,
            "tolower" => Func::ToLower,
            "substr" => Func::Substr,
            "replace" => Func::Replace,
            "strcontains" => Func::StrContains,
            "bin" => Func::Bin,
            "datefloor" => Func::DateFloor,
            "dateceil" => Func::DateCeil,
            "frommillis" => Func::FromMillis,
            "tomillis" => Func::ToMillis,
            "isvalidip" => Func::IsValidIp,
            "isvalidipv4" => Func::IsValidIpV4,
            "isvalidipv6" => Func::IsValidIpV6,
            "isipinsubnet" => Func::IsIpInSubnet,
            "isipv4insubnet" => Func::IsIpv4InSubnet,
            "isipv6insubnet" => Func::IsIpv6InSubnet,
            "jsonparse" => Func::JsonParse,
            "jsonstringify" => Func::JsonStringify,
            _ => return None,
        })
    }

    /// The least and greatest number of arguments.
    pub(crate) fn arity(self) -> (usize, usize) {
        use Func::*;
        match self {
            Abs | Ceil | Floor | Log | Sqrt | IsPresent | IsEmpty | IsBlank | Strlen | ToUpper
            | ToLower | FromMillis | ToMillis | IsValidIp | IsValidIpV4 | IsValidIpV6
            | JsonParse | JsonStringify | Bin => (1, 1),
            Greatest | Least | Coalesce | Concat => (1, usize::MAX),
            Ltrim | Rtrim | Trim => (1, 2),
            Substr => (2, 3),
            Replace => (3, 3),
            StrContains | DateFloor | DateCeil | IsIpInSubnet | IsIpv4InSubnet | IsIpv6InSubnet => {
                (2, 2)
            }
        }
    }

    /// The index of the argument that must be a time period literal, if any.
    pub(crate) fn period_arg(self) -> Option<usize> {
        match self {
            Func::Bin => Some(0),
            Func::DateFloor | Func::DateCeil => Some(1),
            _ => None,
        }
    }
}

fn num(v: &Option<Value>) -> Option<f64> {
    v.as_ref()?.as_f64()
}

fn text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(|v| v.text().into_owned())
}

fn time_of(v: &Option<Value>) -> Option<i64> {
    match v.as_ref()? {
        Value::Time(t) => Some(*t),
        other => other
            .as_f64()
            .filter(|f| f.abs() < 9.2e18)
            .map(|f| f as i64),
    }
}

fn trim_with(s: &str, chars: Option<&str>, left: bool, right: bool) -> String {
    let is_trimmed = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    };
    let mut out = s;
    if left {
        out = out.trim_start_matches(is_trimmed);
    }
    if right {
        out = out.trim_end_matches(is_trimmed);
    }
    out.to_string()
}

fn parse_cidr(subnet: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = subnet.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

fn in_subnet(ip: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn ip_check(args: &[Option<Value>], v4: bool, v6: bool) -> Option<Value> {
    let s = text(&args[0])?;
    let ok = match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => v4,
        Ok(IpAddr::V6(_)) => v6,
        Err(_) => false,
    };
    Some(Value::Bool(ok))
}

fn subnet_check(args: &[Option<Value>], v4: bool, v6: bool) -> Option<Value> {
    let ip = text(&args[0])?;
    let subnet = text(&args[1])?;
    let ok = match (ip.parse::<IpAddr>(), parse_cidr(&subnet)) {
        (Ok(ip @ IpAddr::V4(_)), Some(net)) if v4 => in_subnet(ip, net),
        (Ok(ip @ IpAddr::V6(_)), Some(net)) if v6 => in_subnet(ip, net),
        _ => false,
    };
    Some(Value::Bool(ok))
}

/// Calls a function on evaluated arguments. `period` is the period literal of `bin`,
/// `datefloor` and `dateceil`; `timestamp` is the row's `@timestamp` (for `bin`).
pub(crate) fn call(
    f: Func,
    args: &[Option<Value>],
    period: Option<Period>,
    timestamp: Option<i64>,
) -> Option<Value> {
    use Func::*;
    let first = args.first().cloned().flatten();
    match f {
        Abs => Value::num(num(&args[0])?.abs()),
        Ceil => Value::num(num(&args[0])?.ceil()),
        Floor => Value::num(num(&args[0])?.floor()),
        Log => Value::num(num(&args[0])?.ln()),
        Sqrt => Value::num(num(&args[0])?.sqrt()),
        Greatest => args
            .iter()
            .filter_map(num)
            .reduce(f64::max)
            .and_then(Value::num),
        Least => args
            .iter()
            .filter_map(num)
            .reduce(f64::min)
            .and_then(Value::num),
        IsPresent => Some(Value::Bool(first.is_some())),
        Coalesce => args.iter().find_map(|a| a.clone()),
        IsEmpty => Some(Value::Bool(first.is_none_or(|v| v.text().is_empty()))),
        IsBlank => Some(Value::Bool(
            first.is_none_or(|v| v.text().trim().is_empty()),
        )),
        Concat => Some(Value::Str(args.iter().filter_map(text).collect())),
        Ltrim | Rtrim | Trim => {
            let s = text(&args[0])?;
            let chars = args.get(1).and_then(text);
            Some(Value::Str(trim_with(
                &s,
                chars.as_deref(),
                f != Rtrim,
                f != Ltrim,
            )))
        }
        Strlen => Some(Value::Num(text(&args[0])?.chars().count() as f64)),
        ToUpper => Some(Value::Str(text(&args[0])?.to_uppercase())),
        ToLower => Some(Value::Str(text(&args[0])?.to_lowercase())),
        Substr => {
            let s = text(&args[0])?;
            let start = num(&args[1])?.floor().clamp(0.0, 1e9) as usize;
            let chars = s.chars().skip(start);
            let out: String = match args.get(2) {
                Some(len) => chars
                    .take(num(len)?.floor().clamp(0.0, 1e9) as usize)
                    .collect(),
                None => chars.collect(),
            };
            Some(Value::Str(out))
        }
        Replace => {
            let s = text(&args[0])?;
            let from = text(&args[1])?;
            let to = text(&args[2])?;
            Some(Value::Str(if from.is_empty() {
                s
            } else {
                s.replace(&from, &to)
            }))
        }
        StrContains => {
            let s = text(&args[0])?;
            let sub = text(&args[1])?;
            Some(Value::Num(if s.contains(&sub) { 1.0 } else { 0.0 }))
        }
        Bin => Some(Value::Time(period?.floor(timestamp?)?)),
        DateFloor => Some(Value::Time(period?.floor(time_of(&args[0])?)?)),
        DateCeil => Some(Value::Time(period?.ceil(time_of(&args[0])?)?)),
        FromMillis => Some(Value::Time(time_of(&args[0])?)),
        ToMillis => Some(Value::Num(time_of(&args[0])? as f64)),
        IsValidIp => ip_check(args, true, true),
        IsValidIpV4 => ip_check(args, true, false),
        IsValidIpV6 => ip_check(args, false, true),
        IsIpInSubnet => subnet_check(args, true, true),
        IsIpv4InSubnet => subnet_check(args, true, false),
        IsIpv6InSubnet => subnet_check(args, false, true),
        JsonParse => match first? {
            v @ (Value::List(_) | Value::Map(_)) => Some(v),
            other => from_json(&serde_json::from_str(&other.text()).ok()?),
        },
        JsonStringify => {
            let mut out = String::new();
            write_json(&first?, &mut out);
            Some(Value::Str(out))
        }
    }
}
