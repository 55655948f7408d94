//! DL3067: `COPY --from=stage / /`, the whole filesystem of another stage.

use super::{drop_quotes, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3067",
    severity: Severity::Warning,
    message: "Do not copy an entire filesystem from another stage",
    fix: "copy only the folders the image needs",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Copy(copy) => {
            copy.from.is_some()
                && copy
                    .files
                    .sources
                    .iter()
                    .any(|source| drop_quotes(source) == "/")
                && drop_quotes(&copy.files.destination) == "/"
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_whole_filesystem() {
        assert_eq!(
            lines(&RULE, "FROM a AS b\nFROM c\nCOPY --from=b / /\n"),
            [3]
        );
    }

    #[test]
    fn allows_folders() {
        assert!(lines(
            &RULE,
            "FROM a AS b\nFROM c\nCOPY --from=b /app /app\nCOPY / /\n"
        )
        .is_empty());
    }
}
