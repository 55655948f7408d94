//! What Dockerfile rules read: each instruction with its first line, its node as written,
//! its typed form, and for RUN (and ONBUILD RUN) its shell commands; plus the source text,
//! for comments. Built once per file from `wharf-dockerfile`'s parse.

use wharf_dockerfile::instructions::{CommandLine, RunInstruction};
use wharf_dockerfile::{Dockerfile, Instruction, Node};

use crate::config::Config;
use crate::shell::Script;

/// One instruction.
#[derive(Debug)]
pub struct Item {
    /// The first line of the instruction, from 1.
    pub line: usize,
    pub node: Node,
    pub instruction: Instruction,
    /// The commands of a RUN, or of the RUN an ONBUILD wraps.
    pub script: Option<Script>,
    /// The FROM's image reference, split.
    pub from: Option<BaseImage>,
}

/// A parsed Dockerfile as the rules see it.
#[derive(Debug)]
pub struct File<'a> {
    pub items: Vec<Item>,
    pub source: &'a str,
    pub parsed: &'a Dockerfile,
    pub config: &'a Config,
}

/// `FROM [--platform=P] [REGISTRY/]NAME[:TAG][@DIGEST] [AS ALIAS]`, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaseImage {
    pub registry: Option<String>,
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The stage name as written (not lowercased).
    pub alias: Option<String>,
    pub platform: Option<String>,
}

impl BaseImage {
    /// Splits an image reference like Docker's: the first path component is a registry when
    /// it has a `.` or `:` or is `localhost`.
    pub fn parse(reference: &str) -> Self {
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (reference, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_owned()), path)
            }
            _ => (None, rest),
        };
        let last = path.rsplit('/').next().unwrap_or(path);
        let (name, tag) = match last.rsplit_once(':') {
            Some((_, tag)) => (
                &path[..path.len() - tag.len() - 1],
                Some(tag.to_owned()).filter(|tag| !tag.is_empty()),
            ),
            None => (path, None),
        };
        Self {
            registry,
            name: name.to_owned(),
            tag,
            digest,
            alias: None,
            platform: None,
        }
    }
}

impl Item {
    pub fn new(node: &Node, instruction: Instruction) -> Self {
        let script = match &instruction {
            Instruction::Run(run) => Some(script_of(run)),
            Instruction::Onbuild(onbuild) => match onbuild.trigger.as_ref() {
                Instruction::Run(run) => Some(script_of(run)),
                _ => None,
            },
            _ => None,
        };
        let from = match &instruction {
            Instruction::From(from) => {
                let words = match &node.args {
                    wharf_dockerfile::Arguments::List(words) => words.as_slice(),
                    _ => &[],
                };
                Some(BaseImage {
                    alias: words.get(2).cloned(),
                    platform: from.platform.clone(),
                    ..BaseImage::parse(&from.image)
                })
            }
            _ => None,
        };
        Self {
            line: node.lines.start,
            node: node.clone(),
            instruction,
            script,
            from,
        }
    }

    /// A RUN (not one under ONBUILD) and its commands.
    pub fn run(&self) -> Option<(&RunInstruction, &Script)> {
        match (&self.instruction, &self.script) {
            (Instruction::Run(run), Some(script)) => Some((run, script)),
            _ => None,
        }
    }

    /// The commands of a RUN or an ONBUILD RUN (hadolint checks both for most RUN rules).
    pub fn any_script(&self) -> Option<&Script> {
        self.script.as_ref()
    }

    pub fn is_from(&self) -> bool {
        self.from.is_some()
    }
}

/// The script a RUN runs: its shell text, its exec words joined, or its heredoc when the
/// command is only the heredoc.
fn script_of(run: &RunInstruction) -> Script {
    match &run.command {
        CommandLine::Exec(words) => Script::parse(&words.join(" ")),
        CommandLine::Shell(text) => match run.heredocs.first() {
            Some(heredoc) if text.trim_start().starts_with("<<") => Script::parse(&heredoc.content),
            _ => Script::parse(text),
        },
    }
}

impl<'a> File<'a> {
    /// The items of each stage: a new stage starts at each FROM (instructions before the
    /// first FROM form their own group).
    pub fn stages(&self) -> Vec<&[Item]> {
        let mut stages = Vec::new();
        let mut start = 0;
        for (index, item) in self.items.iter().enumerate() {
            if item.is_from() && index > start {
                stages.push(&self.items[start..index]);
                start = index;
            }
        }
        if start < self.items.len() {
            stages.push(&self.items[start..]);
        }
        stages
    }

    /// The last stage, the one `docker build` builds without `--target`.
    pub fn last_stage(&self) -> &[Item] {
        self.stages().last().copied().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split() {
        let image = BaseImage::parse("python:3.12-slim");
        assert_eq!(
            (image.registry, image.name.as_str(), image.tag.as_deref()),
            (None, "python", Some("3.12-slim"))
        );
        let image = BaseImage::parse("localhost:5000/team/app@sha256:ab");
        assert_eq!(image.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(image.name, "team/app");
        assert_eq!(image.tag, None);
        assert_eq!(image.digest.as_deref(), Some("sha256:ab"));
        let image = BaseImage::parse("ghcr.io/astral-sh/uv:0.5");
        assert_eq!(image.name, "astral-sh/uv");
        assert_eq!(image.tag.as_deref(), Some("0.5"));
    }
}
