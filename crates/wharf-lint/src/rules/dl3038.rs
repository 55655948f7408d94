//! DL3038: `dnf`/`microdnf install` without `-y`.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3038",
    severity: Severity::Warning,
    message: "Use the -y switch to avoid manual input `dnf install -y <package>`",
    fix: "add -y: dnf install -y <package>",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            ["dnf", "microdnf"]
                .iter()
                .any(|tool| command.has_args(tool, &["install", "groupinstall", "localinstall"]))
                && !command.has_any_flag(&["y", "assumeyes"])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_prompting_install() {
        assert_eq!(lines(&RULE, "FROM a\nRUN microdnf install curl-8.0\n"), [2]);
    }

    #[test]
    fn allows_yes() {
        assert!(lines(&RULE, "FROM a\nRUN dnf install -y curl-8.0\n").is_empty());
    }
}
