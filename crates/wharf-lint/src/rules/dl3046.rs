//! DL3046: `useradd -u` with a long uid and without `-l`: the lastlog file is written
//! sparse but stored in full, megabytes per uid digit.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3046",
    severity: Severity::Warning,
    message: "`useradd` without flag `-l` and high UID will result in excessively large Image.",
    fix: "add -l (--no-log-init) to useradd",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.name == "useradd"
                && !command.has_any_flag(&["l", "no-log-init"])
                && command.has_any_flag(&["u", "uid"])
                && command.flag_values("u").iter().any(|uid| uid.len() > 5)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_high_uid_without_l() {
        assert_eq!(lines(&RULE, "FROM a\nRUN useradd -u 1000000 app\n"), [2]);
    }

    #[test]
    fn allows_l_and_short_uids() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN useradd -l -u 1000000 app\nRUN useradd -u 10001 app\n"
        )
        .is_empty());
    }
}
