//! DL4003: more than one CMD in a stage; only the last counts.

use super::{dl3012::repeated, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL4003",
    severity: Severity::Warning,
    message: "Multiple `CMD` instructions found. If you list more than one `CMD` then only the last `CMD` will take effect",
    fix: "keep one CMD per stage",
    buildkit: Some("MultipleInstructionsDisallowed"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    repeated(file, |instruction| {
        matches!(instruction, Instruction::Cmd(_))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_second_cmd() {
        assert_eq!(lines(&RULE, "FROM a\nCMD [\"a\"]\nCMD [\"b\"]\n"), [3]);
    }

    #[test]
    fn allows_one_per_stage() {
        assert!(lines(&RULE, "FROM a\nCMD [\"a\"]\nFROM b\nCMD [\"b\"]\n").is_empty());
    }
}
