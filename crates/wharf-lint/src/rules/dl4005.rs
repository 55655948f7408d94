//! DL4005: `ln -s ... /bin/sh` to change the shell instead of SHELL.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL4005",
    severity: Severity::Warning,
    message: "Use SHELL to change the default shell",
    fix: "write SHELL [\"/bin/bash\", \"-c\"] instead of relinking /bin/sh",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script
            .commands
            .iter()
            .any(|command| command.has_args("ln", &["/bin/sh"]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_relinking_sh() {
        assert_eq!(lines(&RULE, "FROM a\nRUN ln -sf /bin/bash /bin/sh\n"), [2]);
    }

    #[test]
    fn allows_other_links() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN ln -s /usr/bin/python3 /usr/bin/python\n"
        )
        .is_empty());
    }
}
