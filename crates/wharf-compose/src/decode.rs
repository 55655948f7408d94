//! The canonical tree → the typed [`Project`], with compose-go's decoding rules
//! (`types/*.go` `DecodeMapstructure`): `KEY=value` lists become maps, a string command is
//! split like a shell would, a string healthcheck test is `CMD-SHELL`, scalars become the
//! strings that string fields hold.

use serde_json::{Map, Value};

use crate::error::{did_you_mean, ComposeError};
use crate::model::Project;
use crate::tree::{KeyPath, Node};

/// How a value at a path is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `map[string]string`: a `KEY=value` list or a map; null values are `""`.
    Mapping,
    /// `map[string]*string`: as [`Shape::Mapping`], but `KEY` alone or null is unset.
    MappingWithEquals,
    /// A string (or a number or a boolean, as a string) is a one-item list.
    StringList,
    /// Numbers are strings.
    StringOrNumberList,
    /// A string is split into words as a shell would.
    ShellCommand,
    /// A string is `["CMD-SHELL", string]`.
    HealthcheckTest,
    /// Kept as written (keys wharf only prints).
    Raw,
    /// `{id: path}` (the canonical form) as `id` or `id=path` entries.
    SshKeys,
    /// A number or a boolean stays one; nothing else is changed.
    Scalar,
}

/// Paths below `services.<name>`.
const SERVICE_SHAPES: &[(&str, Shape)] = &[
    ("annotations", Shape::Mapping),
    ("build.args", Shape::MappingWithEquals),
    ("build.labels", Shape::Mapping),
    ("build.additional_contexts", Shape::Mapping),
    ("build.cache_from", Shape::StringList),
    ("build.cache_to", Shape::StringList),
    ("build.tags", Shape::StringList),
    ("build.platforms", Shape::StringList),
    ("build.ssh", Shape::SshKeys),
    ("build.ulimits.*", Shape::Scalar),
    ("build.ulimits.*.*", Shape::Scalar),
    ("build.no_cache", Shape::Scalar),
    ("build.pull", Shape::Scalar),
    ("build.privileged", Shape::Scalar),
    ("build.shm_size", Shape::Scalar),
    ("build.secrets.*.mode", Shape::Scalar),
    ("attach", Shape::Scalar),
    ("x-*", Shape::Raw),
    ("develop.x-*", Shape::Raw),
    ("develop.watch.*.x-*", Shape::Raw),
    ("develop.watch.*.initial_sync", Shape::Scalar),
    ("develop.watch.*.exec.command", Shape::ShellCommand),
    ("develop.watch.*.exec.environment", Shape::MappingWithEquals),
    ("develop.watch.*.exec.privileged", Shape::Scalar),
    ("develop.watch.*.exec.x-*", Shape::Raw),
    ("blkio_config.weight", Shape::Scalar),
    ("blkio_config.*.*.weight", Shape::Scalar),
    ("cpu_count", Shape::Scalar),
    ("cpu_percent", Shape::Scalar),
    ("cpu_period", Shape::Scalar),
    ("cpu_quota", Shape::Scalar),
    ("cpu_rt_period", Shape::Scalar),
    ("cpu_rt_runtime", Shape::Scalar),
    ("cpus", Shape::Scalar),
    ("cpu_shares", Shape::Scalar),
    ("command", Shape::ShellCommand),
    ("configs.*.mode", Shape::Scalar),
    ("credential_spec", Shape::Raw),
    ("depends_on.*.restart", Shape::Scalar),
    ("depends_on.*.required", Shape::Scalar),
    ("deploy.replicas", Shape::Scalar),
    ("deploy.labels", Shape::Mapping),
    ("deploy.update_config.parallelism", Shape::Scalar),
    ("deploy.update_config.max_failure_ratio", Shape::Scalar),
    ("deploy.rollback_config.parallelism", Shape::Scalar),
    ("deploy.rollback_config.max_failure_ratio", Shape::Scalar),
    ("deploy.resources.*.cpus", Shape::Scalar),
    ("deploy.resources.*.memory", Shape::Scalar),
    ("deploy.resources.*.pids", Shape::Scalar),
    ("deploy.resources.*.devices.*.count", Shape::Scalar),
    ("deploy.resources.*.devices.*.options", Shape::Mapping),
    ("deploy.resources.*.generic_resources", Shape::Raw),
    ("deploy.restart_policy.max_attempts", Shape::Scalar),
    ("deploy.placement.preferences", Shape::Raw),
    ("deploy.placement.max_replicas_per_node", Shape::Scalar),
    ("dns", Shape::StringList),
    ("dns_search", Shape::StringList),
    ("entrypoint", Shape::ShellCommand),
    ("provider.options.*", Shape::StringList),
    ("environment", Shape::MappingWithEquals),
    ("env_file.*.required", Shape::Scalar),
    ("expose", Shape::StringOrNumberList),
    ("extra_hosts", Shape::Raw),
    ("gpus.*.count", Shape::Scalar),
    ("gpus.*.options", Shape::Mapping),
    ("healthcheck.test", Shape::HealthcheckTest),
    ("healthcheck.retries", Shape::Scalar),
    ("healthcheck.disable", Shape::Scalar),
    ("init", Shape::Scalar),
    ("labels", Shape::Mapping),
    ("logging.options", Shape::Mapping),
    ("log_opt", Shape::Mapping),
    ("mem_limit", Shape::Scalar),
    ("mem_reservation", Shape::Scalar),
    ("memswap_limit", Shape::Scalar),
    ("mem_swappiness", Shape::Scalar),
    ("models", Shape::Raw),
    ("networks.*.driver_opts", Shape::Mapping),
    ("networks.*.gw_priority", Shape::Scalar),
    ("networks.*.priority", Shape::Scalar),
    ("oom_kill_disable", Shape::Scalar),
    ("oom_score_adj", Shape::Scalar),
    ("pids_limit", Shape::Scalar),
    ("ports.*.target", Shape::Scalar),
    ("privileged", Shape::Scalar),
    ("read_only", Shape::Scalar),
    ("scale", Shape::Scalar),
    ("secrets.*.mode", Shape::Scalar),
    ("shm_size", Shape::Scalar),
    ("stdin_open", Shape::Scalar),
    ("storage_opt", Shape::Mapping),
    ("sysctls", Shape::Mapping),
    ("tmpfs", Shape::StringList),
    ("tty", Shape::Scalar),
    ("ulimits.*", Shape::Scalar),
    ("ulimits.*.*", Shape::Scalar),
    ("use_api_socket", Shape::Scalar),
    ("volumes.*.read_only", Shape::Scalar),
    ("volumes.*.bind.create_host_path", Shape::Scalar),
    ("volumes.*.volume.nocopy", Shape::Scalar),
    ("volumes.*.volume.labels", Shape::Mapping),
    ("volumes.*.tmpfs.size", Shape::Scalar),
    ("volumes.*.tmpfs.mode", Shape::Scalar),
    ("pre_start", Shape::Raw),
    ("post_start.*.command", Shape::ShellCommand),
    ("post_start.*.privileged", Shape::Scalar),
    ("pre_stop.*.privileged", Shape::Scalar),
    ("post_start.*.environment", Shape::MappingWithEquals),
    ("pre_stop.*.command", Shape::ShellCommand),
    ("pre_stop.*.environment", Shape::MappingWithEquals),
];

