//! DL3066: USER by name, which the host (and Kubernetes' runAsNonRoot) cannot check. A uid,
//! or a `$VAR` from an ARG, passes.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3066",
    severity: Severity::Info,
    message: "Non-numeric user-id may not be resolvable by host system",
    fix: "use the numeric uid, e.g. USER 10001",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut args: HashSet<&str> = HashSet::new();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::Arg(declared) => args.extend(declared.iter().map(|arg| arg.name.as_str())),
            Instruction::User(user) => {
                let uid = user.split(':').next().unwrap_or_default();
                let from_arg = args.iter().any(|arg| {
                    user.contains(&format!("${{{arg}}}")) || user.contains(&format!("${arg}"))
                });
                if !uid.chars().all(|c| c.is_ascii_digit()) && !from_arg {
                    hits.push(item.line.into());
                }
            }
            _ => {}
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_user_names() {
        assert_eq!(lines(&RULE, "FROM a\nUSER app\nUSER root:0\n"), [2, 3]);
    }

    #[test]
    fn allows_uids_and_args() {
        assert!(lines(
            &RULE,
            "FROM a\nARG UID=1000\nUSER 10001:10001\nUSER ${UID}\n"
        )
        .is_empty());
    }
}
