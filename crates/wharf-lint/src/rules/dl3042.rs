//! DL3042: `pip install` without `--no-cache-dir` keeps pip's cache in the layer. Exempt:
//! `PIP_NO_CACHE_DIR` set to a true value (by ENV in the stage or one it builds on, or on
//! the RUN line), a cache or tmpfs mount of `.cache/pip`, and pipx/pipenv.

use super::{has_cache_mount, Hit, Rule, StageFlag};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3042",
    severity: Severity::Warning,
    message: "Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`",
    fix: "add --no-cache-dir, or mount a cache: RUN --mount=type=cache,target=/root/.cache/pip",
    buildkit: None,
    check,
};

const TRUTHY: &[&str] = &[
    "1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES",
];

fn check(file: &File) -> Vec<Hit> {
    // Whether the stage (or one it builds on) sets PIP_NO_CACHE_DIR.
    let mut no_cache = StageFlag::default();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => {
                no_cache.enter(item.from.as_ref().expect("FROM items have a base image"))
            }
            Instruction::Env(pairs) => {
                if let Some(pair) = pairs.iter().find(|pair| pair.key == "PIP_NO_CACHE_DIR") {
                    if TRUTHY.contains(&super::unquote(&pair.value)) {
                        no_cache.set();
                    }
                }
            }
            _ => {}
        }
        let Some(script) = item.any_script() else {
            continue;
        };
        if no_cache.is_set()
            || set_on_line(&item.node.original)
            || !script.commands.iter().any(forgets_no_cache_dir)
            || item
                .run()
                .is_some_and(|(run, _)| has_cache_mount(run, ".cache/pip"))
        {
            continue;
        }
        hits.push(item.line.into());
    }
    hits
}

fn forgets_no_cache_dir(command: &Command) -> bool {
    let wrapper = |tool: &str| {
        command.name.contains(tool)
            || (command.name.starts_with("python") && command.has_sequence(&["-m", tool]))
    };
    command.is_pip_install()
        && !command.has_arg("--no-cache-dir")
        && !wrapper("pipx")
        && !wrapper("pipenv")
}

/// `PIP_NO_CACHE_DIR=1 pip install ...` on the RUN line.
fn set_on_line(original: &str) -> bool {
    original
        .split_once("PIP_NO_CACHE_DIR=")
        .is_some_and(|(_, value)| TRUTHY.iter().any(|truthy| value.starts_with(truthy)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_pip_cache_in_the_layer() {
        let source = "FROM python:3\nRUN pip install -r requirements.txt\nRUN python -m pip install flask==3\n";
        assert_eq!(lines(&RULE, source), [2, 3]);
    }

    #[test]
    fn allows_no_cache_dir_the_variable_and_cache_mounts() {
        let source = "FROM python:3 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install x==1\nFROM python:3\nRUN pip install --no-cache-dir x==1\nRUN PIP_NO_CACHE_DIR=true pip install x==1\nRUN --mount=type=cache,target=/root/.cache/pip pip install x==1\nRUN pipx install poetry==1\n";
        assert!(lines(&RULE, source).is_empty());
    }

    #[test]
    fn a_false_variable_does_not_count() {
        assert_eq!(
            lines(
                &RULE,
                "FROM python:3\nENV PIP_NO_CACHE_DIR=0\nRUN pip install x==1\n"
            ),
            [3]
        );
    }
}
