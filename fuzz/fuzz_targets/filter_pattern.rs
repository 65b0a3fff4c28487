//! CloudWatch Logs filter patterns: the first line of the input is the pattern, the rest holds
//! messages separated by NUL bytes. Parsing and matching never panic; a parsed pattern has at
//! most 2 regexes; `evaluate` agrees with `matches`; the prefilter never excludes a match; and
//! extracted values and selectors can be read from every match.
#![no_main]

use libfuzzer_sys::fuzz_target;
use watchtrail_logs_lang::filter::FilterPattern;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (pattern, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(p) = FilterPattern::parse(pattern) else {
        return;
    };
    assert!(p.regex_count() <= 2, "{} regexes accepted", p.regex_count());
    for message in rest.split('\0') {
        let matched = p.matches(message);
        let evaluated = p.evaluate(message);
        assert_eq!(
            matched,
            evaluated.is_some(),
            "evaluate disagrees with matches on {message:?}"
        );
        if matched {
            assert!(
                p.prefilter().may_match(message.as_bytes()),
                "prefilter excludes a match: {message:?}"
            );
        }
        if let Some(m) = evaluated {
            for (key, _) in m.extracted_values() {
                assert!(key.starts_with('$'), "extracted key {key:?}");
                assert!(
                    m.value(&key).is_some(),
                    "extracted {key:?} cannot be read back"
                );
            }
            let _ = m.value("$.a");
            let _ = m.value("$.a[0].b");
            let _ = m.value("$1");
        }
    }
});
