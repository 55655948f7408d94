//! DL3037: `zypper install` of a package without a version (`=`, `>=`, `<`...; `.rpm`
//! files pass).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3037",
    severity: Severity::Warning,
    message: "Specify version with `zypper install -y <package>=<version>`.",
    fix: "pin each package, e.g. zypper -n install python311=3.11.9",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script
            .commands
            .iter()
            .filter(|command| command.has_args("zypper", &["install", "in"]))
            .flat_map(|command| command.operands())
            .filter(|arg| *arg != "install" && *arg != "in")
            .any(|package| !(package.contains(['=', '>', '<']) || package.ends_with(".rpm")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        assert_eq!(lines(&RULE, "FROM a\nRUN zypper -n install python3\n"), [2]);
    }

    #[test]
    fn allows_versions() {
        assert!(lines(&RULE, "FROM a\nRUN zypper -n install python3=3.6 'y>=1'\n").is_empty());
    }
}
