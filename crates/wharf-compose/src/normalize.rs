//! Normalization, as compose-go's `loader/normalize.go` does it on the tree: the default
//! network and who joins it, build defaults (`Dockerfile`), `pull_policy: if_not_present` →
//! `missing`, variables named without a value taken from the environment, implied
//! dependencies (`links`, `network_mode: service:x`, `volumes_from`), clean mount targets,
//! and each network, volume, secret and config named `<project>_<key>` unless external.

use std::collections::BTreeMap;

use crate::canonical::clean_path;
use crate::tree::{Node, Position, Value};

type Map = BTreeMap<String, Node>;

/// Normalizes the merged tree in place. `name` must already hold the project name.
pub fn normalize(tree: &mut Node, environment: &BTreeMap<String, String>) {
    normalize_networks(tree);
    let Some(Value::Map(services)) = tree.get_mut("services").map(|s| &mut s.value) else {
        set_names_from_keys(tree);
        return;
    };
    for service in services.values_mut() {
        let at = service.at.clone();
        let Value::Map(service) = &mut service.value else {
            continue;
        };
        normalize_service(service, &at, environment);
    }
    set_names_from_keys(tree);
}

fn string_node(text: impl Into<String>, at: &Position) -> Node {
    Node::new(Value::String(text.into()), at.clone())
}

fn normalize_service(service: &mut Map, at: &Position, environment: &BTreeMap<String, String>) {
    if service.get("pull_policy").and_then(Node::as_str) == Some("if_not_present") {
        service.insert("pull_policy".into(), string_node("missing", at));
    }
    if let Some(build) = service.get_mut("build") {
        let at = build.at.clone();
        if let Value::Map(build) = &mut build.value {
            if build
                .get("context")
                .is_none_or(|c| matches!(c.value, Value::Null))
            {
                build.insert("context".into(), string_node(".", &at));
            }
            if !build.contains_key("dockerfile") && !build.contains_key("dockerfile_inline") {
                build.insert("dockerfile".into(), string_node("Dockerfile", &at));
            }
            if let Some(args) = build.get_mut("args") {
                resolve_variables(args, environment, false);
            }
        }
    }
    if let Some(variables) = service.get_mut("environment") {
        resolve_variables(variables, environment, true);
    }

    let mut implied: Vec<(String, bool, bool)> = Vec::new();
    if let Some(links) = service.get("links").and_then(Node::as_seq) {
        for link in links.iter().filter_map(Node::as_str) {
            let parts: Vec<&str> = link.split(':').collect();
            let name = if parts.len() == 2 { parts[0] } else { link };
            implied.push((name.to_owned(), true, true));
        }
    }
    for namespace in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(shared) = service
            .get(namespace)
            .and_then(Node::as_str)
            .and_then(|mode| mode.strip_prefix("service:"))
        {
            implied.push((shared.to_owned(), true, true));
        }
    }
    if let Some(Value::Seq(volumes)) = service.get_mut("volumes").map(|v| &mut v.value) {
        for volume in volumes {
            if let Some(target) = volume.get_mut("target") {
                if let Value::String(text) = &mut target.value {
                    *text = clean_path(text);
                }
            }
        }
    }
    if let Some(from) = service.get("volumes_from").and_then(Node::as_seq) {
        for source in from.iter().filter_map(Node::as_str) {
            if !source.starts_with("container:") {
                let name = source.split(':').next().unwrap_or(source);
                implied.push((name.to_owned(), false, true));
            }
        }
    }
    if implied.is_empty() {
        return;
    }
    let depends_on = service
        .entry("depends_on".into())
        .or_insert_with(|| Node::new(Value::Map(Map::new()), at.clone()));
    if let Value::Map(depends_on) = &mut depends_on.value {
        for (name, restart, required) in implied {
            depends_on.entry(name).or_insert_with(|| {
                let settings = Map::from([
                    ("condition".to_owned(), string_node("service_started", at)),
                    (
                        "restart".to_owned(),
                        Node::new(Value::Bool(restart), at.clone()),
                    ),
                    (
                        "required".to_owned(),
                        Node::new(Value::Bool(required), at.clone()),
                    ),
                ]);
                Node::new(Value::Map(settings), at.clone())
            });
        }
    }
}

