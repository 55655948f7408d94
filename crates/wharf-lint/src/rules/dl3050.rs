//! DL3050: with `strict-labels`, a LABEL setting a key outside `label-schema`.

use super::{lines_where, unquote, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3050",
    severity: Severity::Info,
    message: "Superfluous label(s) present.",
    fix: "add the label to label-schema in .hadolint.yaml, or drop it",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let config = &file.config;
    if !config.strict_labels {
        return Vec::new();
    }
    lines_where(file, |item| match &item.instruction {
        Instruction::Label(pairs) => pairs
            .iter()
            .any(|pair| !config.label_schema.contains_key(unquote(&pair.key))),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines_configured;

    #[test]
    fn catches_labels_outside_the_schema_when_strict() {
        let yaml = "strict-labels: true\nlabel-schema:\n  team: text\n";
        let source = "FROM a\nLABEL team=web\nLABEL team=web other=1\n";
        assert_eq!(lines_configured(&RULE, yaml, source), [3]);
        assert!(lines_configured(&RULE, "label-schema:\n  team: text\n", source).is_empty());
    }
}
