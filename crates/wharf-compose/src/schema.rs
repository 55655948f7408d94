//! The Compose Specification's JSON schema (`compose-spec.json`, the version compose-go
//! 2.9 ships), checked against the merged tree after each file as compose-go does. Errors
//! name the file, line and key path, and suggest the closest known key.
//!
//! Only the schema keywords the spec uses are implemented: `type`, `properties`,
//! `patternProperties`, `additionalProperties`, `$ref`, `oneOf`, `anyOf`, `items`, `enum`,
//! `required`, `minimum`, `maximum`, `uniqueItems`.

use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::error::{did_you_mean, ComposeError};
use crate::tree::{KeyPath, Node, Value};

const SCHEMA_TEXT: &str = include_str!("compose-spec.json");

fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(SCHEMA_TEXT).unwrap_or(Json::Null))
}

/// Checks the tree against the schema.
pub fn validate(tree: &Node) -> Result<(), ComposeError> {
    let root = schema();
    check(tree, root, root, &KeyPath::root()).map_err(|failure| failure.error)
}

/// A schema failure and how deep in the data it is (the deepest one is the most useful).
struct Failure {
    depth: usize,
    /// Whether the failure is only "wrong type" at the node the branch was tried on.
    shallow_type: bool,
    error: ComposeError,
}

fn fail(node: &Node, path: &KeyPath, message: String, hint: Option<String>) -> Failure {
    let mut error = ComposeError::invalid(&node.at, path, message);
    if let Some(hint) = hint {
        error = error.with_hint(hint);
    }
    Failure {
        depth: path.parts().len(),
        shallow_type: false,
        error,
    }
}

/// "must be a list, not a string".
fn wrong_type(node: &Node, path: &KeyPath, wanted: &[&str]) -> Failure {
    let message = format!(
        "must be {}, not {}",
        type_words(wanted),
        type_words(&[node.type_name()])
    );
    let mut failure = fail(node, path, message, None);
    failure.shallow_type = true;
    failure
}

fn resolve<'a>(root: &'a Json, schema: &'a Json) -> &'a Json {
    let mut schema = schema;
    while let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
        let mut target = root;
        for part in reference.trim_start_matches("#/").split('/') {
            target = &target[part];
        }
        schema = target;
    }
    schema
}

fn type_matches(node: &Node, wanted: &str) -> bool {
    match (wanted, &node.value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Seq(_))
        | ("object", Value::Map(_))
        | ("integer", Value::Int(_))
        | ("number", Value::Int(_) | Value::Float(_)) => true,
        ("integer", Value::Float(f)) => f.fract() == 0.0,
        _ => false,
    }
}

fn type_words(wanted: &[&str]) -> String {
    let words: Vec<&str> = wanted
        .iter()
        .map(|t| match *t {
            "array" => "a list",
            "object" => "a mapping",
            "string" => "a string",
            "number" => "a number",
            "integer" => "an integer",
            "boolean" => "a boolean",
            "null" => "null",
            other => other,
        })
        .collect();
    words.join(" or ")
}

fn pattern_matches(pattern: &str, key: &str) -> bool {
    match pattern {
        "^x-" => key.starts_with("x-"),
        "^.+$" => !key.is_empty(),
        "^[a-z]+$" => !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase()),
        "^[a-zA-Z0-9._-]+$" => {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }
        _ => true,
    }
}

