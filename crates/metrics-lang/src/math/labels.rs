//! Dynamic labels: `${AVG}`, `${LAST}`, `${PROP('Dim.Host')}` … in a query's Label, filled in
//! from the returned series (the User Guide's "Using dynamic labels").
//!
//! Decisions where AWS is silent (`docs/deviations.md`): numbers are written in their
//! shortest exact form (`12.5`, `0.1`, `3`); times as ISO 8601 in the `LabelOptions.Timezone`
//! offset (UTC by default, written `Z`); durations and relative times as `1d 2h 3m 4s` with
//! zero units left out (`0s` for none). A statistic of a series without points, and a
//! `PROP` the series does not have (an expression's result has no metric), become an empty
//! string. Unknown `${…}` are left as written.

use super::value::Series;
use watchtrail_core::Timestamp;

/// What a label can refer to besides the series.
#[derive(Clone, Copy, Debug)]
pub struct LabelContext<'a> {
    /// The account of the request.
    pub account: &'a str,
    /// The region of the request.
    pub region: &'a str,
    /// `LabelOptions.Timezone` as minutes east of UTC.
    pub offset_minutes: i32,
    /// Now, for the `*_RELATIVE` values.
    pub now: Timestamp,
}

/// Parses `+HHMM` / `-HHMM` into minutes east of UTC.
pub fn timezone_minutes(tz: &str) -> Option<i32> {
    let b = tz.as_bytes();
    if b.len() != 5 || !(b[0] == b'+' || b[0] == b'-') || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h: i32 = tz[1..3].parse().ok()?;
    let m: i32 = tz[3..5].parse().ok()?;
    if h > 14 || m >= 60 {
        return None;
    }
    Some(if b[0] == b'-' { -(h * 60 + m) } else { h * 60 + m })
}

