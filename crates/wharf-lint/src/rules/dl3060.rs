//! DL3060: `yarn install` without `yarn cache clean` after it in the same RUN (a cache
//! mount of `.cache/yarn` passes), in the last stage or a stage another builds on.

use super::{has_cache_mount, kept_stages, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Command;

pub const RULE: Rule = Rule {
    code: "DL3060",
    severity: Severity::Info,
    message: "`yarn cache clean` missing after `yarn install` was run.",
    fix: "end the RUN with `&& yarn cache clean`",
    buildkit: None,
    check,
};

fn install(command: &Command) -> bool {
    command.has_args("yarn", &["install"])
}

fn clean(command: &Command) -> bool {
    command.has_args("yarn", &["cache", "clean"])
}

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in kept_stages(file) {
        for item in stage {
            let Some(script) = item.any_script() else {
                continue;
            };
            let installs = script.commands.iter().position(install);
            let cleans = script.commands.iter().position(clean);
            let mounted = item
                .run()
                .is_some_and(|(run, _)| has_cache_mount(run, ".cache/yarn"));
            let fails = match (installs, cleans) {
                (Some(_), None) => !mounted,
                (Some(install_at), Some(clean_at)) => clean_at < install_at,
                _ => false,
            };
            if fails {
                hits.push(item.line.into());
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_yarn_cache_left_behind() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN yarn install\nRUN yarn cache clean && yarn install\n"
            ),
            [2, 3]
        );
    }

    #[test]
    fn allows_cleaning_after() {
        assert!(lines(&RULE, "FROM a\nRUN yarn install && yarn cache clean\n").is_empty());
    }
}
