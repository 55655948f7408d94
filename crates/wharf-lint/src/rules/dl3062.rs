//! DL3062: `go install`/`go get`/`go run` of a package without `@version` (`@latest` and
//! `@none` are not versions; local paths pass).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Script;

pub const RULE: Rule = Rule {
    code: "DL3062",
    severity: Severity::Warning,
    message:
        "Pin versions in go. Instead of `go install <package>` use `go install <package>@<version>`",
    fix: "pin the module, e.g. go install example.com/tool@v1.2.3",
    buildkit: None,
    check,
};

fn packages(script: &Script) -> Vec<&str> {
    let run: Vec<&str> = script
        .commands
        .iter()
        .filter(|command| command.has_args("go", &["run"]))
        .flat_map(|command| {
            command
                .operands()
                .into_iter()
                .take(2)
                .filter(|arg| *arg != "run")
        })
        .collect();
    if !run.is_empty() {
        return run;
    }
    script
        .commands
        .iter()
        .filter(|command| command.has_args("go", &["install", "get"]))
        .flat_map(|command| {
            command
                .operands()
                .into_iter()
                .filter(|arg| !["install", "get", "tool"].contains(arg))
        })
        .collect()
}

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        packages(script).iter().any(|package| {
            let local = *package == "." || package.starts_with('/') || package.starts_with('.');
            let versioned = package.contains('@')
                && !package.ends_with("@latest")
                && !package.ends_with("@none");
            !(local || versioned)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_modules() {
        assert_eq!(
            lines(&RULE, "FROM a\nRUN go install example.com/x@latest\n"),
            [2]
        );
    }

    #[test]
    fn allows_versions_and_local_packages() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN go install example.com/x@v1.2\nRUN go build ./...\nRUN go install .\n"
        )
        .is_empty());
    }
}
