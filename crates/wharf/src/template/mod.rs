//! Go templates as Docker's `--format` and `inspect -f` take them, over the JSON of what
//! is shown: `{{.A.B}}`, `{{if}}`/`{{else if}}`/`{{else}}`, `{{range}}` (with `$i, $v :=`),
//! `{{with}}`, pipelines, parentheses, `$`, and the functions of [`funcs::NAMES`]. An
//! unknown function is refused when the template is parsed, as Go does.

mod eval;
mod funcs;
mod lex;
mod parse;

use serde_json::Value;

use parse::{Arg, Node, Pipeline};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let nodes = parse::parse(text)?;
        check_functions(&nodes)?;
        Ok(Self { nodes })
    }

    pub fn render(&self, value: &Value) -> Result<String, String> {
        eval::render(&self.nodes, value)
    }

    /// The header line of a `table` template: its text, with each top-level `{{.Field}}`
    /// as `name` calls it, and nothing for other actions.
    pub fn header(&self, name: impl Fn(&str) -> String) -> String {
        self.nodes
            .iter()
            .map(|node| match node {
                Node::Text(text) => text.clone(),
                Node::Action(Pipeline { commands, .. }) => match commands.as_slice() {
                    [command] => match command.as_slice() {
                        [Arg::Field(path)] => name(&path.join(".")),
                        [Arg::Func(f), Arg::Field(path)] if f == "json" => name(&path.join(".")),
                        _ => String::new(),
                    },
                    _ => String::new(),
                },
                _ => String::new(),
            })
            .collect()
    }
}

fn check_functions(nodes: &[Node]) -> Result<(), String> {
    fn pipeline(p: &Pipeline) -> Result<(), String> {
        for arg in p.commands.iter().flatten() {
            match arg {
                Arg::Func(name) if !funcs::NAMES.contains(&name.as_str()) => {
                    return Err(format!("function \"{name}\" not defined"))
                }
                Arg::Sub(inner, _) => pipeline(inner)?,
                _ => {}
            }
        }
        Ok(())
    }
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Action(p) => pipeline(p)?,
            Node::If {
                branches,
                otherwise,
            } => {
                for (condition, body) in branches {
                    pipeline(condition)?;
                    check_functions(body)?;
                }
                check_functions(otherwise)?;
            }
            Node::Range {
                pipeline: p,
                body,
                otherwise,
            }
            | Node::With {
                pipeline: p,
                body,
                otherwise,
            } => {
                pipeline(p)?;
                check_functions(body)?;
                check_functions(otherwise)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
