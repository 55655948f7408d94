//! Which service keys the conversion maps. A key it does not know is refused, so that a
//! new compose key is never dropped without a word.

use wharf_compose::Service;

use crate::error::Refusal;

/// Keys some part of the conversion maps (or that change nothing in a cluster).
const MAPPED: &[&str] = &[
    "annotations",
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "configs",
    "container_name",
    "depends_on",
    "deploy",
    "entrypoint",
    "environment",
    "env_file",
    "expose",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "labels",
    "logging",
    "networks",
    "platform",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "stdin_open",
    "stop_grace_period",
    "sysctls",
    "tmpfs",
    "tty",
    "user",
    "volumes",
    "working_dir",
];

/// `deploy` keys that map; `mode: global` (a DaemonSet) does not.
const DEPLOY_MAPPED: &[&str] = &["mode", "replicas", "resources", "restart_policy", "labels"];

/// Refusals for the keys of `service` that have no Kubernetes equivalent here.
pub fn check(service: &Service) -> Vec<Refusal> {
    let Ok(serde_json::Value::Object(keys)) = serde_json::to_value(service) else {
        return Vec::new();
    };
    let name = &service.name;
    let mut refusals: Vec<Refusal> = keys
        .iter()
        .filter(|(key, value)| !value.is_null() && !MAPPED.contains(&key.as_str()))
        .map(|(key, _)| {
            Refusal::service(
                name,
                key,
                "has no Kubernetes equivalent in wharf's conversion",
            )
        })
        .collect();
    if let Some(deploy) = keys.get("deploy").and_then(|d| d.as_object()) {
        for (key, value) in deploy {
            let empty = value.as_object().is_some_and(|o| o.is_empty());
            if !empty && !DEPLOY_MAPPED.contains(&key.as_str()) {
                refusals.push(Refusal::service(
                    name,
                    &format!("deploy.{key}"),
                    "is swarm's, with no Kubernetes equivalent in wharf's conversion",
                ));
            }
        }
        if deploy
            .get("mode")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m != "replicated")
        {
            refusals.push(Refusal::service(
                name,
                "deploy.mode",
                "only `replicated` converts (to a Deployment)",
            ));
        }
    }
    refusals
}
