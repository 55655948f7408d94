//! DL3019: `apk add` without `--no-cache` (a cache mount of /var/cache/apk passes).

use super::{has_cache_mount, lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3019",
    severity: Severity::Info,
    message: "Use the `--no-cache` switch to avoid the need to use `--update` and remove `/var/cache/apk/*` when done installing packages",
    fix: "use apk add --no-cache",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        let Some(script) = item.any_script() else {
            return false;
        };
        let cached = item
            .run()
            .is_some_and(|(run, _)| has_cache_mount(run, "/var/cache/apk"));
        !cached
            && script
                .commands
                .iter()
                .any(|command| command.has_args("apk", &["add"]) && !command.has_flag("no-cache"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_cached_index() {
        assert_eq!(lines(&RULE, "FROM a\nRUN apk add curl=1\n"), [2]);
    }

    #[test]
    fn allows_no_cache_and_cache_mounts() {
        let source = "FROM a\nRUN apk add --no-cache curl\nRUN --mount=type=cache,target=/var/cache/apk apk add x\n";
        assert!(lines(&RULE, source).is_empty());
    }
}
