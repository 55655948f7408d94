//! Reading one compose file: YAML text → [`Node`] tree with lines and tags, with go-yaml
//! v3's scalar rules (plain `8080` is an int, `"8080"` a string, `0755` octal), anchors,
//! aliases and `<<` merge keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::ComposeError;
use crate::tree::{Node, Position, Tag, Value};

/// Parses the documents of one file. An empty file gives no documents.
pub fn parse_documents(text: &str, file: &Arc<str>) -> Result<Vec<Node>, ComposeError> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        file: file.clone(),
        anchors: HashMap::new(),
    };
    let mut documents = Vec::new();
    loop {
        let (event, mark) = reader.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart => {
                let (event, mark) = reader.next()?;
                if matches!(event, Event::DocumentEnd) {
                    continue;
                }
                documents.push(reader.node(event, mark)?);
            }
            Event::StreamEnd => return Ok(documents),
            _ => return Err(reader.error(mark, "unexpected YAML event")),
        }
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    file: Arc<str>,
    anchors: HashMap<usize, Node>,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), ComposeError> {
        self.parser
            .next_token()
            .map_err(|error| ComposeError::Yaml {
                at: Position {
                    file: self.file.clone(),
                    line: error.marker().line(),
                },
                message: format!("yaml: {}", error.info()),
            })
    }

    fn at(&self, mark: Marker) -> Position {
        Position {
            file: self.file.clone(),
            line: mark.line(),
        }
    }

    fn error(&self, mark: Marker, message: impl Into<String>) -> ComposeError {
        ComposeError::Yaml {
            at: self.at(mark),
            message: message.into(),
        }
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Node, ComposeError> {
        let at = self.at(mark);
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag_name = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let mut node = Node::new(resolve_scalar(text, style, tag_name.as_deref()), at);
                node.tag = compose_tag(tag_name.as_deref());
                (node, anchor)
            }
            Event::Alias(anchor) => {
                let mut node = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or_else(|| self.error(mark, "yaml: unknown anchor"))?;
                node.at = at;
                return Ok(node);
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, mark)?);
                }
                let mut node = Node::new(Value::Seq(items), at);
                node.tag = compose_tag(tag.map(|t| format!("{}{}", t.handle, t.suffix)).as_deref());
                (node, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let mut node = Node::new(Value::Map(self.mapping()?), at);
                node.tag = compose_tag(tag.map(|t| format!("{}{}", t.handle, t.suffix)).as_deref());
                (node, anchor)
            }
            _ => return Err(self.error(mark, "yaml: unexpected event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    /// The entries of a mapping up to its end. Explicit keys win over `<<` merged ones,
    /// wherever they are written; a key written twice is an error, as in go-yaml.
    fn mapping(&mut self) -> Result<BTreeMap<String, Node>, ComposeError> {
        let mut map: BTreeMap<String, Node> = BTreeMap::new();
        let mut merged: Vec<Node> = Vec::new();
        loop {
            let (event, key_mark) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key_node = self.node(event, key_mark)?;
            let key = match &key_node.value {
                Value::Map(_) | Value::Seq(_) => {
                    return Err(self.error(key_mark, "yaml: invalid map key: not a scalar"))
                }
                Value::Null => "null".to_owned(),
                _ => key_node.scalar_text().unwrap_or_default(),
            };
            let (event, mark) = self.next()?;
            let mut value = self.node(event, mark)?;
            if key == "<<" && key_node.as_str().is_some() {
                match value.value {
                    Value::Seq(items) => merged.extend(items),
                    _ => merged.push(value),
                }
                continue;
            }
            value.at.line = key_mark.line();
            if let Some(previous) = map.get(&key) {
                return Err(self.error(
                    key_mark,
                    format!(
                        "yaml: mapping key \"{key}\" already defined at line {}",
                        previous.at.line
                    ),
                ));
            }
            map.insert(key, value);
        }
        for source in merged {
            let Value::Map(entries) = source.value else {
                return Err(ComposeError::Yaml {
                    at: source.at,
                    message: "yaml: map merge requires map or sequence of maps as the value".into(),
                });
            };
            for (key, value) in entries {
                map.entry(key).or_insert(value);
            }
        }
        Ok(map)
    }
}

fn compose_tag(tag: Option<&str>) -> Option<Tag> {
    match tag {
        Some("!reset") => Some(Tag::Reset),
        Some("!override") => Some(Tag::Override),
        _ => None,
    }
}

/// go-yaml v3's resolution of a scalar into null, bool, int, float or string.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("tag:yaml.org,2002:str" | "!!str") => return Value::String(text),
        Some("tag:yaml.org,2002:null" | "!!null") => return Value::Null,
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_go_int(&text) {
        return Value::Int(int);
    }
    if is_yaml_float(&text) {
        if let Ok(float) = text.parse::<f64>() {
            return Value::Float(float);
        }
    }
    Value::String(text)
}

/// Go's `strconv.ParseInt(text, 0, 64)`: decimal, `0x`, `0o`, `0b`, and a leading `0` for
/// octal; `_` between digits only with a base prefix.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_owned(), true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_owned(), true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_owned(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    if digits.contains('_') && (!prefixed || digits.contains("__")) {
        return None;
    }
    let digits = digits.replace('_', "");
    let magnitude = i128::from_str_radix(&digits, radix).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// YAML's float pattern, as go-yaml v3 checks it before `ParseFloat`.
fn is_yaml_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(index) => (&body[..index], Some(&body[index + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            whole.chars().all(|c| c.is_ascii_digit())
                && fraction.chars().all(|c| c.is_ascii_digit())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_documents(text, &Arc::from("compose.yaml"))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn scalars_resolve_like_go_yaml() {
        let doc = parse("a: 8080\nb: \"8080\"\nc: 0755\nd: 0.5\ne: yes\nf: ~\ng: true\nh: 1e3\n");
        let value = |key: &str| doc.get(key).unwrap().value.clone();
        assert_eq!(value("a"), Value::Int(8080));
        assert_eq!(value("b"), Value::String("8080".into()));
        assert_eq!(value("c"), Value::Int(0o755));
        assert_eq!(value("d"), Value::Float(0.5));
        assert_eq!(value("e"), Value::String("yes".into()));
        assert_eq!(value("f"), Value::Null);
        assert_eq!(value("g"), Value::Bool(true));
        assert_eq!(value("h"), Value::Float(1000.0));
    }

    #[test]
    fn values_carry_their_key_line_and_tags() {
        let doc = parse("services:\n  web:\n    image: x\n    ports: !reset []\n");
        let web = doc.get("services").unwrap().get("web").unwrap();
        assert_eq!(web.at.line, 2);
        assert_eq!(web.get("image").unwrap().at.line, 3);
        assert_eq!(web.get("ports").unwrap().tag, Some(Tag::Reset));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = parse("x: &base\n  a: 1\n  b: 2\ny:\n  b: 3\n  <<: *base\n");
        let y = doc.get("y").unwrap();
        assert_eq!(y.get("a").unwrap().value, Value::Int(1));
        assert_eq!(y.get("b").unwrap().value, Value::Int(3));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let error = parse_documents("a: 1\na: 2\n", &Arc::from("compose.yaml")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "compose.yaml:2: yaml: mapping key \"a\" already defined at line 1"
        );
    }
}
