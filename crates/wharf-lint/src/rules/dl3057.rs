//! DL3057: a stage without HEALTHCHECK, reported at its FROM, unless it starts from a stage
//! that has one. Off unless `.hadolint.yaml` gives it a level (`override`), as in hadolint.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3057",
    severity: Severity::Info,
    message: "`HEALTHCHECK` instruction missing.",
    fix: "add a HEALTHCHECK the image can run (or HEALTHCHECK NONE)",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    // Names (alias, else image) of the stages with a healthcheck; FROM lines of the others.
    let mut good: Vec<&str> = Vec::new();
    let mut bad: Vec<usize> = Vec::new();
    let mut current: (usize, &str) = (0, "");
    for item in &file.items {
        if let Some(from) = &item.from {
            current = (item.line, from.alias.as_deref().unwrap_or(&from.name));
            if good.contains(&from.name.as_str()) {
                good.push(current.1);
            } else {
                bad.push(item.line);
            }
        } else if matches!(item.instruction, Instruction::Healthcheck(_)) {
            bad.retain(|line| *line != current.0);
            good.push(current.1);
        }
    }
    bad.into_iter().map(Hit::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines_configured;

    const ENABLED: &str = "override:\n  info: [DL3057]\n";

    #[test]
    fn catches_stages_without_healthcheck_when_enabled() {
        let source = "FROM a AS build\nRUN x\nFROM b\nCMD [\"x\"]\n";
        assert_eq!(lines_configured(&RULE, ENABLED, source), [1, 3]);
        assert!(lines_configured(&RULE, "", source).is_empty());
    }

    #[test]
    fn allows_inherited_healthchecks() {
        let source = "FROM a AS base\nHEALTHCHECK NONE\nFROM base\n";
        assert!(lines_configured(&RULE, ENABLED, source).is_empty());
    }
}
