//! Unix times as people read them, in UTC (pages and mails have no time zone of the reader).

/// `YYYY-MM-DD HH:MM UTC`.
pub fn date_time(ts: i64) -> String {
    let secs = ts.rem_euclid(86400);
    format!(
        "{} {:02}:{:02} UTC",
        date(ts),
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `YYYY-MM-DD` (UTC).
pub fn date(ts: i64) -> String {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm): no chrono needed.
    let z = ts.div_euclid(86400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(date_time(1_767_225_600), "2026-01-01 00:00 UTC");
        assert_eq!(
            date_time(1_767_225_600 + 59 * 86400 + 3661),
            "2026-03-01 01:01 UTC"
        );
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
