//! Short syntax → long syntax, on the tree, as compose-go's `transform.Canonical` does
//! after each file is merged: `build: .` → `{context: .}`, `ports: ["80:80"]` → port maps,
//! `volumes: ["./x:/x"]` → mount maps, `depends_on: [db]` → conditions, and so on.
//! [`set_defaults`] then fills what the spec says is implied (`protocol: tcp`, a secret's
//! target under `/run/secrets`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::ComposeError;
use crate::syntax;
use crate::tree::{KeyPath, Node, Position, Value};

#[derive(Clone, Copy)]
enum Transform {
    Recurse,
    FileMount,
    StringOrOther,
    KeyValueToMap,
    DependsOn,
    EnvFile,
    StringToList,
    /// `gpus: all` is one request of every device: `[{count: all}]`.
    Gpus,
    Extends,
    ListToMap,
    VolumeMount,
    Device,
    Ports,
    Build,
    Ssh,
    MaybeExternal,
    Include,
}

/// The transforms by path; `*` is any key or list index.
const TRANSFORMS: &[(&str, Transform)] = &[
    ("services.*", Transform::Recurse),
    ("services.*.build.secrets.*", Transform::FileMount),
    ("services.*.build.provenance", Transform::StringOrOther),
    ("services.*.build.sbom", Transform::StringOrOther),
    (
        "services.*.build.additional_contexts",
        Transform::KeyValueToMap,
    ),
    ("services.*.depends_on", Transform::DependsOn),
    ("services.*.env_file", Transform::EnvFile),
    ("services.*.label_file", Transform::StringToList),
    ("services.*.extends", Transform::Extends),
    ("services.*.networks", Transform::ListToMap),
    ("services.*.models", Transform::ListToMap),
    ("services.*.volumes.*", Transform::VolumeMount),
    ("services.*.devices.*", Transform::Device),
    ("services.*.dns", Transform::StringToList),
    ("services.*.gpus", Transform::Gpus),
    ("services.*.secrets.*", Transform::FileMount),
    ("services.*.configs.*", Transform::FileMount),
    ("services.*.ports", Transform::Ports),
    ("services.*.build", Transform::Build),
    ("services.*.build.ssh", Transform::Ssh),
    ("services.*.develop.watch.*.ignore", Transform::StringToList),
    (
        "services.*.develop.watch.*.include",
        Transform::StringToList,
    ),
    ("volumes.*", Transform::MaybeExternal),
    ("networks.*", Transform::MaybeExternal),
    ("secrets.*", Transform::MaybeExternal),
    ("configs.*", Transform::MaybeExternal),
    ("include.*", Transform::Include),
];

/// What a rewrite needs besides the tree.
struct Cx<'a> {
    /// Hears about deprecated forms.
    warnings: &'a mut Vec<String>,
    /// Without interpolation a short form may hold `${VAR}`: it stays as written when it
    /// does not parse, as compose-go does.
    lenient: bool,
}

/// Rewrites every short form in `node` (a file's root, or the merged project) into its
/// long form. `warnings` hears about deprecated forms; `lenient` keeps short forms that do
/// not parse (for an uninterpolated tree).
pub fn canonical(
    node: &mut Node,
    warnings: &mut Vec<String>,
    lenient: bool,
) -> Result<(), ComposeError> {
    let mut cx = Cx { warnings, lenient };
    transform(node, &KeyPath::root(), &mut cx)?;
    omit_empty_dns(node);
    Ok(())
}

fn transform(node: &mut Node, path: &KeyPath, cx: &mut Cx<'_>) -> Result<(), ComposeError> {
    match path.rule(TRANSFORMS) {
        None | Some(Transform::Recurse) => recurse(node, path, cx),
        Some(rule) => apply(rule, node, path, cx),
    }
}

