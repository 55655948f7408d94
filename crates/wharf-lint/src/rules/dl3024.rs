//! DL3024: two stages with the same name.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3024",
    severity: Severity::Error,
    message: "FROM aliases (stage names) must be unique",
    fix: "give each stage its own name",
    buildkit: Some("DuplicateStageName"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut seen = HashSet::new();
    file.items
        .iter()
        .filter_map(|item| Some((item.line, item.from.as_ref()?.alias.as_ref()?)))
        .filter(|(_, alias)| !seen.insert(alias.as_str()))
        .map(|(line, _)| line.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_repeated_name() {
        assert_eq!(lines(&RULE, "FROM a AS x\nFROM b AS x\n"), [2]);
    }

    #[test]
    fn allows_distinct_names() {
        assert!(lines(&RULE, "FROM a AS x\nFROM b AS y\nFROM c\n").is_empty());
    }
}