/// Paths below a top-level network, volume, secret or config.
const RESOURCE_SHAPES: &[(&str, Shape)] = &[
    ("labels", Shape::Mapping),
    ("driver_opts", Shape::Mapping),
    ("external", Shape::Scalar),
    ("internal", Shape::Scalar),
    ("attachable", Shape::Scalar),
    ("enable_ipv4", Shape::Scalar),
    ("enable_ipv6", Shape::Scalar),
    ("ipam.config.*.aux_addresses", Shape::Mapping),
    ("ipam.options", Shape::Mapping),
];

/// The typed project of a canonical, normalized tree.
/// The keys a compose file may have at its top, besides `x-` extensions.
const TOP_LEVEL_KEYS: [&str; 9] = [
    "name", "version", "include", "services", "networks", "volumes", "secrets", "configs", "models",
];

pub fn project(tree: &Node, name: &str) -> Result<Project, ComposeError> {
    if let Some(unknown) = tree.as_map().and_then(|top| {
        top.keys()
            .find(|key| !key.starts_with("x-") && !TOP_LEVEL_KEYS.contains(&key.as_str()))
    }) {
        let path = KeyPath::root().join(unknown.clone());
        let error = ComposeError::invalid(
            &tree.position_of(&path),
            &KeyPath::root(),
            format!("unknown key '{unknown}'"),
        );
        return Err(match did_you_mean(unknown, TOP_LEVEL_KEYS) {
            Some(key) => error.with_hint(format!("did you mean '{key}'?")),
            None => error,
        });
    }
    let mut json = tree.to_json();
    let root = json.as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in root {
        let shaped = match key.as_str() {
            "services" => shape_children(value, SERVICE_SHAPES),
            "networks" | "volumes" | "secrets" | "configs" => {
                // `name:` alone (null) is a resource with every default.
                let value = match value {
                    Value::Object(map) => Value::Object(
                        map.into_iter()
                            .map(|(k, v)| {
                                (
                                    k,
                                    if v.is_null() {
                                        Value::Object(Map::new())
                                    } else {
                                        v
                                    },
                                )
                            })
                            .collect(),
                    ),
                    other => other,
                };
                shape_children(value, RESOURCE_SHAPES)
            }
            "name" | "include" => continue,
            _ => value,
        };
        out.insert(key, shaped);
    }
    out.insert("name".into(), Value::String(name.to_owned()));
    out.entry("services")
        .or_insert_with(|| Value::Object(Map::new()));

    let mut service_extensions = Vec::new();
    if let Some(Value::Object(services)) = out.get_mut("services") {
        for (service_name, service) in services.iter_mut() {
            if service.is_null() {
                *service = Value::Object(Map::new());
            }
            if let Value::Object(fields) = service {
                let extensions: Map<String, Value> = fields
                    .iter()
                    .filter(|(key, _)| key.starts_with("x-"))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect();
                fields.retain(|key, _| !key.starts_with("x-"));
                service_extensions.push((service_name.clone(), extensions));
            }
        }
    }
    let mut project: Project =
        serde_path_to_error::deserialize(Value::Object(out)).map_err(|error| {
            let mut path = KeyPath::root();
            // Where the last key is: an unknown key is named under it.
            let mut parent = KeyPath::root();
            for segment in error.path().iter() {
                parent = path.clone();
                path = match segment {
                    serde_path_to_error::Segment::Seq { index } => path.index(*index),
                    serde_path_to_error::Segment::Map { key } => path.join(key.clone()),
                    serde_path_to_error::Segment::Enum { variant } => path.join(variant.clone()),
                    serde_path_to_error::Segment::Unknown => path,
                };
            }
            let message = error.inner().to_string();
            let at = tree.position_of(&path);
            match unknown_field(&message) {
                Some((unknown, known)) => {
                    let hint = did_you_mean(&unknown, known.iter().map(String::as_str))
                        .map(|key| format!("did you mean '{key}'?"));
                    let error =
                        ComposeError::invalid(&at, &parent, format!("unknown key '{unknown}'"));
                    match hint {
                        Some(hint) => error.with_hint(hint),
                        None => error,
                    }
                }
                None => ComposeError::invalid(&at, &path, message),
            }
        })?;
    for (service_name, extensions) in service_extensions {
        if let Some(service) = project.services.get_mut(&service_name) {
            service.extensions = extensions.into_iter().collect();
        }
    }
    for (service_name, service) in project.services.iter_mut() {
        service.name = service_name.clone();
        if let Some(key) = service
            .develop
            .as_ref()
            .and_then(crate::develop::unknown_key)
        {
            let path = KeyPath::root()
                .join("services")
                .join(service_name.clone())
                .join("develop");
            return Err(ComposeError::invalid(
                &tree.position_of(&path),
                &path,
                format!("unknown key '{key}'"),
            ));
        }
    }
    Ok(project)
}

