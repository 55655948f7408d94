//! WP001: the whole project is copied before its dependencies are installed, so any code
//! change invalidates the install layer. Copy the requirements or lock files first (or
//! bind-mount them), install, then copy the code. An install done before the copy (uv's
//! `--no-install-project` step) makes later installs fine.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::{Command, Script};
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "WP001",
    severity: Severity::Warning,
    message: "Dependencies are installed after the whole project is copied: every code change reinstalls them",
    fix: "COPY requirements.txt (or pyproject.toml and the lock) first, install, then COPY . .",
    buildkit: None,
    check,
};

/// Installs a project's dependencies from its requirements or lock.
pub(super) fn installs_dependencies(command: &Command) -> bool {
    let pip_requirements =
        command.is_pip_install() && (command.has_flag("r") || command.has_flag("requirement"));
    let uv_pip =
        command.name == "uv" && command.has_sequence(&["pip", "install"]) && command.has_flag("r");
    let sync = |tool: &str, verbs: &[&str]| {
        command.name == tool
            && verbs
                .iter()
                .any(|verb| command.operands().first() == Some(verb))
    };
    pip_requirements
        || uv_pip
        || sync("uv", &["sync"])
        || sync("poetry", &["install"])
        || sync("pipenv", &["install", "sync"])
        || sync("pdm", &["install", "sync"])
}

fn copies_everything(sources: &[String]) -> bool {
    sources
        .iter()
        .any(|source| matches!(source.as_str(), "." | "./" | "./." | "*"))
}

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in file.stages() {
        let mut copied_all = false;
        for item in stage {
            match &item.instruction {
                Instruction::Copy(copy) if copy.from.is_none() => {
                    copied_all |= copies_everything(&copy.files.sources);
                }
                Instruction::Add(add) => copied_all |= copies_everything(&add.files.sources),
                Instruction::Run(_) => {
                    let installs = item.script.as_ref().is_some_and(|script: &Script| {
                        script.commands.iter().any(installs_dependencies)
                    });
                    if installs && copied_all {
                        hits.push(item.line.into());
                    }
                    if installs {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_install_after_copying_everything() {
        let source = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nFROM python:3.12\nCOPY . /app\nRUN poetry install\n";
        assert_eq!(lines(&RULE, source), [4, 7]);
    }

    #[test]
    fn allows_requirements_first_and_uv_two_step() {
        let source = "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nFROM python:3.12\nRUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync --locked --no-install-project\nCOPY . /app\nRUN uv sync --locked\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
