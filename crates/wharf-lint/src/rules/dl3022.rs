//! DL3022: `COPY --from` naming neither an earlier stage nor an image (`name:tag`) nor a
//! valid stage index.

use std::collections::HashSet;

use super::{drop_quotes, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3022",
    severity: Severity::Warning,
    message: "`COPY --from` should reference a previously defined `FROM` alias",
    fix: "name an earlier stage (FROM ... AS build, then COPY --from=build)",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut stages = HashSet::new();
    let mut count = 0;
    let mut hits = Vec::new();
    for item in &file.items {
        if let Some(from) = &item.from {
            count += 1;
            if let Some(alias) = &from.alias {
                stages.insert(alias.as_str());
            }
        }
        let Instruction::Copy(copy) = &item.instruction else {
            continue;
        };
        let Some(source) = copy.from.as_deref() else {
            continue;
        };
        let known = drop_quotes(source).contains(':')
            || stages.contains(source)
            || source.parse::<usize>().is_ok_and(|index| index < count);
        if !known {
            hits.push(item.line.into());
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unknown_stages() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nCOPY --from=build /x /x\nCOPY --from=3 /x /x\n"
            ),
            [2, 3]
        );
    }

    #[test]
    fn allows_stages_indexes_and_images() {
        let source = "FROM a AS build\nFROM b\nCOPY --from=build /x /x\nCOPY --from=0 /x /x\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
