//! BuildKit's casing checks: `FromAsCasing` (`FROM x as y`), `ConsistentInstructionCasing`
//! (an instruction cased unlike most others) and `StageNameCasing` (`AS Build`).

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const FROM_AS_CASING: Rule = Rule {
    code: "FromAsCasing",
    severity: Severity::Warning,
    message: "'as' and 'FROM' keywords' casing do not match",
    fix: "write FROM ... AS ... (or from ... as ...)",
    buildkit: Some("FromAsCasing"),
    check: from_as,
};

pub const INSTRUCTION_CASING: Rule = Rule {
    code: "ConsistentInstructionCasing",
    severity: Severity::Warning,
    message: "Instructions should be in consistent casing (all lower or all upper)",
    fix: "write every instruction in uppercase",
    buildkit: Some("ConsistentInstructionCasing"),
    check: instructions,
};

pub const STAGE_NAME_CASING: Rule = Rule {
    code: "StageNameCasing",
    severity: Severity::Warning,
    message: "Stage names should be lowercase",
    fix: "write the stage name in lowercase",
    buildkit: Some("StageNameCasing"),
    check: stage_names,
};

fn is_upper(word: &str) -> bool {
    word.chars().all(|c| !c.is_lowercase())
}

fn is_lower(word: &str) -> bool {
    word.chars().all(|c| !c.is_uppercase())
}

fn from_words<'a>(file: &'a File) -> impl Iterator<Item = (usize, &'a str, &'a [String])> {
    file.items.iter().filter(|item| item.is_from()).map(|item| {
        let words = match &item.node.args {
            wharf_dockerfile::Arguments::List(words) => words.as_slice(),
            _ => &[],
        };
        (item.line, item.node.instruction.as_str(), words)
    })
}

fn from_as(file: &File) -> Vec<Hit> {
    from_words(file)
        .filter_map(|(line, keyword, words)| {
            let as_word = words.get(1)?;
            let mismatch = (is_upper(keyword) && !is_upper(as_word))
                || (is_lower(keyword) && !is_lower(as_word));
            mismatch.then(|| {
                Hit::with(
                    line,
                    format!("'{as_word}' and '{keyword}' keywords' casing do not match"),
                )
            })
        })
        .collect()
}

fn instructions(file: &File) -> Vec<Hit> {
    let nodes = &file.parsed.nodes;
    let upper = nodes
        .iter()
        .filter(|node| is_upper(&node.instruction))
        .count();
    let lower = nodes
        .iter()
        .filter(|node| is_lower(&node.instruction))
        .count();
    let (majority, fits): (&str, fn(&str) -> bool) = if lower > upper {
        ("lowercase", is_lower)
    } else {
        ("uppercase", is_upper)
    };
    nodes
        .iter()
        .filter(|node| !fits(&node.instruction))
        .map(|node| {
            Hit::with(
                node.lines.start,
                format!(
                    "Command '{}' should match the case of the command majority ({majority})",
                    node.instruction
                ),
            )
        })
        .collect()
}

fn stage_names(file: &File) -> Vec<Hit> {
    from_words(file)
        .filter_map(|(line, _, words)| {
            let name = words.get(2)?;
            (!is_lower(name))
                .then(|| Hit::with(line, format!("Stage name '{name}' should be lowercase")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_mixed_casing() {
        assert_eq!(lines(&FROM_AS_CASING, "FROM a as b\nfrom c AS d\n"), [1, 2]);
        assert_eq!(lines(&INSTRUCTION_CASING, "FROM a\nrun x\nRUN y\n"), [2]);
        assert_eq!(lines(&STAGE_NAME_CASING, "FROM a AS Build\n"), [1]);
    }

    #[test]
    fn allows_consistent_casing() {
        let source = "FROM a AS build\nRUN x\nfrom b as c\n";
        assert!(lines(&FROM_AS_CASING, source).is_empty());
        assert!(lines(&STAGE_NAME_CASING, source).is_empty());
        assert!(lines(&INSTRUCTION_CASING, "from a\nrun x\n").is_empty());
    }
}
