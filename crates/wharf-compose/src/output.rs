//! The project as `docker compose config` writes it: JSON as Go's `json.MarshalIndent`
//! writes compose-go's types, YAML as go-yaml writes them (which leaves out a few empty
//! values JSON keeps), and the service config hash docker compose labels containers with.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{Project, Service};

/// `docker compose config --format json`.
pub fn to_json(project: &Project) -> String {
    let mut out = String::new();
    write_go_json(&project_json(project), Some(0), &mut out);
    out
}

/// `docker compose config` (YAML).
pub fn to_yaml(project: &Project) -> String {
    let mut value = project_json(project);
    if let Value::Object(root) = &mut value {
        for (name, service) in project.services.iter() {
            if let Some(Value::Object(fields)) =
                root.get_mut("services").and_then(|s| s.get_mut(name))
            {
                yaml_service(fields, service);
            }
        }
        for kind in ["networks", "volumes", "secrets", "configs"] {
            if let Some(Value::Object(resources)) = root.get_mut(kind) {
                for resource in resources.values_mut() {
                    if let Value::Object(fields) = resource {
                        remove_empty_object(fields, "ipam");
                    }
                }
            }
        }
        if !project.models.is_empty() {
            let models = serde_json::to_value(&project.models).unwrap_or_default();
            root.insert("models".into(), models);
        }
        for (key, value) in &project.extensions {
            root.insert(key.clone(), value.clone());
        }
        // go-yaml writes the struct's fields in order: name, services, then the rest.
        let mut ordered = Map::new();
        for key in [
            "name", "services", "networks", "volumes", "secrets", "configs", "models",
        ] {
            if let Some(value) = root.shift_remove(key) {
                ordered.insert(key.to_owned(), value);
            }
        }
        ordered.append(root);
        value = Value::Object(ordered);
    }
    let mut out = String::new();
    crate::yaml_out::write_document(&value, &mut out);
    out
}

/// Any JSON value as YAML in go-yaml's layout (for the plain model of `--no-interpolate`).
pub fn yaml_text(value: &Value) -> String {
    let mut out = String::new();
    crate::yaml_out::write_document(value, &mut out);
    out
}

