//! The metric math and Metrics Insights golden cases (`tests/golden/*.cases`) through the
//! official Rust SDK (rpc-v2 CBOR) against an in-process server, one server per file. The same
//! files run through boto3 (JSON 1.0) and legacy botocore (Query) in
//! `tests/python/test_metric_math.py`.

mod common;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy};
use chrono::{Datelike, TimeZone, Timelike, Utc};
use common::*;

const METRIC_MATH: &str = include_str!("../../../tests/golden/metric_math.cases");
const METRICS_INSIGHTS: &str = include_str!("../../../tests/golden/metrics_insights.cases");

/// A MetricStat query as the case file writes it: `ns name [k=v ...] stat period`.
#[derive(Clone, Debug)]
struct StatSpec {
    namespace: String,
    name: String,
    dims: Vec<(String, String)>,
    stat: String,
    period: i32,
}

#[derive(Clone, Debug)]
enum QueryKind {
    Stat(StatSpec),
    Expr(String),
}

#[derive(Clone, Debug)]
struct Query {
    id: String,
    kind: QueryKind,
    label: Option<String>,
    period: Option<i32>,
    hidden: bool,
}

#[derive(Clone, Debug)]
struct Expected {
    id: String,
    label: String,
    step: i64,
    values: Vec<String>,
}

#[derive(Debug, Default)]
struct Case {
    name: String,
    queries: Vec<Query>,
    results: Vec<Expected>,
    none: bool,
    error: Option<String>,
}

struct Data {
    namespace: String,
    name: String,
    dims: Vec<(String, String)>,
    values: Vec<Option<f64>>,
}

fn words_to_metric(words: &[&str]) -> (String, String, Vec<(String, String)>) {
    let dims = words[2..].iter().map(|w| {
        let (k, v) = w.split_once('=').expect("Dim=Value");
        (k.to_string(), v.to_string())
    });
    (words[0].to_string(), words[1].to_string(), dims.collect())
}

fn stat_spec(text: &str) -> StatSpec {
    let words: Vec<&str> = text.split_whitespace().collect();
    let n = words.len();
    let (namespace, name, dims) = words_to_metric(&words[..n - 2]);
    StatSpec { namespace, name, dims, stat: words[n - 2].to_string(), period: words[n - 1].parse().expect("period") }
}

fn parse_file(text: &str) -> (Vec<Data>, Vec<Query>, Vec<Case>) {
    let mut data = Vec::new();
    let mut base = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    for raw in text.lines() {
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        if let Some(rest) = raw.strip_prefix("data ") {
            let (head, values) = rest.split_once(':').expect("data line");
            let words: Vec<&str> = head.split_whitespace().collect();
            let (namespace, name, dims) = words_to_metric(&words);
            let values = values.split_whitespace().map(|v| if v == "-" { None } else { Some(v.parse().expect("value")) }).collect();
            data.push(Data { namespace, name, dims, values });
        } else if let Some(rest) = raw.strip_prefix("base ") {
            let (id, spec) = rest.split_once(":=").expect("base line");
            base.push(Query { id: id.trim().into(), kind: QueryKind::Stat(stat_spec(spec)), label: None, period: None, hidden: true });
        } else if let Some(name) = raw.strip_prefix("=== ") {
            cases.push(Case { name: name.to_string(), ..Case::default() });
        } else {
            let case = cases.last_mut().expect("a line before the first case");
            if let Some(opt) = raw.strip_prefix("  ") {
                let q = case.queries.last_mut().expect("an option before any query");
                if opt == "hidden" {
                    q.hidden = true;
                } else if let Some(l) = opt.strip_prefix("label: ") {
                    q.label = Some(l.to_string());
                } else if let Some(p) = opt.strip_prefix("period: ") {
                    q.period = Some(p.parse().expect("period"));
                } else {
                    panic!("unknown option {opt:?}");
                }
            } else if raw == "-> none" {
                case.none = true;
            } else if let Some(rest) = raw.strip_prefix("-> ") {
                let (id, rest) = rest.split_once(' ').expect("-> id \"label\"");
                let rest = rest.strip_prefix('"').expect("a quoted label");
                let (label, rest) = rest.split_once('"').expect("closing quote");
                let (head, values) = rest.split_once(':').expect("values");
                let step = head.trim().strip_prefix('@').map_or(60, |s| s.parse().expect("step"));
                case.results.push(Expected { id: id.into(), label: label.into(), step, values: values.split_whitespace().map(String::from).collect() });
            } else if let Some(code) = raw.strip_prefix("!! ") {
                case.error = Some(code.trim().to_string());
            } else if let Some((id, spec)) = raw.split_once(":=") {
                case.queries.push(Query { id: id.trim().into(), kind: QueryKind::Stat(stat_spec(spec)), label: None, period: None, hidden: false });
            } else if let Some((id, expr)) = raw.split_once(": ") {
                case.queries.push(Query { id: id.trim().into(), kind: QueryKind::Expr(expr.to_string()), label: None, period: None, hidden: false });
            } else {
                panic!("cannot read {raw:?}");
            }
        }
    }
    (data, base, cases)
}