/// `environment` or `build.args`: a variable named without a value takes the environment's
/// value; without one it stays unset in `environment` and is dropped from `args`.
fn resolve_variables(node: &mut Node, environment: &BTreeMap<String, String>, keep_unset: bool) {
    match &mut node.value {
        Value::Seq(items) => {
            items.retain_mut(|item| {
                let Value::String(text) = &mut item.value else {
                    return false;
                };
                if text.contains('=') {
                    return true;
                }
                match environment.get(text.as_str()) {
                    Some(value) => {
                        *text = format!("{text}={value}");
                        true
                    }
                    None => keep_unset,
                }
            });
        }
        Value::Map(map) => {
            map.retain(|key, value| {
                if !matches!(value.value, Value::Null) {
                    return true;
                }
                match environment.get(key) {
                    Some(found) => {
                        value.value = Value::String(found.clone());
                        true
                    }
                    None => keep_unset,
                }
            });
        }
        _ => {}
    }
}

/// Services without `network_mode` join `default` when they name no network; the project
/// then has a `default` network.
fn normalize_networks(tree: &mut Node) {
    let mut uses_default = false;
    if let Some(Value::Map(services)) = tree.get_mut("services").map(|s| &mut s.value) {
        for service in services.values_mut() {
            let at = service.at.clone();
            let Value::Map(service) = &mut service.value else {
                continue;
            };
            if service.contains_key("provider") || service.contains_key("network_mode") {
                continue;
            }
            let default_only = || {
                let networks =
                    Map::from([("default".to_owned(), Node::new(Value::Null, at.clone()))]);
                Node::new(Value::Map(networks), at.clone())
            };
            match service.get("networks").map(|n| &n.value) {
                Some(Value::Map(networks)) if !networks.is_empty() => {
                    uses_default |= networks.contains_key("default");
                }
                _ => {
                    service.insert("networks".into(), default_only());
                    uses_default = true;
                }
            }
        }
    }
    let Some(root) = tree.as_map_mut() else {
        return;
    };
    let at = Position::default();
    let networks = root
        .entry("networks".into())
        .or_insert_with(|| Node::new(Value::Map(Map::new()), at.clone()));
    if matches!(networks.value, Value::Null) {
        networks.value = Value::Map(Map::new());
    }
    if let Value::Map(networks) = &mut networks.value {
        if uses_default {
            networks
                .entry("default".into())
                .or_insert_with(|| Node::new(Value::Null, at.clone()));
        }
    }
    if root
        .get("networks")
        .and_then(Node::as_map)
        .is_some_and(Map::is_empty)
    {
        root.remove("networks");
    }
}

/// Networks, volumes, configs and secrets without a `name` get `<project>_<key>`, or the
/// key itself when external.
fn set_names_from_keys(tree: &mut Node) {
    let project = tree
        .get("name")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    let Some(root) = tree.as_map_mut() else {
        return;
    };
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(Value::Map(resources)) = root.get_mut(kind).map(|r| &mut r.value) else {
            continue;
        };
        for (key, resource) in resources.iter_mut() {
            if matches!(resource.value, Value::Null) {
                resource.value = Value::Map(Map::new());
            }
            let at = resource.at.clone();
            let Value::Map(resource) = &mut resource.value else {
                continue;
            };
            let has_name = resource
                .get("name")
                .is_some_and(|n| !matches!(n.value, Value::Null));
            if has_name {
                continue;
            }
            let external = resource
                .get("external")
                .and_then(Node::scalar_text)
                .is_some_and(|text| {
                    matches!(text.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True")
                });
            let name = if external {
                key.clone()
            } else {
                format!("{project}_{key}")
            };
            resource.insert("name".into(), string_node(name, &at));
        }
    }
}

/// Variables listed without a value in `environment` take the environment's value, as
/// compose-go's `ResolveEnvironment` does before normalization; configs with an
/// `environment` source get its content. (A secret's content never shows in the model:
/// [`crate::select::resolve_secrets`] reads it into the typed project.)
pub fn resolve_environment(tree: &mut Node, environment: &BTreeMap<String, String>) {
    if let Some(Value::Map(services)) = tree.get_mut("services").map(|s| &mut s.value) {
        for service in services.values_mut() {
            if let Some(Value::Seq(items)) = service.get_mut("environment").map(|e| &mut e.value) {
                for item in items.iter_mut() {
                    if let Value::String(name) = &mut item.value {
                        if let Some(value) = environment.get(name.as_str()) {
                            *name = format!("{name}={value}");
                        }
                    }
                }
                items.retain(|item| matches!(item.value, Value::String(_)));
            }
        }
    }
    let Some(Value::Map(configs)) = tree.get_mut("configs").map(|r| &mut r.value) else {
        return;
    };
    for config in configs.values_mut() {
        let at = config.at.clone();
        let Value::Map(config) = &mut config.value else {
            continue;
        };
        let variable = config
            .get("environment")
            .and_then(Node::as_str)
            .map(str::to_owned);
        if let Some(value) = variable.and_then(|name| environment.get(&name).cloned()) {
            config.insert("content".into(), string_node(value, &at));
        }
    }
}
