//! WP007: `apt-get update` (or `apk update`) in a RUN that installs nothing: the index is
//! cached in its own layer, and a later install from the cache uses stale lists.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "WP007",
    severity: Severity::Warning,
    message: "The package index is updated in a RUN of its own",
    fix: "update and install in one RUN: apt-get update && apt-get install -y ...",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        let Some((_, script)) = item.run() else {
            return false;
        };
        let updates = script.commands.iter().any(|command| {
            command.has_args("apt-get", &["update"]) || command.has_args("apk", &["update"])
        });
        let installs = script.commands.iter().any(|command| {
            command.has_args(
                "apt-get",
                &["install", "upgrade", "dist-upgrade", "build-dep"],
            ) || command.has_args("apk", &["add", "upgrade"])
        });
        updates && !installs
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_update_alone() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN apt-get update\nRUN apt-get install -y x\n"
            ),
            [2]
        );
    }

    #[test]
    fn allows_update_with_install() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN apt-get update && apt-get install -y x\n"
        )
        .is_empty());
    }
}
