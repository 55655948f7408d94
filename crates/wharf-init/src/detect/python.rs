//! The Python version of the image: `.python-version`, `requires-python`, `runtime.txt`,
//! the Pipfile's `python_version`, Poetry's `python` constraint; else the newest version
//! wharf's test fixtures provide.

use super::deps::toml_value;
use crate::project::ProjectFiles;

/// The version used when the project names none.
pub const DEFAULT_PYTHON: &str = "3.11";

/// Versions an official `python:X.Y-slim` image exists for, newest first.
const KNOWN: &[&str] = &["3.13", "3.12", "3.11", "3.10", "3.9", "3.8"];

/// `3.12` from `3.12.4`, `python-3.12.4`, `^3.12`, `>=3.12`.
fn major_minor(text: &str) -> Option<String> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let mut parts = text[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?;
    let minor = parts.next().filter(|minor| !minor.is_empty())?;
    Some(format!("{major}.{minor}"))
}

/// `3`, `3.12` or `3.12.4`: what a `python:<version>-slim` tag is made of.
pub fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

fn version_key(version: &str) -> (u32, u32) {
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

/// The newest known version that satisfies every clause of a specifier (`>=3.10,<3.13`).
fn newest_satisfying(spec: &str) -> Option<String> {
    KNOWN
        .iter()
        .find(|candidate| {
            spec.split(',').all(|clause| {
                let clause = clause.trim();
                let Some(bound) = major_minor(clause) else {
                    return true;
                };
                let (have, want) = (version_key(candidate), version_key(&bound));
                if clause.starts_with(">=") {
                    have >= want
                } else if clause.starts_with('>') {
                    have > want
                } else if clause.starts_with("<=") {
                    have <= want
                } else if clause.starts_with('<') {
                    have < want
                } else if clause.starts_with("!=") {
                    have != want
                } else {
                    // ==, ~=, ^ and bare versions: that minor version (or newer for ~=/^).
                    have == want
                        || ((clause.starts_with("~=") || clause.starts_with('^'))
                            && have > want
                            && have.0 == want.0)
                }
            })
        })
        .map(|version| version.to_string())
}

pub fn python(files: &ProjectFiles) -> (String, String) {
    if let Some(version) = files
        .read(".python-version")
        .and_then(|text| text.lines().next().and_then(major_minor))
    {
        return (version, "Python: .python-version".to_owned());
    }
    let pyproject = files.read("pyproject.toml").unwrap_or_default();
    if let Some(spec) = toml_value(&pyproject, "[project]", "requires-python") {
        if let Some(version) = newest_satisfying(&spec) {
            return (
                version,
                format!("Python: requires-python = \"{spec}\" in pyproject.toml"),
            );
        }
    }
    if let Some(version) = files
        .read("runtime.txt")
        .and_then(|text| major_minor(&text))
    {
        return (version, "Python: runtime.txt".to_owned());
    }
    if let Some(version) = files
        .read("Pipfile")
        .and_then(|text| toml_value(&text, "[requires]", "python_version"))
        .and_then(|value| major_minor(&value))
    {
        return (version, "Python: python_version in Pipfile".to_owned());
    }
    if let Some(spec) = toml_value(&pyproject, "[tool.poetry.dependencies]", "python") {
        if let Some(version) = newest_satisfying(&spec) {
            return (
                version,
                format!("Python: python = \"{spec}\" in [tool.poetry.dependencies]"),
            );
        }
    }
    (
        DEFAULT_PYTHON.to_owned(),
        format!("Python: {DEFAULT_PYTHON} (the project names no version)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers() {
        assert_eq!(newest_satisfying(">=3.10").as_deref(), Some("3.13"));
        assert_eq!(newest_satisfying(">=3.9,<3.12").as_deref(), Some("3.11"));
        assert_eq!(newest_satisfying("^3.11").as_deref(), Some("3.13"));
        assert_eq!(newest_satisfying("==3.10.*").as_deref(), Some("3.10"));
        assert_eq!(major_minor("python-3.12.4").as_deref(), Some("3.12"));
    }
}
