//! Typed instructions, built from parsed [`Node`]s the way BuildKit's `instructions` package
//! builds its commands. Values stay as written (variables unexpanded, quotes in ENV and LABEL
//! values kept): the build expands them with the stage's variables at the time it runs.

mod flags;
mod mount;

use std::time::Duration;

pub use mount::{CacheSharing, Mount, MountError, MountType};

use crate::error::{suggest, Error, ErrorKind, LineSpan};
use crate::go_compat;
use crate::parser::{parse_heredoc_word, Arguments, Dockerfile, Heredoc, KeyValueArg, Node};
use flags::{FlagKind, Flags};

/// The instruction keywords, for suggestions.
const INSTRUCTION_NAMES: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// A value together with the Dockerfile lines it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub lines: LineSpan,
}

/// One Dockerfile instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    From(FromInstruction),
    Run(RunInstruction),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDeclaration>),
    Label(Vec<KeyValue>),
    Expose(Vec<String>),
    Copy(CopyInstruction),
    Add(AddInstruction),
    Workdir(String),
    User(String),
    Volume(Vec<String>),
    Healthcheck(Healthcheck),
    Shell(Vec<String>),
    StopSignal(String),
    Onbuild(OnbuildInstruction),
    Maintainer(String),
}

/// `FROM [--platform=P] IMAGE [AS NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromInstruction {
    /// The image or earlier stage, possibly with `$ARG` references.
    pub image: String,
    /// The stage name, lowercased.
    pub stage_name: Option<String>,
    pub platform: Option<String>,
}

/// A command in shell form (run through the stage's SHELL) or exec form (a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// An empty shell command (`CMD` alone) clears what the base image set.
    Shell(String),
    Exec(Vec<String>),
}

/// The network a RUN step gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    #[default]
    Default,
    None,
    Host,
}

/// Whether a RUN step is sandboxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityMode {
    #[default]
    Sandbox,
    Insecure,
}

/// `RUN [--mount=...] [--network=...] [--security=...] COMMAND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInstruction {
    pub command: CommandLine,
    /// Heredocs on the RUN line: the script, or files for the command.
    pub heredocs: Vec<Heredoc>,
    pub mounts: Vec<Mount>,
    pub network: NetworkMode,
    pub security: SecurityMode,
}

/// One ENV or LABEL pair; the value is as written, quotes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// One `ARG NAME[=default]`; the default is as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDeclaration {
    pub name: String,
    pub default: Option<String>,
}

/// A COPY or ADD source written as a heredoc: a file with this content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSource {
    /// The file name (the heredoc word).
    pub name: String,
    /// The content, leading tabs already removed for `<<-`.
    pub content: String,
    /// Whether variables in the content are expanded.
    pub expand: bool,
}

/// What COPY and ADD share: sources, destination and ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTransfer {
    /// Source paths or URLs as written.
    pub sources: Vec<String>,
    pub inline_sources: Vec<InlineSource>,
    pub destination: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// `--link`: copy into an independent layer.
    pub link: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
}

/// `COPY [--from=STAGE] [--parents] ... SRC... DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInstruction {
    pub files: FileTransfer,
    /// A stage name, stage index or image to copy from instead of the context.
    pub from: Option<String>,
    /// `--parents`: keep the source's parent directories.
    pub parents: bool,
}

/// `ADD [--keep-git-dir] [--checksum=...] ... SRC... DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddInstruction {
    pub files: FileTransfer,
    pub keep_git_dir: bool,
    pub checksum: Option<String>,
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [options] CMD ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// Turns off the check inherited from the base image.
    Disabled,
    Check(HealthcheckConfig),
}

/// A health check; unset times and retries mean the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckConfig {
    pub command: CommandLine,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

/// `ONBUILD INSTRUCTION`: run when another build uses this image as its base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnbuildInstruction {
    /// The trigger as stored in the image config, heredoc contents included.
    pub expression: String,
    pub trigger: Box<Instruction>,
}

