//! DL3012: more than one HEALTHCHECK in a stage; only the last counts.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3012",
    severity: Severity::Error,
    message: "Multiple `HEALTHCHECK` instructions",
    fix: "keep one HEALTHCHECK per stage",
    buildkit: Some("MultipleInstructionsDisallowed"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    repeated(file, |instruction| {
        matches!(instruction, Instruction::Healthcheck(_))
    })
}

/// The second and later instructions of a kind in each stage.
pub(super) fn repeated(file: &File, kind: fn(&Instruction) -> bool) -> Vec<Hit> {
    file.stages()
        .into_iter()
        .flat_map(|stage| {
            stage
                .iter()
                .filter(|item| kind(&item.instruction))
                .skip(1)
                .map(|item| item.line.into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_second_healthcheck() {
        assert_eq!(
            lines(&RULE, "FROM a\nHEALTHCHECK NONE\nHEALTHCHECK CMD [\"x\"]\n"),
            [3]
        );
    }

    #[test]
    fn allows_one_per_stage() {
        assert!(lines(
            &RULE,
            "FROM a\nHEALTHCHECK NONE\nFROM b\nHEALTHCHECK NONE\n"
        )
        .is_empty());
    }
}