fn sdk_query(q: &Query) -> MetricDataQuery {
    let mut b = MetricDataQuery::builder().id(&q.id).return_data(!q.hidden).set_label(q.label.clone()).set_period(q.period);
    b = match &q.kind {
        QueryKind::Expr(e) => b.expression(e),
        QueryKind::Stat(s) => {
            let mut m = Metric::builder().namespace(&s.namespace).metric_name(&s.name);
            for (k, v) in &s.dims {
                m = m.dimensions(Dimension::builder().name(k).value(v).build());
            }
            b.metric_stat(MetricStat::builder().metric(m.build()).period(s.period).stat(&s.stat).build())
        }
    };
    b.build()
}

/// Whether `got` is what the case file's `want` says for the slot at `t` (epoch seconds).
fn value_matches(want: &str, got: f64, t: i64) -> bool {
    let dt = Utc.timestamp_opt(t, 0).single().expect("time");
    let placeholder = match want {
        "{HOUR}" => Some(dt.hour() as f64),
        "{DAY}" => Some(dt.weekday().number_from_monday() as f64),
        "{DATE}" => Some(dt.day() as f64),
        "{MONTH}" => Some(dt.month() as f64),
        "{YEAR}" => Some(dt.year() as f64),
        "{EPOCH}" => Some(t as f64),
        _ => None,
    };
    if let Some(p) = placeholder {
        return got == p;
    }
    if let Some(approx) = want.strip_prefix('~') {
        let decimals = approx.split_once('.').map_or(0, |(_, f)| f.len());
        let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12;
        return (got - approx.parse::<f64>().expect("number")).abs() <= tolerance;
    }
    let w: f64 = want.parse().expect("number");
    (got - w).abs() <= 1e-12 * w.abs().max(1.0)
}

#[tokio::test]
async fn metric_math_golden_cases_through_the_rust_sdk() {
    let ran = run_cases(METRIC_MATH).await;
    assert!(ran >= 120, "{ran} cases");
}

#[tokio::test]
async fn metrics_insights_golden_cases_through_the_rust_sdk() {
    let ran = run_cases(METRICS_INSIGHTS).await;
    assert!(ran >= 40, "{ran} cases");
}

/// Runs every case of one file on a fresh server holding its data; returns how many ran.
async fn run_cases(text: &str) -> usize {
    let (data, base, cases) = parse_file(text);
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let (_, now) = minute_now();
    let t0 = now - now % 3600 - 2 * 3600;
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<MetricDatum>> = Default::default();
    for d in &data {
        for (k, v) in d.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let mut b = MetricDatum::builder().metric_name(&d.name).timestamp(at(t0 + 60 * k as i64)).value(*v);
            for (dk, dv) in &d.dims {
                b = b.dimensions(Dimension::builder().name(dk).value(dv).build());
            }
            by_namespace.entry(&d.namespace).or_default().push(b.build());
        }
    }
    for (ns, data) in by_namespace {
        cw.put_metric_data().namespace(ns).set_metric_data(Some(data)).send().await.expect("put");
    }

    let mut failures = Vec::new();
    for case in &cases {
        let queries: Vec<MetricDataQuery> = base.iter().chain(&case.queries).map(sdk_query).collect();
        let out = cw
            .get_metric_data()
            .set_metric_data_queries(Some(queries))
            .start_time(at(t0))
            .end_time(at(t0 + 300))
            .scan_by(ScanBy::TimestampAscending)
            .send()
            .await;
        let problem = match (out, &case.error) {
            (Err(e), Some(code)) => {
                let got = e.into_service_error().meta().code().map(str::to_string);
                (got.as_deref() != Some(code.as_str())).then(|| format!("error {got:?}, want {code}"))
            }
            (Err(e), None) => Some(format!("failed: {:?}", e.into_service_error())),
            (Ok(_), Some(code)) => Some(format!("succeeded, want {code}")),
            (Ok(out), None) => {
                let got: Vec<_> = out.metric_data_results().iter().collect();
                assert!(out.next_token().is_none(), "{}: one page", case.name);
                if case.none && !got.is_empty() || !case.none && got.len() != case.results.len() {
                    Some(format!("{} results, want {}: {got:?}", got.len(), case.results.len()))
                } else {
                    case.results.iter().zip(&got).find_map(|(want, r)| {
                        let points: Vec<(i64, f64)> = r.timestamps().iter().map(|t| t.secs()).zip(r.values().iter().copied()).collect();
                        let mut expected: Vec<(i64, &str)> = Vec::new();
                        for (k, v) in want.values.iter().enumerate() {
                            if v != "-" {
                                expected.push((t0 + want.step * k as i64, v));
                            }
                        }
                        let same_points = points.len() == expected.len()
                            && points.iter().zip(&expected).all(|((t, g), (wt, w))| t == wt && value_matches(w, *g, *t));
                        if r.id() != Some(want.id.as_str()) || r.label() != Some(want.label.as_str()) || !same_points {
                            let got_rel: Vec<(i64, f64)> = points.iter().map(|(t, v)| (t - t0, *v)).collect();
                            Some(format!("got {:?} {:?} {got_rel:?}, want {} {:?} {:?} (step {})", r.id(), r.label(), want.id, want.label, want.values, want.step))
                        } else {
                            None
                        }
                    })
                }
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    cases.len()
}
