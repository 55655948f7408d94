//! DL3065: `FROM --platform=$TARGETPLATFORM`, which is what FROM does anyway.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3065",
    severity: Severity::Warning,
    message: "Setting `FROM --platform` to predefined `$TARGETPLATFORM` in is redundant as this is the default behavior",
    fix: "drop --platform=$TARGETPLATFORM",
    buildkit: Some("RedundantTargetPlatform"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        item.from
            .as_ref()
            .and_then(|from| from.platform.as_deref())
            .is_some_and(|platform| {
                platform == "$TARGETPLATFORM" || platform == "${TARGETPLATFORM}"
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_the_redundant_platform() {
        assert_eq!(lines(&RULE, "FROM --platform=${TARGETPLATFORM} a:1\n"), [1]);
    }

    #[test]
    fn allows_the_build_platform() {
        assert!(lines(&RULE, "FROM --platform=$BUILDPLATFORM a:1\n").is_empty());
    }
}
