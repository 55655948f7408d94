//! WC006: a production compose file bind-mounts the whole project over the image's code,
//! so the container runs whatever is on the host instead of what was built. Override and
//! development files (`compose.override.yaml`, `*dev*`) are for that and pass.

use wharf_compose::Project;

use super::{ComposeRule, Locator};
use crate::finding::Severity;

pub const RULE: ComposeRule = ComposeRule {
    code: "WC006",
    severity: Severity::Warning,
    message: "The whole project is bind-mounted in a production file",
    fix: "move the bind mount to compose.override.yaml (or use develop.watch)",
    check,
};

fn check(project: &Project, locator: &Locator) -> Vec<(usize, String)> {
    if !locator.production {
        return Vec::new();
    }
    let root = project.working_dir.to_string_lossy();
    let root = root.trim_end_matches('/');
    project
        .services
        .iter()
        .filter(|(_, service)| {
            service
                .volumes
                .iter()
                .any(|volume| volume.kind == "bind" && volume.source.trim_end_matches('/') == root)
        })
        .map(|(name, _)| {
            (
                locator.line(&["services", name, "volumes"]),
                format!("service `{name}` mounts the project folder over the built image"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::test_support::lines;

    #[test]
    fn catches_the_project_mounted() {
        let yaml = "services:\n  web:\n    build: .\n    volumes:\n      - .:/app\n";
        assert_eq!(lines(&RULE, yaml), [4]);
    }

    #[test]
    fn allows_named_volumes_and_subfolders() {
        let yaml = "services:\n  web:\n    build: .\n    volumes:\n      - data:/data\n      - ./static:/app/static\nvolumes:\n  data: {}\n";
        assert!(lines(&RULE, yaml).is_empty());
    }
}