impl Instruction {
    /// The instruction keyword, uppercase.
    pub fn name(&self) -> &'static str {
        match self {
            Self::From(_) => "FROM",
            Self::Run(_) => "RUN",
            Self::Cmd(_) => "CMD",
            Self::Entrypoint(_) => "ENTRYPOINT",
            Self::Env(_) => "ENV",
            Self::Arg(_) => "ARG",
            Self::Label(_) => "LABEL",
            Self::Expose(_) => "EXPOSE",
            Self::Copy(_) => "COPY",
            Self::Add(_) => "ADD",
            Self::Workdir(_) => "WORKDIR",
            Self::User(_) => "USER",
            Self::Volume(_) => "VOLUME",
            Self::Healthcheck(_) => "HEALTHCHECK",
            Self::Shell(_) => "SHELL",
            Self::StopSignal(_) => "STOPSIGNAL",
            Self::Onbuild(_) => "ONBUILD",
            Self::Maintainer(_) => "MAINTAINER",
        }
    }

    /// Builds the typed instruction for a node; errors name the node's first line.
    pub fn from_node(node: &Node) -> Result<Self, Error> {
        parse_node(node).map_err(|kind| Error::at(node.lines.start, kind))
    }
}

/// Every instruction of a parsed Dockerfile, in order, with its lines.
pub fn parse_instructions(dockerfile: &Dockerfile) -> Result<Vec<Located<Instruction>>, Error> {
    dockerfile
        .nodes
        .iter()
        .map(|node| {
            Ok(Located {
                value: Instruction::from_node(node)?,
                lines: node.lines,
            })
        })
        .collect()
}

fn parse_node(node: &Node) -> Result<Instruction, ErrorKind> {
    let keyword = node.keyword();
    let Some(&name) = INSTRUCTION_NAMES
        .iter()
        .find(|name| name.eq_ignore_ascii_case(&keyword))
    else {
        return Err(ErrorKind::UnknownInstruction {
            name: node.instruction.clone(),
            suggestion: suggest(&node.instruction, INSTRUCTION_NAMES),
        });
    };
    let request = Request { name, node };
    Ok(match name {
        "FROM" => Instruction::From(request.from()?),
        "RUN" => Instruction::Run(request.run()?),
        "CMD" => Instruction::Cmd(request.command_line()?),
        "ENTRYPOINT" => Instruction::Entrypoint(request.command_line()?),
        "ENV" => Instruction::Env(request.key_values()?),
        "LABEL" => Instruction::Label(request.key_values()?),
        "ARG" => Instruction::Arg(request.arg()?),
        "EXPOSE" => Instruction::Expose(request.at_least_one()?),
        "COPY" => Instruction::Copy(request.copy()?),
        "ADD" => Instruction::Add(request.add()?),
        "WORKDIR" => Instruction::Workdir(request.exactly_one()?),
        "USER" => Instruction::User(request.exactly_one()?),
        "VOLUME" => Instruction::Volume(request.volume()?),
        "HEALTHCHECK" => Instruction::Healthcheck(request.healthcheck()?),
        "SHELL" => Instruction::Shell(request.shell()?),
        "STOPSIGNAL" => Instruction::StopSignal(request.exactly_one()?),
        "ONBUILD" => Instruction::Onbuild(request.onbuild()?),
        _ => Instruction::Maintainer(request.exactly_one()?),
    })
}

/// One node being turned into an instruction.
struct Request<'a> {
    name: &'static str,
    node: &'a Node,
}

