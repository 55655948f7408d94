//! DL3059: two RUNs in a row that could be one layer: same flags, and each runs a single
//! command (RUNs of several commands are left apart on purpose). hadolint counts each
//! command twice, as ShellCheck's tree holds it twice, and allows up to two: one command.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::instructions::RunInstruction;

pub const RULE: Rule = Rule {
    code: "DL3059",
    severity: Severity::Info,
    message: "Multiple consecutive `RUN` instructions. Consider consolidation.",
    fix: "join the commands with && in one RUN",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut previous: Option<(&RunInstruction, usize)> = None;
    let mut hits = Vec::new();
    for item in &file.items {
        let Some((run, script)) = item.run() else {
            previous = None;
            continue;
        };
        let count = script.commands.len();
        match previous {
            Some((before, before_count))
                if same_flags(before, run) && count <= 1 && before_count <= 1 =>
            {
                hits.push(item.line.into())
            }
            _ => previous = Some((run, count)),
        }
    }
    hits
}

fn same_flags(a: &RunInstruction, b: &RunInstruction) -> bool {
    a.mounts == b.mounts && a.network == b.network && a.security == b.security
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_short_runs_in_a_row() {
        assert_eq!(lines(&RULE, "FROM a\nRUN a\n# why\nRUN b\nRUN c\n"), [4, 5]);
    }

    #[test]
    fn allows_long_runs_other_flags_and_breaks() {
        let source =
            "FROM a\nRUN a && b\nRUN d\nRUN --mount=type=cache,target=/c e\nCOPY x /x\nRUN f\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
