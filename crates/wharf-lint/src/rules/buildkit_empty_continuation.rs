//! BuildKit's `NoEmptyContinuation`: a blank line inside a continued instruction, which a
//! future Dockerfile syntax will refuse.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "NoEmptyContinuation",
    severity: Severity::Warning,
    message: "Empty continuation line",
    fix: "remove the blank line (or make it a comment)",
    buildkit: Some("NoEmptyContinuation"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    file.parsed
        .warnings
        .iter()
        .filter(|warning| warning.message.starts_with("empty continuation"))
        .map(|warning| warning.line.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_blank_continuation() {
        assert_eq!(lines(&RULE, "FROM a\nRUN a \\\n\n  b\n"), [4]);
    }

    #[test]
    fn allows_comment_lines() {
        assert!(lines(&RULE, "FROM a\nRUN a \\\n# note\n  b\n").is_empty());
    }
}
