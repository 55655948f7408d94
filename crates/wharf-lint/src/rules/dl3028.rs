//! DL3028: `gem install` without `gem:version` (or `-v`).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3028",
    severity: Severity::Warning,
    message: "Pin versions in gem install. Instead of `gem install <gem>` use `gem install <gem>:<version>`",
    fix: "pin the gem, e.g. gem install bundler:2.5.6",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.commands.iter().any(|command| {
            if !command.has_args("gem", &["install", "i"])
                || command.has_args("gem", &["-v", "--version"])
                || command.args.iter().any(|arg| arg.starts_with("--version="))
            {
                return false;
            }
            let mut gems = Vec::new();
            let mut args = command.args.iter().take_while(|arg| *arg != "--");
            while let Some(arg) = args.next() {
                if arg.starts_with('-') {
                    args.next();
                } else if arg != "install" && arg != "i" {
                    gems.push(arg);
                }
            }
            gems.iter().any(|gem| !gem.contains(':'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_gems() {
        assert_eq!(lines(&RULE, "FROM a\nRUN gem install bundler\n"), [2]);
    }

    #[test]
    fn allows_pins() {
        assert!(lines(
            &RULE,
            "FROM a\nRUN gem install bundler:2.5\nRUN gem install rails -v 7\n"
        )
        .is_empty());
    }
}
