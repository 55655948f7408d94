//! BuildKit's `LegacyKeyValueFormat`: `ENV key value` (or LABEL) without `=`, which cannot
//! hold two pairs and reads spaces as part of the value.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Arguments;

pub const RULE: Rule = Rule {
    code: "LegacyKeyValueFormat",
    severity: Severity::Warning,
    message: "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format",
    fix: "write ENV KEY=value",
    buildkit: Some("LegacyKeyValueFormat"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    file.parsed
        .nodes
        .iter()
        .filter_map(|node| {
            let node = match &node.args {
                Arguments::Trigger(trigger) => trigger.as_ref(),
                _ => node,
            };
            let Arguments::Pairs(pairs) = &node.args else { return None };
            let keyword = node.instruction.to_uppercase();
            pairs.iter().any(|pair| pair.legacy).then(|| {
                Hit::with(
                    node.lines.start,
                    format!("\"{keyword} key=value\" should be used instead of legacy \"{keyword} key value\" format"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_the_legacy_form() {
        assert_eq!(
            lines(&RULE, "FROM a\nENV PYTHONUNBUFFERED 1\nLABEL version 1\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_key_value() {
        assert!(lines(&RULE, "FROM a\nENV PYTHONUNBUFFERED=1 X=2\n").is_empty());
    }
}
