//! Image references with Docker's normalization rules (distribution/reference):
//! `python` is stored as `docker.io/library/python:latest` and printed back as `python`.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const MAX_NAME_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format: `{0}`")]
    InvalidFormat(String),
    #[error("invalid reference format: repository name `{0}` must be lowercase")]
    NameNotLowercase(String),
    #[error("invalid repository name `{0}`: cannot specify 64-byte hexadecimal strings")]
    IdAsName(String),
    #[error("invalid reference format: repository name `{0}` is longer than 255 characters")]
    NameTooLong(String),
    #[error("invalid tag `{0}`: a tag is at most 128 characters of [A-Za-z0-9_.-] not starting with `.` or `-`")]
    InvalidTag(String),
    #[error("invalid reference `{reference}`: {source}")]
    InvalidDigest {
        reference: String,
        source: crate::digest::DigestError,
    },
}

/// A fully qualified image reference: `domain/path[:tag][@digest]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference as a user types it and normalizes it as Docker does. A reference
    /// with neither tag nor digest gets the tag `latest`.
    pub fn parse_normalized(text: &str) -> Result<Self, ReferenceError> {
        let mut reference = Self::parse_normalized_name(text)?;
        if reference.tag.is_none() && reference.digest.is_none() {
            reference.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(reference)
    }

    /// Like [`Self::parse_normalized`] but leaves a missing tag missing (for `pull -a`,
    /// filters, or matching every tag of a repository).
    pub fn parse_normalized_name(text: &str) -> Result<Self, ReferenceError> {
        if Digest::from_hex(text).is_ok() {
            return Err(ReferenceError::IdAsName(text.to_string()));
        }
        let (domain, remainder) = split_domain(text);
        let (name_and_tag, digest) = match remainder.split_once('@') {
            Some((name, digest)) => {
                let digest = digest
                    .parse()
                    .map_err(|source| ReferenceError::InvalidDigest {
                        reference: text.to_string(),
                        source,
                    })?;
                (name, Some(digest))
            }
            None => (remainder.as_str(), None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        validate_domain(&domain, text)?;
        validate_path(path, text)?;
        if domain.len() + 1 + path.len() > MAX_NAME_LENGTH {
            return Err(ReferenceError::NameTooLong(format!("{domain}/{path}")));
        }
        Ok(Self {
            domain,
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `domain/path`, the repository without tag or digest.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository as Docker prints it: `python` for `docker.io/library/python`.
    pub fn familiar_repository(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.repository();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The whole reference as Docker prints it: `python:3.11-slim`.
    pub fn familiar(&self) -> String {
        self.render(self.familiar_repository())
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        validate_tag(tag)?;
        Ok(Self {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository pinned to `digest`, without a tag: Docker's repo digest form.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    fn render(&self, repository: String) -> String {
        let mut text = repository;
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(&digest.to_string());
        }
        text
    }
}

/// Splits off the registry host the way Docker does: the first component is a host only if
/// it contains `.` or `:`, is `localhost`, or has uppercase letters.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let valid = !tag.is_empty()
        && tag.len() <= MAX_TAG_LENGTH
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !tag.starts_with(['.', '-']);
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::InvalidTag(tag.to_string()))
    }
}

/// A host name (labels of alphanumerics and inner dashes), an IPv6 literal in brackets, or
/// either followed by `:port`.
fn validate_domain(domain: &str, reference: &str) -> Result<(), ReferenceError> {
    let invalid = || ReferenceError::InvalidFormat(reference.to_string());
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (ipv6, after) = rest.split_once(']').ok_or_else(invalid)?;
        if ipv6.is_empty() || !ipv6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(invalid());
        }
        (
            None,
            after
                .strip_prefix(':')
                .map(Some)
                .unwrap_or_else(|| (!after.is_empty()).then_some("")),
        )
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if !host.split('.').all(label_ok) {
            return Err(invalid());
        }
    }
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
    }
    Ok(())
}

/// Path components: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`.
fn validate_path(path: &str, reference: &str) -> Result<(), ReferenceError> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceError::NameNotLowercase(reference.to_string()));
    }
    let component_ok = |component: &str| {
        let bytes = component.as_bytes();
        if bytes.is_empty()
            || !bytes[0].is_ascii_alphanumeric()
            || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
        {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_lowercase() || b.is_ascii_digit() {
                i += 1;
                continue;
            }
            // A separator: `.`, `_`, `__`, or one or more `-`.
            let start = i;
            match b {
                b'.' => i += 1,
                b'_' => {
                    i += if bytes.get(i + 1) == Some(&b'_') {
                        2
                    } else {
                        1
                    }
                }
                b'-' => {
                    while bytes.get(i) == Some(&b'-') {
                        i += 1;
                    }
                }
                _ => return false,
            }
            if i == start
                || !bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                return false;
            }
        }
        true
    };
    if path.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(ReferenceError::InvalidFormat(reference.to_string()))
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_normalized(s)
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form, as stored.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.repository()))
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, fully qualified, familiar) as Docker's `ParseNormalizedNamed` + `TagNameOnly`
    /// and `FamiliarString` print them.
    const NORMALIZED: &[(&str, &str, &str)] = &[
        ("python", "docker.io/library/python:latest", "python:latest"),
        ("python:3.11-slim", "docker.io/library/python:3.11-slim", "python:3.11-slim"),
        ("library/python", "docker.io/library/python:latest", "python:latest"),
        ("docker.io/python", "docker.io/library/python:latest", "python:latest"),
        ("index.docker.io/library/python:3", "docker.io/library/python:3", "python:3"),
        ("user/app", "docker.io/user/app:latest", "user/app:latest"),
        ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("ghcr.io/org/team/app:1.0", "ghcr.io/org/team/app:1.0", "ghcr.io/org/team/app:1.0"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
        ("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest"),
        ("my-app.v2/x__y-z", "my-app.v2/x__y-z:latest", "my-app.v2/x__y-z:latest"),
        ("a--b", "docker.io/library/a--b:latest", "a--b:latest"),
        (
            "python@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "docker.io/library/python@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "python@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "python:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "docker.io/library/python:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "python:3@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
    ];

    #[test]
    fn normalizes_like_docker() {
        for (input, full, familiar) in NORMALIZED {
            let reference =
                Reference::parse_normalized(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(reference.to_string(), *full, "full form of {input}");
            assert_eq!(reference.familiar(), *familiar, "familiar form of {input}");
        }
    }

    #[test]
    fn rejects_what_docker_rejects() {
        let invalid = [
            "",
            "Python",
            "docker.io/Library/python",
            "python:",
            "python:-x",
            "python:.x",
            "a/b/",
            "/a",
            "a//b",
            "a_",
            "-a",
            "a...b",
            "a___b",
            "host:port/x",
            "-host.com/x",
            "python@sha256:abc",
            "python@md5:abc",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "py thon",
            "my_app.v2/x",
        ];
        for input in invalid {
            assert!(
                Reference::parse_normalized(input).is_err(),
                "{input:?} should be rejected"
            );
        }
        let long_tag = format!("a:{}", "x".repeat(129));
        assert!(Reference::parse_normalized(&long_tag).is_err());
        let long_name = "a".repeat(250);
        assert!(Reference::parse_normalized(&long_name).is_err());
    }

    #[test]
    fn uppercase_error_names_the_problem() {
        let error = Reference::parse_normalized("MyApp").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid reference format: repository name `MyApp` must be lowercase"
        );
    }

    #[test]
    fn name_without_tag_stays_untagged() {
        let reference = Reference::parse_normalized_name("python").unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.familiar(), "python");
        assert_eq!(reference.with_tag("3").unwrap().familiar(), "python:3");
    }
}
