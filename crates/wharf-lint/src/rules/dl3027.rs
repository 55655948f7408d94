//! DL3027: `apt` in RUN; its interface is for people and changes between releases.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3027",
    severity: Severity::Warning,
    message:
        "Do not use apt as it is meant to be an end-user tool, use apt-get or apt-cache instead",
    fix: "use apt-get instead of apt",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| script.uses("apt"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_apt() {
        assert_eq!(
            lines(&RULE, "FROM a\nRUN apt update && apt install -y x\n"),
            [2]
        );
    }

    #[test]
    fn allows_apt_get() {
        assert!(lines(&RULE, "FROM a\nRUN apt-get update\n").is_empty());
    }
}
