//! Printing: `--json` prints exactly one JSON object on stdout; otherwise a
//! short human summary.

use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("output serialises"));
}

/// "1 transfer", "2 transfers".
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

/// A Unix time in ms as UTC, `2026-12-03 15:55:28.123 UTC`, with how long
/// ago it was (or how far ahead, for a clock that runs fast) from `now_ms`.
pub fn utc_time_ms(ms: u64, now_ms: u64) -> String {
    let secs = ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let relative = if now_ms >= ms {
        format!("{} ago", duration(now_ms - ms))
    } else {
        format!("{} in the future", duration(ms - now_ms))
    };
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC ({relative})",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        ms % 1000
    )
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// "850 ms", "12 s", "5 min", "3 h", "2 d": the largest unit that fits.
pub fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=119_999 => format!("{} s", ms / 1_000),
        120_000..=7_199_999 => format!("{} min", ms / 60_000),
        7_200_000..=172_799_999 => format!("{} h", ms / 3_600_000),
        _ => format!("{} d", ms / 86_400_000),
    }
}

/// Year, month (1..=12) and day (1..=31) of a day count since 1970-01-01
/// (the proleptic Gregorian calendar, by 400-year eras of 146,097 days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_match_known_dates() {
        assert_eq!(utc_time_ms(0, 0), "1970-01-01 00:00:00.000 UTC (0 ms ago)");
        // 2000-02-29 (a leap day in a year divisible by 400) 12:34:56.789.
        assert_eq!(utc_time_ms(951_827_696_789, 951_827_706_789), "2000-02-29 12:34:56.789 UTC (10 s ago)");
        assert_eq!(
            utc_time_ms(1_798_761_600_000, 1_798_761_500_000),
            "2027-01-01 00:00:00.000 UTC (100 s in the future)"
        );
        assert_eq!(civil_from_days(365 * 3 + 1 + 31 + 28), (1973, 3, 1));
    }

    #[test]
    fn counts_and_durations_read_naturally() {
        assert_eq!(count(1, "transfer", "transfers"), "1 transfer");
        assert_eq!(count(0, "transfer", "transfers"), "0 transfers");
        assert_eq!(duration(119_999), "119 s");
        assert_eq!(duration(7_200_000), "2 h");
    }
}
