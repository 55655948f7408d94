//! From Dockerfile stages to a build graph, the way BuildKit's dockerfile2llb does it: each
//! instruction is expanded with the variables in effect (ARGs in scope, ENV), filesystem
//! changes become graph steps, and everything else is folded into the stage's image config.
//! The history of the config names the steps, so that after solving the image config is
//! finished with each step's layer and time ([`PlannedStage::image_config`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use wharf_build::{
    Base, BuildGraph, CacheSharing, CopyOp, ExecMount, ExecOp, FileSource, Layer, MkdirOp, Network,
    Op, PlannedLine, RemoteSource, StageGraph, StageResult, Step,
};
use wharf_dockerfile::instructions::{
    AddInstruction, CacheSharing as Sharing, CommandLine, Healthcheck, Mount, MountType,
    NetworkMode, RunInstruction, SecurityMode,
};
use wharf_dockerfile::{
    BuildArgs, BuildStages, Dockerfile, Instruction, LineSpan, ShellLexer, StageBase, PROXY_ARGS,
};
use wharf_oci::config::host_architecture;
use wharf_oci::{ContainerConfig, Digest, HistoryEntry, ImageConfig};

use crate::error::{EngineError, Result};

/// Docker's PATH when an image sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A base image as the store has it.
pub(crate) struct BaseImage {
    pub id: Digest,
    pub layers: Vec<Layer>,
    pub config: ImageConfig,
}

/// What the plan needs from the outside.
pub(crate) struct PlanInput<'a> {
    pub dockerfile: &'a Dockerfile,
    /// How errors name the Dockerfile (its path as the user gave it).
    pub dockerfile_name: &'a str,
    pub source: &'a str,
    pub build_args: &'a BTreeMap<String, String>,
    pub target: Option<&'a str>,
    pub network: Network,
    pub extra_hosts: &'a [String],
    pub host_ca_certs: bool,
    /// Secrets given with `--secret`, by id: a RUN step may only mount these.
    pub secret_ids: &'a [String],
    /// Finds (pulling if needed) an image named in FROM, COPY --from or a bind mount.
    pub resolve_image: &'a dyn Fn(&str) -> Result<BaseImage>,
}

/// The graph and, for each of its stages, how to finish the image config.
pub(crate) struct Plan {
    pub graph: BuildGraph,
    pub stages: Vec<PlannedStage>,
    /// Build arguments given but used by no stage, as BuildKit warns.
    pub unused_args: Vec<String>,
    /// Every instruction of the stages built, for progress ([`PlannedLine`]).
    pub lines: Vec<PlannedLine>,
}

pub(crate) struct PlannedStage {
    /// The config the stage starts from: a base image's, or none for a stage base or scratch.
    base_config: Option<ImageConfig>,
    /// The base stage, by graph index.
    base_stage: Option<usize>,
    /// The stage's config at its end, without rootfs and history.
    pub config: ContainerConfig,
    author: Option<String>,
    /// One per instruction: what it wrote in history and the step it became, if any.
    history: Vec<(String, Option<usize>)>,
}

/// The stage being planned: its config and the variables in effect.
struct StageState {
    config: ContainerConfig,
    author: Option<String>,
    /// ARGs declared in the stage, with their values.
    args: BTreeMap<String, String>,
    cmd_set: bool,
    steps: Vec<Step>,
    history: Vec<(String, Option<usize>)>,
}

impl StageState {
    /// ENV wins over an ARG of the same name.
    fn variables(&self) -> BTreeMap<String, String> {
        let mut vars = self.args.clone();
        for entry in self.config.env.iter().flatten() {
            if let Some((key, value)) = entry.split_once('=') {
                vars.insert(key.to_owned(), value.to_owned());
            }
        }
        vars
    }

    fn env(&self) -> Vec<String> {
        self.config.env.clone().unwrap_or_default()
    }

    fn set_env(&mut self, key: &str, value: &str) {
        let env = self.config.env.get_or_insert_with(Vec::new);
        let entry = format!("{key}={value}");
        match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }

