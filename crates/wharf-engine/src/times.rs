//! Docker's time arguments: `--since` and `--until` of `logs`, `events` and `compose
//! events`, parsed once here for every front end.

/// Docker's times for `logs --since/--until` and `events`: a duration before `now` (`10m`), RFC 3339
/// (`2026-01-02T15:04:05Z`, also without zone or time of day: then UTC, where Docker takes
/// local time), or Unix seconds with an optional fraction (`1767366245.5`).
pub fn parse_time(text: &str, now: time::OffsetDateTime) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    if text != "0" {
        if let Ok(duration) = crate::parse_duration(text) {
            return time::Duration::try_from(duration)
                .ok()
                .and_then(|duration| now.checked_sub(duration))
                .ok_or_else(|| format!("{text} before now is earlier than any time"));
        }
    }
    if let Ok(time) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(time) = time::PrimitiveDateTime::parse(text, &local) {
        return Ok(time.assume_utc());
    }
    if let Ok(date) = time::Date::parse(text, &format_description!("[year]-[month]-[day]")) {
        return Ok(date.midnight().assume_utc());
    }
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let valid_fraction = fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit());
    match (seconds.parse::<i64>(), valid_fraction) {
        (Ok(seconds), true) => {
            let nanos: i128 = format!("{fraction:0<9}").parse().unwrap_or(0);
            time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(seconds) * 1_000_000_000 + nanos,
            )
            .map_err(|e| e.to_string())
        }
        _ => Err("not a time".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_times_parse_like_dockers() {
        let now = time::macros::datetime!(2026-01-02 15:04:05 UTC);
        let at = |text| parse_time(text, now);
        assert_eq!(
            at("10m"),
            Ok(time::macros::datetime!(2026-01-02 14:54:05 UTC))
        );
        assert_eq!(
            at("1h30m"),
            Ok(time::macros::datetime!(2026-01-02 13:34:05 UTC))
        );
        assert_eq!(
            at("2026-01-02T15:04:05.5+01:00"),
            Ok(time::macros::datetime!(2026-01-02 14:04:05.5 UTC))
        );
        assert_eq!(at("2026-01-02T15:04:05"), Ok(now));
        assert_eq!(
            at("2026-01-02"),
            Ok(time::macros::datetime!(2026-01-02 0:00 UTC))
        );
        assert_eq!(at("1767366245"), Ok(now));
        assert_eq!(
            at("1767366245.25"),
            Ok(time::macros::datetime!(2026-01-02 15:04:05.25 UTC))
        );
        assert_eq!(at("0"), Ok(time::OffsetDateTime::UNIX_EPOCH));
        assert!(at("yesterday").is_err());
        assert!(at("12.x").is_err());
    }

    /// A duration longer than the time since year -9999 panicked in the subtraction.
    #[test]
    fn durations_before_the_first_time_are_refused_not_a_panic() {
        let now = time::macros::datetime!(2026-01-02 15:04:05 UTC);
        let error = parse_time("10000000000h", now).unwrap_err();
        assert!(error.contains("10000000000h"), "{error}");
    }
}
