//! DL3015: `apt-get install` without `--no-install-recommends`.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3015",
    severity: Severity::Info,
    message: "Avoid additional packages by specifying `--no-install-recommends`",
    fix: "add --no-install-recommends to apt-get install",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.has_args("apt-get", &["install"])
                && !(command.has_flag("no-install-recommends")
                    || command.has_arg("APT::Install-Recommends=false"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_recommends() {
        assert_eq!(lines(&RULE, "FROM a\nRUN apt-get install -y curl\n"), [2]);
    }

    #[test]
    fn allows_no_recommends() {
        let source = "FROM a\nRUN apt-get install -y --no-install-recommends curl\nRUN apt-get -o APT::Install-Recommends=false install -y x\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
