//! Go template text into a tree: text and `{{actions}}` (with `{{-`/`-}}` trimming and
//! `{{/* comments */}}`), `if`/`else if`/`else`, `range` (with `$k, $v :=`), `with`, `end`,
//! and pipelines of commands whose arguments are fields, variables, literals and
//! parenthesized pipelines.

use super::lex::{tokens, Token};

/// One argument of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.` (empty path) or `.A.B`: from the current value.
    Field(Vec<String>),
    /// `$` (the root, `name` empty) or `$x`, then `.A.B`.
    Var(String, Vec<String>),
    /// A function's name.
    Func(String),
    Str(String),
    Number(serde_json::Number),
    Bool(bool),
    Nil,
    /// `(pipeline)`, then `.A.B`.
    Sub(Pipeline, Vec<String>),
}

/// `a | b c | d`: each command after the first gets the value before it as its last
/// argument.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    /// `$k, $v :=` (only `range` binds variables).
    pub vars: Vec<String>,
    pub commands: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Action(Pipeline),
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Range {
        pipeline: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With {
        pipeline: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// The template's pieces before nesting: text, and the words of each action.
enum Item {
    Text(String),
    Action(String),
}

fn items(text: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        if trim_next {
            before = before.trim_start();
        }
        let inner = &rest[start + 2..];
        let trim_before = inner.starts_with("- ") || inner.starts_with("-\t");
        if trim_before {
            before = before.trim_end();
        }
        if !before.is_empty() {
            items.push(Item::Text(before.to_string()));
        }
        let end = find_close(inner).ok_or("unclosed action")?;
        let mut action = &inner[..end];
        trim_next = action.ends_with(" -") || action.ends_with("\t-");
        if trim_before {
            action = &action[1..];
        }
        if trim_next {
            action = &action[..action.len() - 1];
        }
        let action = action.trim();
        if !(action.starts_with("/*") && action.ends_with("*/")) {
            items.push(Item::Action(action.to_string()));
        }
        rest = &inner[end + 2..];
    }
    let last = if trim_next { rest.trim_start() } else { rest };
    if !last.is_empty() {
        items.push(Item::Text(last.to_string()));
    }
    Ok(items)
}

/// The `}}` closing an action, outside string literals.
fn find_close(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'`') => quote = Some(bytes[i]),
            (None, b'}') if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses a whole template.
pub fn parse(text: &str) -> Result<Vec<Node>, String> {
    let items = items(text)?;
    let mut at = 0;
    let (nodes, end) = block(&items, &mut at)?;
    match end {
        None => Ok(nodes),
        Some(word) => Err(format!("unexpected {{{{{word}}}}}")),
    }
}

/// Nodes up to an `end` or `else...` (returned, for the caller) or the end of the text.
fn block(items: &[Item], at: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(item) = items.get(*at) {
        *at += 1;
        let action = match item {
            Item::Text(text) => {
                nodes.push(Node::Text(text.clone()));
                continue;
            }
            Item::Action(action) => action.as_str(),
        };
        let (word, rest) = action
            .split_once(char::is_whitespace)
            .map_or((action, ""), |(w, r)| (w, r.trim()));
        match word {
            "end" | "else" => return Ok((nodes, Some(action.to_string()))),
            "if" => nodes.push(if_node(items, at, rest)?),
            "range" | "with" => {
                let pipeline = pipeline(rest)?;
                let (body, end) = block(items, at)?;
                let otherwise = match end.as_deref() {
                    Some("end") => Vec::new(),
                    Some("else") => closed(items, at)?,
                    _ => return Err(format!("{{{{{word}}}}} without {{{{end}}}}")),
                };
                nodes.push(if word == "range" {
                    Node::Range {
                        pipeline,
                        body,
                        otherwise,
                    }
                } else {
                    Node::With {
                        pipeline,
                        body,
                        otherwise,
                    }
                });
            }
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!("{{{{{word}}}}} is not supported"))
            }
            _ => nodes.push(Node::Action(pipeline(action)?)),
        }
    }
    Ok((nodes, None))
}

/// A block that must end with `{{end}}`.
fn closed(items: &[Item], at: &mut usize) -> Result<Vec<Node>, String> {
    match block(items, at)? {
        (nodes, Some(end)) if end == "end" => Ok(nodes),
        _ => Err("missing {{end}}".into()),
    }
}