/// The service config hash: SHA-256 of the service's compact JSON without the keys that do
/// not change a container (build, pull policy, scale, replicas, dependencies, profiles).
pub fn service_hash(service: &Service) -> String {
    let mut service = service.clone();
    service.build = None;
    service.pull_policy.clear();
    service.scale = None;
    if let Some(deploy) = service.deploy.as_mut() {
        deploy.replicas = None;
    }
    service.depends_on.clear();
    service.profiles.clear();
    let value = service_json(&service);
    let mut json = String::new();
    write_go_json(&value, None, &mut json);
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// compose-go's `Project.MarshalJSON`: name and services always, networks, volumes,
/// secrets and configs when not empty (models only in YAML), top-level `x-*` keys; secrets never show their content, configs not when it came
/// from the environment; the `x-*` keys of resources are not part of JSON.
fn project_json(project: &Project) -> Value {
    let mut root = Map::new();
    root.insert("name".into(), Value::String(project.name.clone()));
    let services: Map<String, Value> = project
        .services
        .iter()
        .map(|(name, service)| (name.clone(), service_json(service)))
        .collect();
    root.insert("services".into(), Value::Object(services));
    let mut resources = |key: &str, value: Value| {
        if let Value::Object(mut map) = value {
            if map.is_empty() {
                return;
            }
            for resource in map.values_mut() {
                if let Value::Object(fields) = resource {
                    fields.retain(|field, _| !field.starts_with("x-"));
                }
            }
            root.insert(key.to_owned(), Value::Object(map));
        }
    };
    resources(
        "networks",
        serde_json::to_value(&project.networks).unwrap_or_default(),
    );
    resources(
        "volumes",
        serde_json::to_value(&project.volumes).unwrap_or_default(),
    );
    let mut secrets = project.secrets.clone();
    for secret in secrets.values_mut() {
        secret.content.clear();
    }
    resources(
        "secrets",
        serde_json::to_value(&secrets).unwrap_or_default(),
    );
    let mut configs = project.configs.clone();
    for config in configs.values_mut().filter(|c| !c.environment.is_empty()) {
        config.content.clear();
    }
    resources(
        "configs",
        serde_json::to_value(&configs).unwrap_or_default(),
    );
    for (key, value) in &project.extensions {
        root.insert(key.clone(), value.clone());
    }
    // Go sorts the keys of the map it builds.
    let mut sorted: Vec<(String, Value)> = root.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(sorted.into_iter().collect())
}

/// The service as compose-go marshals it to JSON (no `x-*` keys in `develop`).
fn service_json(service: &Service) -> Value {
    let mut value = serde_json::to_value(service).unwrap_or(Value::Null);
    if let Some(develop) = value.get_mut("develop") {
        crate::develop::strip_extensions(develop);
    }
    value
}

/// What go-yaml writes differently from JSON for a service.
fn yaml_service(fields: &mut Map<String, Value>, service: &Service) {
    // YAML names the block IO device entries' fields as written (see BlkioConfig).
    if let Some(Value::Object(blkio)) = fields.get_mut("blkio_config") {
        for entries in blkio.values_mut() {
            for entry in entries.as_array_mut().into_iter().flatten() {
                if let Value::Object(entry) = entry {
                    *entry = std::mem::take(entry)
                        .into_iter()
                        .map(|(key, value)| (key.to_lowercase(), value))
                        .collect();
                }
            }
        }
    }
    for key in ["command", "entrypoint"] {
        if fields.get(key) == Some(&Value::Null) {
            fields.shift_remove(key);
        }
    }
    if let Some(Value::Object(deploy)) = fields.get_mut("deploy") {
        remove_empty_object(deploy, "resources");
        remove_empty_object(deploy, "placement");
    }
    // go-yaml leaves `format` out of an optional env file.
    if let Some(Value::Array(files)) = fields.get_mut("env_file") {
        for file in files.iter_mut() {
            if let Value::Object(entry) = file {
                entry.shift_remove("format");
            }
        }
    }
    if let Some(develop) = &service.develop {
        fields.insert("develop".into(), crate::develop::yaml_value(develop));
    }
    for (key, value) in &service.extensions {
        fields.insert(key.clone(), value.clone());
    }
}

fn remove_empty_object(fields: &mut Map<String, Value>, key: &str) {
    if fields
        .get(key)
        .is_some_and(|v| v.as_object().is_some_and(Map::is_empty))
    {
        fields.shift_remove(key);
    }
}

/// JSON as Go's `encoding/json` writes it: `<`, `>`, `&` escaped, whole floats without a
/// fraction; `indent` is the current depth for `MarshalIndent(v, "", "  ")`, `None` for
/// compact `Marshal`.
pub fn write_go_json(value: &Value, indent: Option<usize>, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(int), _, _) => out.push_str(&int.to_string()),
            (_, Some(uint), _) => out.push_str(&uint.to_string()),
            (_, _, Some(float)) => out.push_str(&float.to_string()),
            _ => out.push_str(&number.to_string()),
        },
        Value::String(text) => write_go_string(text, out),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                if let Some(depth) = indent {
                    newline(out, depth + 1);
                }
                write_go_json(item, indent.map(|d| d + 1), out);
            }
            if let Some(depth) = indent {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                if let Some(depth) = indent {
                    newline(out, depth + 1);
                }
                write_go_string(key, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_go_json(item, indent.map(|d| d + 1), out);
            }
            if let Some(depth) = indent {
                newline(out, depth);
            }
            out.push('}');
        }
    }
}

fn write_go_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_escapes_and_indents() {
        let value = serde_json::json!({"a": "<b>&", "n": [1, 0.5], "e": {}});
        let mut out = String::new();
        write_go_json(&value, Some(0), &mut out);
        assert_eq!(out, "{\n  \"a\": \"\\u003cb\\u003e\\u0026\",\n  \"n\": [\n    1,\n    0.5\n  ],\n  \"e\": {}\n}");
        let mut compact = String::new();
        write_go_json(&value, None, &mut compact);
        assert_eq!(compact, r#"{"a":"\u003cb\u003e\u0026","n":[1,0.5],"e":{}}"#);
    }
}
