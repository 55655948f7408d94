//! WC004: a long-running service without a restart policy stays down after a crash or a
//! reboot. One-off services (a finished dependency, `restart: "no"` written out) pass.

use wharf_compose::model::CONDITION_COMPLETED_SUCCESSFULLY;
use wharf_compose::Project;

use super::{ComposeRule, Locator};
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC004",
    severity: Severity::Info,
    message: "A long-running service has no restart policy",
    fix: "add restart: unless-stopped",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    project
        .services
        .iter()
        .filter(|(name, service)| {
            let one_off = project.services.values().any(|other| {
                other
                    .depends_on
                    .get(*name)
                    .is_some_and(|how| how.condition == CONDITION_COMPLETED_SUCCESSFULLY)
            });
            let deploy_policy = service
                .deploy
                .as_ref()
                .is_some_and(|deploy| deploy.restart_policy.is_some());
            service.restart.is_empty() && !deploy_policy && !one_off
        })
        .map(|(name, _)| {
            (
                locator.line(&["services", name]),
                format!("service `{name}` has no restart policy"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_a_service_without_restart() {
        assert_eq!(lines(&RULE, "services:\n  web:\n    image: app:1\n"), [2]);
    }

    #[test]
    fn allows_policies_and_one_off_jobs() {
        let yaml = "services:\n  web:\n    image: app:1\n    restart: unless-stopped\n    depends_on:\n      migrate:\n        condition: service_completed_successfully\n  migrate:\n    image: app:1\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
