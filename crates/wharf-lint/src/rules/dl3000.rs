//! DL3000: WORKDIR must be absolute (a `$VAR` or a Windows drive passes), else where files
//! land depends on the base image's WORKDIR.

use super::{drop_quotes, is_absolute, lines_where, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3000",
    severity: Severity::Error,
    message: "Use absolute WORKDIR",
    fix: "give WORKDIR an absolute path, e.g. WORKDIR /app",
    buildkit: Some("WorkdirRelativePath"),
    check,
};

fn check(file: &File) -> Vec<crate::rules::Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Workdir(path) => !is_absolute(drop_quotes(path)),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_relative_workdirs() {
        assert_eq!(
            lines(&RULE, "FROM a\nWORKDIR app\nWORKDIR \"src\"\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_absolute_variable_and_windows_paths() {
        assert!(lines(
            &RULE,
            "FROM a\nWORKDIR /app\nWORKDIR $HOME\nWORKDIR C:\\app\n"
        )
        .is_empty());
    }
}
