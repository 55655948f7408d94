//! DL3030: `yum install` without `-y`.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3030",
    severity: Severity::Warning,
    message: "Use the -y switch to avoid manual input `yum install -y <package>`",
    fix: "add -y: yum install -y <package>",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.has_args("yum", &["install", "groupinstall", "localinstall"])
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
        assert_eq!(lines(&RULE, "FROM a\nRUN yum install httpd-2.4\n"), [2]);
    }

    #[test]
    fn allows_yes() {
        assert!(lines(&RULE, "FROM a\nRUN yum install -y httpd-2.4\n").is_empty());
    }
}
