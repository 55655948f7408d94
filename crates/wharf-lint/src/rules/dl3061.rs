//! DL3061: an instruction other than ARG before the first FROM.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3061",
    severity: Severity::Error,
    message: "Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.",
    fix: "start the Dockerfile with FROM (only ARG may come before it)",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    file.items
        .iter()
        .take_while(|item| !item.is_from())
        .filter(|item| !matches!(item.instruction, Instruction::Arg(_)))
        .map(|item| item.line.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_instructions_before_from() {
        assert_eq!(lines(&RULE, "ARG V=1\nENV X=1\nFROM a\n"), [2]);
    }

    #[test]
    fn allows_args_first() {
        assert!(lines(&RULE, "ARG V=1\nFROM a:$V\nENV X=1\n").is_empty());
    }
}
