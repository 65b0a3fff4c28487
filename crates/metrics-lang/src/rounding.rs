//! CloudWatch's StartTime rounding (reference `cloudwatch.md` §1.7).

use watchtrail_core::Timestamp;

/// CloudWatch's StartTime rounding: down to the minute when less than 15 days old, to 5 minutes
/// when 15–63 days old, to the hour when older; with a period of 1/5/10/20/30 s, down to that
/// many seconds instead (reference §1.7).
pub fn round_start(start: Timestamp, period_s: i64, now: Timestamp) -> Timestamp {
    let age = now.millis() - start.millis();
    let step = if period_s < 60 {
        period_s * 1000
    } else if age > 63 * Timestamp::DAY {
        Timestamp::HOUR
    } else if age > 15 * Timestamp::DAY {
        5 * Timestamp::MINUTE
    } else {
        Timestamp::MINUTE
    };
    start.floor_to(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_rounding_by_age() {
        let now = Timestamp::from_secs(100 * 86_400);
        let t = Timestamp::from_secs(99 * 86_400 + 12 * 3600 + 32 * 60 + 34);
        assert_eq!(round_start(t, 60, now), Timestamp::from_secs(99 * 86_400 + 12 * 3600 + 32 * 60));
        assert_eq!(round_start(t, 10, now), Timestamp::from_secs(99 * 86_400 + 12 * 3600 + 32 * 60 + 30));
        let old = Timestamp::from_secs(70 * 86_400 + 12 * 3600 + 32 * 60 + 34);
        assert_eq!(round_start(old, 60, now), Timestamp::from_secs(70 * 86_400 + 12 * 3600 + 30 * 60));
        let older = Timestamp::from_secs(30 * 86_400 + 12 * 3600 + 32 * 60 + 34);
        assert_eq!(round_start(older, 60, now), Timestamp::from_secs(30 * 86_400 + 12 * 3600));
    }
}
