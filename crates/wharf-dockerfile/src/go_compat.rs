//! Small pieces of Go's standard library whose exact behavior BuildKit's output depends on:
//! `strconv.Quote` (the parse-tree dump), `strconv.ParseBool`, `time.ParseDuration`, and
//! `go-units`' `RAMInBytes` (tmpfs sizes).

use std::time::Duration;

/// `strconv.Quote`: a double-quoted string with Go escapes; printable characters stay as
/// they are.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ if is_printable(ch) => out.push(ch),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            _ if ch < ' ' || ch == '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(ch))),
            _ if u32::from(ch) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            _ => out.push_str(&format!("\\U{:08x}", u32::from(ch))),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
/// Without Unicode category tables this excludes controls, separators, the format and
/// private-use characters and noncharacters; other unassigned code points count as printable.
fn is_printable(ch: char) -> bool {
    if ch == ' ' {
        return true;
    }
    if ch.is_control() || ch.is_whitespace() {
        return false;
    }
    let code = u32::from(ch);
    let format = matches!(
        code,
        0xad | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x890..=0x891
            | 0x8e2
            | 0x180e
            | 0x200b..=0x200f
            | 0x202a..=0x202e
            | 0x2060..=0x2064
            | 0x2066..=0x206f
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x1343f
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
    );
    let private_use = matches!(code, 0xe000..=0xf8ff | 0xf0000..=0xffffd | 0x100000..=0x10fffd);
    let noncharacter = matches!(code, 0xfdd0..=0xfdef) || code & 0xfffe == 0xfffe;
    !(format || private_use || noncharacter)
}

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A duration as Go's `time.ParseDuration` reads it (`300ms`, `1.5h`, `1h2m3s`, `-2s`, `0`),
/// in nanoseconds; `None` when it is not one.
pub(crate) fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let integer_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (integer, after) = rest.split_at(integer_len);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(after.bytes().take_while(u8::is_ascii_digit).count()),
            None => ("", after),
        };
        if integer.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|ch: char| ch == '.' || ch.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let nanos_per_unit: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: i128 = if integer.is_empty() {
            0
        } else {
            integer.parse().ok()?
        };
        let mut value = whole.checked_mul(nanos_per_unit)?;
        if !fraction.is_empty() {
            // Like Go, digits beyond what a 64-bit value can hold do not count.
            let digits = &fraction[..fraction.len().min(18)];
            let scale = 10_i128.pow(u32::try_from(digits.len()).ok()?);
            value += digits.parse::<i128>().ok()? * nanos_per_unit / scale;
        }
        total = total.checked_add(value)?;
        if total > i128::from(i64::MAX) {
            return None;
        }
        rest = after;
    }
    Some(if negative { -total } else { total })
}

/// A positive duration from nanoseconds, `None` for zero or less.
pub(crate) fn positive_duration(nanos: i128) -> Option<Duration> {
    u64::try_from(nanos)
        .ok()
        .filter(|&nanos| nanos > 0)
        .map(Duration::from_nanos)
}

/// `units.RAMInBytes`: a size like `64m`, `1.5g`, `512KiB` or `1024`, with 1024-based units.
pub(crate) fn ram_in_bytes(text: &str) -> Option<i64> {
    let number_len = text
        .find(|ch: char| !ch.is_ascii_digit() && ch != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_len);
    if !number.starts_with(|ch: char| ch.is_ascii_digit()) || number.ends_with('.') {
        return None;
    }
    let suffix = suffix
        .strip_prefix(' ')
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    let mut suffix = suffix.as_str();
    let mut multiplier: f64 = 1.0;
    if let Some(unit) = suffix.chars().next() {
        if let Some(power) = "kmgtp".find(unit) {
            multiplier = 1024_f64.powi(i32::try_from(power).ok()? + 1);
            suffix = &suffix[1..];
        }
    }
    let suffix = suffix.strip_prefix('i').unwrap_or(suffix);
    let suffix = suffix.strip_prefix('b').unwrap_or(suffix);
    if !suffix.is_empty() {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    // Truncation toward zero is what Go's int64 conversion does.
    Some((value * multiplier) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            quote("\" \\ / \u{8} \u{c} \n \r \t \u{0}"),
            r#""\" \\ / \b \f \n \r \t \x00""#
        );
        assert_eq!(quote("♥ ☃ 한국어"), "\"♥ ☃ 한국어\"");
        assert_eq!(
            quote("\u{a0}\u{200b}\u{7f}\u{e000}"),
            r#""\u00a0\u200b\x7f\ue000""#
        );
        assert_eq!(quote("\u{f0000}"), r#""\U000f0000""#);
    }

    #[test]
    fn bools_like_strconv() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("5s"), Some(5_000_000_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration(".5ms"), Some(500_000));
        assert_eq!(parse_duration("-2s"), Some(-2_000_000_000));
        assert_eq!(parse_duration("300µs"), Some(300_000));
        for invalid in ["", "5", "s", "5x", ".s", "1.5", "-", "99999999999h"] {
            assert_eq!(parse_duration(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn ram_sizes_like_go_units() {
        assert_eq!(ram_in_bytes("1024"), Some(1024));
        assert_eq!(ram_in_bytes("64m"), Some(64 << 20));
        assert_eq!(ram_in_bytes("1.5g"), Some(3 << 29));
        assert_eq!(ram_in_bytes("512KiB"), Some(512 << 10));
        assert_eq!(ram_in_bytes("2 GB"), Some(2 << 30));
        for invalid in ["", "m", "1x", "1.", "1.2.3", "-1"] {
            assert_eq!(ram_in_bytes(invalid), None, "{invalid}");
        }
    }
}
