//! Property tests: the prefilter is sound, nothing panics, parsing is deterministic.

use proptest::prelude::*;

use super::{FilterPattern, PatternKind};

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(items)
}

/// Term patterns over a small vocabulary, so generated messages often contain the terms.
fn term_pattern() -> impl Strategy<Value = Vec<String>> {
    let atom = pick(&[
        "ERROR",
        "WARN",
        "a",
        "b",
        "\"a b\"",
        "\"x\\\"y\"",
        "%a.b%",
        "\"\"",
    ]);
    let prefix = pick(&["", "?", "-", "- "]);
    proptest::collection::vec((prefix, atom).prop_map(|(p, a)| format!("{p}{a}")), 1..5)
}

fn text_message() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        pick(&[
            "ERROR", "WARN", "a", "b", " ", "x", "\"", "\\", "y", "a b", "é",
        ]),
        0..8,
    )
    .prop_map(|v| v.concat())
}

/// JSON patterns over keys a and b.
fn json_pattern() -> impl Strategy<Value = String> {
    let sel = pick(&["$.a", "$.b", "$.a[0]", "$.b.c", "$.a[1]"]);
    let test = pick(&[
        "= x",
        "= \"x*\"",
        "= \"*y\"",
        "!= x",
        "= 1",
        "!= 1",
        "> 0",
        "<= 1e0",
        "= *",
        "= true",
        "= %x%",
        "IS NULL",
        "IS TRUE",
        "IS FALSE",
        "NOT EXISTS",
        "= \"tr*\"",
        "= 1*",
    ]);
    let cond = (sel, test).prop_map(|(s, t)| format!("{s} {t}"));
    let joiner = pick(&[" && ", " || "]);
    (
        proptest::collection::vec(cond, 1..4),
        proptest::collection::vec(joiner, 3),
        any::<bool>(),
    )
        .prop_map(|(conds, joins, paren)| {
            let mut out = String::new();
            for (i, c) in conds.iter().enumerate() {
                if i > 0 {
                    out.push_str(joins[i - 1]);
                }
                if paren && i == 0 && conds.len() > 1 {
                    out.push('(');
                    out.push_str(c);
                    out.push(')');
                } else {
                    out.push_str(c);
                }
            }
            format!("{{ {out} }}")
        })
}

fn json_message() -> impl Strategy<Value = String> {
    let key = pick(&["\"a\"", "\"b\"", "\"\\u0061\"", "\"\\u0062\"", "\"c\""]);
    let value = pick(&[
        "\"x\"",
        "\"xy\"",
        "\"y\"",
        "1",
        "1.0",
        "1e0",
        "10",
        "-1",
        "true",
        "false",
        "null",
        "\"\\u0078\"",
        "\"\\u0078y\"",
        "\"\\u0074rue\"",
        "[1]",
        "[\"x\",2]",
        "{\"c\":\"x\"}",
        "{\"c\":1}",
        "\"true\"",
        "\"1\"",
        "[[\"x\"],1]",
        "{\"c\":{\"c\":1},\"c\":\"x\"}",
    ]);
    let object =
        proptest::collection::vec((key, value).prop_map(|(k, v)| format!("{k}:{v}")), 1..4)
            .prop_map(|members| format!("{{{}}}", members.join(",")));
    let odd = pick(&[
        "[1]",
        "{\"a\":\"x\"} x",
        "{\"a\":",
        "  {\"a\":\"x\"}  ",
        "{\"a\":{\"a\":1},\"a\":\"x\"}",
        "{\"b\":{\"c\":\"x\"},\"b\":1}",
        "{\"a\":[\"x\"],\"a\":[1,\"x\"]}",
        "\"x\"",
        "",
        "{}",
    ])
    .prop_map(str::to_string);
    prop_oneof![4 => object, 1 => odd]
}

/// Space-delimited patterns over two or three fields.
fn delimited_pattern() -> impl Strategy<Value = String> {
    let cond = pick(&[
        "",
        " = x",
        " = \"x*\"",
        " != x",
        " = 1",
        " > 0",
        " = *y*",
        " = x || f = y",
        " = x* && f != xy",
        " = %^x%",
        " = \"a b\"",
    ]);
    (proptest::collection::vec(cond, 1..4), any::<bool>()).prop_map(|(conds, ellipsis)| {
        let mut fields: Vec<String> = conds.iter().map(|c| format!("f{c}")).collect();
        if ellipsis {
            fields.insert(0, "...".into());
        }
        format!("[{}]", fields.join(", "))
    })
}

fn delimited_message() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        pick(&[
            "x", "y", "xy", "1", "0", "-2", "[a b]", "\"a b\"", "[x", "\"", "yx",
        ]),
        0..5,
    )
    .prop_map(|v| v.join(" "))
}