impl Request<'_> {
    fn flags(&self, accepted: &[(&'static str, FlagKind)]) -> Result<Flags, ErrorKind> {
        Flags::parse(self.name, &self.node.flags, accepted)
    }

    fn words(&self) -> &[String] {
        match &self.node.args {
            Arguments::List(words) => words,
            Arguments::Pairs(_) | Arguments::Trigger(_) => &[],
        }
    }

    fn at_least_one(&self) -> Result<Vec<String>, ErrorKind> {
        self.flags(&[])?;
        match self.words() {
            [] => Err(ErrorKind::NoArguments {
                instruction: self.name,
            }),
            words => Ok(words.to_vec()),
        }
    }

    fn exactly_one(&self) -> Result<String, ErrorKind> {
        self.flags(&[])?;
        match self.words() {
            [word] => Ok(word.clone()),
            _ => Err(ErrorKind::NotOneArgument {
                instruction: self.name,
            }),
        }
    }

    /// The arguments of CMD, ENTRYPOINT, RUN and HEALTHCHECK CMD.
    fn command(&self, words: &[String]) -> CommandLine {
        if self.node.exec_form {
            CommandLine::Exec(words.to_vec())
        } else {
            CommandLine::Shell(words.join(" "))
        }
    }

    fn from(&self) -> Result<FromInstruction, ErrorKind> {
        let (image, stage_name) = match self.words() {
            [image] => (image, None),
            [image, keyword, name] if keyword.eq_ignore_ascii_case("as") => {
                let lowered = name.to_lowercase();
                if !is_valid_stage_name(&lowered) {
                    return Err(ErrorKind::InvalidStageName { name: name.clone() });
                }
                (image, Some(lowered))
            }
            _ => return Err(ErrorKind::FromArgumentCount),
        };
        let flags = self.flags(&[("platform", FlagKind::Text)])?;
        Ok(FromInstruction {
            image: image.clone(),
            stage_name,
            platform: flags.text("platform"),
        })
    }

    fn run(&self) -> Result<RunInstruction, ErrorKind> {
        let flags = self.flags(&[
            ("mount", FlagKind::List),
            ("network", FlagKind::Text),
            ("security", FlagKind::Text),
        ])?;
        let network = match flags.text("network").as_deref() {
            None | Some("default") => NetworkMode::Default,
            Some("none") => NetworkMode::None,
            Some("host") => NetworkMode::Host,
            Some(mode) => {
                return Err(ErrorKind::UnsupportedNetwork {
                    mode: mode.to_owned(),
                })
            }
        };
        let security = match flags.text("security").as_deref() {
            None | Some("sandbox") => SecurityMode::Sandbox,
            Some("insecure") => SecurityMode::Insecure,
            Some(mode) => {
                return Err(ErrorKind::UnsupportedSecurity {
                    mode: mode.to_owned(),
                })
            }
        };
        let mounts = flags
            .list("mount")
            .iter()
            .map(|spec| Mount::parse(spec))
            .collect::<Result<_, _>>()?;
        if self.words().is_empty() && !self.node.exec_form {
            return Err(ErrorKind::NoArguments {
                instruction: self.name,
            });
        }
        Ok(RunInstruction {
            command: self.command(self.words()),
            heredocs: self.node.heredocs.clone(),
            mounts,
            network,
            security,
        })
    }

    fn command_line(&self) -> Result<CommandLine, ErrorKind> {
        self.flags(&[])?;
        Ok(self.command(self.words()))
    }

    fn key_values(&self) -> Result<Vec<KeyValue>, ErrorKind> {
        self.flags(&[])?;
        let Arguments::Pairs(pairs) = &self.node.args else {
            return Err(ErrorKind::NoArguments {
                instruction: self.name,
            });
        };
        pairs
            .iter()
            .map(|KeyValueArg { key, value, .. }| {
                if key.is_empty() {
                    return Err(ErrorKind::BlankName {
                        instruction: self.name,
                    });
                }
                Ok(KeyValue {
                    key: key.clone(),
                    value: value.clone(),
                })
            })
            .collect()
    }

    fn arg(&self) -> Result<Vec<ArgDeclaration>, ErrorKind> {
        self.at_least_one()?
            .into_iter()
            .map(|word| {
                let (name, default) = match word.split_once('=') {
                    Some((name, default)) => (name.to_owned(), Some(default.to_owned())),
                    None => (word, None),
                };
                if name.is_empty() {
                    return Err(ErrorKind::BlankName {
                        instruction: self.name,
                    });
                }
                Ok(ArgDeclaration { name, default })
            })
            .collect()
    }

    /// COPY and ADD arguments: the sources, then the destination.
    fn sources_and_destination(&self) -> Result<(&[String], &String), ErrorKind> {
        match self.words() {
            [sources @ .., destination] if !sources.is_empty() => Ok((sources, destination)),
            _ => Err(ErrorKind::MissingDestination {
                instruction: self.name,
            }),
        }
    }

    fn files(&self, flags: &Flags) -> Result<FileTransfer, ErrorKind> {
        let (sources, destination) = self.sources_and_destination()?;
        let is_heredoc =
            |word: &str| !self.node.exec_form && matches!(parse_heredoc_word(word), Ok(Some(_)));
        if is_heredoc(destination) {
            return Err(ErrorKind::HeredocDestination {
                instruction: self.name,
            });
        }
        let mut transfer = FileTransfer {
            sources: Vec::new(),
            inline_sources: Vec::new(),
            destination: destination.clone(),
            chown: flags.text("chown"),
            chmod: flags.text("chmod"),
            link: flags.enabled("link"),
            exclude: flags.list("exclude"),
        };
        for source in sources {
            match parse_heredoc_word(source) {
                Ok(Some(heredoc)) if !self.node.exec_form => {
                    let content = self
                        .node
                        .heredocs
                        .iter()
                        .rev()
                        .find(|attached| attached.name == heredoc.name)
                        .map(|attached| attached.content.clone())
                        .unwrap_or_default();
                    let heredoc = Heredoc { content, ..heredoc };
                    transfer.inline_sources.push(InlineSource {
                        content: heredoc.body().into_owned(),
                        name: heredoc.name,
                        expand: heredoc.expand,
                    });
                }
                _ => transfer.sources.push(source.clone()),
            }
        }
        Ok(transfer)
    }

    fn copy(&self) -> Result<CopyInstruction, ErrorKind> {
        self.sources_and_destination()?;
        let flags = self.flags(&[
            ("from", FlagKind::Text),
            ("chown", FlagKind::Text),
            ("chmod", FlagKind::Text),
            ("link", FlagKind::Bool),
            ("parents", FlagKind::Bool),
            ("exclude", FlagKind::List),
        ])?;
        Ok(CopyInstruction {
            files: self.files(&flags)?,
            from: flags.text("from"),
            parents: flags.enabled("parents"),
        })
    }

    fn add(&self) -> Result<AddInstruction, ErrorKind> {
        self.sources_and_destination()?;
        let flags = self.flags(&[
            ("chown", FlagKind::Text),
            ("chmod", FlagKind::Text),
            ("link", FlagKind::Bool),
            ("keep-git-dir", FlagKind::Bool),
            ("checksum", FlagKind::Text),
            ("exclude", FlagKind::List),
        ])?;
        Ok(AddInstruction {
            files: self.files(&flags)?,
            keep_git_dir: flags.enabled("keep-git-dir"),
            checksum: flags.text("checksum"),
        })
    }

    fn volume(&self) -> Result<Vec<String>, ErrorKind> {
        self.at_least_one()?
            .iter()
            .map(|volume| match volume.trim() {
                "" => Err(ErrorKind::EmptyVolume),
                volume => Ok(volume.to_owned()),
            })
            .collect()
    }

    fn healthcheck(&self) -> Result<Healthcheck, ErrorKind> {
        let [kind, command @ ..] = self.words() else {
            return Err(ErrorKind::NoArguments {
                instruction: self.name,
            });
        };
        let flags = self.flags(&[
            ("interval", FlagKind::Text),
            ("timeout", FlagKind::Text),
            ("start-period", FlagKind::Text),
            ("start-interval", FlagKind::Text),
            ("retries", FlagKind::Text),
        ])?;
        match kind.to_ascii_uppercase().as_str() {
            "NONE" if command.is_empty() && flags.is_empty() => Ok(Healthcheck::Disabled),
            "NONE" => Err(ErrorKind::HealthcheckNoneArguments),
            "CMD" if command.is_empty() => Err(ErrorKind::HealthcheckMissingCommand),
            "CMD" => Ok(Healthcheck::Check(HealthcheckConfig {
                command: self.command(command),
                interval: interval(&flags, "interval")?,
                timeout: interval(&flags, "timeout")?,
                start_period: interval(&flags, "start-period")?,
                start_interval: interval(&flags, "start-interval")?,
                retries: flags
                    .text("retries")
                    .map(|value| parse_retries(&value))
                    .transpose()?,
            })),
            _ => Err(ErrorKind::HealthcheckUnknownType { kind: kind.clone() }),
        }
    }

    fn shell(&self) -> Result<Vec<String>, ErrorKind> {
        let shell = self.at_least_one()?;
        if !self.node.exec_form {
            return Err(ErrorKind::ShellNotJson);
        }
        Ok(shell)
    }

    fn onbuild(&self) -> Result<OnbuildInstruction, ErrorKind> {
        self.flags(&[])?;
        let Arguments::Trigger(trigger) = &self.node.args else {
            return Err(ErrorKind::NoArguments {
                instruction: self.name,
            });
        };
        let trigger_name = trigger.instruction.to_ascii_uppercase();
        match trigger_name.as_str() {
            "ONBUILD" => return Err(ErrorKind::OnbuildChain),
            "FROM" | "MAINTAINER" => {
                return Err(ErrorKind::OnbuildTrigger {
                    trigger: trigger_name,
                })
            }
            _ => {}
        }
        // The heredocs were read for the ONBUILD line; they belong to its trigger.
        let trigger = Node {
            heredocs: self.node.heredocs.clone(),
            ..(**trigger).clone()
        };
        let mut expression = onbuild_expression(&self.node.original).to_owned();
        for heredoc in &trigger.heredocs {
            expression.push('\n');
            expression.push_str(&heredoc.content);
            expression.push_str(&heredoc.name);
        }
        Ok(OnbuildInstruction {
            expression,
            trigger: Box::new(parse_node(&trigger)?),
        })
    }
}

/// BuildKit's stage names: `^[a-z][a-z0-9-_.]*$`.
fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|ch| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '-' | '_' | '.')
        })
}

