//! DL3035: `zypper dist-upgrade` in a build.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3035",
    severity: Severity::Warning,
    message: "Do not use `zypper dist-upgrade`.",
    fix: "use a newer base image instead of upgrading the distribution",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script
            .commands
            .iter()
            .any(|command| command.has_args("zypper", &["dist-upgrade", "dup"]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_dist_upgrade() {
        assert_eq!(lines(&RULE, "FROM a\nRUN zypper -n dup\n"), [2]);
    }

    #[test]
    fn allows_installs() {
        assert!(lines(&RULE, "FROM a\nRUN zypper -n in x=1\n").is_empty());
    }
}
