//! Millisecond timestamps: the one time type used inside Watchtrail.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since the Unix epoch (UTC).
///
/// AWS APIs carry seconds (CloudWatch), milliseconds (Logs) or ISO 8601 strings (Query); the wire
/// layer converts at the edge and everything inside uses this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// One second in milliseconds.
    pub const SECOND: i64 = 1_000;
    /// One minute in milliseconds.
    pub const MINUTE: i64 = 60_000;
    /// One hour in milliseconds.
    pub const HOUR: i64 = 3_600_000;
    /// One day in milliseconds.
    pub const DAY: i64 = 86_400_000;

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Largest magnitude accepted from clients, in milliseconds (about ±260,000 years, inside
    /// chrono's range). Arithmetic on timestamps within it cannot overflow.
    pub const MAX_ABS_MILLIS: i64 = 8_200_000_000_000_000;

    /// From whole seconds since the epoch (saturating; for trusted values).
    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(1000))
    }

    /// From whole seconds since the epoch; `None` beyond [`Timestamp::MAX_ABS_MILLIS`].
    pub fn from_secs_checked(s: i64) -> Option<Self> {
        s.checked_mul(1000).filter(|ms| ms.abs() <= Self::MAX_ABS_MILLIS).map(Timestamp)
    }

    /// From fractional seconds since the epoch, rounded to the nearest millisecond; `None` when
    /// the value is not finite or out of range.
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        if !s.is_finite() {
            return None;
        }
        let ms = (s * 1000.0).round();
        if ms.abs() > Self::MAX_ABS_MILLIS as f64 {
            return None;
        }
        Some(Timestamp(ms as i64))
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Fractional seconds since the epoch.
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whole seconds since the epoch (floored).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Rounds down to a multiple of `step_ms` (which must be positive).
    #[inline]
    pub fn floor_to(self, step_ms: i64) -> Self {
        Timestamp(self.0 - self.0.rem_euclid(step_ms))
    }

    /// This timestamp plus `ms` milliseconds (saturating).
    pub fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// As a chrono UTC date-time; `None` when out of chrono's range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.0).single()
    }

    /// ISO 8601 in UTC with `Z`, milliseconds only when non-zero (`2026-01-01T00:00:00Z`).
    pub fn to_iso8601(self) -> String {
        match self.to_datetime() {
            Some(dt) if self.0 % 1000 == 0 => dt.to_rfc3339_opts(SecondsFormat::Secs, true),
            Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => self.0.to_string(),
        }
    }

    /// Parses ISO 8601 / RFC 3339 date-times (with or without offset, fractional seconds
    /// optional); a bare number is read as epoch seconds, as the AWS SDKs accept both.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Some(Timestamp(dt.timestamp_millis()));
        }
        // Without an offset: assume UTC.
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
            if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
                return Some(Timestamp(naive.and_utc().timestamp_millis()));
            }
        }
        if let Ok(date) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return date
                .and_hms_opt(0, 0, 0)
                .map(|d| Timestamp(d.and_utc().timestamp_millis()));
        }
        t.parse::<f64>().ok().and_then(Timestamp::from_secs_f64)
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        let t = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.millis(), 1_767_225_600_000);
        assert_eq!(t.to_iso8601(), "2026-01-01T00:00:00Z");
        let t2 = Timestamp::parse("2026-01-01T00:00:00.250+00:00").unwrap();
        assert_eq!(t2.millis(), 1_767_225_600_250);
        assert_eq!(t2.to_iso8601(), "2026-01-01T00:00:00.250Z");
        assert_eq!(Timestamp::parse("1767225600.5").unwrap().millis(), 1_767_225_600_500);
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00").unwrap(), t);
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn out_of_range_seconds_are_refused() {
        assert!(Timestamp::from_secs_checked(i64::MAX).is_none());
        assert!(Timestamp::from_secs_checked(i64::MIN).is_none());
        assert!(Timestamp::from_secs_f64(1e300).is_none());
        assert_eq!(Timestamp::from_secs_checked(1), Some(Timestamp(1000)));
    }

    #[test]
    fn floor_handles_negative() {
        assert_eq!(Timestamp(-1).floor_to(1000), Timestamp(-1000));
        assert_eq!(Timestamp(61_500).floor_to(60_000), Timestamp(60_000));
    }
}