fn recurse(node: &mut Node, path: &KeyPath, cx: &mut Cx<'_>) -> Result<(), ComposeError> {
    match &mut node.value {
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                transform(value, &path.join(key.clone()), cx)?;
            }
        }
        Value::Seq(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                transform(item, &path.index(index), cx)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn string_node(text: impl Into<String>, at: &Position) -> Node {
    Node::new(Value::String(text.into()), at.clone())
}

fn map_node(entries: impl IntoIterator<Item = (String, Node)>, at: &Position) -> Node {
    Node::new(Value::Map(entries.into_iter().collect()), at.clone())
}

/// A typed value (a parsed short form) as a tree, every value at `at`.
fn encoded(value: &impl Serialize, at: &Position) -> Node {
    let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
    Node::from_json(&json, at)
}

fn apply(
    rule: Transform,
    node: &mut Node,
    path: &KeyPath,
    cx: &mut Cx<'_>,
) -> Result<(), ComposeError> {
    let at = node.at.clone();
    let invalid_type = |what: &str, node: &Node| {
        ComposeError::invalid(
            &node.at,
            path,
            format!("invalid type {} for {what}", node.type_name()),
        )
    };
    match rule {
        Transform::Recurse => recurse(node, path, cx)?,
        Transform::FileMount | Transform::Extends | Transform::Include => {
            let key = match rule {
                Transform::Extends => "service",
                Transform::Include => "path",
                _ => "source",
            };
            match &node.value {
                Value::String(text) => {
                    *node = map_node([(key.to_owned(), string_node(text.clone(), &at))], &at)
                }
                Value::Map(_) => recurse(node, path, cx)?,
                _ => return Err(invalid_type(key, node)),
            }
        }
        Transform::StringOrOther => {
            if let Some(text) = node.scalar_text() {
                node.value = Value::String(text);
            }
        }
        Transform::KeyValueToMap => {
            if let Value::Seq(items) = &node.value {
                let mut map = BTreeMap::new();
                for item in items {
                    let text = item.scalar_text().unwrap_or_default();
                    let Some((key, value)) = text.split_once('=') else {
                        if cx.lenient {
                            return Ok(());
                        }
                        return Err(ComposeError::invalid(
                            &item.at,
                            path,
                            format!("invalid value {text}, expected key=value"),
                        ));
                    };
                    map.insert(key.to_owned(), string_node(value, &item.at));
                }
                node.value = Value::Map(map);
            }
        }
        Transform::DependsOn => match &mut node.value {
            Value::Map(map) => {
                for (name, dependency) in map.iter_mut() {
                    let Value::Map(settings) = &mut dependency.value else {
                        return Err(ComposeError::invalid(
                            &dependency.at,
                            &path.join(name.clone()),
                            "unsupported value",
                        ));
                    };
                    let at = dependency.at.clone();
                    settings
                        .entry("condition".into())
                        .or_insert_with(|| string_node("service_started", &at));
                    settings
                        .entry("required".into())
                        .or_insert_with(|| Node::new(Value::Bool(true), at.clone()));
                }
            }
            Value::Seq(items) => {
                let map = items.iter().map(|item| {
                    let settings = map_node(
                        [
                            (
                                "condition".to_owned(),
                                string_node("service_started", &item.at),
                            ),
                            (
                                "required".to_owned(),
                                Node::new(Value::Bool(true), item.at.clone()),
                            ),
                        ],
                        &item.at,
                    );
                    (item.scalar_text().unwrap_or_default(), settings)
                });
                *node = map_node(map.collect::<Vec<_>>(), &at);
            }
            _ => return Err(invalid_type("depends_on", node)),
        },
        Transform::EnvFile => {
            let items = match &node.value {
                Value::String(_) => vec![node.clone()],
                Value::Seq(items) => items.clone(),
                _ => return Err(invalid_type("env_file", node)),
            };
            let items = items
                .into_iter()
                .map(|item| match item.value {
                    Value::String(file) => map_node(
                        [
                            ("path".to_owned(), string_node(file, &item.at)),
                            (
                                "required".to_owned(),
                                Node::new(Value::Bool(true), item.at.clone()),
                            ),
                        ],
                        &item.at,
                    ),
                    Value::Map(mut map) => {
                        map.entry("required".into())
                            .or_insert_with(|| Node::new(Value::Bool(true), item.at.clone()));
                        Node::new(Value::Map(map), item.at)
                    }
                    _ => item,
                })
                .collect();
            node.value = Value::Seq(items);
        }
        Transform::Gpus => {
            if let Value::String(_) = node.value {
                let count = map_node([("count".to_owned(), node.clone())], &node.at);
                node.value = Value::Seq(vec![count]);
                node.tag = None;
            }
        }
        Transform::StringToList => {
            if let Value::String(_) = node.value {
                let item = node.clone();
                node.value = Value::Seq(vec![item]);
                node.tag = None;
            }
        }
        Transform::ListToMap => {
            if let Value::Seq(items) = &node.value {
                let map: BTreeMap<String, Node> = items
                    .iter()
                    .map(|item| {
                        (
                            item.scalar_text().unwrap_or_default(),
                            Node::new(Value::Null, item.at.clone()),
                        )
                    })
                    .collect();
                node.value = Value::Map(map);
            } else {
                recurse(node, path, cx)?;
            }
        }
        Transform::VolumeMount => match &node.value {
            Value::Map(_) => {}
            Value::String(spec) => {
                let mut volume = match syntax::parse_volume(spec) {
                    Ok(volume) => volume,
                    Err(_) if cx.lenient => return Ok(()),
                    Err(message) => return Err(ComposeError::invalid(&at, path, message)),
                };
                volume.target = clean_path(&volume.target);
                *node = encoded(&volume, &at);
            }
            _ => return Err(invalid_type("service volume mount", node)),
        },
        Transform::Device => match &node.value {
            Value::Map(_) => {}
            Value::String(spec) => {
                let parts: Vec<&str> = spec.split(':').collect();
                if parts.len() > 3 && !cx.lenient {
                    return Err(ComposeError::invalid(
                        &at,
                        path,
                        format!("confusing device mapping, please use long syntax: {spec}"),
                    ));
                }
                let source = parts[0];
                let target = parts
                    .get(1)
                    .copied()
                    .filter(|t| !t.is_empty())
                    .unwrap_or(source);
                let device = crate::model::DeviceMapping {
                    source: source.to_owned(),
                    target: target.to_owned(),
                    permissions: parts.get(2).copied().unwrap_or("rwm").to_owned(),
                };
                *node = encoded(&device, &at);
            }
            _ => return Err(invalid_type("device", node)),
        },
        Transform::Ports => {
            let Value::Seq(items) = &node.value else {
                return Err(invalid_type("port", node));
            };
            let mut ports = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let spec = match &item.value {
                    Value::Int(port) => port.to_string(),
                    Value::String(spec) => spec.clone(),
                    Value::Map(_) => {
                        ports.push(item.clone());
                        continue;
                    }
                    _ => return Err(invalid_type("port", item)),
                };
                let parsed = match syntax::parse_ports(&spec) {
                    Ok(parsed) => parsed,
                    // compose-go keeps the whole list as written.
                    Err(_) if cx.lenient => return Ok(()),
                    Err(message) => {
                        return Err(ComposeError::invalid(&item.at, &path.index(index), message))
                    }
                };
                ports.extend(parsed.iter().map(|port| encoded(port, &item.at)));
            }
            node.value = Value::Seq(ports);
        }
        Transform::Build => match &node.value {
            Value::String(context) => {
                *node = map_node(
                    [("context".to_owned(), string_node(context.clone(), &at))],
                    &at,
                )
            }
            Value::Map(_) => recurse(node, path, cx)?,
            _ => return Err(invalid_type("build", node)),
        },
        Transform::Ssh => {
            if let Value::Seq(items) = &node.value {
                let mut map = BTreeMap::new();
                for item in items {
                    let text = item.scalar_text().unwrap_or_default();
                    match text.split_once('=') {
                        Some((id, key_path)) => {
                            map.insert(id.to_owned(), string_node(key_path, &item.at));
                        }
                        None if text == "default" => {
                            map.insert(text, Node::new(Value::Null, item.at.clone()));
                        }
                        None => {
                            return Err(ComposeError::invalid(
                                &item.at,
                                path,
                                format!("invalid ssh key {text:?}"),
                            ))
                        }
                    }
                }
                node.value = Value::Map(map);
            }
        }
        Transform::MaybeExternal => {
            if matches!(node.value, Value::Null) {
                return Ok(());
            }
            recurse(node, path, cx)?;
            maybe_external(node, path, cx.warnings)?;
        }
    }
    Ok(())
}

