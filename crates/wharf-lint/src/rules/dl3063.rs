//! DL3063: a stage named like a reserved word (`scratch`, `context`).

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3063",
    severity: Severity::Warning,
    message: "stage name should not be a reserved word",
    fix: "rename the stage",
    buildkit: Some("ReservedStageName"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        item.from
            .as_ref()
            .and_then(|from| from.alias.as_deref())
            .is_some_and(|alias| alias == "scratch" || alias == "context")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_reserved_names() {
        assert_eq!(
            lines(&RULE, "FROM a AS scratch\nFROM b AS context\n"),
            [1, 2]
        );
    }

    #[test]
    fn allows_other_names() {
        assert!(lines(&RULE, "FROM a AS build\n").is_empty());
    }
}
