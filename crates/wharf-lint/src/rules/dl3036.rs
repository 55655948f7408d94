//! DL3036: `zypper install` without `zypper clean` after it (a cache mount of
//! /var/cache/zypp passes).

use super::{cleaned_after_install, has_cache_mount, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3036",
    severity: Severity::Warning,
    message: "`zypper clean` missing after zypper use.",
    fix: "end the RUN with `&& zypper clean`",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        let Some(script) = item.any_script() else {
            return false;
        };
        let mounted = item
            .run()
            .is_some_and(|(run, _)| has_cache_mount(run, "/var/cache/zypp"));
        !mounted
            && !cleaned_after_install(
                script,
                |command| command.has_args("zypper", &["install", "in"]),
                |command| command.has_args("zypper", &["clean", "cc"]),
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_missing_clean() {
        assert_eq!(lines(&RULE, "FROM a\nRUN zypper -n in x=1\n"), [2]);
    }

    #[test]
    fn allows_clean_after() {
        assert!(lines(&RULE, "FROM a\nRUN zypper -n in x=1 && zypper clean\n").is_empty());
    }
}
