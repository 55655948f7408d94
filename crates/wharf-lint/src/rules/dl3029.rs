//! DL3029: `FROM --platform` with a fixed platform (`$BUILDPLATFORM`/`$TARGETPLATFORM` pass).

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3029",
    severity: Severity::Warning,
    message: "Do not use --platform flag with FROM",
    fix: "drop --platform, or use --platform=$BUILDPLATFORM for build tools",
    buildkit: Some("FromPlatformFlagConstDisallowed"),
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| {
        item.from
            .as_ref()
            .and_then(|from| from.platform.as_deref())
            .is_some_and(|platform| {
                !platform.contains("BUILDPLATFORM") && !platform.contains("TARGETPLATFORM")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_a_fixed_platform() {
        assert_eq!(lines(&RULE, "FROM --platform=linux/amd64 python:3\n"), [1]);
    }

    #[test]
    fn allows_build_platform() {
        assert!(lines(
            &RULE,
            "FROM --platform=$BUILDPLATFORM python:3\nFROM python:3\n"
        )
        .is_empty());
    }
}
