//! DL3023: `COPY --from` the stage it is in.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3023",
    severity: Severity::Error,
    message: "`COPY --from` cannot reference its own `FROM` alias",
    fix: "copy from an earlier stage",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut current: Option<&str> = None;
    let mut hits = Vec::new();
    for item in &file.items {
        if let Some(from) = &item.from {
            current = from.alias.as_deref();
        }
        if let Instruction::Copy(copy) = &item.instruction {
            if copy.from.is_some() && copy.from.as_deref() == current {
                hits.push(item.line.into());
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_copy_from_itself() {
        assert_eq!(lines(&RULE, "FROM a AS app\nCOPY --from=app /x /y\n"), [2]);
    }

    #[test]
    fn allows_other_stages() {
        assert!(lines(
            &RULE,
            "FROM a AS build\nFROM a AS app\nCOPY --from=build /x /y\n"
        )
        .is_empty());
    }
}
