//! DL4000: MAINTAINER is deprecated.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL4000",
    severity: Severity::Error,
    message: "MAINTAINER is deprecated",
    fix: "use LABEL org.opencontainers.image.authors=\"name <mail>\"",
    buildkit: Some("MaintainerDeprecated"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        matches!(item.instruction, Instruction::Maintainer(_))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_maintainer() {
        assert_eq!(lines(&RULE, "FROM a\nMAINTAINER me\n"), [2]);
    }

    #[test]
    fn allows_the_label() {
        assert!(lines(&RULE, "FROM a\nLABEL org.opencontainers.image.authors=me\n").is_empty());
    }
}
