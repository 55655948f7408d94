//! DL3004: `sudo` in RUN: the build already runs as the USER in force.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3004",
    severity: Severity::Error,
    message: "Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root",
    fix: "switch with USER root (and back) instead of sudo",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| script.uses("sudo"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_sudo() {
        assert_eq!(lines(&RULE, "FROM a\nRUN sudo apt-get update\n"), [2]);
    }

    #[test]
    fn allows_installing_sudo() {
        assert!(lines(&RULE, "FROM a\nRUN apt-get install -y sudo\n").is_empty());
    }
}
