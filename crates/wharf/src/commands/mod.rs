//! One function per command: turn flags into engine calls and results into output.

mod attach;
mod build;
mod compose;
mod container;
pub(crate) mod cp;
mod events;
mod image;
mod init;
mod kube;
mod lint;
mod manage;
mod network;
mod registry;
mod service;
mod system;
mod volume;

use std::process::ExitCode;

pub(crate) use container::{
    command_text, health_status, log_config, parse_caps, ps_row, state_name, tmpfs_mount,
    volume_flag, Requested,
};
pub(crate) use events::message as event_message;

use serde_json::Value;
use wharf_engine::{Engine, EngineError};

use crate::cli::{
    BuilderCommand, Cli, Command, ContainerCommand, ImageCommand, InspectArgs, SystemCommand,
};
use crate::format::Format;
use crate::printer::Printer;

/// An error of a command, shown as `error: ...` with an optional `hint: ...`.
#[derive(Debug)]
pub struct CommandError {
    pub message: String,
    pub hint: Option<String>,
    /// The process's exit code: 1, or 125 for engine failures before a container runs.
    pub exit_code: u8,
}

impl From<EngineError> for CommandError {
    fn from(error: EngineError) -> Self {
        Self {
            hint: error.hint(),
            message: wharf_engine::error_chain(&error),
            exit_code: 1,
        }
    }
}

impl CommandError {
    pub fn new(message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            message: message.into(),
            hint: hint.map(str::to_string),
            exit_code: 1,
        }
    }
}

pub type CommandResult = Result<ExitCode, CommandError>;

pub fn report(printer: &Printer, error: &CommandError) {
    printer.error(&error.message, error.hint.as_deref());
}

