//! The keys of a loaded project that wharf does not act on, named so that the commands that
//! run a project (`up`, `create`, `run`) refuse them or say they are ignored, instead of
//! dropping them silently. `config` prints them, as docker compose does.

use serde_json::Value;

use crate::model::{Project, Service};

/// What wharf does with a key it does not act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Running the project would not do what the file says: refuse it.
    Refused,
    /// Only an optimization or a swarm setting that docker compose ignores too: say so.
    Ignored,
}

/// A key set in the project that wharf does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub service: String,
    /// The key path below the service: `build.ssh`, `gpus`.
    pub key: &'static str,
    pub support: Support,
    pub reason: &'static str,
}

/// Keys below a service, by the path of their value in the service's JSON.
const KEYS: &[(&str, Support, &str)] = &[
    (
        "blkio_config",
        Support::Refused,
        "block I/O limits are not supported",
    ),
    (
        "credential_spec",
        Support::Refused,
        "credential specs are Windows-only",
    ),
    (
        "isolation",
        Support::Refused,
        "isolation modes are Windows-only",
    ),
    ("gpus", Support::Refused, "GPUs are not supported"),
    ("models", Support::Refused, "AI models are not supported"),
    (
        "provider",
        Support::Refused,
        "provider services are not supported",
    ),
    (
        "pre_start",
        Support::Refused,
        "lifecycle hooks are not supported",
    ),
    (
        "post_start",
        Support::Refused,
        "lifecycle hooks are not supported",
    ),
    (
        "pre_stop",
        Support::Refused,
        "lifecycle hooks are not supported",
    ),
    (
        "use_api_socket",
        Support::Refused,
        "there is no Docker API socket to share",
    ),
    ("runtime", Support::Refused, "wharf has one runtime"),
    (
        "volume_driver",
        Support::Refused,
        "volume drivers other than local are not supported",
    ),
    (
        "build.ssh",
        Support::Refused,
        "SSH agent forwarding in builds is not supported",
    ),
    (
        "build.cache_from",
        Support::Ignored,
        "wharf's build cache is local; cache_from is not read",
    ),
    (
        "build.cache_to",
        Support::Ignored,
        "wharf's build cache is local; cache_to is not written",
    ),
    (
        "deploy.placement",
        Support::Ignored,
        "placement is a swarm setting",
    ),
    (
        "deploy.update_config",
        Support::Ignored,
        "update_config is a swarm setting",
    ),
    (
        "deploy.rollback_config",
        Support::Ignored,
        "rollback_config is a swarm setting",
    ),
    (
        "deploy.endpoint_mode",
        Support::Ignored,
        "endpoint_mode is a swarm setting",
    ),
];

/// Every key of `project`'s services that wharf does not act on, by service then key.
pub fn check(project: &Project) -> Vec<Finding> {
    project
        .services
        .iter()
        .flat_map(|(name, service)| check_service(name, service))
        .collect()
}

fn check_service(name: &str, service: &Service) -> Vec<Finding> {
    let json = serde_json::to_value(service).unwrap_or(Value::Null);
    KEYS.iter()
        .filter(|(key, _, _)| is_set(key.split('.').try_fold(&json, |v, part| v.get(part))))
        .map(|(key, support, reason)| Finding {
            service: name.to_owned(),
            key,
            support: *support,
            reason,
        })
        .collect()
}

/// Whether a value is there and not empty (value structs print `{}` when unset).
fn is_set(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Build, Deploy};

    #[test]
    fn names_what_wharf_refuses_and_ignores() {
        let mut project = Project::default();
        let service = Service {
            build: Some(Build {
                ssh: vec!["default".into()],
                cache_from: vec!["app:cache".into()],
                ..Build::default()
            }),
            deploy: Some(Deploy::default()),
            ..Service::default()
        };
        project.services.insert("web".into(), service);
        let found: Vec<(&str, Support)> = check(&project)
            .iter()
            .map(|finding| (finding.key, finding.support))
            .collect();
        assert_eq!(
            found,
            [
                ("build.ssh", Support::Refused),
                ("build.cache_from", Support::Ignored)
            ]
        );
    }

    #[test]
    fn a_plain_service_has_nothing_to_say() {
        let mut project = Project::default();
        project.services.insert("web".into(), Service::default());
        assert!(check(&project).is_empty());
    }
}
