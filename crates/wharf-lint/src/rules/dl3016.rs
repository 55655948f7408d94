//! DL3016: `npm install <package>` without `@version` (git URLs need `#ref`; tarballs and
//! folders pass; `npm install` alone installs the lock).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;

pub const RULE: Rule = Rule {
    code: "DL3016",
    severity: Severity::Warning,
    message: "Pin versions in npm. Instead of `npm install <package>` use `npm install <package>@<version>`",
    fix: "pin the package, e.g. npm install express@4.19.2, or use npm ci",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| script.commands.iter().any(unpinned))
}

fn unpinned(command: &Command) -> bool {
    if !command.has_args("npm", &["install"]) {
        return false;
    }
    let stripped = command.without_flag_values(&["loglevel", "registry"]);
    let operands = stripped.operands();
    if operands.first() != Some(&"install") {
        return false;
    }
    !operands
        .iter()
        .skip_while(|arg| **arg == "install")
        .all(|package| pinned(package))
}

fn pinned(package: &str) -> bool {
    if ["git://", "git+ssh://", "git+http://", "git+https://"]
        .iter()
        .any(|prefix| package.starts_with(prefix))
    {
        return package.contains('#');
    }
    if [".tar", ".tar.gz", ".tgz"]
        .iter()
        .any(|suffix| package.ends_with(suffix))
        || ["/", "./", "../", "~/"]
            .iter()
            .any(|prefix| package.starts_with(prefix))
    {
        return true;
    }
    let unscoped = match package.strip_prefix('@') {
        Some(_) => package.trim_start_matches(|c| c != '/'),
        None => package,
    };
    unscoped.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        assert_eq!(
            lines(&RULE, "FROM a\nRUN npm install express @scope/x\n"),
            [2]
        );
    }

    #[test]
    fn allows_pins_and_a_plain_install() {
        let source = "FROM a\nRUN npm install\nRUN npm install express@4 @scope/x@1 ./local git+https://h/r#v1\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
