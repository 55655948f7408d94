//! DL3041: `dnf`/`microdnf install` of a package without `-version` (as DL3033 for yum).

use super::{dl3033::rpm_unpinned, Rule};
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3041",
    severity: Severity::Warning,
    message: "Specify version with `dnf install -y <package>-<version>`.",
    fix: "pin each package, e.g. dnf install -y httpd-2.4.57",
    buildkit: None,
    check: |file| rpm_unpinned(file, &["dnf", "microdnf"], &["module", "group"]),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_unpinned_packages() {
        assert_eq!(
            lines(&RULE, "FROM a\nRUN microdnf install -y python3\n"),
            [2]
        );
    }

    #[test]
    fn allows_versions() {
        assert!(lines(&RULE, "FROM a\nRUN dnf install -y python3-3.11.5\n").is_empty());
    }
}
