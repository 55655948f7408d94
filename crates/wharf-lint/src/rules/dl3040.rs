//! DL3040: `dnf`/`microdnf install` (or upgrade, reinstall) without `dnf clean all` after
//! it (cache mounts of libdnf5's cache pass).

use super::{cleaned_after_install, has_cache_mount, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3040",
    severity: Severity::Warning,
    message: "`dnf clean all` missing after dnf command.",
    fix: "end the RUN with `&& dnf clean all`",
    buildkit: None,
    check,
};

const INSTALLS: &[&str] = &[
    "install",
    "in",
    "upgrade",
    "up",
    "upgrade-minimal",
    "up-min",
    "reinstall",
    "rei",
];

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        let Some(script) = item.any_script() else {
            return false;
        };
        let mounted = item.run().is_some_and(|(run, _)| {
            has_cache_mount(run, "/var/cache/libdnf5") || has_cache_mount(run, ".cache/libdnf5")
        });
        !mounted
            && ["dnf", "microdnf"].iter().any(|tool| {
                !cleaned_after_install(
                    script,
                    |command| command.has_args(tool, INSTALLS),
                    |command| {
                        command.has_args(tool, &["clean", "all"])
                            || command.has_args("rm", &["-rf", "/var/cache/libdnf5*"])
                    },
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_missing_clean() {
        assert_eq!(lines(&RULE, "FROM a\nRUN microdnf install -y x-1\n"), [2]);
    }

    #[test]
    fn allows_clean_after() {
        assert!(lines(&RULE, "FROM a\nRUN dnf install -y x-1 && dnf clean all\n").is_empty());
    }
}
