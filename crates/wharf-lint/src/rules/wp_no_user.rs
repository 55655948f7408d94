//! WP002: the image runs as root because the final stage (and the stages it builds on)
//! never sets USER. DL3002 only looks at an explicit `USER root`.

use std::collections::HashMap;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "WP002",
    severity: Severity::Info,
    message: "No USER: the app runs as root",
    fix: "add a user and switch to it: RUN useradd --uid 10001 app, then USER 10001",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    // Whether each named stage ends with a USER set (by it or a stage it builds on).
    let mut has_user: HashMap<&str, bool> = HashMap::new();
    let mut last: Option<(usize, bool)> = None;
    for stage in file.stages() {
        let Some(from) = stage.first().and_then(|item| item.from.as_ref()) else {
            continue;
        };
        let inherited = has_user.get(from.name.as_str()).copied().unwrap_or(false);
        let sets_user = stage
            .iter()
            .any(|item| matches!(item.instruction, Instruction::User(_)));
        let user = inherited || sets_user;
        if let Some(alias) = &from.alias {
            has_user.insert(alias, user);
        }
        last = Some((stage[0].line, user));
    }
    match last {
        Some((line, false)) => vec![line.into()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_final_stage_without_user() {
        assert_eq!(
            lines(&RULE, "FROM a AS build\nUSER app\nFROM b\nCMD [\"x\"]\n"),
            [3]
        );
    }

    #[test]
    fn allows_user_set_or_inherited() {
        assert!(lines(&RULE, "FROM a\nUSER 10001\n").is_empty());
        assert!(lines(&RULE, "FROM a AS base\nUSER app\nFROM base\nCMD [\"x\"]\n").is_empty());
    }
}
