//! DL4004: more than one ENTRYPOINT in a stage; only the last counts.

use super::{dl3012::repeated, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL4004",
    severity: Severity::Error,
    message: "Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` then only the last `ENTRYPOINT` will take effect",
    fix: "keep one ENTRYPOINT per stage",
    buildkit: Some("MultipleInstructionsDisallowed"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    repeated(file, |instruction| {
        matches!(instruction, Instruction::Entrypoint(_))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_second_entrypoint() {
        assert_eq!(
            lines(&RULE, "FROM a\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n"),
            [3]
        );
    }

    #[test]
    fn allows_one_per_stage() {
        assert!(lines(
            &RULE,
            "FROM a\nENTRYPOINT [\"a\"]\nFROM b\nENTRYPOINT [\"b\"]\n"
        )
        .is_empty());
    }
}