fn if_node(items: &[Item], at: &mut usize, condition: &str) -> Result<Node, String> {
    let mut branches = vec![(pipeline(condition)?, Vec::new())];
    loop {
        let (body, end) = block(items, at)?;
        branches.last_mut().expect("one branch").1 = body;
        match end.as_deref() {
            Some("end") => {
                return Ok(Node::If {
                    branches,
                    otherwise: Vec::new(),
                })
            }
            Some("else") => {
                return Ok(Node::If {
                    branches,
                    otherwise: closed(items, at)?,
                })
            }
            Some(other) => match other.strip_prefix("else if ") {
                Some(condition) => branches.push((pipeline(condition.trim())?, Vec::new())),
                None => return Err(format!("unexpected {{{{{other}}}}}")),
            },
            None => return Err("{{if}} without {{end}}".into()),
        }
    }
}

pub fn pipeline(text: &str) -> Result<Pipeline, String> {
    if text.is_empty() {
        return Err("missing value".into());
    }
    let tokens = tokens(text)?;
    let mut at = 0;
    let pipeline = pipeline_of(&tokens, &mut at, true)?;
    match tokens.get(at) {
        None => Ok(pipeline),
        Some(token) => Err(format!("unexpected {token:?} in `{text}`")),
    }
}

fn pipeline_of(tokens: &[Token], at: &mut usize, top: bool) -> Result<Pipeline, String> {
    let mut vars = Vec::new();
    // `$k, $v :=` or `$v :=`.
    let declares = tokens[*at..]
        .iter()
        .take_while(|t| !matches!(t, Token::Pipe | Token::Open | Token::Close))
        .any(|t| *t == Token::Declare);
    if top && declares {
        while let Some(Token::Word(word)) = tokens.get(*at) {
            let name = word
                .strip_prefix('$')
                .filter(|n| !n.is_empty() && !n.contains('.'))
                .ok_or_else(|| format!("cannot declare {word}"))?;
            vars.push(name.to_string());
            *at += 1;
            match tokens.get(*at) {
                Some(Token::Comma) => *at += 1,
                Some(Token::Declare) => {
                    *at += 1;
                    break;
                }
                _ => return Err("expected := after the variables".into()),
            }
        }
    }
    let mut commands = vec![Vec::new()];
    while let Some(token) = tokens.get(*at) {
        match token {
            Token::Close if !top => break,
            Token::Pipe => {
                if commands.last().is_some_and(Vec::is_empty) {
                    return Err("missing command before |".into());
                }
                commands.push(Vec::new());
                *at += 1;
                continue;
            }
            _ => {}
        }
        let arg = arg(tokens, at)?;
        commands.last_mut().expect("a command").push(arg);
    }
    if commands.iter().any(Vec::is_empty) {
        return Err("missing command".into());
    }
    Ok(Pipeline { vars, commands })
}

fn arg(tokens: &[Token], at: &mut usize) -> Result<Arg, String> {
    let token = tokens[*at].clone();
    *at += 1;
    Ok(match token {
        Token::Str(value) => Arg::Str(value),
        Token::Open => {
            let inner = pipeline_of(tokens, at, false)?;
            if tokens.get(*at) != Some(&Token::Close) {
                return Err("unclosed (".into());
            }
            *at += 1;
            let mut path = Vec::new();
            if let Some(Token::Chain(chain)) = tokens.get(*at) {
                path = fields(chain, chain)?;
                *at += 1;
            }
            Arg::Sub(inner, path)
        }
        Token::Word(word) => word_arg(&word)?,
        other => return Err(format!("unexpected {other:?}")),
    })
}

/// `A.B` of `word` as keys.
fn fields(text: &str, word: &str) -> Result<Vec<String>, String> {
    let keys: Vec<String> = text.split('.').map(str::to_string).collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!("bad field `{word}`"));
    }
    Ok(keys)
}

fn word_arg(word: &str) -> Result<Arg, String> {
    let path = |text: &str| fields(text, word);
    if word == "." {
        return Ok(Arg::Field(Vec::new()));
    }
    if let Some(fields) = word.strip_prefix('.') {
        return Ok(Arg::Field(path(fields)?));
    }
    if let Some(var) = word.strip_prefix('$') {
        return Ok(match var.split_once('.') {
            Some((name, fields)) => Arg::Var(name.to_string(), path(fields)?),
            None => Arg::Var(var.to_string(), Vec::new()),
        });
    }
    match word {
        "true" => return Ok(Arg::Bool(true)),
        "false" => return Ok(Arg::Bool(false)),
        "nil" => return Ok(Arg::Nil),
        _ => {}
    }
    if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        let number: serde_json::Number = word
            .parse()
            .map_err(|_| format!("bad number syntax: {word}"))?;
        return Ok(Arg::Number(number));
    }
    if word.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(Arg::Func(word.to_string()));
    }
    Err(format!("unexpected `{word}`"))
}
