//! DL3049: a stage that does not set a label of `label-schema`, reported at its FROM. A
//! stage built FROM a stage that sets it inherits it; a stage without it that a later
//! `COPY --from` reads is a build stage, and is let pass (hadolint's tracking).

use super::{unquote, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3049",
    severity: Severity::Info,
    message: "Label is missing.",
    fix: "set the label with LABEL in every stage that ships",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for label in file.config.label_schema.keys() {
        for line in missing(file, label) {
            hits.push(Hit::with(line, format!("Label `{label}` is missing.")));
        }
    }
    hits.sort_by_key(|hit| hit.line);
    hits
}

/// The FROM lines of the stages missing `label`.
fn missing(file: &File, label: &str) -> Vec<usize> {
    // Aliases of the stages that set it; (FROM line, alias) of those that do not (yet).
    let mut good: Vec<&str> = Vec::new();
    let mut bad: Vec<(usize, Option<&str>)> = Vec::new();
    // The current stage: its FROM line, its alias, and the name it goes by (alias, else
    // image).
    let mut current: (usize, Option<&str>, &str) = (0, None, "");
    for item in &file.items {
        if let Some(from) = &item.from {
            let alias = from.alias.as_deref();
            current = (item.line, alias, alias.unwrap_or(&from.name));
            if good.contains(&from.name.as_str()) {
                good.extend(alias);
            } else {
                bad.push((item.line, alias));
            }
            continue;
        }
        match &item.instruction {
            Instruction::Copy(copy) => {
                if let Some(source) = copy.from.as_deref() {
                    bad.retain(|(_, alias)| *alias != Some(source));
                }
            }
            Instruction::Label(pairs) if pairs.iter().any(|pair| unquote(&pair.key) == label) => {
                let (line, alias, name) = current;
                bad.retain(|(bad_line, bad_alias)| *bad_line != line && *bad_alias != Some(name));
                good.extend(alias);
            }
            _ => {}
        }
    }
    bad.into_iter().map(|(line, _)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines_configured;

    const SCHEMA: &str = "label-schema:\n  team: text\n";

    #[test]
    fn catches_stages_without_the_label() {
        let source = "FROM a AS one\nRUN x\nFROM b\nLABEL other=1\n";
        assert_eq!(lines_configured(&RULE, SCHEMA, source), [1, 3]);
    }

    #[test]
    fn allows_inherited_labels_and_copied_from_stages() {
        let source =
            "FROM a AS build\nRUN x\nFROM a AS base\nLABEL team=web\nFROM base\nCOPY --from=build /x /x\n";
        assert!(lines_configured(&RULE, SCHEMA, source).is_empty());
        assert!(lines_configured(&RULE, "", "FROM a\n").is_empty());
    }
}