fn sound(pattern: &str, message: &str) -> Result<(), TestCaseError> {
    if let Ok(p) = FilterPattern::parse(pattern) {
        let truth = p.matches_unfiltered(message);
        prop_assert_eq!(p.matches(message), truth);
        if truth {
            prop_assert!(
                p.prefilter().may_match(message.as_bytes()),
                "prefilter excludes a match: {pattern} / {message}"
            );
            for clause in p.prefilter().clauses() {
                let escaped = p.prefilter().bypassed_by_backslash() && message.contains('\\');
                prop_assert!(
                    escaped || clause.iter().any(|l| message.contains(l.as_str())),
                    "clause {clause:?}"
                );
            }
        }
        prop_assert_eq!(p.matches(message), p.evaluate(message).is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn prefilter_sound_for_terms(tokens in term_pattern(), message in text_message()) {
        sound(&tokens.join(" "), &message)?;
    }

    #[test]
    fn prefilter_sound_for_json(pattern in json_pattern(), message in json_message()) {
        sound(&pattern, &message)?;
    }

    #[test]
    fn prefilter_sound_for_delimited(pattern in delimited_pattern(), message in delimited_message()) {
        sound(&pattern, &message)?;
    }

    #[test]
    fn never_panics(pattern in "[ -~é\\t]{0,40}", message in "[ -~é\\t\\n]{0,60}") {
        if let Ok(p) = FilterPattern::parse(&pattern) {
            let _ = p.matches(&message);
            let _ = p.prefilter().may_match(message.as_bytes());
            if let Some(m) = p.evaluate(&message) {
                let _ = m.extracted_values();
                let _ = m.value("$.a");
                let _ = m.value("$a");
                let _ = m.value("$1");
            }
        }
    }

    #[test]
    fn never_panics_on_structured_text(
        pattern in "[{}\\[\\]$.a-c0-9=!<>&|()%\"*?, -]{0,40}",
        message in "[{}\\[\\]\":,a-c0-9 .-]{0,60}",
    ) {
        if let Ok(p) = FilterPattern::parse(&pattern) {
            let _ = p.matches(&message);
            let _ = p.evaluate(&message).map(|m| m.extracted_values());
        }
    }

    #[test]
    fn parse_is_deterministic(tokens in term_pattern(), spaces in 1usize..4) {
        let one = tokens.join(" ");
        let many = tokens.join(&" ".repeat(spaces));
        let (a, b, c) = (FilterPattern::parse(&one), FilterPattern::parse(&one), FilterPattern::parse(&many));
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
        prop_assert_eq!(format!("{a:?}"), format!("{c:?}"));
    }

    #[test]
    fn parse_is_deterministic_for_structured(pattern in prop_oneof![json_pattern(), delimited_pattern()]) {
        let a = FilterPattern::parse(&pattern);
        let b = FilterPattern::parse(&pattern);
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }
}

#[test]
fn is_clone_send_sync() {
    fn check<T: Clone + std::fmt::Debug + Send + Sync>() {}
    check::<FilterPattern>();
}

#[test]
fn deep_json_and_huge_messages_do_not_panic() {
    let p = FilterPattern::parse("{ $.a NOT EXISTS }").expect("valid");
    let deep = "[".repeat(100_000);
    assert!(!p.matches(&deep));
    let deep_obj = "{\"a\":".repeat(50_000);
    assert!(!p.matches(&deep_obj));
    let huge = "x ".repeat(1 << 20);
    assert!(FilterPattern::parse("[a, ..., b]")
        .expect("valid")
        .matches(&huge));
    assert!(!FilterPattern::parse("ERROR").expect("valid").matches(&huge));
}

#[test]
fn deeply_nested_pattern_is_refused_not_overflowed() {
    let text = format!("{{ {}$.a = 1{} }}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(FilterPattern::parse(&text).is_err());
}

#[test]
fn kinds() {
    let kind = |t: &str| FilterPattern::parse(t).map(|p| p.kind()).ok();
    assert_eq!(kind(""), Some(PatternKind::MatchAll));
    assert_eq!(kind("a"), Some(PatternKind::Terms));
    assert_eq!(kind("%a%"), Some(PatternKind::Regex));
    assert_eq!(kind("{ $.a = 1 }"), Some(PatternKind::Json));
    assert_eq!(kind("[a]"), Some(PatternKind::SpaceDelimited));
}

#[test]
fn error_detail_explains() {
    let e = FilterPattern::parse("{ $.a == 1 }").expect_err("refused");
    assert_eq!(e.to_string(), "Invalid filter pattern");
    assert!(e.detail().contains("=="), "{}", e.detail());
}
