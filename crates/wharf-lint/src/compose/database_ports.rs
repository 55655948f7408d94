//! WC007: a database's port published on all interfaces: anyone who reaches the host
//! reaches the database. Publish on 127.0.0.1, or not at all (services reach it by name).

use wharf_compose::Project;

use super::{is_database, ComposeRule, Locator};
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC007",
    severity: Severity::Warning,
    message: "A database port is published on all interfaces",
    fix: "publish on loopback (\"127.0.0.1:5432:5432\") or remove ports: other services reach it by name",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    project
        .services
        .iter()
        .filter(|(_, service)| is_database(service))
        .filter(|(_, service)| {
            service.ports.iter().any(|port| {
                !port.published.is_empty() && matches!(port.host_ip.as_str(), "" | "0.0.0.0" | "::")
            })
        })
        .map(|(name, _)| {
            (
                locator.line(&["services", name, "ports"]),
                format!("database `{name}` is published on all interfaces"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_a_public_database() {
        let yaml = "services:\n  db:\n    image: postgres:16\n    ports:\n      - 5432:5432\n";
        assert_eq!(lines(&RULE, yaml), [4]);
    }

    #[test]
    fn allows_loopback_and_apps() {
        let yaml = "services:\n  db:\n    image: postgres:16\n    ports:\n      - 127.0.0.1:5432:5432\n  web:\n    image: app:1\n    ports:\n      - 80:80\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