/// The key and the known keys of serde's "unknown field `port`, expected one of `ports`, ...".
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let known = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((unknown.to_owned(), known))
}

/// Shapes each child of a map (each service, each network...).
fn shape_children(value: Value, shapes: &[(&str, Shape)]) -> Value {
    match value {
        Value::Object(children) => Value::Object(
            children
                .into_iter()
                .map(|(name, child)| (name, shape(child, "", shapes)))
                .collect(),
        ),
        other => other,
    }
}

fn matches(path: &str, pattern: &str) -> bool {
    let path: Vec<&str> = path.split('.').collect();
    let pattern: Vec<&str> = pattern.split('.').collect();
    path.len() == pattern.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, k)| *p == "*" || p == k || (*p == "x-*" && k.starts_with("x-")))
}

/// Shapes `value` found at `path` (relative to a service or a resource).
fn shape(value: Value, path: &str, shapes: &[(&str, Shape)]) -> Value {
    let rule = shapes
        .iter()
        .find(|(pattern, _)| matches(path, pattern))
        .map(|(_, s)| *s);
    match rule {
        Some(Shape::Raw) => value,
        Some(Shape::SshKeys) => match value {
            Value::Object(keys) => Value::Array(
                keys.into_iter()
                    .map(|(id, path)| match path {
                        Value::String(path) => Value::String(format!("{id}={path}")),
                        _ => Value::String(id),
                    })
                    .collect(),
            ),
            other => other,
        },
        Some(Shape::Scalar) => value,
        Some(Shape::Mapping) => to_mapping(value, false),
        Some(Shape::MappingWithEquals) => to_mapping(value, true),
        Some(Shape::StringList) => match value {
            scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                Value::Array(vec![stringify(scalar)])
            }
            Value::Array(items) => Value::Array(items.into_iter().map(stringify).collect()),
            other => other,
        },
        Some(Shape::StringOrNumberList) => match value {
            Value::Array(items) => Value::Array(items.into_iter().map(stringify).collect()),
            other => stringify(other),
        },
        Some(Shape::ShellCommand) => match value {
            Value::String(text) => Value::Array(
                split_shell_words(&text)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(stringify).collect()),
            other => other,
        },
        Some(Shape::HealthcheckTest) => match value {
            Value::String(text) => Value::Array(vec!["CMD-SHELL".into(), Value::String(text)]),
            Value::Array(items) => Value::Array(items.into_iter().map(stringify).collect()),
            other => other,
        },
        None => shape_inside(value, path, shapes),
    }
}

