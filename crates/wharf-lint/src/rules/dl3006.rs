//! DL3006: FROM an image without a tag. `scratch`, digests, `$VAR` images and earlier
//! stages pass.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3006",
    severity: Severity::Warning,
    message: "Always tag the version of an image explicitly",
    fix: "name a version, e.g. FROM python:3.12-slim",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut stages = HashSet::new();
    let mut hits = Vec::new();
    for item in &file.items {
        let Some(from) = &item.from else { continue };
        let untagged = from.name != "scratch"
            && from.digest.is_none()
            && from.tag.is_none()
            && !from.name.starts_with('$')
            && !stages.contains(&from.name);
        if untagged {
            hits.push(item.line.into());
        }
        if let Some(alias) = &from.alias {
            stages.insert(alias.clone());
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_untagged_images() {
        assert_eq!(
            lines(&RULE, "FROM python\nFROM ghcr.io/org/app AS b\n"),
            [1, 2]
        );
    }

    #[test]
    fn allows_tags_digests_stages_and_variables() {
        let source = "FROM python:3.12 AS build\nFROM build\nFROM scratch\nFROM a@sha256:00\nFROM ${BASE}\nFROM localhost:5000/app:1\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
