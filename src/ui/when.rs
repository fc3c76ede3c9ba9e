//! Times as pages and mails show them, in UTC (no time zone is known for the reader).

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

/// `YYYY-MM-DD`.
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
    fn unix_times_read_as_utc_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date_time(1_800_000_000), "2027-01-15 08:00 UTC");
        assert_eq!(date_time(951_782_400 + 3_599), "2000-02-29 00:59 UTC");
    }
}
