//! DL3045: COPY to a relative destination in a stage (or the stages it builds on) without
//! a WORKDIR: where the files land depends on the base image.

use std::collections::HashMap;

use super::{drop_quotes, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3045",
    severity: Severity::Warning,
    message: "`COPY` to a relative destination without `WORKDIR` set.",
    fix: "set WORKDIR /app before COPY, or copy to an absolute path",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut workdir: HashMap<String, bool> = HashMap::new();
    let mut current = String::new();
    let mut hits = Vec::new();
    for item in &file.items {
        match &item.instruction {
            Instruction::From(_) => {
                let from = item.from.as_ref().expect("FROM items have a base image");
                let inherited = workdir.get(&from.name).copied().unwrap_or(false);
                current = from.alias.clone().unwrap_or_else(|| from.name.clone());
                workdir.insert(current.clone(), inherited);
            }
            Instruction::Workdir(_) => {
                workdir.insert(current.clone(), true);
            }
            Instruction::Copy(copy) => {
                let destination = drop_quotes(&copy.files.destination);
                let mut chars = destination.chars();
                let windows =
                    chars.next().is_some_and(char::is_alphabetic) && chars.next() == Some(':');
                let relative =
                    !(destination.starts_with('/') || destination.starts_with('$') || windows);
                if relative && !workdir.get(&current).copied().unwrap_or(false) {
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
    fn catches_relative_copies_without_workdir() {
        assert_eq!(
            lines(&RULE, "FROM a\nCOPY . .\nWORKDIR /app\nFROM b\nCOPY x y\n"),
            [2, 5]
        );
    }

    #[test]
    fn allows_workdir_inherited_and_absolute() {
        let source =
            "FROM a AS base\nWORKDIR /app\nFROM base\nCOPY . .\nFROM b\nCOPY x /y\nCOPY x $HOME/\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
