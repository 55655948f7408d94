//! Runs a parsed template over a JSON value as Go's text/template runs over Docker's
//! structs: fields by name, `range` over arrays and maps (keys in order), Go's truth
//! (false, 0, nil and empty are false), `$` the whole value.

use serde_json::Value;

use super::funcs::call;
use super::parse::{Arg, Node, Pipeline};

/// How Go's text/template prints a value.
pub fn go_print(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_print).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => format!(
            "map[{}]",
            sorted(map)
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

/// A map's entries in the order of its keys, as Go prints and ranges over maps.
fn sorted(map: &serde_json::Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by_key(|(k, _)| *k);
    entries.into_iter()
}

/// Go's truth of a value (`if`, `with`, `and`, `or`, `not`).
pub fn truth(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// The variables in scope: `$` first, then those of the `range`s around.
struct Scope<'a> {
    vars: Vec<(String, Value)>,
    root: &'a Value,
}

pub fn render(nodes: &[Node], value: &Value) -> Result<String, String> {
    let mut scope = Scope {
        vars: Vec::new(),
        root: value,
    };
    let mut out = String::new();
    exec(nodes, value, &mut scope, &mut out)?;
    Ok(out)
}

fn exec(nodes: &[Node], dot: &Value, scope: &mut Scope, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Action(pipeline) => out.push_str(&go_print(&pipe(pipeline, dot, scope)?)),
            Node::If {
                branches,
                otherwise,
            } => {
                let mut taken = None;
                for (condition, body) in branches {
                    if truth(&condition_value(condition, dot, scope)?) {
                        taken = Some(body);
                        break;
                    }
                }
                exec(taken.unwrap_or(otherwise), dot, scope, out)?;
            }
            Node::With {
                pipeline,
                body,
                otherwise,
            } => {
                let value = condition_value(pipeline, dot, scope)?;
                match truth(&value) {
                    true => exec(body, &value, scope, out)?,
                    false => exec(otherwise, dot, scope, out)?,
                }
            }
            Node::Range {
                pipeline,
                body,
                otherwise,
            } => {
                let value = pipe(pipeline, dot, scope)?;
                let entries: Vec<(Value, Value)> = match value {
                    Value::Array(items) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::from(i), v))
                        .collect(),
                    Value::Object(map) => sorted(&map)
                        .map(|(k, v)| (Value::from(k.clone()), v.clone()))
                        .collect(),
                    Value::Null => Vec::new(),
                    other => return Err(format!("range can't iterate over {}", go_print(&other))),
                };
                if entries.is_empty() {
                    exec(otherwise, dot, scope, out)?;
                }
                for (key, element) in entries {
                    let depth = scope.vars.len();
                    match pipeline.vars.as_slice() {
                        [] => {}
                        [v] => scope.vars.push((v.clone(), element.clone())),
                        [k, v, ..] => {
                            scope.vars.push((k.clone(), key));
                            scope.vars.push((v.clone(), element.clone()));
                        }
                    }
                    let result = exec(body, &element, scope, out);
                    scope.vars.truncate(depth);
                    result?;
                }
            }
        }
    }
    Ok(())
}

/// The value an `if` or `with` tests. A field that is not there is nil: Docker leaves
/// out what its structs hold as nil pointers (`{{with .State.Health}}`).
fn condition_value(pipeline: &Pipeline, dot: &Value, scope: &mut Scope) -> Result<Value, String> {
    match pipeline.commands.as_slice() {
        [command] => match command.as_slice() {
            [Arg::Field(path)] => Ok(lenient_fields(dot, path)),
            [Arg::Var(name, path)] if name.is_empty() => Ok(lenient_fields(scope.root, path)),
            _ => pipe(pipeline, dot, scope),
        },
        _ => pipe(pipeline, dot, scope),
    }
}

fn lenient_fields(value: &Value, path: &[String]) -> Value {
    path.iter()
        .try_fold(value, |current, key| current.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn pipe(pipeline: &Pipeline, dot: &Value, scope: &mut Scope) -> Result<Value, String> {
    let mut piped: Option<Value> = None;
    for command in &pipeline.commands {
        piped = Some(command_value(command, piped, dot, scope)?);
    }
    Ok(piped.unwrap_or(Value::Null))
}

fn command_value(
    command: &[Arg],
    piped: Option<Value>,
    dot: &Value,
    scope: &mut Scope,
) -> Result<Value, String> {
    match &command[0] {
        Arg::Func(name) => {
            let mut args = command[1..]
                .iter()
                .map(|arg| value_of(arg, dot, scope))
                .collect::<Result<Vec<_>, _>>()?;
            args.extend(piped);
            call(name, &args)
        }
        _ if command.len() > 1 || piped.is_some() => Err(format!(
            "can't give argument to non-function {}",
            describe(&command[0])
        )),
        arg => value_of(arg, dot, scope),
    }
}

fn value_of(arg: &Arg, dot: &Value, scope: &mut Scope) -> Result<Value, String> {
    match arg {
        Arg::Field(path) => fields(dot, path),
        Arg::Var(name, path) if name.is_empty() => fields(scope.root, path),
        Arg::Var(name, path) => {
            let value = scope
                .vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("undefined variable: ${name}"))?;
            fields(&value, path)
        }
        // A function given as an argument is called without arguments, as Go does.
        Arg::Func(name) => call(name, &[]),
        Arg::Str(text) => Ok(Value::from(text.clone())),
        Arg::Number(number) => Ok(Value::Number(number.clone())),
        Arg::Bool(b) => Ok(Value::Bool(*b)),
        Arg::Nil => Ok(Value::Null),
        Arg::Sub(pipeline, path) => fields(&pipe(pipeline, dot, scope)?, path),
    }
}

fn fields(value: &Value, path: &[String]) -> Result<Value, String> {
    let mut current = value;
    for key in path {
        current = match current {
            Value::Object(map) => map
                .get(key)
                .ok_or_else(|| format!("can't evaluate field {key}"))?,
            Value::Null => return Err(format!("nil pointer evaluating field {key}")),
            other => return Err(format!("can't evaluate field {key} in {}", go_print(other))),
        };
    }
    Ok(current.clone())
}

fn describe(arg: &Arg) -> String {
    match arg {
        Arg::Field(path) => format!(".{}", path.join(".")),
        Arg::Var(name, _) => format!("${name}"),
        Arg::Str(text) => format!("{text:?}"),
        Arg::Number(number) => number.to_string(),
        Arg::Bool(b) => b.to_string(),
        Arg::Nil => "nil".into(),
        Arg::Func(name) => name.clone(),
        Arg::Sub(..) => "(...)".into(),
    }
}