/// `external: {name: x}` (deprecated) becomes `external: true` with `name: x`.
fn maybe_external(
    node: &mut Node,
    path: &KeyPath,
    warnings: &mut Vec<String>,
) -> Result<(), ComposeError> {
    let Value::Map(resource) = &mut node.value else {
        return Ok(());
    };
    let Some(external) = resource.get_mut("external") else {
        return Ok(());
    };
    let Value::Map(settings) = &external.value else {
        return Ok(());
    };
    let external_name = settings.get("name").cloned();
    let at = external.at.clone();
    external.value = Value::Bool(true);
    if let Some(external_name) = external_name {
        warnings.push(format!(
            "{path}: external.name is deprecated. Please set name and external: true"
        ));
        match resource.get("name") {
            Some(name) if name.value != external_name.value => {
                return Err(ComposeError::invalid(
                    &at,
                    path,
                    "name and external.name conflict; only use name",
                ));
            }
            Some(_) => {}
            None => {
                resource.insert("name".into(), external_name);
            }
        }
    }
    Ok(())
}

/// Empty entries of `dns` are dropped.
fn omit_empty_dns(node: &mut Node) {
    let Some(Value::Map(services)) = node.get_mut("services").map(|s| &mut s.value) else {
        return;
    };
    for service in services.values_mut() {
        if let Some(Value::Seq(items)) = service.get_mut("dns").map(|d| &mut d.value) {
            items.retain(|item| !matches!(&item.value, Value::Null) && item.as_str() != Some(""));
        }
    }
}

