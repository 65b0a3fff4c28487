//! Runs tests/golden/filter_patterns.cases (format in that file's header) against
//! `watchtrail_logs_lang::filter`, reporting every failing expectation at once.

use std::fmt::Write as _;

use watchtrail_logs_lang::filter::{FieldValue, FilterPattern, PatternKind};

/// The golden file, relative to this crate.
const CASES: &str = include_str!("../../../tests/golden/filter_patterns.cases");

/// The least number of cases the file must hold.
const MIN_CASES: usize = 150;

/// One case as read from the file.
#[derive(Default)]
struct Case {
    name: String,
    line: usize,
    pattern: Option<String>,
    checks: Vec<(usize, Check)>,
}

/// One expectation.
enum Check {
    Kind(String),
    Regexes(usize),
    Prefilter(Vec<Vec<String>>),
    Error(String),
    Message {
        text: String,
        matches: bool,
    },
    Extracted(Vec<(String, String)>),
    Value {
        selector: String,
        want: Option<serde_json::Value>,
    },
}

fn json_string(s: &str, line: usize) -> String {
    serde_json::from_str::<String>(s.trim())
        .unwrap_or_else(|e| panic!("line {line}: bad JSON string {s:?}: {e}"))
}

fn read_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in CASES.lines().enumerate() {
        let line = i + 1;
        if raw.starts_with('#')
            || raw.trim().is_empty() && !raw.starts_with('+') && !raw.starts_with('-')
        {
            continue;
        }
        if let Some(name) = raw.strip_prefix("=== ") {
            cases.push(Case {
                name: name.to_string(),
                line,
                ..Case::default()
            });
            continue;
        }
        let case = cases
            .last_mut()
            .unwrap_or_else(|| panic!("line {line}: expectation before the first case"));
        let check = if raw == "pattern:" {
            case.pattern = Some(String::new());
            continue;
        } else if let Some(p) = raw.strip_prefix("pattern: ") {
            case.pattern = Some(p.to_string());
            continue;
        } else if let Some(p) = raw.strip_prefix("pattern~ ") {
            case.pattern = Some(json_string(p, line));
            continue;
        } else if let Some(k) = raw.strip_prefix("kind: ") {
            Check::Kind(k.trim().to_string())
        } else if let Some(n) = raw.strip_prefix("regexes: ") {
            Check::Regexes(
                n.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("line {line}: bad count")),
            )
        } else if let Some(p) = raw.strip_prefix("prefilter: ") {
            Check::Prefilter(serde_json::from_str(p).unwrap_or_else(|e| panic!("line {line}: {e}")))
        } else if let Some(m) = raw.strip_prefix("!! ") {
            Check::Error(m.to_string())
        } else if let Some(m) = raw.strip_prefix("+j ") {
            Check::Message {
                text: json_string(m, line),
                matches: true,
            }
        } else if let Some(m) = raw.strip_prefix("-j ") {
            Check::Message {
                text: json_string(m, line),
                matches: false,
            }
        } else if raw == "+" || raw == "-" {
            Check::Message {
                text: String::new(),
                matches: raw == "+",
            }
        } else if let Some(m) = raw.strip_prefix("+ ") {
            Check::Message {
                text: m.to_string(),
                matches: true,
            }
        } else if let Some(m) = raw.strip_prefix("- ") {
            Check::Message {
                text: m.to_string(),
                matches: false,
            }
        } else if let Some(e) = raw.strip_prefix("extracted: ") {
            let pairs: Vec<[String; 2]> =
                serde_json::from_str(e).unwrap_or_else(|e| panic!("line {line}: {e}"));
            Check::Extracted(pairs.into_iter().map(|[k, v]| (k, v)).collect())
        } else if let Some(v) = raw.strip_prefix("value ") {
            let (selector, want) = v
                .split_once(" => ")
                .unwrap_or_else(|| panic!("line {line}: value needs ' => '"));
            let want = match want.trim() {
                "absent" => None,
                w => Some(serde_json::from_str(w).unwrap_or_else(|e| panic!("line {line}: {e}"))),
            };
            Check::Value {
                selector: selector.to_string(),
                want,
            }
        } else {
            panic!("line {line}: unrecognised line {raw:?}");
        };
        case.checks.push((line, check));
    }
    cases
}