/// Shapes what is inside `value` (at `path`) by its own paths; a scalar with no rule is a
/// string.
fn shape_inside(value: Value, path: &str, shapes: &[(&str, Shape)]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, child)| {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    (key, shape(child, &child_path, shapes))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    let child_path = if path.is_empty() {
                        index.to_string()
                    } else {
                        format!("{path}.{index}")
                    };
                    shape(item, &child_path, shapes)
                })
                .collect(),
        ),
        scalar => stringify(scalar),
    }
}

/// Go's `fmt.Sprint` of a scalar, for string fields given a number or a boolean.
fn stringify(value: Value) -> Value {
    match value {
        Value::Number(number) => Value::String(number.to_string()),
        Value::Bool(flag) => Value::String(flag.to_string()),
        other => other,
    }
}

/// A `KEY=value` list or a map as a map of strings; `with_equals` keeps unset variables
/// (`KEY` alone, or null) as null.
fn to_mapping(value: Value, with_equals: bool) -> Value {
    let unset = || {
        if with_equals {
            Value::Null
        } else {
            Value::String(String::new())
        }
    };
    match value {
        Value::Array(items) => {
            let mut map = Map::new();
            for item in items {
                let text = match stringify(item) {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                match text.split_once('=') {
                    Some((key, value)) => {
                        map.insert(key.to_owned(), Value::String(value.to_owned()))
                    }
                    None => map.insert(text, unset()),
                };
            }
            Value::Object(map)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::Null => unset(),
                        other => stringify(other),
                    };
                    (key, value)
                })
                .collect(),
        ),
        other => other,
    }
}

/// Splits a command into words as `go-shellwords` does: spaces separate, quotes group,
/// a backslash escapes the next character outside single quotes.
pub fn split_shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), c) => current.push(c),
            (Some(_), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    if quote == Some('"') && !matches!(next, '"' | '\\' | '$' | '`') {
                        current.push('\\');
                    }
                    current.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {

    #[test]
    fn reads_serdes_unknown_field_message() {
        assert_eq!(
            unknown_field("unknown field `port`, expected one of `ports`, `image`"),
            Some((
                "port".to_owned(),
                vec!["ports".to_owned(), "image".to_owned()]
            ))
        );
        assert_eq!(unknown_field("invalid type: string, expected a map"), None);
    }

    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(split_shell_words("echo hi  there"), ["echo", "hi", "there"]);
        assert_eq!(
            split_shell_words("sh -c 'echo $HOME; ls'"),
            ["sh", "-c", "echo $HOME; ls"]
        );
        assert_eq!(split_shell_words(r#"a "b c" d\ e"#), ["a", "b c", "d e"]);
        assert!(split_shell_words("").is_empty());
    }
}
