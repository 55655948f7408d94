//! After a merge, lists such as `ports`, `volumes` and `environment` keep one entry per key
//! (the later one, at the earlier one's place), as compose-go's `override/uncity.go` does.

use std::collections::BTreeMap;

use crate::error::ComposeError;
use crate::syntax;
use crate::tree::{KeyPath, Node, Value};

/// How a list entry is keyed when duplicates are dropped.
#[derive(Clone, Copy)]
enum Index {
    KeyValue,
    Volume,
    Device,
    Expose,
    Mount(&'static str),
    Port,
    EnvFile,
}

const UNIQUE: &[(&str, Index)] = &[
    ("networks.*.labels", Index::KeyValue),
    ("networks.*.ipam.options", Index::KeyValue),
    ("services.*.annotations", Index::KeyValue),
    ("services.*.build.args", Index::KeyValue),
    ("services.*.build.additional_contexts", Index::KeyValue),
    ("services.*.build.platform", Index::KeyValue),
    ("services.*.build.tags", Index::KeyValue),
    ("services.*.build.labels", Index::KeyValue),
    ("services.*.cap_add", Index::KeyValue),
    ("services.*.cap_drop", Index::KeyValue),
    ("services.*.configs", Index::Mount("")),
    ("services.*.deploy.labels", Index::KeyValue),
    ("services.*.dns", Index::KeyValue),
    ("services.*.dns_opt", Index::KeyValue),
    ("services.*.dns_search", Index::KeyValue),
    ("services.*.environment", Index::KeyValue),
    ("services.*.env_file", Index::EnvFile),
    ("services.*.expose", Index::Expose),
    ("services.*.labels", Index::KeyValue),
    ("services.*.links", Index::KeyValue),
    ("services.*.networks.*.aliases", Index::KeyValue),
    ("services.*.networks.*.link_local_ips", Index::KeyValue),
    ("services.*.ports", Index::Port),
    ("services.*.profiles", Index::KeyValue),
    ("services.*.secrets", Index::Mount("/run/secrets")),
    ("services.*.sysctls", Index::KeyValue),
    ("services.*.tmpfs", Index::KeyValue),
    ("services.*.volumes", Index::Volume),
    ("services.*.devices", Index::Device),
];

/// Keeps one entry per key in the lists of [`UNIQUE`]: the later value, at the first place.
pub fn enforce_unicity(node: &mut Node) -> Result<(), ComposeError> {
    unicity_at(node, &KeyPath::root())
}

fn unicity_at(node: &mut Node, path: &KeyPath) -> Result<(), ComposeError> {
    match &mut node.value {
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                unicity_at(value, &path.join(key.clone()))?;
            }
            Ok(())
        }
        Value::Seq(items) => {
            let Some(index) = path.rule(UNIQUE) else {
                return Ok(());
            };
            let mut kept: Vec<Node> = Vec::new();
            let mut positions: BTreeMap<String, usize> = BTreeMap::new();
            for (i, item) in std::mem::take(items).into_iter().enumerate() {
                let key = index_key(index, &item, &path.index(i))?;
                match positions.get(&key) {
                    Some(&position) => kept[position] = item,
                    None => {
                        positions.insert(key, kept.len());
                        kept.push(item);
                    }
                }
            }
            *items = kept;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn index_key(index: Index, item: &Node, path: &KeyPath) -> Result<String, ComposeError> {
    let unexpected = || {
        ComposeError::invalid(
            &item.at,
            path,
            format!("unexpected type {}", item.type_name()),
        )
    };
    let text = |key: &str| item.get(key).and_then(Node::scalar_text);
    match index {
        Index::KeyValue => {
            let value = item.as_str().ok_or_else(unexpected)?;
            Ok(value
                .split_once('=')
                .map_or(value, |(key, _)| key)
                .to_owned())
        }
        Index::Volume => match &item.value {
            Value::Map(_) => text("target").ok_or_else(|| {
                ComposeError::invalid(&item.at, path, "service volume is missing a mount target")
            }),
            Value::String(spec) => syntax::parse_volume(spec)
                .map(|volume| volume.target)
                .map_err(|message| ComposeError::invalid(&item.at, path, message)),
            _ => Ok(String::new()),
        },
        Index::Device => match &item.value {
            Value::Map(_) => text("target").ok_or_else(|| {
                ComposeError::invalid(&item.at, path, "service device is missing a mount target")
            }),
            Value::String(spec) => {
                let parts: Vec<&str> = spec.split(':').collect();
                Ok(parts.get(1).unwrap_or(&parts[0]).to_string())
            }
            _ => Ok(String::new()),
        },
        Index::Expose => item.scalar_text().ok_or_else(unexpected),
        Index::Mount(default_dir) => match &item.value {
            Value::String(source) => Ok(format!("{default_dir}/{source}")),
            Value::Map(_) => Ok(text("target").unwrap_or_else(|| {
                format!("{default_dir}/{}", text("source").unwrap_or_default())
            })),
            _ => Err(unexpected()),
        },
        Index::Port => match &item.value {
            Value::Int(port) => Ok(port.to_string()),
            Value::String(spec) => Ok(spec.clone()),
            Value::Map(_) => {
                let target = text("target").ok_or_else(|| {
                    ComposeError::invalid(&item.at, path, "service ports is missing a target port")
                })?;
                Ok(format!(
                    "{}:{}:{target}/{}",
                    text("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
                    text("published").unwrap_or_default(),
                    text("protocol").unwrap_or_else(|| "tcp".into()),
                ))
            }
            _ => Ok(String::new()),
        },
        Index::EnvFile => match &item.value {
            Value::String(path) => Ok(path.clone()),
            Value::Map(_) => text("path").ok_or_else(|| {
                ComposeError::invalid(&item.at, path, "environment path attribute is missing")
            }),
            _ => Ok(String::new()),
        },
    }
}
