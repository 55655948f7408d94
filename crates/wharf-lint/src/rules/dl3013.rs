//! DL3013: `pip install` of a package without a version. Requirements files (`-r`),
//! constraints (`-c`), the project itself (`.`), wheels, sdists, paths and VCS URLs with
//! `@ref` pass, as in hadolint.

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;

pub const RULE: Rule = Rule {
    code: "DL3013",
    severity: Severity::Warning,
    message: "Pin versions in pip. Instead of `pip install <package>` use `pip install <package>==<version>` or `pip install --requirement <requirements file>`",
    fix: "pin the package (flask==3.0.3) or install from a requirements or lock file",
    buildkit: None,
    check,
};

/// pip flags whose value is the next argument, not a package.
const VALUE_FLAGS: &[&str] = &[
    "abi",
    "b",
    "build",
    "e",
    "editable",
    "extra-index-url",
    "f",
    "find-links",
    "i",
    "index-url",
    "implementation",
    "no-binary",
    "only-binary",
    "platform",
    "prefix",
    "progress-bar",
    "proxy",
    "python",
    "python-version",
    "root",
    "root-user-action",
    "src",
    "t",
    "target",
    "trusted-host",
    "upgrade-strategy",
];

const VCS_SCHEMES: &[&str] = &[
    "git+file",
    "git+https",
    "git+ssh",
    "git+http",
    "git+git",
    "git",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn",
    "svn+svn",
    "svn+http",
    "svn+https",
    "svn+ssh",
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
];

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| script.commands.iter().any(unpinned))
}

fn unpinned(command: &Command) -> bool {
    command.is_pip_install()
        && !(command.has_flag("constraint") || command.has_flag("c"))
        && !["--requirement", "-r", "."]
            .iter()
            .any(|arg| command.has_arg(arg))
        && packages(command).iter().any(|package| !pinned(package))
}

fn packages(command: &Command) -> Vec<String> {
    let operands = command.without_flag_values(VALUE_FLAGS);
    operands
        .operands()
        .into_iter()
        .skip_while(|arg| *arg != "install")
        .skip_while(|arg| *arg == "install")
        .map(str::to_owned)
        .collect()
}

fn pinned(package: &str) -> bool {
    let vcs = VCS_SCHEMES.iter().any(|scheme| package.starts_with(scheme));
    ["==", ">=", "<=", ">", "<", "!=", "~=", "==="]
        .iter()
        .any(|symbol| package.contains(symbol))
        || (vcs && package.contains('@'))
        || package.ends_with(".whl")
        || package.ends_with(".tar.gz")
        || (!vcs && package.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        let source = "FROM a\nRUN pip install flask\nRUN python3 -m pip install -U 'django==5.0' celery\nONBUILD RUN pip3 install gunicorn\n";
        assert_eq!(lines(&RULE, source), [2, 3, 4]);
    }

    #[test]
    fn allows_pins_requirements_constraints_and_the_project() {
        let source = "FROM a\nRUN pip install flask==3.0 'uv>=0.4'\nRUN pip install -r requirements.txt\nRUN pip install -c c.txt flask\nRUN pip install .\nRUN pip install -e . --no-deps\nRUN pip install dist/app.whl git+https://x/y@v1\nRUN pip install --index-url https://x flask==1\nRUN pipenv install flask\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
