//! DL3025: CMD, ENTRYPOINT or HEALTHCHECK CMD in shell form: the process runs under
//! `/bin/sh -c` and does not get signals such as SIGTERM.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::instructions::{CommandLine, Healthcheck};
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3025",
    severity: Severity::Warning,
    message: "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
    fix: "write the exec form, e.g. CMD [\"gunicorn\", \"app:app\"]",
    buildkit: Some("JSONArgsRecommended"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Cmd(command) | Instruction::Entrypoint(command) => {
            matches!(command, CommandLine::Shell(_))
        }
        Instruction::Healthcheck(Healthcheck::Check(check)) => {
            matches!(check.command, CommandLine::Shell(_))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_shell_form() {
        let source = "FROM a\nCMD python app.py\nENTRYPOINT ./run\nHEALTHCHECK CMD curl -f x\n";
        assert_eq!(lines(&RULE, source), [2, 3, 4]);
    }

    #[test]
    fn allows_exec_form() {
        let source =
            "FROM a\nCMD [\"python\", \"app.py\"]\nENTRYPOINT [\"./run\"]\nHEALTHCHECK NONE\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