/// Go's `path.Clean`, except that an empty path stays empty (as compose-go's
/// `cleanTarget` keeps it).
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    wharf_oci::text::go_path_clean(path)
}

// The implied values of the spec, as compose-go's `transform.SetDefaultValues` fills them.

/// Fills defaults: a build's context `.`, a secret's target `/run/secrets/<source>`, a port's
/// `protocol: tcp` and `mode: ingress`.
pub fn set_defaults(node: &mut Node) {
    let Some(Value::Map(services)) = node.get_mut("services").map(|s| &mut s.value) else {
        return;
    };
    for service in services.values_mut() {
        let Value::Map(service) = &mut service.value else {
            continue;
        };
        if let Some(build) = service.get_mut("build") {
            let at = build.at.clone();
            if let Value::Map(build) = &mut build.value {
                build
                    .entry("context".into())
                    .or_insert_with(|| string_node(".", &at));
            }
        }
        if let Some(Value::Seq(secrets)) = service.get_mut("secrets").map(|s| &mut s.value) {
            for secret in secrets {
                let at = secret.at.clone();
                if let Value::Map(secret) = &mut secret.value {
                    let source = secret
                        .get("source")
                        .and_then(Node::scalar_text)
                        .unwrap_or_default();
                    secret
                        .entry("target".into())
                        .or_insert_with(|| string_node(format!("/run/secrets/{source}"), &at));
                }
            }
        }
        if let Some(Value::Seq(ports)) = service.get_mut("ports").map(|p| &mut p.value) {
            for port in ports {
                let at = port.at.clone();
                if let Value::Map(port) = &mut port.value {
                    port.entry("protocol".into())
                        .or_insert_with(|| string_node("tcp", &at));
                    port.entry("mode".into())
                        .or_insert_with(|| string_node("ingress", &at));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_like_go() {
        for (path, clean) in [
            ("/data/", "/data"),
            ("/a//b/./c/..", "/a/b"),
            ("a/../..", ".."),
            ("/..", "/"),
        ] {
            assert_eq!(clean_path(path), clean, "{path}");
        }
    }
}
