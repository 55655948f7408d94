//! Interpolation of a whole file's tree: every string value (never a key) goes through
//! [`substitute`], then values at known paths are cast to the type the spec wants, as
//! compose-go's `interpolateTypeCastMapping` does (`read_only: ${RO}` becomes a boolean).

use crate::error::ComposeError;
use crate::template::{substitute, TemplateError};
use crate::tree::{KeyPath, Node, Value};

/// Where interpolation looks variables up, and what it tells the user.
pub struct Interpolation<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Warnings: variables used unset (compose's "Defaulting to a blank string").
    pub warnings: &'a mut Vec<String>,
}

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Float,
    Bool,
}

/// The paths whose strings become numbers or booleans; `*` is any key or list index.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.cpu_count", Cast::Int),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int),
    ("services.*.cpu_quota", Cast::Int),
    ("services.*.cpu_rt_period", Cast::Int),
    ("services.*.cpu_rt_runtime", Cast::Int),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int),
    ("services.*.pids_limit", Cast::Int),
    ("services.*.ports.*.target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.volumes.*.read_only", Cast::Bool),
    ("services.*.volumes.*.volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("networks.*.enable_ipv4", Cast::Bool),
    ("networks.*.enable_ipv6", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

/// Interpolates every string of `node` (a file's root) in place.
pub fn interpolate(node: &mut Node, context: &mut Interpolation<'_>) -> Result<(), ComposeError> {
    walk(node, &KeyPath::root(), context)
}

fn walk(
    node: &mut Node,
    path: &KeyPath,
    context: &mut Interpolation<'_>,
) -> Result<(), ComposeError> {
    match &mut node.value {
        Value::String(text) => {
            let mut unset = Vec::new();
            let substituted = substitute(text, context.lookup, &mut |name| {
                unset.push(name.to_owned())
            })
            .map_err(|error| interpolation_error(node_at(node), path, error))?;
            for name in unset {
                let warning =
                    format!("The \"{name}\" variable is not set. Defaulting to a blank string.");
                if !context.warnings.contains(&warning) {
                    context.warnings.push(warning);
                }
            }
            node.value = Value::String(substituted);
            if let Some(cast) = path.rule(CASTS) {
                node.value = apply_cast(node, path, cast, context.warnings)?;
            }
            Ok(())
        }
        Value::Seq(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(index), context)?;
            }
            Ok(())
        }
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                walk(value, &path.join(key.clone()), context)?;
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => Ok(()),
    }
}

fn node_at(node: &Node) -> &crate::tree::Position {
    &node.at
}

fn interpolation_error(
    at: &crate::tree::Position,
    path: &KeyPath,
    error: TemplateError,
) -> ComposeError {
    match error {
        TemplateError::Invalid { template } => ComposeError::invalid(
            at,
            path,
            format!("invalid interpolation format {template:?}"),
        )
        .with_hint("you may need to escape any $ with another $ ($$)"),
        missing @ TemplateError::MissingRequired { .. } => {
            let variable = match &missing {
                TemplateError::MissingRequired { variable, .. } => variable.clone(),
                TemplateError::Invalid { .. } => String::new(),
            };
            ComposeError::invalid(at, path, missing.to_string()).with_hint(format!(
                "set {variable} in the shell, in .env or in a file given with --env-file"
            ))
        }
    }
}

fn apply_cast(
    node: &Node,
    path: &KeyPath,
    cast: Cast,
    warnings: &mut Vec<String>,
) -> Result<Value, ComposeError> {
    let text = node.as_str().unwrap_or_default();
    let failed = |what: &str| {
        ComposeError::invalid(
            &node.at,
            path,
            format!("failed to cast to expected type: invalid {what}: '{text}'"),
        )
    };
    match cast {
        Cast::Int => text.parse().map(Value::Int).map_err(|_| failed("integer")),
        Cast::Float => text.parse().map(Value::Float).map_err(|_| failed("number")),
        Cast::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            yes @ ("y" | "yes" | "on") => {
                warnings.push(format!(
                    "\"{yes}\" for boolean is not supported by YAML 1.2, please use `true`"
                ));
                Ok(Value::Bool(true))
            }
            no @ ("n" | "no" | "off") => {
                warnings.push(format!(
                    "\"{no}\" for boolean is not supported by YAML 1.2, please use `false`"
                ));
                Ok(Value::Bool(false))
            }
            _ => Err(failed("boolean")),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::yaml::parse_documents;

    fn interpolated(text: &str) -> Result<serde_json::Value, ComposeError> {
        let mut doc = parse_documents(text, &Arc::from("compose.yaml"))?.remove(0);
        let lookup = |name: &str| match name {
            "TAG" => Some("3.12".to_owned()),
            "RO" => Some("true".to_owned()),
            "PORT" => Some("8080".to_owned()),
            _ => None,
        };
        let mut warnings = Vec::new();
        interpolate(
            &mut doc,
            &mut Interpolation {
                lookup: &lookup,
                warnings: &mut warnings,
            },
        )?;
        Ok(doc.to_json())
    }

    #[test]
    fn strings_are_substituted_and_cast() {
        let json = interpolated(
            "services:\n  web:\n    image: python:${TAG}\n    read_only: ${RO}\n    ports:\n      - target: ${PORT}\n",
        )
        .unwrap();
        let web = &json["services"]["web"];
        assert_eq!(web["image"], "python:3.12");
        assert_eq!(web["read_only"], true);
        assert_eq!(web["ports"][0]["target"], 8080);
    }

    #[test]
    fn errors_name_file_line_and_path() {
        let error =
            interpolated("services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "compose.yaml:3: services.web.image: required variable IMAGE is missing a value: set IMAGE"
        );
        let error = interpolated("services:\n  web:\n    read_only: maybe\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "compose.yaml:3: services.web.read_only: failed to cast to expected type: invalid boolean: 'maybe'"
        );
    }
}
