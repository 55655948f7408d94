//! `develop.watch`: the rules of `compose watch`, in compose-go's `DevelopConfig` and
//! `Trigger` field order (they are part of the service's JSON, hence of its config hash),
//! and the checks `compose watch` makes before anything starts, which `config` does not
//! (docker compose prints a rebuild rule of a service without `build` without a word).

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ComposeError;
use crate::model::{Extensions, MappingWithEquals, Project};

/// `services.*.develop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Develop {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watch: Vec<WatchRule>,
    /// `x-*` keys: printed in YAML, left out of JSON and of the hash.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// What a rule does with a change under its path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WatchAction {
    #[default]
    #[serde(rename = "sync")]
    Sync,
    #[serde(rename = "rebuild")]
    Rebuild,
    #[serde(rename = "restart")]
    Restart,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    #[serde(rename = "sync+exec")]
    SyncExec,
}

impl WatchAction {
    /// Whether the rule copies files into the container.
    pub fn syncs(self) -> bool {
        matches!(self, Self::Sync | Self::SyncRestart | Self::SyncExec)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Rebuild => "rebuild",
            Self::Restart => "restart",
            Self::SyncRestart => "sync+restart",
            Self::SyncExec => "sync+exec",
        }
    }
}

/// One `develop.watch` entry (compose-go's `Trigger`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchRule {
    /// Absolute once loaded (relative paths resolve against the project directory).
    #[serde(default)]
    pub path: String,
    pub action: WatchAction,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Always in JSON (`{"command": null}`), left out of YAML when empty.
    #[serde(default)]
    pub exec: ServiceHook,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub initial_sync: bool,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `exec` of a `sync+exec` rule (compose-go's `ServiceHook`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceHook {
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub environment: MappingWithEquals,
    #[serde(flatten)]
    pub extensions: Extensions,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The service's `develop` as JSON writes it: without `x-*` keys, at any depth.
pub(crate) fn strip_extensions(develop: &mut Value) {
    let Value::Object(fields) = develop else {
        return;
    };
    fields.retain(|key, _| !key.starts_with("x-"));
    if let Some(Value::Array(rules)) = fields.get_mut("watch") {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            rule.retain(|key, _| !key.starts_with("x-"));
            if let Some(Value::Object(exec)) = rule.get_mut("exec") {
                exec.retain(|key, _| !key.starts_with("x-"));
            }
        }
    }
}

/// The service's `develop` as go-yaml writes it: an empty `exec` left out.
pub(crate) fn yaml_value(develop: &Develop) -> Value {
    let mut value = serde_json::to_value(develop).unwrap_or_default();
    if let Some(Value::Array(rules)) = value.get_mut("watch") {
        for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
            let empty = rule.get("exec").and_then(Value::as_object).is_some_and(
                |exec: &Map<String, Value>| exec.iter().all(|(k, v)| k == "command" && v.is_null()),
            );
            if empty {
                rule.shift_remove("exec");
            } else if let Some(Value::Object(exec)) = rule.get_mut("exec") {
                if exec.get("command") == Some(&Value::Null) {
                    exec.shift_remove("command");
                }
            }
        }
    }
    value
}

/// The keys of a `develop` section that are neither known nor `x-*`: the schema refuses
/// them (serde's `flatten` keeps them in `extensions`).
pub(crate) fn unknown_key(develop: &Develop) -> Option<String> {
    let unknown = |extensions: &Extensions, at: String| {
        extensions
            .keys()
            .find(|key| !key.starts_with("x-"))
            .map(|key| format!("{at}{key}"))
    };
    unknown(&develop.extensions, String::new()).or_else(|| {
        develop.watch.iter().enumerate().find_map(|(index, rule)| {
            unknown(&rule.extensions, format!("watch[{index}]."))
                .or_else(|| unknown(&rule.exec.extensions, format!("watch[{index}].exec.")))
        })
    })
}

/// One service's rules, checked for `compose watch`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceWatch {
    pub service: String,
    pub rules: Vec<WatchRule>,
}

/// The watch rules of `services` (all the project's with rules when empty), each checked as
/// `compose watch` needs it before anything starts: an error names the service and the rule.
/// Errors when no selected service has rules, as docker compose does.
pub fn watch_rules(
    project: &Project,
    services: &[String],
) -> Result<Vec<ServiceWatch>, ComposeError> {
    let mut watched = Vec::new();
    for (name, service) in &project.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        let Some(develop) = service.develop.as_ref().filter(|d| !d.watch.is_empty()) else {
            continue;
        };
        for (index, rule) in develop.watch.iter().enumerate() {
            check_rule(rule, service.build.is_some())
                .map_err(|(why, hint)| rule_error(name, index, rule, why, hint))?;
        }
        watched.push(ServiceWatch {
            service: name.clone(),
            rules: develop.watch.clone(),
        });
    }
    if watched.is_empty() {
        return Err(ComposeError::project(
            "none of the selected services is configured for watch, consider setting a 'develop' section",
        )
        .with_hint("add develop.watch rules to a service (https://docs.docker.com/compose/file-watch/)"));
    }
    Ok(watched)
}