pub fn run(cli: Cli, printer: Printer) -> CommandResult {
    let open = || Engine::open(&cli.root, &cli.run_root).map_err(CommandError::from);
    match cli.command {
        Command::Run(args) | Command::Container(ContainerCommand::Run(args)) => {
            container::run(&open()?, printer, args)
        }
        Command::Create(args) | Command::Container(ContainerCommand::Create(args)) => {
            container::create(&open()?, printer, args)
        }
        Command::Start(args) | Command::Container(ContainerCommand::Start(args)) => {
            container::start(&open()?, printer, args)
        }
        Command::Stop(args) | Command::Container(ContainerCommand::Stop(args)) => {
            container::stop(&open()?, printer, args)
        }
        Command::Restart(args) | Command::Container(ContainerCommand::Restart(args)) => {
            container::restart(&open()?, printer, args)
        }
        Command::Kill(args) | Command::Container(ContainerCommand::Kill(args)) => {
            container::kill(&open()?, printer, args)
        }
        Command::Rm(args) | Command::Container(ContainerCommand::Rm(args)) => {
            container::remove(&open()?, printer, args)
        }
        Command::Ps(args) | Command::Container(ContainerCommand::Ls(args)) => {
            container::list(&open()?, printer, args)
        }
        Command::Logs(args) | Command::Container(ContainerCommand::Logs(args)) => {
            container::logs(&open()?, printer, args)
        }
        Command::Exec(args) | Command::Container(ContainerCommand::Exec(args)) => {
            container::exec(&open()?, printer, args)
        }
        Command::Wait(args) | Command::Container(ContainerCommand::Wait(args)) => {
            container::wait(&open()?, printer, args)
        }
        Command::Rename(args) | Command::Container(ContainerCommand::Rename(args)) => {
            manage::rename(&open()?, printer, args)
        }
        Command::Pause(args) | Command::Container(ContainerCommand::Pause(args)) => {
            manage::pause(&open()?, printer, args)
        }
        Command::Unpause(args) | Command::Container(ContainerCommand::Unpause(args)) => {
            manage::unpause(&open()?, printer, args)
        }
        Command::Events(args) | Command::System(SystemCommand::Events(args)) => {
            events::events(&open()?, printer, args)
        }
        Command::Stats(args) | Command::Container(ContainerCommand::Stats(args)) => {
            manage::stats(&open()?, printer, args)
        }
        Command::Diff(args) | Command::Container(ContainerCommand::Diff(args)) => {
            manage::diff(&open()?, printer, args)
        }
        Command::Export(args) | Command::Container(ContainerCommand::Export(args)) => {
            manage::export(&open()?, args)
        }
        Command::Attach(args) | Command::Container(ContainerCommand::Attach(args)) => {
            attach::attach(&open()?, printer, args)
        }
        Command::Commit(args) | Command::Container(ContainerCommand::Commit(args)) => {
            image::commit(&open()?, printer, args)
        }
        Command::Update(args) | Command::Container(ContainerCommand::Update(args)) => {
            manage::update(&open()?, printer, args)
        }
        Command::Top(args) | Command::Container(ContainerCommand::Top(args)) => {
            manage::top(&open()?, printer, args)
        }
        Command::Container(ContainerCommand::Inspect(args)) => {
            inspect(&open()?, printer, args, Kinds::Containers)
        }
        Command::Container(ContainerCommand::Prune(args)) => {
            container::prune(&open()?, printer, args)
        }
        Command::Build(args) | Command::Image(ImageCommand::Build(args)) => {
            build::build(&open()?, printer, args)
        }
        Command::Lint(args) => lint::lint(printer, args),
        Command::Init(args) => init::init(printer, args),
        Command::Builder(BuilderCommand::Prune(args)) => build::prune(&open()?, printer, args),
        Command::BuildStep(args) => build::build_step(&open()?, args),
        Command::Monitor(args) => container::monitor(&open()?, printer, args),
        Command::ExecInstance(args) => container::exec_instance(&open()?, printer, args),
        Command::Healthcheck(args) => container::healthcheck(&open()?, printer, args),
        Command::Dns(args) => network::dns(&open()?, args),
        Command::Network(command) => network::run(&open()?, printer, command),
        Command::Volume(command) => volume::run(&open()?, printer, command),
        Command::Compose(args) => compose::run(printer, args, &open),
        Command::Kube(command) => kube::run(&open()?, printer, command),
        Command::Cp(args) | Command::Container(ContainerCommand::Cp(args)) => {
            cp::copy(&open()?, args)
        }
        Command::Port(args) => network::port(&open()?, printer, args),
        Command::Pull(args) | Command::Image(ImageCommand::Pull(args)) => {
            registry::pull(&open()?, printer, args)
        }
        Command::Push(args) | Command::Image(ImageCommand::Push(args)) => {
            registry::push(&open()?, printer, args)
        }
        Command::Login(args) => registry::login(&open()?, printer, args),
        Command::Logout(args) => registry::logout(&open()?, printer, args),
        Command::Import(args) | Command::Image(ImageCommand::Import(args)) => {
            image::import(&open()?, printer, args)
        }
        Command::Load(args) | Command::Image(ImageCommand::Load(args)) => {
            image::load(&open()?, printer, args)
        }
        Command::Save(args) | Command::Image(ImageCommand::Save(args)) => {
            image::save(&open()?, args)
        }
        Command::Images(args) | Command::Image(ImageCommand::Ls(args)) => {
            image::list(&open()?, printer, args)
        }
        Command::Tag(args) | Command::Image(ImageCommand::Tag(args)) => image::tag(&open()?, args),
        Command::Rmi(args) | Command::Image(ImageCommand::Rm(args)) => {
            image::remove(&open()?, printer, args)
        }
        Command::History(args) | Command::Image(ImageCommand::History(args)) => {
            image::history(&open()?, printer, args)
        }
        Command::Inspect(args) => inspect(&open()?, printer, args, Kinds::Both),
        Command::Image(ImageCommand::Inspect(args)) => {
            inspect(&open()?, printer, args, Kinds::Images)
        }
        Command::Image(ImageCommand::Prune(args)) => image::prune(&open()?, printer, args),
        Command::System(SystemCommand::Df(args)) => system::df(&open()?, printer, args),
        Command::System(SystemCommand::Prune(args)) => system::prune(&open()?, printer, args),
        Command::System(SystemCommand::Check(args)) => system::check(&open()?, printer, args),
        Command::System(SystemCommand::Reset(args)) => system::reset(&open()?, printer, args),
        Command::System(SystemCommand::Service(args)) => {
            service::service(&cli.root, &cli.run_root, printer, args)
        }
        Command::Info(args) | Command::System(SystemCommand::Info(args)) => {
            system::info(&open()?, printer, args)
        }
        Command::Version(args) => system::version(printer, args),
        Command::Completion(args) => system::completion(printer, args),
    }
}

/// What `inspect` looks for: `wharf inspect` tries containers first, then images, as Docker.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kinds {
    Containers,
    Images,
    Both,
}

fn inspect(engine: &Engine, printer: Printer, args: InspectArgs, kinds: Kinds) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in &args.names {
        let container = match kinds {
            Kinds::Images => None,
            _ => match engine.inspect_container(name) {
                Ok(value) => Some(value),
                Err(EngineError::ContainerNotFound(_)) => None,
                Err(other) => return Err(other.into()),
            },
        };
        let value = match (container, kinds) {
            (Some(value), _) => Some(value),
            (None, Kinds::Containers) => None,
            (None, _) => match engine.inspect_image(name) {
                Ok(value) => Some(value),
                Err(EngineError::ImageNotFound(_)) => None,
                Err(other) => return Err(other.into()),
            },
        };
        match value {
            Some(value) => found.push(value),
            None => missing.push(name.clone()),
        }
    }
    print_inspected(&printer, &format, found)?;
    if missing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let what = match kinds {
        Kinds::Containers => "container",
        Kinds::Images => "image",
        Kinds::Both => "object",
    };
    Err(CommandError::new(
        format!("no such {what}: {}", missing.join(", ")),
        Some("`wharf ps -a` lists the containers and `wharf images` the images"),
    ))
}