    fn shell(&self) -> Vec<String> {
        self.config
            .shell
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    fn workdir(&self) -> String {
        if self.config.working_dir.is_empty() {
            "/".into()
        } else {
            self.config.working_dir.clone()
        }
    }

    fn command(&self, command: &CommandLine) -> Vec<String> {
        match command {
            CommandLine::Exec(args) => args.clone(),
            CommandLine::Shell(text) => {
                let mut args = self.shell();
                args.push(text.clone());
                args
            }
        }
    }

    fn add_step(&mut self, label: String, origin: String, created_by: String, op: Op) {
        self.history.push((created_by, Some(self.steps.len())));
        self.steps.push(Step { label, origin, op });
    }

    fn add_meta(&mut self, created_by: String) {
        self.history.push((created_by, None));
    }
}

/// Turns the Dockerfile into a build graph for the target stage.
pub(crate) fn plan(input: &PlanInput<'_>) -> Result<Plan> {
    let bad = |error: wharf_dockerfile::Error| dockerfile_error(input.dockerfile_name, error);
    let stages = BuildStages::from_dockerfile(input.dockerfile).map_err(bad)?;
    let args = BuildArgs {
        values: input.build_args.clone(),
        automatic: automatic_args(),
    };
    let order = stages.build_order(input.target, &args).map_err(bad)?;
    let global = stages.global_scope(&args).map_err(bad)?;
    let lexer = ShellLexer::new(stages.escape);
    let mut graph_index = BTreeMap::new();
    for (i, &stage) in order.iter().enumerate() {
        graph_index.insert(stage, i);
    }
    let mut planner = Planner {
        input,
        stages: &stages,
        lexer,
        global: &global,
        graph_index: &graph_index,
        used_args: Default::default(),
    };
    let mut lines: Vec<PlannedLine> = Vec::new();
    for global in &stages.global_args {
        // One ARG line may declare several.
        if lines.last().map(|l| &l.text) != Some(&planner.written(&global.lines)) {
            lines.push(PlannedLine {
                stage: None,
                text: planner.written(&global.lines),
                step: None,
                base_image: None,
            });
        }
    }
    let mut graph_stages = Vec::new();
    let mut planned: Vec<PlannedStage> = Vec::new();
    for &index in &order {
        let (graph_stage, stage) = planner.stage(index, &planned, &mut lines)?;
        graph_stages.push(graph_stage);
        planned.push(stage);
    }
    let used = planner.used_args;
    let unused_args = input
        .build_args
        .keys()
        .filter(|name| !used.contains(*name) && !PROXY_ARGS.contains(&name.as_str()))
        .filter(|name| !stages.global_args.iter().any(|a| &a.value.name == *name))
        .cloned()
        .collect();
    Ok(Plan {
        graph: BuildGraph {
            target: graph_stages.len() - 1,
            stages: graph_stages,
        },
        stages: planned,
        unused_args,
        lines,
    })
}

struct Planner<'a> {
    input: &'a PlanInput<'a>,
    stages: &'a BuildStages,
    lexer: ShellLexer,
    global: &'a BTreeMap<String, String>,
    /// Dockerfile stage index -> graph stage index.
    graph_index: &'a BTreeMap<usize, usize>,
    used_args: std::collections::BTreeSet<String>,
}

