//! DL3043: ONBUILD wrapping ONBUILD, FROM or MAINTAINER. BuildKit refuses these when it
//! parses, so this fires only for Dockerfiles wharf could still read.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL3043",
    severity: Severity::Error,
    message: "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.",
    fix: "remove the instruction from ONBUILD",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    file.parsed
        .nodes
        .iter()
        .filter(|node| {
            matches!(&node.args, wharf_dockerfile::Arguments::Trigger(trigger)
                if matches!(trigger.keyword().as_str(), "onbuild" | "from" | "maintainer"))
        })
        .map(|node| node.lines.start.into())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_forbidden_triggers() {
        assert_eq!(
            lines(&RULE, "FROM a\nONBUILD FROM b\nONBUILD MAINTAINER me\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_other_triggers() {
        assert!(lines(&RULE, "FROM a\nONBUILD RUN make\n").is_empty());
    }
}
