//! DL3021: COPY of several sources to a destination without a trailing `/`.

use super::{drop_quotes, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3021",
    severity: Severity::Error,
    message: "COPY with more than 2 arguments requires the last argument to end with /",
    fix: "end the destination with /, e.g. COPY a b /app/",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Copy(copy) => {
            copy.files.sources.len() + copy.files.inline_sources.len() > 1
                && !drop_quotes(&copy.files.destination).ends_with('/')
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_file_destination() {
        assert_eq!(lines(&RULE, "FROM a\nCOPY a b /app\n"), [2]);
    }

    #[test]
    fn allows_a_folder_destination() {
        assert!(lines(&RULE, "FROM a\nCOPY a b /app/\nCOPY a /app\n").is_empty());
    }
}
