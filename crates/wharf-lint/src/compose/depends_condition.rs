//! WC002: `depends_on` a database without a condition: compose starts the app as soon as
//! the database's container starts, before it accepts connections.

use wharf_compose::model::CONDITION_STARTED;
use wharf_compose::Project;

use super::{is_database, ComposeRule, Locator};
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC002",
    severity: Severity::Warning,
    message: "depends_on a database without waiting for it to be healthy",
    fix: "use depends_on: {db: {condition: service_healthy}} with a healthcheck on db",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for (name, service) in &project.services {
        for (dependency, how) in &service.depends_on {
            let database = project.services.get(dependency).is_some_and(is_database);
            if database && how.condition == CONDITION_STARTED {
                hits.push((
                    locator.line(&["services", name, "depends_on"]),
                    format!("service `{name}` depends on database `{dependency}` without condition: service_healthy"),
                ));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_a_plain_dependency_on_a_database() {
        let yaml = "services:\n  web:\n    image: app:1\n    depends_on:\n      - db\n  db:\n    image: postgres:16\n";
        assert_eq!(lines(&RULE, yaml), [4]);
    }

    #[test]
    fn allows_healthy_conditions_and_other_services() {
        let yaml = "services:\n  web:\n    image: app:1\n    depends_on:\n      db:\n        condition: service_healthy\n      worker:\n        condition: service_started\n  worker:\n    image: app:1\n  db:\n    image: postgres:16\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