fn check(node: &Node, schema: &Json, root: &Json, path: &KeyPath) -> Result<(), Failure> {
    let schema = resolve(root, schema);
    if let Some(wanted) = schema.get("type") {
        let wanted: Vec<&str> = match wanted {
            Json::String(one) => vec![one.as_str()],
            Json::Array(many) => many.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        if !wanted.is_empty() && !wanted.iter().any(|w| type_matches(node, w)) {
            return Err(wrong_type(node, path, &wanted));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        let json = node.to_json();
        if !options.contains(&json) {
            let listed: Vec<String> = options
                .iter()
                .map(|o| {
                    o.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| o.to_string())
                })
                .collect();
            return Err(fail(
                node,
                path,
                format!("must be one of: {}", listed.join(", ")),
                None,
            ));
        }
    }
    for (keyword, is_min) in [("minimum", true), ("maximum", false)] {
        if let (Some(limit), Some(number)) = (
            schema.get(keyword).and_then(Json::as_f64),
            node.to_json().as_f64(),
        ) {
            if (is_min && number < limit) || (!is_min && number > limit) {
                let relation = if is_min { ">=" } else { "<=" };
                return Err(fail(
                    node,
                    path,
                    format!("must be {relation} {limit}"),
                    None,
                ));
            }
        }
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(branches) = schema.get(combinator).and_then(Json::as_array) {
            check_branches(node, branches, root, path)?;
        }
    }
    match &node.value {
        Value::Map(map) => check_object(node, map, schema, root, path)?,
        Value::Seq(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check(item, item_schema, root, &path.index(index))?;
                }
            }
            if schema.get("uniqueItems") == Some(&Json::Bool(true)) {
                for (index, item) in items.iter().enumerate() {
                    if items[..index]
                        .iter()
                        .any(|earlier| earlier.value == item.value)
                    {
                        return Err(fail(
                            item,
                            path,
                            format!("{} is listed twice", item.to_json()),
                            Some("remove the duplicate".into()),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// One of the branches must hold; else the most specific branch's failure is the answer.
fn check_branches(
    node: &Node,
    branches: &[Json],
    root: &Json,
    path: &KeyPath,
) -> Result<(), Failure> {
    let mut failures = Vec::new();
    for branch in branches {
        match check(node, branch, root, path) {
            Ok(()) => return Ok(()),
            Err(failure) => failures.push(failure),
        }
    }
    let all_shallow = failures
        .iter()
        .all(|f| f.shallow_type && f.depth == path.parts().len());
    if all_shallow {
        let wanted: Vec<String> = branches
            .iter()
            .filter_map(|b| resolve(root, b).get("type"))
            .flat_map(|t| match t {
                Json::String(one) => vec![one.clone()],
                Json::Array(many) => many
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        return Err(wrong_type(node, path, &wanted));
    }
    let best = failures
        .into_iter()
        .filter(|f| !(f.shallow_type && f.depth == path.parts().len()))
        .max_by_key(|f| f.depth);
    Err(best.unwrap_or_else(|| fail(node, path, "is not valid".into(), None)))
}

fn check_object(
    node: &Node,
    map: &std::collections::BTreeMap<String, Node>,
    schema: &Json,
    root: &Json,
    path: &KeyPath,
) -> Result<(), Failure> {
    let properties = schema.get("properties").and_then(Json::as_object);
    let patterns = schema.get("patternProperties").and_then(Json::as_object);
    let additional = schema.get("additionalProperties");
    if let Some(required) = schema.get("required").and_then(Json::as_array) {
        for key in required.iter().filter_map(Json::as_str) {
            if !map.contains_key(key) {
                return Err(fail(
                    node,
                    path,
                    format!("missing required key '{key}'"),
                    None,
                ));
            }
        }
    }
    for (key, value) in map {
        let here = path.join(key.clone());
        let mut matched = false;
        if let Some(property) = properties.and_then(|p| p.get(key)) {
            matched = true;
            check(value, property, root, &here)?;
        }
        if let Some(patterns) = patterns {
            for (pattern, property) in patterns {
                if pattern_matches(pattern, key) {
                    matched = true;
                    check(value, property, root, &here)?;
                }
            }
        }
        if matched {
            continue;
        }
        match additional {
            Some(Json::Bool(false)) => {
                let known = properties.map(|p| p.keys().map(String::as_str).collect::<Vec<_>>());
                let hint = known
                    .as_deref()
                    .and_then(|known| did_you_mean(key, known.iter().copied()))
                    .map(|close| format!("did you mean '{close}'?"));
                let mut failure = fail(value, path, format!("unknown key '{key}'"), hint);
                failure.depth += 1;
                return Err(failure);
            }
            Some(schema @ Json::Object(_)) => check(value, schema, root, &here)?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::yaml::parse_documents;

    fn error(text: &str) -> (String, Option<String>) {
        let doc = parse_documents(text, &Arc::from("compose.yaml"))
            .unwrap()
            .remove(0);
        let error = validate(&doc).unwrap_err();
        (error.to_string(), error.hint())
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let (message, hint) = error("services:\n  web:\n    image: x\n    port: [80]\n");
        assert_eq!(message, "compose.yaml:4: services.web: unknown key 'port'");
        assert_eq!(hint.as_deref(), Some("did you mean 'ports'?"));
    }

    #[test]
    fn wrong_types_name_the_path() {
        let (message, _) = error("services:\n  web:\n    image: x\n    read_only: [1]\n");
        assert_eq!(
            message,
            "compose.yaml:4: services.web.read_only: must be a boolean or a string, not a list"
        );
        let (message, _) =
            error("services:\n  web:\n    build:\n      context: .\n      dockerfil: x\n");
        assert_eq!(
            message,
            "compose.yaml:5: services.web.build: unknown key 'dockerfil'"
        );
    }

    #[test]
    fn valid_files_pass() {
        let doc = parse_documents(
            "services:\n  web:\n    image: x\n    ports: ['80:80', {target: 81}]\n    environment: [A=1]\n    x-custom: 1\nx-top: {}\n",
            &Arc::from("compose.yaml"),
        )
        .unwrap()
        .remove(0);
        validate(&doc).unwrap();
    }
}
