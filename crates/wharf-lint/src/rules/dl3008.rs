//! DL3008: `apt-get install` of a package without `=version` (paths and `.deb` files pass;
//! the value of `-t`/`--target-release` is not a package).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Script;

pub const RULE: Rule = Rule {
    code: "DL3008",
    severity: Severity::Warning,
    message: "Pin versions in apt get install. Instead of `apt-get install <package>` use `apt-get install <package>=<version>`",
    fix: "pin each package, e.g. apt-get install -y curl=7.88.1-10+deb12u8",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        apt_get_packages(script).iter().any(|package| {
            !(package.contains('=') || package.contains('/') || package.ends_with(".deb"))
        })
    })
}

/// The packages of every `apt-get install` in the script.
pub(super) fn apt_get_packages(script: &Script) -> Vec<String> {
    script
        .commands
        .iter()
        .filter(|command| command.has_args("apt-get", &["install"]))
        .flat_map(|command| {
            command
                .without_flag_values(&["t", "target-release"])
                .operands()
                .into_iter()
                .filter(|arg| *arg != "install")
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN apt-get update && apt-get install -y curl git=1:2.39\n"
            ),
            [2]
        );
    }

    #[test]
    fn allows_pins_files_and_the_target_release() {
        let source = "FROM a\nRUN apt-get install -y -t bookworm-backports curl=7.1 ./x.deb\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
