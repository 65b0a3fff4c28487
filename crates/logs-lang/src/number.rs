//! The number grammar shared by filter patterns, messages and Logs Insights values: an
//! optional sign, digits with an optional fraction, and an optional exponent (`+1000`,
//! `-3.5`, `10e-3`, `.5`).

/// Parses `text` as a whole if it follows the number grammar (an exponent too large gives
/// an infinity; callers that need finite numbers filter them).
///
/// Refuses what `f64::from_str` would also take but a log number never spells
/// (`inf`, `NaN`, empty mantissas, surrounding spaces).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn grammar() {
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("+1000"), Some(1000.0));
        assert_eq!(parse_number("-3.5"), Some(-3.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("10e-3"), Some(0.01));
        for bad in [
            "", "+", ".", "1e", "e3", "inf", "NaN", " 1", "1 ", "0x10", "1.2.3", "4*",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
