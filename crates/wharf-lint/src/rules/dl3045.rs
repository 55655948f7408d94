//! DL3045: COPY to a relative destination in a stage (or the stages it builds on) without
//! a WORKDIR: where the files land depends on the base image.

use super::{drop_quotes, is_absolute, Hit, Rule, StageFlag};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3045",
    severity: Severity::Warning,
    message: "`COPY` to a relative destination without `WORKDIR` set.",
    fix: "set WORKDIR /app before COPY, or copy to an absolute path",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut workdir = StageFlag::default();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => {
                workdir.enter(item.from.as_ref().expect("FROM items have a base image"))
            }
            Instruction::Workdir(_) => workdir.set(),
            Instruction::Copy(copy)
                if !is_absolute(drop_quotes(&copy.files.destination)) && !workdir.is_set() =>
            {
                hits.push(item.line.into());
            }
            _ => {}
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_relative_copies_without_workdir() {
        assert_eq!(
            lines(&RULE, "FROM a\nCOPY . .\nWORKDIR /app\nFROM b\nCOPY x y\n"),
            [2, 5]
        );
    }

    #[test]
    fn allows_workdir_inherited_and_absolute() {
        let source =
            "FROM a AS base\nWORKDIR /app\nFROM base\nCOPY . .\nFROM b\nCOPY x /y\nCOPY x $HOME/\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
