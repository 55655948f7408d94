//! DL3011: EXPOSE a port above 65535.

use super::{lines_where, Hit, Rule};
use crate::dockerfile::File;
use crate::finding::Severity;
use wharf_dockerfile::Instruction;

pub const RULE: Rule = Rule {
    code: "DL3011",
    severity: Severity::Error,
    message: "Valid UNIX ports range from 0 to 65535",
    fix: "EXPOSE a port between 0 and 65535",
    buildkit: None,
    check,
};

fn check(file: &File) -> Vec<Hit> {
    lines_where(file, |item| match &item.instruction {
        Instruction::Expose(ports) => ports.iter().any(|spec| {
            let ports = spec.split('/').next().unwrap_or_default();
            ports
                .split('-')
                .any(|port| port.parse::<u64>().is_ok_and(|port| port > 65535))
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::lines;

    #[test]
    fn catches_ports_out_of_range() {
        assert_eq!(
            lines(&RULE, "FROM a\nEXPOSE 80 70000/tcp\nEXPOSE 8000-80000\n"),
            [2, 3]
        );
    }

    #[test]
    fn allows_valid_ports_and_variables() {
        assert!(lines(&RULE, "FROM a\nEXPOSE 8000 53/udp 9000-9010 $PORT\n").is_empty());
    }
}
