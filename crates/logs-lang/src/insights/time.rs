//! Time periods (`5m`, `1h`, `1mo`…), truncation to a period (`bin`, `datefloor`, `dateceil`) and
//! the UTC timestamp text AWS uses in result rows (`2024-01-02 03:04:05.678`).

const MS_PER_DAY: i64 = 86_400_000;

/// The unit of a time period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A time period such as `5m`: an amount (≥ 1) of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    pub(crate) amount: i64,
    pub(crate) unit: Unit,
}

/// Reads a unit. The stats page lists `millisecond ms msec`, `second s sec`, `minute m min`,
/// `hour h hr`, `day d`, `week w`, `month mo mon`, `quarter q qtr`, `year y yr`, and says an
/// `s` may pluralise every name longer than one character. Case-insensitive (a decision).
pub(crate) fn parse_unit(text: &str) -> Option<Unit> {
    let lower = text.to_ascii_lowercase();
    let base = |s: &str| -> Option<Unit> {
        Some(match s {
            "millisecond" | "ms" | "msec" => Unit::Millisecond,
            "second" | "s" | "sec" => Unit::Second,
            "minute" | "m" | "min" => Unit::Minute,
            "hour" | "h" | "hr" => Unit::Hour,
            "day" | "d" => Unit::Day,
            "week" | "w" => Unit::Week,
            "month" | "mo" | "mon" => Unit::Month,
            "quarter" | "q" | "qtr" => Unit::Quarter,
            "year" | "y" | "yr" => Unit::Year,
            _ => return None,
        })
    };
    if let Some(u) = base(&lower) {
        return Some(u);
    }
    let singular = lower.strip_suffix('s')?;
    if singular.len() > 1 {
        base(singular)
    } else {
        None
    }
}

impl Period {
    /// The fixed length in milliseconds, or `None` for calendar units (month, quarter, year).
    fn fixed_ms(&self) -> Option<i64> {
        let unit = match self.unit {
            Unit::Millisecond => 1,
            Unit::Second => 1_000,
            Unit::Minute => 60_000,
            Unit::Hour => 3_600_000,
            Unit::Day => MS_PER_DAY,
            Unit::Week => 7 * MS_PER_DAY,
            Unit::Month | Unit::Quarter | Unit::Year => return None,
        };
        self.amount.checked_mul(unit)
    }

    fn months(&self) -> i64 {
        let per = match self.unit {
            Unit::Quarter => 3,
            Unit::Year => 12,
            _ => 1,
        };
        self.amount.saturating_mul(per)
    }

    /// The start of the period containing `t`. Fixed periods are aligned on the epoch, except
    /// weeks, which start on Monday 00:00 UTC; months, quarters and years are calendar-aligned
    /// (a `2mo` bin starts in January, March, May…; a quarter in January, April, July, October).
    pub(crate) fn floor(&self, t: i64) -> Option<i64> {
        match self.fixed_ms() {
            Some(len) if len > 0 => {
                // 1970-01-05 was a Monday.
                let origin = if self.unit == Unit::Week {
                    4 * MS_PER_DAY
                } else {
                    0
                };
                let shifted = t.checked_sub(origin)?;
                shifted
                    .div_euclid(len)
                    .checked_mul(len)?
                    .checked_add(origin)
            }
            Some(_) => None,
            None => {
                let n = self.months();
                if n <= 0 {
                    return None;
                }
                let (y, m, _) = civil_from_days(t.div_euclid(MS_PER_DAY));
                let month_index = y.checked_mul(12)?.checked_add(m - 1)?;
                let start = month_index.div_euclid(n).checked_mul(n)?;
                let days = days_from_civil(start.div_euclid(12), start.rem_euclid(12) + 1, 1);
                days.checked_mul(MS_PER_DAY)
            }
        }
    }

    /// The smallest period boundary at or after `t`.
    pub(crate) fn ceil(&self, t: i64) -> Option<i64> {
        let f = self.floor(t)?;
        if f == t {
            return Some(t);
        }
        match self.fixed_ms() {
            Some(len) => f.checked_add(len),
            None => {
                let n = self.months();
                let (y, m, _) = civil_from_days(f.div_euclid(MS_PER_DAY));
                let next = (y * 12 + m - 1).checked_add(n)?;
                days_from_civil(next.div_euclid(12), next.rem_euclid(12) + 1, 1)
                    .checked_mul(MS_PER_DAY)
            }
        }
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2024-01-02 03:04:05.678`: how AWS renders `@timestamp`, `@ingestionTime` and `bin()` values.
pub(crate) fn format_timestamp(t: i64) -> String {
    let days = t.div_euclid(MS_PER_DAY);
    let ms_of_day = t.rem_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}.{ms:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_bins() {
        // 2024-01-02 03:04:05.678 UTC
        let t = 1_704_164_645_678;
        assert_eq!(format_timestamp(t), "2024-01-02 03:04:05.678");
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999");
        let p = |amount, unit| Period { amount, unit };
        let f = |per: Period| format_timestamp(per.floor(t).unwrap());
        assert_eq!(f(p(5, Unit::Minute)), "2024-01-02 03:00:00.000");
        assert_eq!(f(p(1, Unit::Week)), "2024-01-01 00:00:00.000");
        assert_eq!(f(p(1, Unit::Month)), "2024-01-01 00:00:00.000");
        assert_eq!(f(p(1, Unit::Quarter)), "2024-01-01 00:00:00.000");
        assert_eq!(
            format_timestamp(p(1, Unit::Month).ceil(t).unwrap()),
            "2024-02-01 00:00:00.000"
        );
        assert_eq!(parse_unit("hrs"), Some(Unit::Hour));
        assert_eq!(parse_unit("ss"), None);
    }
}