/// Runs `action` on each name, as Docker's commands that take several: the lines it returns go
/// to stdout, an error is reported and the others still run, and the command fails at the end.
pub(crate) fn for_each_name(
    printer: &Printer,
    names: &[String],
    mut action: impl FnMut(&str) -> Result<Vec<String>, EngineError>,
) -> CommandResult {
    let mut failed = false;
    for name in names {
        match action(name) {
            Ok(lines) => lines.iter().for_each(|line| printer.data(line)),
            Err(error) => {
                failed = true;
                report(printer, &error.into());
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `network inspect`, `volume inspect`: prints what `inspect` finds of each name, then reports
/// the names it could not find and fails with the last.
pub(crate) fn inspect_each(
    printer: &Printer,
    args: &InspectArgs,
    inspect: impl Fn(&str) -> Result<Value, EngineError>,
) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for name in &args.names {
        match inspect(name) {
            Ok(value) => found.push(value),
            Err(error) => failed.push(CommandError::from(error)),
        }
    }
    print_inspected(printer, &format, found)?;
    match failed.pop() {
        None => Ok(ExitCode::SUCCESS),
        Some(last) => {
            failed.iter().for_each(|e| report(printer, e));
            Err(last)
        }
    }
}

/// Prints what `inspect` found: through a template, or (default and `json`) as Docker's
/// indented JSON array.
pub(crate) fn print_inspected(
    printer: &Printer,
    format: &Format,
    found: Vec<Value>,
) -> Result<(), CommandError> {
    match format {
        Format::Template { template, .. } => {
            for value in &found {
                printer.data(
                    template
                        .render(value)
                        .map_err(|e| CommandError::new(format!("--format: {e}"), None))?,
                );
            }
        }
        Format::Table | Format::Json => printer
            .data(serde_json::to_string_pretty(&Value::Array(found)).expect("values serialize")),
    }
    Ok(())
}

/// `--label KEY=VALUE` (or a bare `KEY`, with an empty value), as Docker.
pub(crate) fn parse_labels(labels: &[String]) -> std::collections::BTreeMap<String, String> {
    labels
        .iter()
        .map(|label| match label.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (label.clone(), String::new()),
        })
        .collect()
}

/// Docker's `label=KEY` and `label=KEY=VALUE` filters.
pub(crate) fn has_label(labels: &std::collections::BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|l| l == value),
        None => labels.contains_key(filter),
    }
}

pub(crate) fn parse_format(text: Option<&str>) -> Result<Format, CommandError> {
    Format::parse(text).map_err(|e| {
        CommandError::new(
            format!("--format: {e}"),
            Some("use `json` or a Go template such as '{{.ID}}'"),
        )
    })
}

/// Prints rows (JSON objects keyed by Docker's field names) as a table, JSON lines or a
/// template. `columns` are (header, field) for the default table.
pub(crate) fn print_rows(
    printer: &Printer,
    format: &Format,
    columns: &[(&str, &str)],
    rows: &[Value],
) -> Result<(), CommandError> {
    match format {
        Format::Json => rows.iter().for_each(|row| printer.data(row.to_string())),
        Format::Table => {
            let mut table = vec![columns
                .iter()
                .map(|(header, _)| header.to_string())
                .collect::<Vec<_>>()];
            for row in rows {
                table.push(columns.iter().map(|(_, field)| cell(row, field)).collect());
            }
            crate::format::table(&table)
                .into_iter()
                .for_each(|line| printer.data(line.trim_end()));
        }
        Format::Template { table, template } => {
            let rendered: Vec<String> = rows
                .iter()
                .map(|row| template.render(row))
                .collect::<Result<_, _>>()
                .map_err(|e| CommandError::new(format!("--format: {e}"), None))?;
            if *table {
                let header = template.header(|field| {
                    columns
                        .iter()
                        .find(|(_, f)| *f == field)
                        .map_or(field.to_uppercase(), |(h, _)| h.to_string())
                });
                let mut cells: Vec<Vec<String>> =
                    vec![header.split('\t').map(str::to_string).collect()];
                cells.extend(
                    rendered
                        .iter()
                        .map(|line| line.split('\t').map(str::to_string).collect()),
                );
                crate::format::table(&cells)
                    .into_iter()
                    .for_each(|line| printer.data(line.trim_end()));
            } else {
                rendered.into_iter().for_each(|line| printer.data(line));
            }
        }
    }
    Ok(())
}

fn cell(row: &Value, field: &str) -> String {
    match row.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
