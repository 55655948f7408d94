//! YAML read back the way the targets check written YAML: each document as JSON, and a
//! comparison that takes `1` and `1.0` for the same number (YAML text does not keep
//! serde_json's integer/float distinction for whole floats).

use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// The documents of `text`, or the parser's error.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    YamlLoader::load_from_str(text)
        .map(|documents| documents.iter().map(to_json).collect())
        .map_err(|error| error.to_string())
}

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Integer(n) => json!(n),
        Yaml::Real(text) => text
            .parse::<f64>()
            .map_or_else(|_| json!(text), |f| json!(f)),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => {
            let mut object = Map::new();
            for (key, value) in map {
                let key = match key {
                    Yaml::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                object.insert(key, to_json(value));
            }
            Value::Object(object)
        }
        _ => Value::Null,
    }
}

/// Whether `read` (YAML read back) is what `written` was.
pub fn same(written: &Value, read: &Value) -> bool {
    match (written, read) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| same(value, other)))
        }
        (a, b) => a == b,
    }
}
