//! Calendar dates in UTC without a time crate: file names, metadata and date filters.

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            era * 400 + yoe + 1
        } else {
            era * 400 + yoe
        },
        m,
        d,
    )
}

/// A UTC time in ms as (year, month, day, hour, minute, second).
pub fn utc_parts(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// RFC 3339 in UTC.
pub fn rfc3339(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// A calendar date to days since 1970-01-01 (the inverse of [`civil_from_days`]).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` to the start of that day, ms since the Unix epoch (UTC).
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || civil_from_days(days_from_civil(y, m, d)) != (y, m, d)
    {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400_000)
}

/// Why `text` is not a date, in words with an example, for a date that does not parse.
pub fn date_problem(text: &str) -> String {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let numbers: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    match (parts.as_slice(), numbers.as_deref()) {
        ([y, m, d], Some([_, month, day])) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            if !(1..=12).contains(month) {
                format!("there is no month {month}; months are 01 to 12, as in 2026-12-01")
            } else {
                format!("that month has no day {day}; write a day it has, as in 2026-12-01")
            }
        }
        _ => "write the date as YYYY-MM-DD, as in 2026-12-01".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_date_is_told_what_is_wrong() {
        assert!(date_problem("2026-13-01").contains("no month 13"));
        assert!(date_problem("2026-02-30").contains("no day 30"));
        assert!(date_problem("yesterday").contains("YYYY-MM-DD"));
    }

    #[test]
    fn dates_round_trip() {
        for days in [-800_000, -1, 0, 59, 365, 11_016, 20_418, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(parse_date("2026-11-26"), Some(1_795_651_200_000));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
