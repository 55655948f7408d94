//! DL3001: commands that make no sense in a build (`ssh`, `vim`, `service`...).

use super::{scripts_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3001",
    severity: Severity::Info,
    message: "For some bash commands it makes no sense running them in a Docker container like `ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill`, `mount`, `ifconfig`",
    fix: "remove the command; start services from CMD in their own container",
    buildkit: None,
    check,
};

const POINTLESS: &[&str] = &[
    "free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim",
];

fn check(file: &File) -> Vec<Hit> {
    scripts_where(file, |script| {
        script.names().any(|name| POINTLESS.contains(&name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_interactive_and_service_commands() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN service nginx start\nONBUILD RUN vim x\n"
            ),
            [2, 3]
        );
    }

    #[test]
    fn allows_the_rest() {
        assert!(lines(&RULE, "FROM a\nRUN apt-get install -y openssh-client\n").is_empty());
    }
}
