//! DL3014: `apt-get install` without `-y` (or `--yes`, `-qq`, `-q -q`, `-q=2`).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3014",
    severity: Severity::Warning,
    message: "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
    fix: "add -y: apt-get install -y <package>",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.has_args("apt-get", &["install"])
                && !(command.has_any_flag(&["y", "yes", "qq", "assume-yes"])
                    || command.flag_count("q") == 2
                    || command.flag_count("quiet") == 2
                    || command.has_arg("-q=2"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_prompting_install() {
        assert_eq!(lines(&RULE, "FROM a\nRUN apt-get install curl\n"), [2]);
    }

    #[test]
    fn allows_yes_and_quiet_twice() {
        let source = "FROM a\nRUN apt-get install -y curl\nRUN apt-get -qq install curl\nRUN apt-get -q -q install x\nRUN apt-get --yes install x\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