fn kind_name(k: PatternKind) -> &'static str {
    match k {
        PatternKind::MatchAll => "MatchAll",
        PatternKind::Terms => "Terms",
        PatternKind::Json => "Json",
        PatternKind::SpaceDelimited => "SpaceDelimited",
        PatternKind::Regex => "Regex",
    }
}

fn same_value(got: &Option<FieldValue<'_>>, want: &Option<serde_json::Value>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(FieldValue::Number(a)), Some(serde_json::Value::Number(b))) => b.as_f64() == Some(*a),
        (Some(FieldValue::Text(a)), Some(serde_json::Value::String(b))) => a == b,
        (Some(FieldValue::Bool(a)), Some(serde_json::Value::Bool(b))) => a == b,
        (Some(FieldValue::Null), Some(serde_json::Value::Null)) => true,
        _ => false,
    }
}

fn run(case: &Case, failures: &mut String) {
    let Some(text) = &case.pattern else {
        let _ = writeln!(failures, "line {} ({}): no pattern", case.line, case.name);
        return;
    };
    let mut fail = |line: usize, what: String| {
        let _ = writeln!(
            failures,
            "line {line} ({}): pattern {text:?}: {what}",
            case.name
        );
    };
    let parsed = FilterPattern::parse(text);
    let mut last_match: Option<&str> = None;
    for (line, check) in &case.checks {
        let line = *line;
        if let Check::Error(want) = check {
            match &parsed {
                Ok(_) => fail(line, format!("parsed, expected error {want:?}")),
                Err(e) if e.to_string() != *want => fail(
                    line,
                    format!(
                        "error {:?} ({}), expected {want:?}",
                        e.to_string(),
                        e.detail()
                    ),
                ),
                Err(_) => {}
            }
            continue;
        }
        let p = match &parsed {
            Ok(p) => p,
            Err(e) => {
                fail(line, format!("refused: {e} ({})", e.detail()));
                return;
            }
        };
        match check {
            Check::Kind(k) if kind_name(p.kind()) != k => {
                fail(line, format!("kind {:?}, expected {k}", p.kind()))
            }
            Check::Regexes(n) if p.regex_count() != *n => {
                fail(line, format!("{} regexes, expected {n}", p.regex_count()))
            }
            Check::Prefilter(c) if p.prefilter().clauses() != c.as_slice() => fail(
                line,
                format!("prefilter {:?}, expected {c:?}", p.prefilter().clauses()),
            ),
            Check::Message { text: m, matches } => {
                let got = p.matches(m);
                if got != *matches {
                    fail(
                        line,
                        format!("message {m:?}: matches() = {got}, expected {matches}"),
                    );
                }
                if p.evaluate(m).is_some() != got {
                    fail(
                        line,
                        format!("message {m:?}: evaluate() disagrees with matches()"),
                    );
                }
                if got && !p.prefilter().may_match(m.as_bytes()) {
                    fail(
                        line,
                        format!("message {m:?}: the prefilter excludes a match"),
                    );
                }
                last_match = if got { Some(m.as_str()) } else { last_match };
            }
            Check::Extracted(want) => match last_match.and_then(|m| p.evaluate(m)) {
                Some(mt) if mt.extracted_values() != *want => fail(
                    line,
                    format!("extracted {:?}, expected {want:?}", mt.extracted_values()),
                ),
                Some(_) => {}
                None => fail(line, "extracted: no matching message before".into()),
            },
            Check::Value { selector, want } => match last_match.and_then(|m| p.evaluate(m)) {
                Some(mt) => {
                    let got = mt.value(selector);
                    if !same_value(&got, want) {
                        fail(
                            line,
                            format!("value {selector}: {got:?}, expected {want:?}"),
                        );
                    }
                }
                None => fail(line, "value: no matching message before".into()),
            },
            _ => {}
        }
    }
}

#[test]
fn golden_filter_patterns() {
    let cases = read_cases();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases, want at least {MIN_CASES}",
        cases.len()
    );
    let mut failures = String::new();
    for case in &cases {
        run(case, &mut failures);
    }
    assert!(failures.is_empty(), "golden failures:\n{failures}");
}
