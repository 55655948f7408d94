//! Merging compose files (`-f a.yaml -f b.yaml`, extends, include) as the Compose
//! Specification says and compose-go's `override/merge.go` does: by default maps merge key by
//! key, lists append and scalars are replaced; the paths in [`RULES`] merge their own way.
//! After a merge, `unicity` keeps one entry per key in lists; `reset` handles `!reset` and
//! `!override`.

use std::collections::BTreeMap;

use crate::error::ComposeError;
use crate::tree::{KeyPath, Node, Value};

/// How one path merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Both sides as `key=value` lists, concatenated (maps become sorted lists).
    ToSequence,
    /// The later value replaces the earlier one, even when it is null.
    Override,
    /// `build: ./dir` is `{context: ./dir}`; then a map merge.
    Build,
    /// Lists of names become maps of default conditions; then a map merge.
    DependsOn,
    /// Lists of names become maps of nulls; then a map merge.
    ToMapping,
    /// Both as lists; the later's entries not already present are appended.
    ExtraHosts,
    /// Same driver (or one side without): options merge; another driver replaces all.
    Logging,
    /// A map merges into a map; anything else replaces.
    Ulimit,
    /// Pools merge by subnet.
    IpamConfig,
}

/// The merge rules by path; `*` is any one key.
const RULES: &[(&str, Rule)] = &[
    ("networks.*.ipam.config", Rule::IpamConfig),
    ("networks.*.labels", Rule::ToSequence),
    ("volumes.*.labels", Rule::ToSequence),
    ("services.*.annotations", Rule::ToSequence),
    ("services.*.build", Rule::Build),
    ("services.*.build.args", Rule::ToSequence),
    ("services.*.build.additional_contexts", Rule::ToSequence),
    ("services.*.build.extra_hosts", Rule::ExtraHosts),
    ("services.*.build.labels", Rule::ToSequence),
    ("services.*.command", Rule::Override),
    ("services.*.depends_on", Rule::DependsOn),
    ("services.*.deploy.labels", Rule::ToSequence),
    ("services.*.dns", Rule::ToSequence),
    ("services.*.dns_opt", Rule::ToSequence),
    ("services.*.dns_search", Rule::ToSequence),
    ("services.*.entrypoint", Rule::Override),
    ("services.*.env_file", Rule::ToSequence),
    ("services.*.label_file", Rule::ToSequence),
    ("services.*.environment", Rule::ToSequence),
    ("services.*.extra_hosts", Rule::ExtraHosts),
    ("services.*.healthcheck.test", Rule::Override),
    ("services.*.labels", Rule::ToSequence),
    ("services.*.volumes.*.volume.labels", Rule::ToSequence),
    ("services.*.logging", Rule::Logging),
    ("services.*.models", Rule::ToMapping),
    ("services.*.networks", Rule::ToMapping),
    ("services.*.sysctls", Rule::ToSequence),
    ("services.*.tmpfs", Rule::ToSequence),
    ("services.*.ulimits.*", Rule::Ulimit),
];

/// Merges `over` (a later file) into `base`.
pub fn merge(base: Node, over: Node) -> Result<Node, ComposeError> {
    merge_at(Some(base), over, &KeyPath::root())
}

/// Merges a service over the service it extends, with the rules of `services.*`.
pub fn merge_service(base: Node, service: Node) -> Result<Node, ComposeError> {
    merge_at(
        Some(base),
        service,
        &KeyPath::root().join("services").join("x"),
    )
}

fn merge_at(base: Option<Node>, over: Node, path: &KeyPath) -> Result<Node, ComposeError> {
    let Some(base) = base else {
        return Ok(over);
    };
    if let Some(rule) = path.rule(RULES) {
        return merge_by_rule(rule, base, over, path);
    }
    if matches!(over.value, Value::Null) {
        return Ok(base);
    }
    let at = over.at.clone();
    match (base.value, over.value) {
        (Value::Map(base_map), Value::Map(over_map)) => Ok(Node::new(
            Value::Map(merge_maps(base_map, over_map, path)?),
            base.at,
        )),
        (Value::Seq(mut base_items), Value::Seq(over_items)) => {
            base_items.extend(over_items);
            Ok(Node::new(Value::Seq(base_items), base.at))
        }
        (Value::Map(_) | Value::Seq(_), _) => Err(ComposeError::invalid(
            &at,
            path,
            "cannot override with a value of another type",
        )),
        (_, value) => Ok(Node::new(value, at)),
    }
}

fn merge_maps(
    mut base: BTreeMap<String, Node>,
    over: BTreeMap<String, Node>,
    path: &KeyPath,
) -> Result<BTreeMap<String, Node>, ComposeError> {
    for (key, value) in over {
        let earlier = base.remove(&key);
        let merged = merge_at(earlier, value, &path.join(key.clone()))?;
        base.insert(key, merged);
    }
    Ok(base)
}

