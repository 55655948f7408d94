//! Env files (`.env`, `--env-file`, a service's `env_file:`) with compose's dotenv rules:
//! `KEY=value`, `KEY: value`, `export KEY=value`, `# comments`, ` #` ending an unquoted
//! value, single quotes taken literally, double quotes with escapes, `${VAR}` expanded in
//! unquoted and double-quoted values, and a bare `KEY` taken from the lookup.

use std::collections::BTreeMap;

use crate::template::{substitute, TemplateError};

/// A line of an env file that is not a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

/// Parses an env file's text. `lookup` answers bare `KEY` lines and `${VAR}` in values
/// before the file's own earlier variables do.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, DotenvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser { line: 1 };
    let mut vars = BTreeMap::new();
    let mut rest = text;
    loop {
        rest = parser.statement_start(rest);
        if rest.is_empty() {
            break;
        }
        let (key, after, inherited) = parser.key(rest)?;
        if key.contains(' ') {
            return Err(parser.error("key cannot contain a space"));
        }
        if inherited {
            if let Some(value) = lookup(&key) {
                vars.insert(key, value);
            }
            rest = after;
            continue;
        }
        let (value, after) = parser.value(after, &vars, lookup)?;
        vars.insert(key, value);
        rest = after;
    }
    // Keys that start with a digit are left out, as compose does.
    vars.retain(|key, _| !key.starts_with(|c: char| c.is_ascii_digit()));
    Ok(vars)
}

/// Parses a file in `format: raw`: each `KEY=value` line as written, no quotes, no expansion.
pub fn parse_raw(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|line| match line.split_once('=') {
            Some((key, value)) => (key.trim().to_owned(), value.to_owned()),
            None => (line.trim().to_owned(), String::new()),
        })
        .collect()
}

struct Parser {
    line: usize,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> DotenvError {
        DotenvError {
            line: self.line,
            message: message.into(),
        }
    }

    /// Skips blank space and comment lines, counting lines.
    fn statement_start<'a>(&mut self, mut text: &'a str) -> &'a str {
        loop {
            let Some(start) = text.find(|c: char| !c.is_whitespace()) else {
                return "";
            };
            self.line += text[..start].matches('\n').count();
            text = &text[start..];
            if !text.starts_with('#') {
                return text;
            }
            match text.find('\n') {
                Some(end) => text = &text[end..],
                None => return "",
            }
        }
    }

    /// The key, the text after its `=` or `:`, and whether the line was a bare key.
    fn key<'a>(&mut self, text: &'a str) -> Result<(String, &'a str, bool), DotenvError> {
        let text = match text.strip_prefix("export") {
            Some(after) if after.starts_with(is_space) => after.trim_start_matches(is_space),
            _ => text,
        };
        for (index, c) in text.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    let key = text[..index].trim_end().to_owned();
                    let inherited = c == '\n';
                    if inherited {
                        self.line += 1;
                    }
                    let after = text[index + 1..].trim_start_matches(is_space);
                    return Ok((key, after, inherited));
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first_line = text.lines().next().unwrap_or_default();
                    return Err(self.error(format!(
                        "unexpected character {:?} in variable name {first_line:?}",
                        c.to_string()
                    )));
                }
            }
        }
        // The last line, without a newline: a bare key.
        Ok((text.trim_end().to_owned(), "", true))
    }

    fn value<'a>(
        &mut self,
        text: &'a str,
        vars: &BTreeMap<String, String>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(String, &'a str), DotenvError> {
        let quote = match text.chars().next() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => {
                let (value, rest) = text.split_once('\n').unwrap_or((text, ""));
                let value = value.split(" #").next().unwrap_or_default().trim_end();
                let expanded = expand(value, vars, lookup, self.line)?;
                self.line += 1;
                return Ok((expanded, rest));
            }
        };
        let mut raw = String::new();
        let mut escaped = false;
        for (index, c) in text.char_indices().skip(1) {
            if c == '\n' {
                self.line += 1;
            }
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    raw.push('\\');
                }
                raw.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                raw.push(c);
                continue;
            }
            let value = if quote == '"' {
                expand(&unescape(&raw), vars, lookup, self.line)?
            } else {
                raw
            };
            return Ok((value, &text[index + 1..]));
        }
        let first_line = text.lines().next().unwrap_or_default();
        Err(self.error(format!("unterminated quoted value {first_line}")))
    }
}

/// `${VAR}` in a value: the lookup first, then the file's earlier variables.
fn expand(
    value: &str,
    vars: &BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
    line: usize,
) -> Result<String, DotenvError> {
    let both = |name: &str| lookup(name).or_else(|| vars.get(name).cloned());
    substitute(value, &both, &mut |_| {}).map_err(|error| DotenvError {
        line,
        message: match error {
            TemplateError::Invalid { .. } => format!("invalid template: {value:?}"),
            other => other.to_string(),
        },
    })
}

/// Go-style escapes in a double-quoted value; `\$` stays an escaped `$` for the expansion.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('$') => out.push_str("$$"),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> BTreeMap<String, String> {
        let lookup = |name: &str| (name == "SHELL_VAR").then(|| "from-shell".to_owned());
        parse(text, &lookup).unwrap()
    }

    #[test]
    fn compose_dotenv_rules() {
        let parsed = vars(concat!(
            "# comment\n",
            "PLAIN=value\n",
            "export EXPORTED=yes\n",
            "SPACED = spaced value  # a comment\n",
            "HASH=a#b\n",
            "SINGLE='${PLAIN} \\n'\n",
            "DOUBLE=\"${PLAIN}\\tx\"\n",
            "EXPANDED=${PLAIN}-${SHELL_VAR}\n",
            "YAMLISH: colon\n",
            "SHELL_VAR\n",
            "MISSING\n",
            "EMPTY=\n",
            "MULTI=\"a\nb\"\n",
            "1DIGIT=x\n",
        ));
        let expected = [
            ("DOUBLE", "value\tx"),
            ("EMPTY", ""),
            ("EXPANDED", "value-from-shell"),
            ("EXPORTED", "yes"),
            ("HASH", "a#b"),
            ("MULTI", "a\nb"),
            ("PLAIN", "value"),
            ("SHELL_VAR", "from-shell"),
            ("SINGLE", "${PLAIN} \\n"),
            ("SPACED", "spaced value"),
            ("YAMLISH", "colon"),
        ];
        let expected: BTreeMap<String, String> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(parsed, expected);
    }

    #[test]
    fn errors_name_the_line() {
        let error = parse("A=1\nB=\"open\n", &|_| None).unwrap_err();
        assert_eq!(error.line, 3);
        let error = parse("A=1\nB C=1\n", &|_| None).unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (2, "key cannot contain a space")
        );
    }
}
