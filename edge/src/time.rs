//! Time formatting and parsing. Times are milliseconds since the Unix epoch, passed in by the caller.
use std::time::{Duration, UNIX_EPOCH};

/// RFC 3339 UTC with milliseconds, as JavaScript's `Date.prototype.toISOString` writes it:
/// `2026-12-02T14:18:04.123Z`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// An IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), RFC 9110 §5.6.7.
pub fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

/// An HTTP-date in any of the three forms RFC 9110 accepts, as milliseconds since the epoch.
pub fn parse_http_date(value: &str) -> Option<u64> {
    let t = httpdate::parse_http_date(value.trim()).ok()?;
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(d.as_millis()).ok()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_445_412_480_123), "2015-10-21T07:28:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(http_date(1_445_412_480_999), "Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480_000)
        );
        assert_eq!(
            parse_http_date("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(1_445_412_480_000)
        );
        assert_eq!(
            parse_http_date("Wed Oct 21 07:28:00 2015"),
            Some(1_445_412_480_000)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }

    proptest! {
        #[test]
        fn http_date_round_trips_whole_seconds(s in 0u64..253_402_300_799) {
            prop_assert_eq!(parse_http_date(&http_date(s * 1000)), Some(s * 1000));
        }

        #[test]
        fn iso_agrees_with_http_date(s in 0u64..253_402_300_799) {
            // Both name the same calendar day: the day of month and the year appear in both.
            let iso = iso8601(s * 1000);
            let http = http_date(s * 1000);
            prop_assert!(http.contains(&iso[11..19]), "{} vs {}", iso, http);
            prop_assert!(http.contains(&format!(" {} ", &iso[0..4])), "{} vs {}", iso, http);
            prop_assert!(http.contains(&format!(" {} ", &iso[8..10])), "{} vs {}", iso, http);
        }
    }
}
