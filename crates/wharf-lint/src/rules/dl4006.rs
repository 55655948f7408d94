//! DL4006: a RUN with a pipe while the shell lacks `-o pipefail`: a failing command before
//! the `|` does not fail the step. A SHELL of bash/zsh/ash with `-o pipefail` (or a
//! non-POSIX shell) clears it until the next FROM.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Script;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL4006",
    severity: Severity::Warning,
    message: "Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh in an alpine image or if your shell is symlinked to busybox then consider explicitly setting your SHELL to /bin/ash, or disable this check",
    fix: "add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before the RUN",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut pipefail = false;
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => pipefail = false,
            Instruction::Shell(words) => {
                let text = words.join(" ");
                pipefail = ["pwsh", "powershell", "cmd"]
                    .iter()
                    .any(|shell| text.starts_with(shell))
                    || sets_pipefail(&Script::parse(&text));
            }
            Instruction::Run(_)
                if !pipefail && item.script.as_ref().is_some_and(|script| script.has_pipes) =>
            {
                hits.push(item.line.into());
            }
            _ => {}
        }
    }
    hits
}

fn sets_pipefail(script: &Script) -> bool {
    script.commands.iter().any(|command| {
        let shell = command.name.rsplit('/').next().unwrap_or_default();
        ["bash", "zsh", "ash"].contains(&shell)
            && command.has_flag("o")
            && command.has_arg("pipefail")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_pipes_without_pipefail() {
        let source = "FROM a\nRUN curl x | sh\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl y | sh\nFROM b\nRUN a | b\n";
        assert_eq!(lines(&RULE, source), [2, 6]);
    }

    #[test]
    fn allows_pipefail_and_no_pipes() {
        assert!(lines(
            &RULE,
            "FROM a\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a | b\nRUN a || b\n"
        )
        .is_empty());
    }
}
