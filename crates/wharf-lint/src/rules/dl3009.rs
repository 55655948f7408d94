//! DL3009: `apt-get update` without `rm -rf /var/lib/apt/lists/*` in the same RUN, in the
//! last stage or a stage another builds on. Cache or tmpfs mounts of the lists pass.

use super::{has_cache_mount, kept_stages, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use crate::shell::Script;

pub const RULE: Rule = Rule {
    code: "DL3009",
    severity: Severity::Info,
    message: "Delete the apt lists (/var/lib/apt/lists) after installing something",
    fix:
        "end the RUN with `&& rm -rf /var/lib/apt/lists/*`, or mount a cache at /var/lib/apt/lists",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in kept_stages(file) {
        for item in stage {
            let Some(script) = item.any_script() else {
                continue;
            };
            if !forgets_cleanup(script) {
                continue;
            }
            let cached = item.run().is_some_and(|(run, _)| {
                has_cache_mount(run, "/var/lib/apt/lists")
                    || (has_cache_mount(run, "/var/lib/apt")
                        && has_cache_mount(run, "/var/cache/apt"))
            });
            if !cached {
                hits.push(item.line.into());
            }
        }
    }
    hits
}

fn forgets_cleanup(script: &Script) -> bool {
    let updates = script.commands.iter().any(|command| {
        ["apt", "apt-get", "aptitude"]
            .iter()
            .any(|tool| command.has_args(tool, &["update"]))
    });
    let cleans = script
        .commands
        .iter()
        .any(|command| command.has_args("rm", &["-rf", "/var/lib/apt/lists/*"]));
    updates && !cleans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_lists_left_behind() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN apt-get update && apt-get install -y x\n"
            ),
            [2]
        );
    }

    #[test]
    fn catches_a_stage_used_as_a_base() {
        let source = "FROM a AS base\nRUN apt-get update\nFROM base\nRUN echo\n";
        assert_eq!(lines(&RULE, source), [2]);
    }

    #[test]
    fn allows_cleanup_cache_mounts_and_throwaway_stages() {
        let source = "FROM a AS build\nRUN apt-get update && apt-get install -y gcc\nFROM a\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