fn merge_by_rule(rule: Rule, base: Node, over: Node, path: &KeyPath) -> Result<Node, ComposeError> {
    let at = base.at.clone();
    let map_node = |map| Node::new(Value::Map(map), at.clone());
    let seq_node = |items| Node::new(Value::Seq(items), at.clone());
    Ok(match rule {
        Rule::Override => over,
        Rule::ToSequence => {
            let mut items = into_sequence(base);
            items.extend(into_sequence(over));
            seq_node(items)
        }
        Rule::ExtraHosts => {
            let mut items = into_sequence(base);
            let later: Vec<Node> = into_sequence(over)
                .into_iter()
                .filter(|item| !items.iter().any(|existing| existing.value == item.value))
                .collect();
            items.extend(later);
            seq_node(items)
        }
        Rule::Build => {
            let base = build_mapping(base);
            let over = build_mapping(over);
            map_node(merge_maps(base, over, path)?)
        }
        Rule::DependsOn => {
            let base = into_mapping(base, Some(default_dependency));
            let over = into_mapping(over, Some(default_dependency));
            map_node(merge_maps(base, over, path)?)
        }
        Rule::ToMapping => {
            let base = into_mapping(base, None);
            let over = into_mapping(over, None);
            map_node(merge_maps(base, over, path)?)
        }
        Rule::Logging => {
            let (Value::Map(base_map), Value::Map(over_map)) = (&base.value, &over.value) else {
                return Ok(over);
            };
            let same_driver = match (base_map.get("driver"), over_map.get("driver")) {
                (Some(a), Some(b)) => a.value == b.value,
                _ => true,
            };
            if !same_driver {
                return Ok(over);
            }
            let (Value::Map(base_map), Value::Map(over_map)) = (base.value, over.value) else {
                unreachable!("both sides were checked to be maps above")
            };
            map_node(merge_maps(base_map, over_map, path)?)
        }
        Rule::Ulimit => match (base.value, over.value) {
            (Value::Map(base_map), Value::Map(over_map)) => {
                map_node(merge_maps(base_map, over_map, path)?)
            }
            (_, value) => Node::new(value, over.at),
        },
        Rule::IpamConfig => seq_node(merge_ipam_config(base, over)),
    })
}

/// `{condition: service_started, required: true}`: what a listed dependency means.
fn default_dependency(at: &crate::tree::Position) -> Node {
    let mut map = BTreeMap::new();
    map.insert(
        "condition".to_owned(),
        Node::new(Value::String("service_started".into()), at.clone()),
    );
    map.insert(
        "required".to_owned(),
        Node::new(Value::Bool(true), at.clone()),
    );
    Node::new(Value::Map(map), at.clone())
}

fn build_mapping(node: Node) -> BTreeMap<String, Node> {
    match node.value {
        Value::Map(map) => map,
        Value::String(context) => BTreeMap::from([(
            "context".to_owned(),
            Node::new(Value::String(context), node.at),
        )]),
        _ => BTreeMap::new(),
    }
}

/// A list of names as a map: each name to `default` (or null).
fn into_mapping(
    node: Node,
    default: Option<fn(&crate::tree::Position) -> Node>,
) -> BTreeMap<String, Node> {
    match node.value {
        Value::Map(map) => map,
        Value::Seq(items) => items
            .into_iter()
            .map(|item| {
                let value = match default {
                    Some(make) => make(&item.at),
                    None => Node::new(Value::Null, item.at.clone()),
                };
                (item.scalar_text().unwrap_or_default(), value)
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A map as a sorted `key=value` list (a key alone for a null value); a string as a
/// one-item list.
fn into_sequence(node: Node) -> Vec<Node> {
    match node.value {
        Value::Seq(items) => items,
        Value::String(_) => vec![node],
        Value::Map(map) => {
            let mut items: Vec<Node> = Vec::new();
            for (key, value) in map {
                let text =
                    |value: &Node| format!("{key}={}", value.scalar_text().unwrap_or_default());
                match &value.value {
                    Value::Null => {
                        items.push(Node::new(Value::String(key.clone()), value.at.clone()))
                    }
                    Value::Seq(list) => items.extend(
                        list.iter()
                            .map(|item| Node::new(Value::String(text(item)), item.at.clone())),
                    ),
                    _ => items.push(Node::new(Value::String(text(&value)), value.at.clone())),
                }
            }
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            items
        }
        _ => Vec::new(),
    }
}

/// compose-go's `mergeIPAMConfig`: an override pool with a new subnet is added, one with a
/// known subnet merges into it.
fn merge_ipam_config(base: Node, over: Node) -> Vec<Node> {
    let subnet = |node: &Node| node.get("subnet").map(|s| s.value.clone());
    let (Value::Seq(originals), Value::Seq(overrides)) = (base.value, over.value) else {
        return Vec::new();
    };
    let mut pools: Vec<Node> = Vec::new();
    for original in &originals {
        for override_pool in &overrides {
            if subnet(override_pool) != subnet(original)
                && !pools.iter().any(|p| subnet(p) == subnet(override_pool))
            {
                pools.push(override_pool.clone());
                continue;
            }
            let merged = match (&original.value, &override_pool.value) {
                (Value::Map(a), Value::Map(b)) => {
                    let mut merged = a.clone();
                    merged.extend(b.clone());
                    Node::new(Value::Map(merged), original.at.clone())
                }
                _ => override_pool.clone(),
            };
            match pools.iter().position(|p| subnet(p) == subnet(&merged)) {
                Some(index) => pools[index] = merged,
                None => pools.push(merged),
            }
        }
    }
    pools
}

#[cfg(test)]
mod tests;
