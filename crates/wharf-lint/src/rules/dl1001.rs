//! DL1001: a `# hadolint ignore=` comment. Off unless `.hadolint.yaml` gives it a level
//! (`override`), as in hadolint: teams use it to keep findings visible.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::pragmas::Pragmas;

pub const RULE: Rule = Rule {
    code: "DL1001",
    severity: Severity::Info,
    message: "Please refrain from using inline ignore pragmas  `# hadolint ignore=DLxxxx`.",
    fix: "fix the finding, or ignore the rule in .hadolint.yaml",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    // A comment line inside an instruction's continuation lines is not a comment of the
    // file (hadolint's parser drops it).
    let inside = |line: usize| {
        file.items
            .iter()
            .any(|item| item.node.lines.start < line && line <= item.node.lines.end)
    };
    Pragmas::line_pragmas(file.source)
        .into_iter()
        .filter(|line| !inside(*line))
        .map(Hit::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines_configured;

    #[test]
    fn catches_ignore_comments_when_enabled() {
        let source = "FROM a\n# hadolint ignore=DL3008\nRUN apt-get install -y x \\\n# hadolint ignore=DL3015\n    y\n# hadolint global ignore=DL3008\n";
        let enabled = "override:\n  warning: [DL1001]\n";
        assert_eq!(lines_configured(&RULE, enabled, source), [2]);
        assert!(lines_configured(&RULE, "", source).is_empty());
    }
}
