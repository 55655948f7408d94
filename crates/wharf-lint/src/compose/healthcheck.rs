//! WC001: a service others depend on has no healthcheck, so they cannot wait for it to be
//! ready (`condition: service_healthy` then fails at `up`).

use wharf_compose::Project;

use super::{ComposeRule, Locator};
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC001",
    severity: Severity::Warning,
    message: "A service others depend on has no healthcheck",
    fix: "add a healthcheck (e.g. pg_isready for postgres, redis-cli ping for redis)",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    project
        .services
        .iter()
        .filter(|(_, service)| {
            service
                .healthcheck
                .as_ref()
                .is_none_or(|check| check.disable || check.test.is_empty())
        })
        .filter_map(|(name, _)| {
            let dependents: Vec<&str> = project
                .services
                .iter()
                .filter(|(_, other)| other.depends_on.contains_key(name))
                .map(|(other, _)| other.as_str())
                .collect();
            (!dependents.is_empty()).then(|| {
                (
                    locator.line(&["services", name]),
                    format!(
                        "service `{name}` has no healthcheck, and {} depend on it",
                        dependents.join(", ")
                    ),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_a_dependency_without_healthcheck() {
        let yaml = "services:\n  web:\n    image: app:1\n    depends_on: [db]\n  db:\n    image: postgres:16\n";
        assert_eq!(lines(&RULE, yaml), [5]);
    }

    #[test]
    fn allows_healthchecked_dependencies() {
        let yaml = "services:\n  web:\n    image: app:1\n    depends_on: [db]\n  db:\n    image: postgres:16\n    healthcheck:\n      test: [\"CMD\", \"pg_isready\"]\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
