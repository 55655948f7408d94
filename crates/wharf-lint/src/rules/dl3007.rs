//! DL3007: FROM `:latest` (a digest beside it pins it).

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3007",
    severity: Severity::Warning,
    message: "Using latest is prone to errors if the image will ever update. Pin the version explicitly to a release tag",
    fix: "replace :latest with a release tag, e.g. python:3.12-slim",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        item.from
            .as_ref()
            .is_some_and(|from| from.tag.as_deref() == Some("latest") && from.digest.is_none())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_latest() {
        assert_eq!(lines(&RULE, "FROM python:latest\n"), [1]);
    }

    #[test]
    fn allows_pinned_latest_and_tags() {
        assert!(lines(&RULE, "FROM python:latest@sha256:00\nFROM python:3.12\n").is_empty());
    }
}
