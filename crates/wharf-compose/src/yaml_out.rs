//! A YAML writer in go-yaml v3's layout (two-space indents, list items indented under their
//! key, `{}` and `[]` for empty collections, `|-` for multi-line strings), quoting a string
//! whenever it would read back as something else.

use serde_json::Value;

/// Writes `value` (a mapping) as a YAML document.
pub fn write_document(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, out),
        other => {
            write_inline(other, 0, out);
            out.push('\n');
        }
    }
}

fn write_map(map: &serde_json::Map<String, Value>, depth: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&"  ".repeat(depth));
        write_key(key, depth, out);
        write_value(value, depth, out);
    }
}

/// The value after `key:` or `- `.
fn write_value(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, depth + 1, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, depth + 1, out);
        }
        other => {
            out.push(' ');
            write_inline(other, depth + 1, out);
            out.push('\n');
        }
    }
}

fn write_seq(items: &[Value], depth: usize, out: &mut String) {
    for item in items {
        out.push_str(&"  ".repeat(depth));
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key goes on the dash's line, the others under it.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&"  ".repeat(depth + 1));
                    }
                    write_key(key, depth + 1, out);
                    write_value(value, depth + 1, out);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, depth + 1, out);
            }
            other => {
                out.push(' ');
                write_inline(other, depth + 1, out);
                out.push('\n');
            }
        }
    }
}

fn write_inline(value: &Value, depth: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&number.to_string()),
        // A block's indentation is read from its first line: one that starts with a space
        // (or is empty) would lose that space, so such text is quoted instead; so is text
        // with characters a block cannot hold as they are.
        Value::String(text)
            if text.contains('\n')
                && !text.chars().any(|c| c != '\n' && needs_escape(c))
                && !text.starts_with([' ', '\n']) =>
        {
            // Clip keeps one final line break, keep all of them, strip none.
            let chomp = if text.ends_with("\n\n") {
                "+"
            } else if text.ends_with('\n') {
                ""
            } else {
                "-"
            };
            out.push('|');
            out.push_str(chomp);
            let body = text.strip_suffix('\n').unwrap_or(text);
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&"  ".repeat(depth));
                    out.push_str(line);
                }
            }
        }
        Value::String(text) => out.push_str(&scalar_text(text)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Characters that are not printable in YAML, or that some readers take for a line break
/// (NEL, LS, PS, from YAML 1.1) or a byte-order mark: written only escaped.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// YAML's limit on a key written before its `:` (an implicit key), in characters.
const IMPLICIT_KEY_MAX: usize = 1024;

/// `key:`, or for a key past [`IMPLICIT_KEY_MAX`], which no reader takes so, `? key` then
/// `:` on a line of its own at the key's indent.
fn write_key(key: &str, depth: usize, out: &mut String) {
    let text = scalar_text(key);
    if text.chars().count() < IMPLICIT_KEY_MAX {
        out.push_str(&text);
    } else {
        out.push_str("? ");
        out.push_str(&text);
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
    out.push(':');
}

/// A string as a plain scalar when it reads back as the same string, else double-quoted.
fn scalar_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

fn is_plain_safe(text: &str) -> bool {
    if text.is_empty() || text.trim() != text {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let special_word = matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | ".nan"
    );
    let numeric = text.parse::<f64>().is_ok()
        || text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '.')
            && text
                .chars()
                .all(|c| c.is_ascii_hexdigit() || "xXoObB_.+-:".contains(c));
    let starts_special = text.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`',
    ]);
    let inner_special = text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        || text.contains(['\n', '\r', '\t', '"', '\\'])
        || text.chars().any(|c| c.is_control());
    !(special_word || numeric || starts_special || inner_special)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_quoting() {
        let value = serde_json::json!({
            "name": "demo",
            "services": {"web": {
                "command": ["echo", "8080", "true", "-x"],
                "ports": [{"target": 80, "published": "8080"}],
                "volume": {},
                "script": "a\nb"
            }}
        });
        let mut out = String::new();
        write_document(&value, &mut out);
        assert_eq!(
            out,
            "name: demo\nservices:\n  web:\n    command:\n      - echo\n      - \"8080\"\n      - \"true\"\n      - \"-x\"\n    ports:\n      - target: 80\n        published: \"8080\"\n    volume: {}\n    script: |-\n      a\n      b\n"
        );
    }

    /// ` #debug = false\n` as a block read back without its first space: found by the
    /// kube_play fuzz target (a ConfigMap value).
    #[test]
    fn text_starting_with_a_space_or_newline_reads_back() {
        for text in [
            " #debug = false\n",
            "  a\nb",
            "\n a\n",
            "\n\nx",
            // Trailing empty lines, and characters a block cannot hold (a ConfigMap value
            // with carriage returns, found by the kube_play fuzz target).
            "a\n\n",
            "a\n\n\n",
            "a\r\nb\n",
            "a\u{1}\nb",
            "a\u{2028}\nb",
        ] {
            let mut out = String::new();
            write_document(&serde_json::json!({ "k": text }), &mut out);
            let read = yaml_rust2::YamlLoader::load_from_str(&out).unwrap();
            assert_eq!(read[0]["k"].as_str(), Some(text), "{out}");
        }
    }

    /// A key of 1024 characters or more written as `key:` did not read back (YAML caps
    /// implicit keys): found by the kube_play fuzz target through a long pod name.
    #[test]
    fn long_keys_are_explicit_and_read_back() {
        let long = "k".repeat(1100);
        let value = serde_json::json!({
            "services": {&long: {"image": "a", &long: ["x"]}},
            "list": [{&long: 1, "b": {&long: {}}}],
        });
        let mut out = String::new();
        write_document(&value, &mut out);
        assert!(out.contains(&format!("  ? {long}\n  :\n")), "{out}");
        let read = yaml_rust2::YamlLoader::load_from_str(&out).unwrap();
        let service = &read[0]["services"][long.as_str()];
        assert_eq!(service["image"].as_str(), Some("a"));
        assert_eq!(service[long.as_str()][0].as_str(), Some("x"));
        assert_eq!(read[0]["list"][0][long.as_str()].as_i64(), Some(1));
        assert!(read[0]["list"][0]["b"][long.as_str()].as_hash().is_some());
    }
}