/// `template` with every dynamic value filled in from `series`; `default_label` is `${LABEL}`.
pub fn render(template: &str, series: &Series, default_label: &str, cx: &LabelContext) -> String {
    if !template.contains("${") {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                let name = &after[..j];
                match value(name, series, default_label, cx) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn value(name: &str, s: &Series, default_label: &str, cx: &LabelContext) -> Option<String> {
    let p = &s.points;
    let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    let time = |t: Option<i64>| t.map(|t| iso(t, cx.offset_minutes)).unwrap_or_default();
    let span = |ms: Option<i64>| ms.map(|ms| duration(ms.abs())).unwrap_or_default();
    let min = p.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
    let max = p.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
    let (first, last) = (p.first().copied(), p.last().copied());
    let sum: f64 = p.iter().map(|x| x.1).sum();
    Some(match name {
        "LABEL" => default_label.to_string(),
        "AVG" => num((!p.is_empty()).then(|| sum / p.len() as f64)),
        "SUM" => num((!p.is_empty()).then_some(sum)),
        "MIN" => num(min.map(|x| x.1)),
        "MAX" => num(max.map(|x| x.1)),
        "DATAPOINT_COUNT" => p.len().to_string(),
        "FIRST" => num(first.map(|x| x.1)),
        "LAST" => num(last.map(|x| x.1)),
        "FIRST_LAST_RANGE" => num(first.zip(last).map(|(a, b)| b.1 - a.1)),
        "MIN_MAX_RANGE" => num(min.zip(max).map(|(a, b)| b.1 - a.1)),
        "FIRST_TIME" => time(first.map(|x| x.0)),
        "LAST_TIME" => time(last.map(|x| x.0)),
        "MIN_TIME" => time(min.map(|x| x.0)),
        "FIRST_LAST_TIME_RANGE" => span(first.zip(last).map(|(a, b)| b.0 - a.0)),
        "MIN_MAX_TIME_RANGE" => span(min.zip(max).map(|(a, b)| b.0 - a.0)),
        "FIRST_TIME_RELATIVE" => span(first.map(|x| cx.now.millis() - x.0)),
        "LAST_TIME_RELATIVE" => span(last.map(|x| cx.now.millis() - x.0)),
        "MIN_TIME_RELATIVE" => span(min.map(|x| cx.now.millis() - x.0)),
        _ => {
            let prop = name.strip_prefix("PROP(")?.strip_suffix(')')?;
            let prop = prop.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')).or_else(|| prop.strip_prefix('"').and_then(|p| p.strip_suffix('"')))?;
            let info = s.info.as_deref();
            match prop {
                "AccountId" => cx.account.to_string(),
                "Region" => cx.region.to_string(),
                "MetricName" => info.map(|i| i.metric_name.clone()).unwrap_or_default(),
                "Namespace" => info.map(|i| i.namespace.clone()).unwrap_or_default(),
                "Stat" => info.map(|i| i.stat.clone()).unwrap_or_default(),
                "Period" => info.map(|i| i.period.to_string()).unwrap_or_else(|| s.period.to_string()),
                _ => {
                    let dim = prop.strip_prefix("Dim.")?;
                    info.and_then(|i| i.dimensions.iter().find(|(n, _)| n == dim).map(|(_, v)| v.clone())).unwrap_or_default()
                }
            }
        }
    })
}

fn iso(t: i64, offset_minutes: i32) -> String {
    let Some(dt) = Timestamp(t + i64::from(offset_minutes) * 60_000).to_datetime() else { return t.to_string() };
    let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    if offset_minutes == 0 {
        format!("{base}Z")
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.abs();
        format!("{base}{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

fn duration(ms: i64) -> String {
    let mut s = ms / 1000;
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= size {
            parts.push(format!("{}{unit}", s / size));
            s %= size;
        }
    }
    if parts.is_empty() {
        "0s".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::value::MetricInfo;
    use std::sync::Arc;

    #[test]
    fn every_value() {
        let info = MetricInfo {
            namespace: "App".into(),
            metric_name: "Latency".into(),
            dimensions: vec![("Host".into(), "h1".into())],
            stat: "p99".into(),
            period: 60,
        };
        let s = Series { label: "Latency".into(), points: vec![(0, 3.0), (60_000, 1.5), (120_000, 7.0)], period: 60, info: Some(Arc::new(info)) };
        let cx = LabelContext { account: "123456789012", region: "eu-west-1", offset_minutes: 90, now: Timestamp(3_720_000) };
        let got = render(
            "${LABEL} avg=${AVG} sum=${SUM} min=${MIN} max=${MAX} n=${DATAPOINT_COUNT} first=${FIRST} last=${LAST} \
             fl=${FIRST_LAST_RANGE} mm=${MIN_MAX_RANGE} t0=${FIRST_TIME} t1=${LAST_TIME} tmin=${MIN_TIME} \
             span=${FIRST_LAST_TIME_RANGE} mmspan=${MIN_MAX_TIME_RANGE} rel=${FIRST_TIME_RELATIVE} lrel=${LAST_TIME_RELATIVE} \
             ${PROP('Dim.Host')} ${PROP('MetricName')} ${PROP('Namespace')} ${PROP('Stat')} ${PROP('Period')} \
             ${PROP('AccountId')} ${PROP('Region')} ${PROP('Dim.Nope')}| ${UNKNOWN} ${open",
            &s,
            "Latency",
            &cx,
        );
        assert_eq!(
            got,
            "Latency avg=3.8333333333333335 sum=11.5 min=1.5 max=7 n=3 first=3 last=7 fl=4 mm=5.5 \
             t0=1970-01-01T01:30:00+01:30 t1=1970-01-01T01:32:00+01:30 tmin=1970-01-01T01:31:00+01:30 \
             span=2m mmspan=1m rel=1h 2m lrel=1h h1 Latency App p99 60 123456789012 eu-west-1 | ${UNKNOWN} ${open"
        );
        let empty = Series { label: "x".into(), points: vec![], period: 60, info: None };
        assert_eq!(render("[${AVG}|${DATAPOINT_COUNT}|${PROP('MetricName')}|${PROP('Period')}]", &empty, "x", &cx), "[|0||60]");
        assert_eq!(timezone_minutes("-0130"), Some(-90));
        assert_eq!(timezone_minutes("+2500"), None);
    }
}
