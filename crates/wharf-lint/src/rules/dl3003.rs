//! DL3003: `cd` in RUN instead of WORKDIR.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3003",
    severity: Severity::Warning,
    message: "Use WORKDIR to switch to a directory",
    fix: "set WORKDIR /dir before the RUN instead of `cd /dir &&`",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        item.run().is_some_and(|(_, script)| script.uses("cd"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_cd() {
        assert_eq!(lines(&RULE, "FROM a\nRUN cd /src && make\n"), [2]);
    }

    #[test]
    fn allows_workdir_and_cd_in_strings() {
        assert!(lines(&RULE, "FROM a\nWORKDIR /src\nRUN make && echo 'cd x'\n").is_empty());
    }
}
