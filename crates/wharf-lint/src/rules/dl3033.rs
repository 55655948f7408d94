//! DL3033: `yum install` of a package without `-version` (`.rpm` files pass; a `${VAR}`
//! version passes when an ARG or an ENV of the stage defines it); `yum module install`
//! needs `name:stream`.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::{Command, Script};
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3033",
    severity: Severity::Warning,
    message: "Specify version with `yum install -y <package>-<version>`.",
    fix: "pin each package, e.g. yum install -y httpd-2.4.57",
    buildkit: None,
    check: |file| rpm_unpinned(file, &["yum"], &["module"]),
};

/// Lines of RUNs whose `tools install` name a package without a version, for DL3033 and
/// DL3041. `skipped` subcommands (`module`, `group`) hold modules, pinned by `:stream`.
pub(super) fn rpm_unpinned(file: &File, tools: &[&str], skipped: &[&str]) -> Vec<Hit> {
    let mut args: HashSet<String> = HashSet::new();
    let mut envs: HashSet<String> = HashSet::new();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => envs.clear(),
            Instruction::Arg(declared) => args.extend(declared.iter().map(|arg| arg.name.clone())),
            Instruction::Env(pairs) => envs.extend(pairs.iter().map(|pair| pair.key.clone())),
            _ => {}
        }
        let Some(script) = item.any_script() else {
            continue;
        };
        let defined = |package: &str| {
            args.iter()
                .chain(&envs)
                .any(|name| package.contains(&format!("${{{name}}}")))
        };
        let packages_pinned = packages(script, tools, |command| {
            !tools.iter().any(|tool| command.has_args(tool, skipped))
        })
        .iter()
        .all(|package| version_fixed(package, defined));
        let modules_pinned = packages(script, tools, |command| {
            tools.iter().any(|tool| command.has_args(tool, &["module"]))
        })
        .iter()
        .all(|module| module.contains(':'));
        if !(packages_pinned && modules_pinned) {
            hits.push(item.line.into());
        }
    }
    hits
}

fn packages(script: &Script, tools: &[&str], select: impl Fn(&Command) -> bool) -> Vec<String> {
    script
        .commands
        .iter()
        .filter(|command| select(command))
        .filter(|command| {
            tools
                .iter()
                .any(|tool| command.has_args(tool, &["install"]))
        })
        .flat_map(|command| {
            command
                .operands()
                .into_iter()
                .filter(|arg| *arg != "install" && *arg != "module")
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn version_fixed(package: &str, defined: impl Fn(&str) -> bool) -> bool {
    let parts: Vec<&str> = package.split('-').collect();
    if parts.len() <= 1 {
        return false;
    }
    if package.ends_with(".rpm") {
        return true;
    }
    if package.contains('$') {
        return defined(package);
    }
    let version = &parts[1..];
    version.iter().all(|part| {
        part.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".~^_:+".contains(c))
    }) && version
        .iter()
        .any(|part| part.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages_and_modules() {
        let source = "FROM a\nRUN yum install -y httpd\nRUN yum module install -y nodejs\nRUN yum install -y python3-devel\n";
        assert_eq!(lines(&RULE, source), [2, 3, 4]);
    }

    #[test]
    fn allows_versions_rpms_streams_and_defined_variables() {
        let source = "FROM a\nARG V=2.4\nRUN yum install -y httpd-2.4.57 ./pkgs/x-1.0.rpm httpd-${V}\nRUN yum module install -y nodejs:20\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