impl Planner<'_> {
    fn origin(&self, line: usize) -> String {
        format!("{}:{line}", self.input.dockerfile_name)
    }

    /// The instruction on `lines` as Docker's classic builder shows it: indentation before
    /// it dropped, each escaped line end removed and the next line kept as written.
    fn written(&self, lines: &LineSpan) -> String {
        let mut text = String::new();
        let raw = self
            .input
            .source
            .lines()
            .skip(lines.start.saturating_sub(1));
        for (i, line) in raw.take(lines.end + 1 - lines.start).enumerate() {
            let blank_or_comment = line.trim().is_empty() || line.trim_start().starts_with('#');
            if i > 0 && blank_or_comment {
                continue;
            }
            let line = if i == 0 { line.trim_start() } else { line }.trim_end();
            text.push_str(line.strip_suffix(self.stages.escape).unwrap_or(line));
        }
        text
    }

    /// The instruction written on `lines`, continuation lines joined, for history.
    fn text(&self, lines: &LineSpan) -> String {
        self.input
            .source
            .lines()
            .skip(lines.start.saturating_sub(1))
            .take(lines.end + 1 - lines.start)
            .map(|l| l.trim().trim_end_matches('\\').trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn error(&self, line: usize, message: impl Into<String>) -> EngineError {
        EngineError::Dockerfile {
            file: self.input.dockerfile_name.to_owned(),
            line,
            message: message.into(),
            hint: None,
        }
    }

    fn expand(&mut self, word: &str, state: &StageState, line: usize) -> Result<String> {
        let vars = state.variables();
        let expansion = self
            .lexer
            .expand(word, &vars)
            .map_err(|e| self.error(line, e.to_string()))?;
        self.used_args.extend(
            expansion
                .matched
                .iter()
                .filter(|name| state.args.contains_key(*name))
                .cloned(),
        );
        Ok(expansion.value)
    }

    /// Plans stage `index` (of the Dockerfile), adding its instructions to `lines`.
    fn stage(
        &mut self,
        index: usize,
        planned: &[PlannedStage],
        lines: &mut Vec<PlannedLine>,
    ) -> Result<(StageGraph, PlannedStage)> {
        let stage = &self.stages.stages[index];
        let from_line = stage.from.lines.start;
        if let Some(platform) = &stage.from.value.platform {
            let platform = self
                .lexer
                .process_word(platform, self.global)
                .map_err(|e| self.error(from_line, e.to_string()))?;
            if platform != host_platform() {
                return Err(EngineError::Dockerfile {
                    file: self.input.dockerfile_name.to_owned(),
                    line: from_line,
                    message: format!(
                        "FROM --platform={platform}: this host builds for {} only",
                        host_platform()
                    ),
                    hint: Some(format!(
                        "drop --platform or use --platform={}",
                        host_platform()
                    )),
                });
            }
        }
        let base = self
            .stages
            .base(index, self.global)
            .map_err(|e| dockerfile_error(self.input.dockerfile_name, e))?;
        let (graph_base, base_config, base_stage, config, author) = match base {
            StageBase::Scratch => (Base::Scratch, None, None, ContainerConfig::default(), None),
            StageBase::Stage(from) => {
                let from = self.graph_index[&from];
                (
                    Base::Stage(from),
                    None,
                    Some(from),
                    planned[from].config.clone(),
                    planned[from].author.clone(),
                )
            }
            StageBase::Image(name) => {
                let image = (self.input.resolve_image)(&name)?;
                let config = image.config.config.clone();
                let author = image.config.author.clone();
                (
                    Base::Image {
                        id: image.id,
                        layers: image.layers,
                    },
                    Some(image.config),
                    None,
                    config,
                    author,
                )
            }
        };
        let mut state = StageState {
            config,
            author,
            args: BTreeMap::new(),
            cmd_set: false,
            steps: Vec::new(),
            history: Vec::new(),
        };
        if !state.env().iter().any(|e| e.starts_with("PATH=")) {
            state
                .config
                .env
                .get_or_insert_with(Vec::new)
                .insert(0, DEFAULT_PATH.into());
        }
        // The base image's ONBUILD triggers run first, as if written after FROM; they are
        // not passed on to this image.
        for trigger in state.config.on_build.take().unwrap_or_default() {
            let parsed = wharf_dockerfile::parse(&trigger)
                .and_then(|d| wharf_dockerfile::parse_instructions(&d))
                .map_err(|e| self.error(from_line, format!("ONBUILD trigger `{trigger}`: {e}")))?;
            for located in parsed {
                self.instruction(&located.value, from_line, trigger.clone(), &mut state)?;
            }
        }
        let graph_stage = planned.len();
        lines.push(PlannedLine {
            stage: Some(graph_stage),
            text: self.written(&stage.from.lines),
            step: None,
            base_image: match &graph_base {
                Base::Image { id, .. } => Some(id.clone()),
                _ => None,
            },
        });
        for located in &stage.instructions {
            let text = self.text(&located.lines);
            let steps_before = state.steps.len();
            self.instruction(&located.value, located.lines.start, text, &mut state)?;
            lines.push(PlannedLine {
                stage: Some(graph_stage),
                text: self.written(&located.lines),
                step: state
                    .steps
                    .len()
                    .checked_sub(1)
                    .filter(|&s| s >= steps_before),
                base_image: None,
            });
        }
        let name = stage
            .name()
            .map_or_else(|| format!("stage-{index}"), str::to_owned);
        Ok((
            StageGraph {
                name,
                base: graph_base,
                steps: state.steps,
            },
            PlannedStage {
                base_config,
                base_stage,
                config: state.config,
                author: state.author,
                history: state.history,
            },
        ))
    }

    /// Plans one instruction: `line` and `text` are where it was written, for messages.
    fn instruction(
        &mut self,
        instruction: &Instruction,
        line: usize,
        text: String,
        state: &mut StageState,
    ) -> Result<()> {
        let origin = self.origin(line);
        match instruction {
            Instruction::From(_) => unreachable!("stages hold no FROM"),
            Instruction::Arg(declarations) => {
                for arg in declarations {
                    let value = match (self.input.build_args.get(&arg.name), &arg.default) {
                        (Some(given), _) => Some(given.clone()),
                        (None, Some(default)) => Some(self.expand(default, state, line)?),
                        (None, None) => self.global.get(&arg.name).cloned(),
                    };
                    self.used_args.insert(arg.name.clone());
                    if let Some(value) = value {
                        state.args.insert(arg.name.clone(), value);
                    }
                }
                state.add_meta(format!("ARG {}", text_after_keyword(&text)));
            }
            Instruction::Env(pairs) => {
                for pair in pairs {
                    let key = self.expand(&pair.key, state, line)?;
                    let value = self.expand(&pair.value, state, line)?;
                    state.set_env(&key, &value);
                }
                state.add_meta(format!("ENV {}", text_after_keyword(&text)));
            }
            Instruction::Label(pairs) => {
                for pair in pairs {
                    let key = self.expand(&pair.key, state, line)?;
                    let value = self.expand(&pair.value, state, line)?;
                    state
                        .config
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(key, value);
                }
                state.add_meta(format!("LABEL {}", text_after_keyword(&text)));
            }
            Instruction::Maintainer(name) => {
                state.author = Some(name.clone());
                state.add_meta(format!("MAINTAINER {name}"));
            }
            Instruction::Expose(ports) => {
                for port in ports {
                    let port = self.expand(port, state, line)?;
                    for port in expose_ports(&port).map_err(|m| self.error(line, m))? {
                        state
                            .config
                            .exposed_ports
                            .get_or_insert_with(BTreeMap::new)
                            .insert(port, json!({}));
                    }
                }
                state.add_meta(format!("EXPOSE {}", text_after_keyword(&text)));
            }
            Instruction::Volume(paths) => {
                for path in paths {
                    let path = self.expand(path, state, line)?;
                    if path.is_empty() {
                        return Err(self.error(line, "VOLUME specified can not be an empty string"));
                    }
                    state
                        .config
                        .volumes
                        .get_or_insert_with(BTreeMap::new)
                        .insert(path, json!({}));
                }
                state.add_meta(format!("VOLUME {}", text_after_keyword(&text)));
            }
            Instruction::User(user) => {
                state.config.user = self.expand(user, state, line)?;
                state.add_meta(format!("USER {}", state.config.user));
            }
            Instruction::StopSignal(signal) => {
                let signal = self.expand(signal, state, line)?;
                crate::containers::signal_number(&signal)
                    .ok_or_else(|| self.error(line, format!("invalid STOPSIGNAL {signal}")))?;
                state.config.stop_signal = signal;
                state.add_meta(format!("STOPSIGNAL {}", state.config.stop_signal));
            }
            Instruction::Shell(shell) => {
                state.config.shell = Some(shell.clone());
                state.add_meta(format!("SHELL {shell:?}"));
            }
            Instruction::Cmd(command) => {
                state.config.cmd = Some(state.command(command));
                state.cmd_set = true;
                state.add_meta(format!(
                    "CMD {:?}",
                    state.config.cmd.as_deref().unwrap_or_default()
                ));
            }
            Instruction::Entrypoint(command) => {
                state.config.entrypoint = Some(state.command(command));
                if !state.cmd_set {
                    state.config.cmd = None;
                }
                state.add_meta(format!(
                    "ENTRYPOINT {:?}",
                    state.config.entrypoint.as_deref().unwrap_or_default()
                ));
            }
            Instruction::Healthcheck(check) => {
                state.config.healthcheck = Some(healthcheck(check, state));
                state.add_meta(format!("HEALTHCHECK {}", text_after_keyword(&text)));
            }
            Instruction::Onbuild(trigger) => {
                state
                    .config
                    .on_build
                    .get_or_insert_with(Vec::new)
                    .push(trigger.expression.clone());
                state.add_meta(format!("ONBUILD {}", trigger.expression));
            }
            Instruction::Workdir(path) => {
                let path = self.expand(path, state, line)?;
                let path = join_path(&state.workdir(), &path);
                state.config.working_dir = path.clone();
                let user = state.config.user.clone();
                state.add_step(
                    text.clone(),
                    origin,
                    format!("WORKDIR {path}"),
                    Op::Mkdir(MkdirOp { path, user }),
                );
            }
            Instruction::Run(run) => {
                let op = self.run(run, state, line)?;
                let created_by = format!(
                    "RUN {} # buildkit",
                    match &op {
                        Op::Exec(exec) => exec.args.join(" "),
                        _ => unreachable!("RUN plans an exec"),
                    }
                );
                state.add_step(text, origin, created_by, op);
            }
            Instruction::Copy(copy) => {
                let from = match &copy.from {
                    None => FileSource::Context,
                    Some(from) => {
                        let from = self.expand(from, state, line)?;
                        self.file_source(&from)?
                    }
                };
                let op = self.transfer(&copy.files, from, false, state, line)?;
                state.add_step(text.clone(), origin, format!("{text} # buildkit"), op);
            }
            Instruction::Add(add) => {
                let op = self.add(add, state, line)?;
                state.add_step(text.clone(), origin, format!("{text} # buildkit"), op);
            }
        }
        Ok(())
    }

    /// ADD: local sources as COPY (archives extracted), URLs downloaded.
    fn add(&mut self, add: &AddInstruction, state: &StageState, line: usize) -> Result<Op> {
        // Told apart after expansion (`ADD $URL /dest` downloads, as BuildKit's); local
        // sources stay as written, for `transfer` to expand.
        let mut files = add.files.clone();
        files.sources.clear();
        let mut urls = Vec::new();
        for source in &add.files.sources {
            let expanded = self.expand(source, state, line)?;
            if is_url(&expanded) || is_git(&expanded) {
                urls.push(expanded);
            } else {
                files.sources.push(source.clone());
            }
        }
        let checksum = match &add.checksum {
            None => None,
            Some(checksum) => {
                let checksum = self.expand(checksum, state, line)?;
                if urls.len() != 1 || !files.sources.is_empty() {
                    return Err(self.error(
                        line,
                        "ADD --checksum needs exactly one source, an http:// or https:// URL",
                    ));
                }
                Some(
                    checksum
                        .parse::<Digest>()
                        .map_err(|e| EngineError::Dockerfile {
                            file: self.input.dockerfile_name.to_owned(),
                            line,
                            message: format!("invalid ADD --checksum={checksum}: {e}"),
                            hint: Some("give the file's digest as sha256:<64 hex digits>".into()),
                        })?,
                )
            }
        };
        let mut remote = Vec::new();
        for url in urls {
            if is_git(&url) {
                return Err(EngineError::Dockerfile {
                    file: self.input.dockerfile_name.to_owned(),
                    line,
                    message: format!("ADD {url}: git sources are not supported"),
                    hint: Some(
                        "clone the repository into the build context, or in a RUN step".into(),
                    ),
                });
            }
            remote.push(RemoteSource {
                url,
                checksum: checksum.clone(),
            });
        }
        let mut op = self.transfer(&files, FileSource::Context, true, state, line)?;
        if let Op::Copy(copy) = &mut op {
            copy.remote = remote;
        }
        Ok(op)
    }

    fn transfer(
        &mut self,
        files: &wharf_dockerfile::instructions::FileTransfer,
        from: FileSource,
        extract_archives: bool,
        state: &StageState,
        line: usize,
    ) -> Result<Op> {
        let mut sources = Vec::new();
        for source in &files.sources {
            sources.push(self.expand(source, state, line)?);
        }
        let mut inline = Vec::new();
        for file in &files.inline_sources {
            let content = if file.expand {
                self.expand(&file.content, state, line)?
            } else {
                file.content.clone()
            };
            inline.push((file.name.clone(), content));
        }
        let chown = match &files.chown {
            Some(chown) => Some(self.expand(chown, state, line)?),
            None => None,
        };
        let chmod = match &files.chmod {
            Some(chmod) => {
                let chmod = self.expand(chmod, state, line)?;
                Some(
                    u32::from_str_radix(&chmod, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| {
                            self.error(
                                line,
                                format!("invalid --chmod={chmod}: use an octal mode such as 0755"),
                            )
                        })?,
                )
            }
            None => None,
        };
        let mut exclude = Vec::new();
        for pattern in &files.exclude {
            exclude.push(self.expand(pattern, state, line)?);
        }
        Ok(Op::Copy(CopyOp {
            from,
            sources,
            inline,
            destination: self.expand(&files.destination, state, line)?,
            workdir: state.workdir(),
            chown,
            chmod,
            exclude,
            extract_archives,
            remote: Vec::new(),
            link: files.link,
        }))
    }

    /// A stage (by name or index) or an image.
    fn file_source(&self, name: &str) -> Result<FileSource> {
        let stage = match name.parse::<usize>() {
            Ok(index) => self.stages.stages.get(index).map(|s| s.index),
            Err(_) => self.stages.stage_named(name).map(|s| s.index),
        };
        match stage {
            Some(stage) => Ok(FileSource::Stage(self.graph_index[&stage])),
            None => {
                let image = (self.input.resolve_image)(name)?;
                Ok(FileSource::Image {
                    id: image.id,
                    layers: image.layers,
                })
            }
        }
    }

    fn run(&mut self, run: &RunInstruction, state: &StageState, line: usize) -> Result<Op> {
        if run.security == SecurityMode::Insecure {
            return Err(EngineError::Dockerfile {
                file: self.input.dockerfile_name.to_owned(),
                line,
                message: "RUN --security=insecure is not supported: RUN steps are always sandboxed"
                    .into(),
                hint: Some("drop --security=insecure".into()),
            });
        }
        let args = match (&run.command, run.heredocs.first()) {
            // `RUN <<EOF`: the heredoc is the script.
            (CommandLine::Shell(command), Some(heredoc))
                if run.heredocs.len() == 1
                    && command.trim_start().starts_with("<<")
                    && !command.contains(' ') =>
            {
                let mut args = state.shell();
                args.push(heredoc.content.clone());
                args
            }
            // `RUN python3 <<EOF`: the shell reads the heredoc itself.
            (CommandLine::Shell(command), Some(_)) => {
                let mut script = command.clone();
                for heredoc in &run.heredocs {
                    script.push('\n');
                    script.push_str(&heredoc.content);
                    script.push_str(&heredoc.name);
                }
                let mut args = state.shell();
                args.push(script);
                args
            }
            (command, _) => state.command(command),
        };
        let mut env = state.env();
        // ARGs reach RUN steps as environment variables, below ENV of the same name.
        for (name, value) in state.args.iter().chain(
            self.input
                .build_args
                .iter()
                .filter(|(n, _)| PROXY_ARGS.contains(&n.as_str())),
        ) {
            if !env.iter().any(|e| e.split('=').next() == Some(name)) {
                env.push(format!("{name}={value}"));
            }
        }
        let mut mounts = Vec::new();
        for mount in &run.mounts {
            mounts.push(self.mount(mount, state, line)?);
        }
        let network = match run.network {
            NetworkMode::Default => self.input.network,
            NetworkMode::None => Network::None,
            NetworkMode::Host => Network::Host,
        };
        Ok(Op::Exec(ExecOp {
            args,
            env,
            cwd: state.workdir(),
            user: state.config.user.clone(),
            network,
            mounts,
            extra_hosts: self.input.extra_hosts.to_vec(),
            host_ca_certs: self.input.host_ca_certs,
        }))
    }

    fn mount(&mut self, mount: &Mount, state: &StageState, line: usize) -> Result<ExecMount> {
        let expand = |planner: &mut Self, value: &Option<String>| -> Result<Option<String>> {
            value
                .as_ref()
                .map(|v| planner.expand(v, state, line))
                .transpose()
        };
        let target = expand(self, &mount.target)?.map(|t| join_path(&state.workdir(), &t));
        let source = expand(self, &mount.source)?;
        let id = expand(self, &mount.id)?;
        let need_target = |target: Option<String>| {
            target.ok_or_else(|| {
                self.error(
                    line,
                    format!("--mount type={}: target is required", mount.kind.as_str()),
                )
            })
        };
        Ok(match mount.kind {
            MountType::Cache => {
                let target = need_target(target)?;
                ExecMount::Cache {
                    id: id.unwrap_or_else(|| target.clone()),
                    target,
                    sharing: match mount.sharing {
                        None | Some(Sharing::Shared) => CacheSharing::Shared,
                        Some(Sharing::Private) => CacheSharing::Private,
                        Some(Sharing::Locked) => CacheSharing::Locked,
                    },
                    read_only: mount.read_only,
                    mode: mount.mode.unwrap_or(0o755),
                    uid: mount.uid.unwrap_or(0),
                    gid: mount.gid.unwrap_or(0),
                    from: match &mount.from {
                        Some(from) => Some(self.file_source(from)?),
                        None => None,
                    },
                    source: source.unwrap_or_else(|| "/".into()),
                }
            }
            MountType::Bind => ExecMount::Bind {
                target: need_target(target)?,
                from: match &mount.from {
                    Some(from) => self.file_source(from)?,
                    None => FileSource::Context,
                },
                source: source.unwrap_or_else(|| "/".into()),
                read_write: !mount.read_only,
            },
            MountType::Tmpfs => ExecMount::Tmpfs {
                target: need_target(target)?,
                size: mount.size_limit.and_then(|s| u64::try_from(s).ok()),
            },
            MountType::Secret => {
                let id = id
                    .or_else(|| source.clone())
                    .or_else(|| {
                        target
                            .as_deref()
                            .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
                    })
                    .or_else(|| mount.env.clone())
                    .unwrap_or_default();
                if mount.required && !self.input.secret_ids.contains(&id) {
                    return Err(EngineError::Dockerfile {
                        file: self.input.dockerfile_name.to_owned(),
                        line,
                        message: format!("secret {id} is required but was not given"),
                        hint: Some(format!("pass it with --secret id={id},src=FILE")),
                    });
                }
                let target = match (&target, &mount.env) {
                    (None, Some(_)) => None,
                    (Some(t), _) => Some(t.clone()),
                    (None, None) => Some(format!("/run/secrets/{id}")),
                };
                ExecMount::Secret {
                    id,
                    target,
                    env: mount.env.clone(),
                    required: mount.required,
                    mode: mount.mode.unwrap_or(0o400),
                    uid: mount.uid.unwrap_or(0),
                    gid: mount.gid.unwrap_or(0),
                }
            }
            MountType::Ssh => {
                return Err(EngineError::Dockerfile {
                    file: self.input.dockerfile_name.to_owned(),
                    line,
                    message: "RUN --mount=type=ssh is not supported yet".into(),
                    hint: Some("use a secret mount for keys or tokens".into()),
                })
            }
        })
    }
}

impl PlannedStage {
    /// The stage's finished image config: its base's history and layers, then one history
    /// entry per instruction, with each step's layer and time from the solver.
    pub(crate) fn image_config(
        &self,
        all: &[PlannedStage],
        results: &[StageResult],
        index: usize,
        epoch: Option<&str>,
    ) -> ImageConfig {
        let mut config = match (&self.base_config, self.base_stage) {
            (_, Some(base)) => all[base].image_config(all, results, base, epoch),
            (Some(base), None) => base.clone(),
            (None, None) => ImageConfig::for_host(Vec::new()),
        };
        let mut created = config
            .created
            .clone()
            .or_else(|| config.history.last().and_then(|h| h.created.clone()));
        let steps = &results[index].steps;
        for (created_by, step) in &self.history {
            let record = step.map(|n| &steps[n]);
            if let Some(record) = record {
                created = Some(record.created.clone());
                if let Some(layer) = &record.layer {
                    config.rootfs.diff_ids.push(layer.diff_id.clone());
                }
            }
            config.history.push(HistoryEntry {
                created: epoch.map(str::to_owned).or_else(|| created.clone()),
                created_by: Some(created_by.clone()),
                comment: Some("buildkit.dockerfile.v0".into()),
                empty_layer: record.is_none_or(|r| r.layer.is_none()),
                ..HistoryEntry::default()
            });
        }
        config.config = self.config.clone();
        config.author = self.author.clone();
        config.created = epoch.map(str::to_owned).or(created);
        config
    }
}

fn dockerfile_error(file: &str, error: wharf_dockerfile::Error) -> EngineError {
    let line = error.line().unwrap_or(0);
    EngineError::Dockerfile {
        file: file.to_owned(),
        line,
        hint: error.hint(),
        message: error.to_string(),
    }
}

fn host_platform() -> String {
    format!("linux/{}", host_architecture())
}

fn automatic_args() -> BTreeMap<String, String> {
    let arch = host_architecture();
    let platform = host_platform();
    [
        ("BUILDPLATFORM", platform.as_str()),
        ("BUILDOS", "linux"),
        ("BUILDARCH", arch),
        ("BUILDVARIANT", ""),
        ("TARGETPLATFORM", platform.as_str()),
        ("TARGETOS", "linux"),
        ("TARGETARCH", arch),
        ("TARGETVARIANT", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn text_after_keyword(text: &str) -> &str {
    text.split_once(char::is_whitespace)
        .map_or("", |(_, rest)| rest.trim())
}

/// A path relative to `base` unless absolute, cleaned of `.` and `..`.
pub(crate) fn join_path(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{path}", base.trim_end_matches('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// Git sources as BuildKit recognizes them: `git@...`, `git://...`, or a URL of a `.git`
/// repository (with an optional `#ref`).
fn is_git(source: &str) -> bool {
    let without_fragment = source.split('#').next().unwrap_or_default();
    source.starts_with("git@")
        || source.starts_with("git://")
        || (is_url(source) && without_fragment.ends_with(".git"))
}

/// `80`, `80/udp`, `8000-8002/tcp` as ExposedPorts keys.
fn expose_ports(text: &str) -> std::result::Result<Vec<String>, String> {
    let (ports, proto) = text.split_once('/').unwrap_or((text, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("EXPOSE {text}: invalid protocol {proto}"));
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("EXPOSE {text}: invalid port {p}"))
    };
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => (port(ports)?, port(ports)?),
    };
    if first > last {
        return Err(format!("EXPOSE {text}: invalid range"));
    }
    Ok((first..=last).map(|p| format!("{p}/{proto}")).collect())
}

/// Docker's Healthcheck config: times in nanoseconds, `Test` in its CMD / CMD-SHELL / NONE form.
fn healthcheck(check: &Healthcheck, state: &StageState) -> Value {
    let Healthcheck::Check(check) = check else {
        return json!({ "Test": ["NONE"] });
    };
    let test: Vec<String> = match &check.command {
        CommandLine::Exec(args) => std::iter::once("CMD".to_owned())
            .chain(args.clone())
            .collect(),
        CommandLine::Shell(text) => vec!["CMD-SHELL".into(), text.clone()],
    };
    let _ = state;
    let nanos = |d: Option<Duration>| d.map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let mut value = json!({ "Test": test });
    for (key, duration) in [
        ("Interval", nanos(check.interval)),
        ("Timeout", nanos(check.timeout)),
        ("StartPeriod", nanos(check.start_period)),
        ("StartInterval", nanos(check.start_interval)),
    ] {
        if let Some(duration) = duration {
            value[key] = json!(duration);
        }
    }
    if let Some(retries) = check.retries {
        value["Retries"] = json!(retries);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_like_buildkit() {
        assert_eq!(join_path("/", "app"), "/app");
        assert_eq!(join_path("/app", "src/../lib"), "/app/lib");
        assert_eq!(join_path("/app", "/srv/"), "/srv");
        assert_eq!(join_path("/a/b", ".."), "/a");
    }

    #[test]
    fn planned_lines_are_every_instruction_as_the_classic_builder_shows_it() {
        let source = "ARG BASE=alpine\n  FROM $BASE AS one\nRUN echo a && \\\n    # a comment\n    echo b\nENV A=1\n\nFROM one\nCMD [\"sh\"]\n";
        let dockerfile = wharf_dockerfile::parse(source).unwrap();
        let base = Digest::of(b"base");
        let resolve_image = |_: &str| {
            Ok(BaseImage {
                id: base.clone(),
                layers: Vec::new(),
                config: ImageConfig::default(),
            })
        };
        let plan = plan(&PlanInput {
            dockerfile: &dockerfile,
            dockerfile_name: "Dockerfile",
            source,
            build_args: &BTreeMap::new(),
            target: None,
            network: Network::Default,
            extra_hosts: &[],
            host_ca_certs: false,
            secret_ids: &[],
            resolve_image: &resolve_image,
        })
        .unwrap();
        let lines: Vec<(Option<usize>, &str, Option<usize>, bool)> = plan
            .lines
            .iter()
            .map(|l| (l.stage, l.text.as_str(), l.step, l.base_image.is_some()))
            .collect();
        assert_eq!(
            lines,
            [
                (None, "ARG BASE=alpine", None, false),
                (Some(0), "FROM $BASE AS one", None, true),
                (Some(0), "RUN echo a &&     echo b", Some(0), false),
                (Some(0), "ENV A=1", None, false),
                (Some(1), "FROM one", None, false),
                (Some(1), "CMD [\"sh\"]", None, false),
            ]
        );
    }

    #[test]
    fn expose_accepts_docker_forms() {
        assert_eq!(expose_ports("5000").unwrap(), ["5000/tcp"]);
        assert_eq!(expose_ports("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(
            expose_ports("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(expose_ports("http").is_err());
    }
}
