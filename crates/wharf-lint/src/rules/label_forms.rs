//! The forms of label values `label-schema` can ask for, checked as hadolint's libraries
//! check them: an absolute URI (RFC 3986), an RFC 3339 time, a semantic version, a git
//! hash, an RFC 5322 address.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An absolute URI: a scheme, `:`, then only characters a URI may hold, `%` escapes whole.
pub fn is_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let bytes = rest.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let escaped = bytes.get(index + 1..index + 3);
            if !escaped.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        if !(byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#[]".contains(&byte)) {
            return false;
        }
        index += 1;
    }
    scheme_ok && rest.matches('#').count() <= 1
}

/// One license id of the SPDX list, as Cabal parses one (no `+`, no expression).
pub fn is_spdx_id(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && spdx::license_id(value).is_some()
}

pub fn is_rfc3339(value: &str) -> bool {
    OffsetDateTime::parse(value, &Rfc3339).is_ok()
}

/// `MAJOR.MINOR.PATCH`, then `-pre.release` and `+build` identifiers.
pub fn is_semver(value: &str) -> bool {
    let (rest, build) = match value.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (value, None),
    };
    // hadolint's semver library takes an empty pre-release (`1.2.3-`).
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre).filter(|pre| !pre.is_empty())),
        None => (rest, None),
    };
    let identifiers = |text: &str| {
        text.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|number| !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
        && pre.is_none_or(identifiers)
        && build.is_none_or(identifiers)
}

/// 7 or 40 lowercase hex digits.
pub fn is_git_hash(value: &str) -> bool {
    (value.len() == 7 || value.len() == 40)
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// `local@domain`: dot-separated atoms (or a quoted string) before the `@`, a host name
/// (or a `[literal]`) after it.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let dot_atom = |text: &str, allowed: &dyn Fn(char) -> bool| {
        text.split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(allowed))
    };
    let local_ok = if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        local[1..local.len() - 1]
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '"')
    } else {
        dot_atom(local, &atext)
    };
    // Host names: letters, digits and inner hyphens; a final dot is allowed.
    let host = domain.strip_suffix('.').unwrap_or(domain);
    let domain_ok = if domain.starts_with('[') && domain.ends_with(']') {
        domain.len() > 2
    } else {
        dot_atom(host, &|c: char| c.is_ascii_alphanumeric() || c == '-')
            && host
                .split('.')
                .all(|label| !label.starts_with('-') && !label.ends_with('-'))
    };
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert!(is_url("https://example.com/a?b=c#d"));
        assert!(!is_url("example.com"));
        assert!(!is_url("https://exa mple.com"));
        assert!(is_rfc3339("2024-01-31T12:00:00Z"));
        assert!(is_rfc3339("2024-01-31T12:00:00.5+01:00"));
        assert!(!is_rfc3339("2024-01-31"));
        assert!(is_semver("1.2.3-rc.1+build.5"));
        assert!(!is_semver("1.2"));
        assert!(!is_semver("v1.2.3"));
        assert!(is_git_hash("0123abc"));
        assert!(!is_git_hash("0123ABC"));
        assert!(is_email("first.last+tag@example.com"));
        assert!(!is_email("first last@example.com"));
        assert!(!is_email("example.com"));
        assert!(is_email("ops@acme.example."));
        assert!(!is_email("ops@-acme.example"));
        assert!(is_email("\"first last\"@acme.example"));
        assert!(is_semver("1.2.3-"));
        assert!(is_spdx_id("GPL-3.0-or-later"));
        assert!(!is_spdx_id("GPL-2.0+"));
        assert!(!is_spdx_id("MIT OR Apache-2.0"));
    }
}
