//! DL3032: `yum install` without `yum clean all` (or `rm -rf /var/cache/yum/*`) after it.

use super::{cleaned_after_install, scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3032",
    severity: Severity::Warning,
    message: "`yum clean all` missing after yum command.",
    fix: "end the RUN with `&& yum clean all`",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        !cleaned_after_install(
            script,
            |command| command.has_args("yum", &["install"]),
            |command| {
                command.has_args("yum", &["clean", "all"])
                    || command.has_args("rm", &["-rf", "/var/cache/yum/*"])
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_missing_clean() {
        assert_eq!(lines(&RULE, "FROM a\nRUN yum install -y x-1.0\n"), [2]);
    }

    #[test]
    fn allows_clean_after() {
        assert!(lines(&RULE, "FROM a\nRUN yum install -y x-1.0 && yum clean all\n").is_empty());
    }
}
