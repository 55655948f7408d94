//! The untyped tree every load step works on, as compose-go's steps work on a
//! `map[string]any`: YAML values that remember the file and line they came from and their
//! `!reset` / `!override` tag, so that errors can name the place.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Where a value was written: the file (as the user named it) and the 1-based line. A value
/// under a mapping key carries the key's line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    pub file: Arc<str>,
    pub line: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// The compose-specific YAML tags that steer the merge of several files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: drop what earlier files said for this key.
    Reset,
    /// `!override`: replace what earlier files said instead of merging into it.
    Override,
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub at: Position,
    pub tag: Option<Tag>,
}

/// YAML values as go-yaml resolves them; maps are sorted by key, as Go prints them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(BTreeMap<String, Node>),
}

impl Node {
    pub fn new(value: Value, at: Position) -> Self {
        Node {
            value,
            at,
            tag: None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Node>> {
        match &self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut BTreeMap<String, Node>> {
        match &mut self.value {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The entry `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|map| map.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut().and_then(|map| map.get_mut(key))
    }

    /// The text of a scalar as Go's `fmt.Sprint` writes it (`true`, `8080`, `0.5`).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(text) => Some(text.clone()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Int(number) => Some(number.to_string()),
            Value::Float(number) => Some(go_float_text(*number)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The name of this value's type, as the schema's errors say it.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::String(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }

    /// Where the value at `path` below this node was written: the deepest part of the
    /// path that exists.
    pub fn position_of(&self, path: &KeyPath) -> Position {
        let mut node = self;
        let mut best = self.at.clone();
        for part in path.parts() {
            let next = match node.as_seq() {
                Some(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                None => node.get(part),
            };
            let Some(child) = next else {
                break;
            };
            node = child;
            if child.at.line > 0 {
                best = child.at.clone();
            }
        }
        best
    }

    /// The plain JSON value, without positions and tags.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::String(text) => Json::String(text.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(key, node)| (key.clone(), node.to_json()))
                    .collect(),
            ),
        }
    }

    /// A tree built from plain JSON, every value at `at`.
    pub fn from_json(json: &serde_json::Value, at: &Position) -> Node {
        use serde_json::Value as Json;
        let value = match json {
            Json::Null => Value::Null,
            Json::Bool(flag) => Value::Bool(*flag),
            Json::Number(number) => match number.as_i64() {
                Some(int) => Value::Int(int),
                None => Value::Float(number.as_f64().unwrap_or_default()),
            },
            Json::String(text) => Value::String(text.clone()),
            Json::Array(items) => {
                Value::Seq(items.iter().map(|i| Node::from_json(i, at)).collect())
            }
            Json::Object(map) => Value::Map(
                map.iter()
                    .map(|(key, value)| (key.clone(), Node::from_json(value, at)))
                    .collect(),
            ),
        };
        Node::new(value, at.clone())
    }
}

/// A float as Go's `%v` prints it: the shortest text, no `.0` for whole numbers.
pub fn go_float_text(number: f64) -> String {
    number.to_string()
}

/// A key path as compose-go names it in errors: `services.web.ports`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<String>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    pub fn join(&self, key: impl Into<String>) -> Self {
        let mut parts = self.0.clone();
        parts.push(key.into());
        KeyPath(parts)
    }

    /// An index into a list: `ports[0]` (shown as `ports.0` by the schema's messages).
    pub fn index(&self, index: usize) -> Self {
        self.join(index.to_string())
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// The value of the first `(pattern, value)` of `table` whose pattern this path
    /// matches: how each step keeps its rules, as a table keyed by path.
    pub fn rule<T: Copy>(&self, table: &[(&str, T)]) -> Option<T> {
        table
            .iter()
            .find(|(pattern, _)| self.matches(pattern))
            .map(|(_, value)| *value)
    }

    /// Whether this path matches a pattern where `*` stands for any one key.
    pub fn matches(&self, pattern: &str) -> bool {
        let pattern: Vec<&str> = pattern.split('.').collect();
        pattern.len() == self.0.len()
            && pattern
                .iter()
                .zip(&self.0)
                .all(|(want, have)| *want == "*" || want == have)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}
