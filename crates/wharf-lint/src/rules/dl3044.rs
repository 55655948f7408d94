//! DL3044: an ENV that refers to a variable it defines itself (`ENV A=1 B=$A`), which sees
//! the old value. Variables defined earlier (by ENV or ARG) pass.

use std::collections::HashSet;

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3044",
    severity: Severity::Error,
    message: "Do not refer to an environment variable within the same `ENV` statement where it is defined.",
    fix: "define the variable in an ENV of its own before the one that uses it",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut defined: HashSet<String> = HashSet::new();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::Env(pairs) => {
                let fails = pairs.iter().enumerate().any(|(index, pair)| {
                    !defined.contains(&pair.key)
                        && pairs
                            .iter()
                            .enumerate()
                            .filter(|(other, _)| *other != index)
                            .any(|(_, other)| refers_to(&other.value, &pair.key))
                });
                defined.extend(pairs.iter().map(|pair| pair.key.clone()));
                if fails {
                    hits.push(item.line.into());
                }
            }
            Instruction::Arg(args) => defined.extend(args.iter().map(|arg| arg.name.clone())),
            _ => {}
        }
    }
    hits
}

/// `${name}`, or `$name` not followed by a name character.
fn refers_to(value: &str, name: &str) -> bool {
    if value.contains(&format!("${{{name}}}")) {
        return true;
    }
    let bare = format!("${name}");
    value.split(&bare).skip(1).any(|rest| {
        !rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_self_reference() {
        assert_eq!(
            lines(&RULE, "FROM a\nENV A=/x B=$A/bin\nENV C=1 D=${C}\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_earlier_definitions_and_longer_names() {
        let source = "FROM a\nARG V\nENV V=$V W=$V\nENV A=1\nENV A=2 B=$A\nENV X=1 Y=$XY\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
