//! DL3002: the last USER of a stage is root. Only an explicit `USER root`/`USER 0` counts: a
//! stage without USER is wharf's own rule (`WP002`).

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3002",
    severity: Severity::Warning,
    message: "Last USER should not be root",
    fix: "switch to an unprivileged user at the end, e.g. USER 10001",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    file.stages()
        .into_iter()
        .filter_map(|stage| {
            let last_user = stage
                .iter()
                .rev()
                .find_map(|item| match &item.instruction {
                    Instruction::User(user) => Some((item.line, user)),
                    _ => None,
                })?;
            is_root(last_user.1).then(|| last_user.0.into())
        })
        .collect()
}

fn is_root(user: &str) -> bool {
    user == "root" || user == "0" || user.starts_with("root:") || user.starts_with("0:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_stage_that_ends_as_root() {
        assert_eq!(
            lines(&RULE, "FROM a\nUSER app\nUSER root\nFROM b\nUSER 0:0\n"),
            [3, 5]
        );
    }

    #[test]
    fn allows_root_then_a_user_and_no_user_at_all() {
        assert!(lines(&RULE, "FROM a\nUSER root\nRUN x\nUSER app\nFROM b\nRUN y\n").is_empty());
    }
}