/// The ONBUILD line without its keyword (BuildKit's `(?i)^\s*ONBUILD\s*`).
fn onbuild_expression(original: &str) -> &str {
    let is_space = |ch: char| matches!(ch, ' ' | '\t' | '\n' | '\u{c}' | '\r');
    let line = original.trim_start_matches(is_space);
    match line.get(.."onbuild".len()) {
        Some(keyword) if keyword.eq_ignore_ascii_case("onbuild") => {
            line["onbuild".len()..].trim_start_matches(is_space)
        }
        _ => line,
    }
}

/// A health check time: unset or zero means the default; otherwise at least 1ms.
fn interval(flags: &Flags, flag: &'static str) -> Result<Option<Duration>, ErrorKind> {
    let Some(value) = flags.text(flag) else {
        return Ok(None);
    };
    let nanos =
        go_compat::parse_duration(&value).ok_or(ErrorKind::InvalidDuration { flag, value })?;
    if nanos == 0 {
        return Ok(None);
    }
    if nanos < 1_000_000 {
        return Err(ErrorKind::DurationTooShort { flag });
    }
    Ok(go_compat::positive_duration(nanos))
}

fn parse_retries(value: &str) -> Result<u32, ErrorKind> {
    value
        .parse::<i32>()
        .ok()
        .and_then(|retries| u32::try_from(retries).ok())
        .ok_or_else(|| ErrorKind::InvalidRetries {
            value: value.to_owned(),
        })
}

#[cfg(test)]
mod tests;
