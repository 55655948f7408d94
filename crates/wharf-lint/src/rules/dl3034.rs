//! DL3034: `zypper install` (or remove, patch...) without `-n`/`-y`.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3034",
    severity: Severity::Warning,
    message: "Non-interactive switch missing from `zypper` command: `zypper install -y`",
    fix: "add -n: zypper -n install <package>",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.has_args(
                "zypper",
                &[
                    "install",
                    "in",
                    "remove",
                    "rm",
                    "source-install",
                    "si",
                    "patch",
                ],
            ) && !command.has_any_flag(&["non-interactive", "n", "no-confirm", "y"])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_prompting_zypper() {
        assert_eq!(lines(&RULE, "FROM a\nRUN zypper install x=1\n"), [2]);
    }

    #[test]
    fn allows_non_interactive() {
        assert!(lines(&RULE, "FROM a\nRUN zypper -n install x=1\n").is_empty());
    }
}
