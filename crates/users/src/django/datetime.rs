//! Django's JSON datetimes: what `DjangoJSONEncoder` writes and what `parse_datetime` reads back.

use chrono::{Duration, NaiveDateTime, Timelike};

/// `2026-11-28T19:13:00.243Z`: ISO 8601 in UTC, truncated to milliseconds and without a fraction
/// when the microseconds are zero, byte for byte what Django's `dumpdata` writes for a UTC time.
pub fn format(at: NaiveDateTime) -> String {
    let seconds = at.format("%Y-%m-%dT%H:%M:%S");
    // `% 1e9`: chrono marks a leap second with nanoseconds past one second.
    let micros = (at.nanosecond() % 1_000_000_000) / 1_000;
    if micros == 0 {
        format!("{seconds}Z")
    } else {
        format!("{seconds}.{:03}Z", micros / 1_000)
    }
}

/// Reads an ISO 8601 date and time into naive UTC, as the database stores it. Accepts what
/// Django's dumpdata writes and what its `parse_datetime` commonly reads: `T` or a space between
/// date and time, optional seconds and fraction, and an offset of `Z`, `±HH:MM`, `±HHMM` or
/// `±HH`, which is applied. A time without an offset (a project with `USE_TZ = False`) is taken
/// as UTC. Digits past the microsecond are dropped, as Python's datetime has none.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let (local, offset_seconds) = split_offset(text)?;
    let local = parse_local(local)?;
    let micros = local.nanosecond() / 1_000 * 1_000;
    let local = local.with_nanosecond(micros)?;
    local.checked_sub_signed(Duration::seconds(offset_seconds.into()))
}

/// Splits `text` into the local date-time and its offset east of UTC in seconds (0 for `Z` or
/// none). The offset sign can only appear after the date, in the time part.
fn split_offset(text: &str) -> Option<(&str, i32)> {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return Some((local, 0));
    }
    let time_start = text.char_indices().nth(11).map_or(text.len(), |(i, _)| i);
    let Some(sign_at) = text[time_start..].find(['+', '-']).map(|i| i + time_start) else {
        return Some((text, 0));
    };
    let (local, offset) = text.split_at(sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let body = &offset[1..];
    // ASCII only from here, so the slicing below stays on character boundaries.
    if !body.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match (body.len(), body.find(':')) {
        (2, None) => (body, "0"),
        (4, None) => body.split_at(2),
        (5, Some(2)) => (&body[..2], &body[3..]),
        _ => return None,
    };
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((local, sign * (hours * 3600 + minutes * 60)))
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    // The date part is ASCII in every accepted form, so byte 10 is the separator.
    let separator = text.as_bytes().get(10)?;
    if !matches!(separator, b'T' | b't' | b' ') {
        return None;
    }
    let normalised = format!("{}T{}", text.get(..10)?, text.get(11..)?);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&normalised, f).ok())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(h: u32, m: u32, s: u32, micro: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_micro_opt(h, m, s, micro))
            .unwrap()
    }

    #[test]
    fn formats_like_django_json_encoder() {
        assert_eq!(format(at(19, 13, 0, 243_000)), "2026-11-28T19:13:00.243Z");
        assert_eq!(format(at(19, 13, 0, 243_999)), "2026-11-28T19:13:00.243Z");
        // isoformat() omits a zero fraction; a non-zero one under a millisecond is ".000".
        assert_eq!(format(at(19, 13, 0, 0)), "2026-11-28T19:13:00Z");
        assert_eq!(format(at(19, 13, 0, 500)), "2026-11-28T19:13:00.000Z");
    }

    #[test]
    fn parses_what_django_writes() {
        assert_eq!(
            parse("2026-11-28T19:13:00.243Z"),
            Some(at(19, 13, 0, 243_000))
        );
        assert_eq!(parse("2026-11-28T19:13:00Z"), Some(at(19, 13, 0, 0)));
        assert_eq!(
            parse("2026-11-28T19:13:00.123456Z"),
            Some(at(19, 13, 0, 123_456))
        );
    }

    #[test]
    fn applies_offsets() {
        let utc = Some(at(17, 13, 0, 243_000));
        for text in [
            "2026-11-28T19:13:00.243+02:00",
            "2026-11-28T19:13:00.243+0200",
            "2026-11-28T19:13:00.243+02",
            "2026-11-28 19:13:00.243+02:00",
            "2026-11-28T15:43:00.243-01:30",
            "2026-11-28T17:13:00.243+00:00",
            "2026-11-28T17:13:00.243-00:00",
        ] {
            assert_eq!(parse(text), utc, "{text}");
        }
        // Across midnight.
        assert_eq!(
            parse("2026-11-29T01:00:00+02:00"),
            NaiveDate::from_ymd_opt(2026, 11, 28).and_then(|d| d.and_hms_opt(23, 0, 0))
        );
    }

    #[test]
    fn naive_is_utc_and_extra_digits_are_dropped() {
        assert_eq!(
            parse("2026-11-28T19:13:00.243"),
            Some(at(19, 13, 0, 243_000))
        );
        assert_eq!(parse("2026-11-28 19:13"), Some(at(19, 13, 0, 0)));
        assert_eq!(
            parse("2026-11-28T19:13:00.123456789Z"),
            Some(at(19, 13, 0, 123_456))
        );
    }

    #[test]
    fn round_trips_at_millisecond_precision() {
        for micro in [0, 1_000, 243_000, 999_000] {
            let t = at(23, 59, 59, micro);
            assert_eq!(parse(&format(t)), Some(t));
        }
    }

    #[test]
    fn rejects_non_datetimes() {
        for text in [
            "",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-28T25:00:00Z",
            "2026-11-28X19:13:00Z",
            "28/11/2026 19:13",
            "2026-11-28T19:13:00+2",
            "2026-11-28T19:13:00+24:00",
            "2026-11-28T19:13:00+02:60",
            "2026-11-28T19:13:00+0:200",
            "2026-11-28T19:13:00+02:0:",
            "2026-11-28T19:13:00+1é2",
            "2026-11-28T19:13:00ZZ",
            "2026-11-28T19:13:00 Z",
            "2026-11-28T19:13:00é",
            "2026-11-2é19:13:00",
            "yesterday",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
