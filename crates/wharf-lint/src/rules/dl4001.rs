//! DL4001: both curl and wget in one stage; one download tool is enough.

use super::{Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;

pub const RULE: Rule = Rule {
    code: "DL4001",
    severity: Severity::Warning,
    message: "Either use Wget or Curl but not both",
    fix: "pick one of curl and wget",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in file.stages() {
        let (mut curl, mut wget) = (false, false);
        for item in stage {
            let Some(script) = item.any_script() else {
                continue;
            };
            let uses_curl = script.uses("curl");
            let uses_wget = script.uses("wget");
            curl |= uses_curl;
            wget |= uses_wget;
            if (uses_curl || uses_wget) && curl && wget {
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
    fn catches_both_tools() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a\nRUN curl -o x y\nRUN echo\nRUN wget -q z\nRUN curl w\n"
            ),
            [4, 5]
        );
    }

    #[test]
    fn allows_one_tool_per_stage() {
        assert!(lines(&RULE, "FROM a\nRUN curl x\nFROM b\nRUN wget -q y\n").is_empty());
    }
}
