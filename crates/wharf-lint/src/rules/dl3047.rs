//! DL3047: `wget` without `--progress` (or `-q`, `-nv`, `-o`, `-a`) floods the build log.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3047",
    severity: Severity::Info,
    message: "Avoid use of wget without progress bar. Use `wget --progress=dot:giga <url>`. Or consider using `-q` or `-nv` (shorthands for `--quiet` or `--no-verbose`).",
    fix: "add --progress=dot:giga (or -q) to wget",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            command.name == "wget"
                && !command.has_flag("progress")
                && !command.has_any_flag(&[
                    "q",
                    "quiet",
                    "o",
                    "output-file",
                    "a",
                    "append-output",
                    "no-verbose",
                ])
                && !command.has_arg("-nv")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_noisy_wget() {
        assert_eq!(lines(&RULE, "FROM a\nRUN wget https://x/y\n"), [2]);
    }

    #[test]
    fn allows_quiet_wget() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN wget -q https://x\nRUN wget -nv x\nRUN wget --progress=dot:giga x\n"
        )
        .is_empty());
    }
}
