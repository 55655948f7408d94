//! DL3048: a LABEL key that is not a valid reverse-DNS key (lowercase letters, digits,
//! `.`, `-`, `_`, `/`; no `..`/`--`; not Docker's reserved namespaces).

use super::{drop_quotes, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3048",
    severity: Severity::Style,
    message: "Invalid label key.",
    fix: "use lowercase reverse-DNS keys, e.g. org.opencontainers.image.source",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Label(pairs) => pairs.iter().any(|pair| invalid(drop_quotes(&pair.key))),
        _ => false,
    })
}

fn invalid(key: &str) -> bool {
    !key.starts_with(|c: char| c.is_ascii_lowercase())
        || !key.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        || key
            .chars()
            .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_/".contains(c)))
        || ["com.docker.", "io.docker.", "org.dockerproject."]
            .iter()
            .any(|reserved| key.starts_with(reserved))
        || key.contains("..")
        || key.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_invalid_keys() {
        assert_eq!(
            lines(&RULE, "FROM a\nLABEL Maintainer=me\nLABEL com.docker.x=1\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_reverse_dns_keys() {
        assert!(lines(
            &RULE,
            "FROM a\nLABEL org.opencontainers.image.source=x version=1\n"
        )
        .is_empty());
    }
}
