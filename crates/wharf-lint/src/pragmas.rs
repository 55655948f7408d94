//! hadolint's ignore comments, read from the source lines: `# hadolint ignore=DL3008,DL3015`
//! silences those rules on the next line, `# hadolint global ignore=...` in the whole file,
//! `# hadolint stage ignore=...` up to the next FROM. As in hadolint, the comment must hold
//! nothing else but an optional trailing `# comment`.

use std::collections::{BTreeMap, BTreeSet};

/// The ignores of one file.
#[derive(Debug, Default)]
pub struct Pragmas {
    by_line: BTreeMap<usize, BTreeSet<String>>,
    /// From a line on (until the next entry): the rules a stage ignores.
    by_stage: BTreeMap<usize, BTreeSet<String>>,
    global: BTreeSet<String>,
}

enum Scope {
    Line,
    Stage,
    Global,
}

impl Pragmas {
    /// Reads the comments of `source`; `from_lines` are the lines of its FROM instructions.
    pub fn read(source: &str, from_lines: &[usize]) -> Self {
        let mut pragmas = Self::default();
        for &line in from_lines {
            pragmas.by_stage.insert(line, BTreeSet::new());
        }
        for (index, text) in source.lines().enumerate() {
            let Some(comment) = text.trim_start().strip_prefix('#') else {
                continue;
            };
            let Some((scope, rules)) = parse(comment) else {
                continue;
            };
            let next = index + 2;
            match scope {
                Scope::Line => pragmas.by_line.entry(next).or_default().extend(rules),
                Scope::Stage => pragmas.by_stage.entry(next).or_default().extend(rules),
                Scope::Global => pragmas.global.extend(rules),
            }
        }
        pragmas
    }

    /// The lines of `source` holding a `# hadolint ignore=` comment for the next line.
    pub fn line_pragmas(source: &str) -> Vec<usize> {
        source
            .lines()
            .enumerate()
            .filter(|(_, text)| {
                text.trim_start()
                    .strip_prefix('#')
                    .and_then(parse)
                    .is_some_and(|(scope, _)| matches!(scope, Scope::Line))
            })
            .map(|(index, _)| index + 1)
            .collect()
    }

    pub fn ignores(&self, rule: &str, line: usize) -> bool {
        self.global.contains(rule)
            || self
                .by_line
                .get(&line)
                .is_some_and(|rules| rules.contains(rule))
            || self
                .by_stage
                .range(..line)
                .next_back()
                .is_some_and(|(_, rules)| rules.contains(rule))
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `hadolint [stage|global] ignore = ID[, ID]... [# comment]`.
fn parse(comment: &str) -> Option<(Scope, Vec<String>)> {
    let rest = comment
        .trim_start_matches(is_blank)
        .strip_prefix("hadolint")?;
    let trimmed = rest.trim_start_matches(is_blank);
    if trimmed.len() == rest.len() {
        return None;
    }
    let (scope, rest) = if let Some(after) = trimmed.strip_prefix("stage") {
        (Scope::Stage, after)
    } else if let Some(after) = trimmed.strip_prefix("global") {
        (Scope::Global, after)
    } else {
        (Scope::Line, trimmed)
    };
    let rest = match scope {
        Scope::Line => rest,
        _ => {
            let trimmed = rest.trim_start_matches(is_blank);
            if trimmed.len() == rest.len() {
                return None;
            }
            trimmed
        }
    };
    let list = rest
        .strip_prefix("ignore")?
        .trim_start_matches(is_blank)
        .strip_prefix('=')?;
    let list = match list.split_once('#') {
        Some((list, _)) => list,
        None => list,
    };
    let mut rules = Vec::new();
    for part in list.split(',') {
        let rule = part.trim_matches(is_blank);
        if rule.is_empty() || !rule.chars().all(|c| "DLSC0123456789".contains(c)) {
            return None;
        }
        rules.push(rule.to_owned());
    }
    Some((scope, rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_applies_to_the_next_line_only() {
        let source = "FROM a\n# hadolint ignore=DL3008, DL3015 # why\nRUN x\nRUN y\n";
        let pragmas = Pragmas::read(source, &[1]);
        assert!(pragmas.ignores("DL3008", 3) && pragmas.ignores("DL3015", 3));
        assert!(!pragmas.ignores("DL3008", 4));
    }

    #[test]
    fn global_and_stage() {
        let source = "# hadolint global ignore=DL3006\nFROM a\n# hadolint stage ignore=DL3008\nRUN x\nRUN y\nFROM b\nRUN z\n";
        let pragmas = Pragmas::read(source, &[2, 6]);
        assert!(pragmas.ignores("DL3006", 6));
        // As in hadolint 2.15, the stage ignore starts after the line below the comment.
        assert!(!pragmas.ignores("DL3008", 4));
        assert!(pragmas.ignores("DL3008", 5));
        assert!(!pragmas.ignores("DL3008", 7));
    }

    #[test]
    fn anything_else_is_not_a_pragma() {
        for comment in [
            "hadolint ignore=DL3008 because",
            "hadolintignore=DL3008",
            "ignore=DL3008",
        ] {
            assert!(parse(comment).is_none(), "{comment}");
        }
    }
}