fn rule_error(
    service: &str,
    index: usize,
    rule: &WatchRule,
    why: String,
    hint: &str,
) -> ComposeError {
    ComposeError::project(format!(
        "services.{service}.develop.watch[{index}] ({} {}): {why}",
        rule.action.as_str(),
        rule.path
    ))
    .with_hint(hint)
}

fn check_rule(rule: &WatchRule, has_build: bool) -> Result<(), (String, &'static str)> {
    if rule.path.is_empty() {
        return Err((
            "`path` is required".into(),
            "name the host file or folder to watch",
        ));
    }
    if !Path::new(&rule.path).exists() {
        return Err((
            format!("the path {} does not exist", rule.path),
            "create it, or fix `path` (it is relative to the project directory)",
        ));
    }
    match rule.action {
        WatchAction::Rebuild if !has_build => Err((
            "the service has no `build` section to rebuild".into(),
            "add a `build` section, or use `sync` or `restart`",
        )),
        action if action.syncs() => {
            check_target(&rule.target).and_then(|()| match (action, &rule.exec.command) {
                (WatchAction::SyncExec, None) => Err((
                    "`exec.command` is required for sync+exec".into(),
                    "e.g. exec: {command: kill -HUP 1}",
                )),
                (WatchAction::SyncExec, Some(command)) if command.is_empty() => Err((
                    "`exec.command` is empty".into(),
                    "e.g. exec: {command: kill -HUP 1}",
                )),
                _ => Ok(()),
            })
        }
        _ => Ok(()),
    }
}

/// A sync target is an absolute path in the container that names a folder or file below
/// its root (not the root itself) and never climbs with `..`.
fn check_target(target: &str) -> Result<(), (String, &'static str)> {
    let hint = "use an absolute path in the container, such as /app";
    if target.is_empty() {
        return Err(("`target` is required for a sync action".into(), hint));
    }
    let path = PathBuf::from(target);
    if !path.is_absolute() {
        return Err((format!("target {target} is not an absolute path"), hint));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err((format!("target {target} climbs out with `..`"), hint));
    }
    if path.components().all(|c| c == Component::RootDir) {
        return Err((
            "target / would replace the container's whole filesystem".into(),
            hint,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Build, Service};

    fn project(rule: WatchRule, build: bool) -> Project {
        let mut project = Project::default();
        let service = Service {
            build: build.then(Build::default),
            develop: Some(Develop {
                watch: vec![rule],
                ..Develop::default()
            }),
            ..Service::default()
        };
        project.services.insert("web".into(), service);
        project
    }

    fn rule(action: WatchAction, target: &str) -> WatchRule {
        WatchRule {
            path: std::env::temp_dir().display().to_string(),
            action,
            target: target.into(),
            ..WatchRule::default()
        }
    }

    fn error(rule: WatchRule, build: bool) -> String {
        watch_rules(&project(rule, build), &[])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn accepts_good_rules() {
        let found = watch_rules(&project(rule(WatchAction::Sync, "/app"), false), &[]).unwrap();
        assert_eq!(found[0].service, "web");
        assert!(watch_rules(&project(rule(WatchAction::Rebuild, ""), true), &[]).is_ok());
    }

    #[test]
    fn names_the_service_and_rule_at_fault() {
        let message = error(rule(WatchAction::Rebuild, ""), false);
        assert!(
            message.starts_with("services.web.develop.watch[0] (rebuild "),
            "{message}"
        );
        assert!(message.contains("no `build`"), "{message}");
        assert!(error(rule(WatchAction::Sync, "app"), false).contains("not an absolute path"));
        assert!(error(rule(WatchAction::Sync, "/app/../.."), false).contains("climbs"));
        assert!(error(rule(WatchAction::Sync, "/"), false).contains("whole filesystem"));
        assert!(error(rule(WatchAction::SyncRestart, ""), false).contains("required"));
        assert!(error(rule(WatchAction::SyncExec, "/app"), false).contains("exec.command"));
        let missing = WatchRule {
            path: "/nonexistent/wharf-watch".into(),
            ..rule(WatchAction::Sync, "/app")
        };
        assert!(error(missing, false).contains("does not exist"));
    }

    #[test]
    fn a_project_without_rules_is_refused() {
        let mut project = Project::default();
        project.services.insert("web".into(), Service::default());
        assert!(watch_rules(&project, &[]).is_err());
    }
}
