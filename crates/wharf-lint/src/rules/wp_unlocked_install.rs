//! WP003: a project installed without its lock: `uv sync` without `--locked`/`--frozen`
//! (it may rewrite uv.lock and install other versions), `pipenv install` without
//! `--deploy`, or `pip install .` with no requirements or constraints installed first in
//! the stage (every dependency unpinned).

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;

pub const RULE: Rule = Rule {
    code: "WP003",
    severity: Severity::Info,
    message: "The project is installed without its lock file",
    fix: "use uv sync --locked, pipenv install --deploy, or pip install -r requirements.txt (or -c constraints) before pip install .",
    buildkit: None,
    check,
};

fn problem(command: &Command, pinned_before: bool) -> Option<&'static str> {
    let verb = command.operands().first().copied();
    if command.name == "uv" && verb == Some("sync") && !command.has_any_flag(&["locked", "frozen"])
    {
        return Some("`uv sync` without --locked may update uv.lock and install other versions");
    }
    if command.name == "pipenv" && verb == Some("install") && !command.has_flag("deploy") {
        return Some("`pipenv install` without --deploy ignores an out-of-date Pipfile.lock");
    }
    let project = command.has_arg(".") || command.has_arg("./");
    let constrained = command.has_any_flag(&["r", "requirement", "c", "constraint", "no-deps"]);
    if command.is_pip_install() && project && !constrained && !pinned_before {
        return Some("`pip install .` resolves every dependency unpinned, without requirements or constraints");
    }
    None
}

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in file.stages() {
        let mut pinned = false;
        for item in stage {
            let Some((_, script)) = item.run() else {
                continue;
            };
            for command in &script.commands {
                if let Some(detail) = problem(command, pinned) {
                    hits.push(Hit::with(item.line, detail.to_owned()));
                }
                pinned |= command.is_pip_install() && command.has_any_flag(&["r", "requirement"]);
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
    fn catches_installs_without_the_lock() {
        let source =
            "FROM a\nRUN uv sync\nRUN pipenv install --system\nRUN pip install --no-cache-dir .\n";
        assert_eq!(lines(&RULE, source), [2, 3, 4]);
    }

    #[test]
    fn allows_locked_installs() {
        let source = "FROM a\nRUN uv sync --locked --no-dev\nRUN pipenv install --deploy --system\nRUN pip install -r requirements.txt\nRUN pip install --no-deps .\nRUN pip install .\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
