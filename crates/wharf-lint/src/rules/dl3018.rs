//! DL3018: `apk add` of a package without `=version` (`.apk` files pass; `--virtual` names
//! and repositories are not packages).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3018",
    severity: Severity::Warning,
    message:
        "Pin versions in apk add. Instead of `apk add <package>` use `apk add <package>=<version>`",
    fix: "pin each package, e.g. apk add --no-cache curl=8.5.0-r0",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script
            .commands
            .iter()
            .filter(|command| command.has_args("apk", &["add"]))
            .any(|command| {
                command
                    .without_flag_values(&["t", "virtual", "repository", "X"])
                    .operands()
                    .into_iter()
                    .filter(|arg| *arg != "add")
                    .any(|package| {
                        !(["=", "~", ">", "<"]
                            .iter()
                            .any(|symbol| package.contains(symbol))
                            || package.ends_with(".apk"))
                    })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        assert_eq!(lines(&RULE, "FROM a\nRUN apk add --no-cache curl\n"), [2]);
    }

    #[test]
    fn allows_pins_and_virtual_names() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN apk add --virtual .deps gcc=13.2 musl-dev~1.2\n"
        )
        .is_empty());
    }
}
