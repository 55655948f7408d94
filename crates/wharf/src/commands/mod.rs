//! One function per command: turn flags into engine calls and results into output.

mod image;
mod system;

use std::process::ExitCode;

use serde_json::Value;
use wharf_engine::{Engine, EngineError};

use crate::cli::{Cli, Command, ImageCommand, SystemCommand};
use crate::format::Format;
use crate::printer::Printer;

/// An error of a command, shown as `error: ...` with an optional `hint: ...`.
#[derive(Debug)]
pub struct CommandError {
    pub message: String,
    pub hint: Option<String>,
}

impl From<EngineError> for CommandError {
    fn from(error: EngineError) -> Self {
        Self {
            hint: error.hint(),
            message: error.to_string(),
        }
    }
}

impl CommandError {
    pub fn new(message: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

pub type CommandResult = Result<ExitCode, CommandError>;

pub fn report(printer: &Printer, error: &CommandError) {
    printer.error(&error.message, error.hint.as_deref());
}

pub fn run(cli: Cli, printer: Printer) -> CommandResult {
    let open = || Engine::open(&cli.root).map_err(CommandError::from);
    match cli.command {
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
        Command::Inspect(args) | Command::Image(ImageCommand::Inspect(args)) => {
            image::inspect(&open()?, printer, args)
        }
        Command::Image(ImageCommand::Prune(args)) => image::prune(&open()?, printer, args),
        Command::System(SystemCommand::Df(args)) => system::df(&open()?, printer, args),
        Command::System(SystemCommand::Check(args)) => system::check(&open()?, printer, args),
        Command::Info(args) | Command::System(SystemCommand::Info(args)) => {
            system::info(&open()?, printer, args)
        }
        Command::Version(args) => system::version(printer, args),
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
        Format::Template { table, parts } => {
            let rendered: Vec<String> = rows
                .iter()
                .map(|row| Format::render(parts, row))
                .collect::<Result<_, _>>()
                .map_err(|e| CommandError::new(format!("--format: {e}"), None))?;
            if *table {
                let header = parts
                    .iter()
                    .map(|part| match part {
                        crate::format::Part::Text(text) => text.clone(),
                        crate::format::Part::Field { path, .. } => {
                            let field = path.join(".");
                            columns
                                .iter()
                                .find(|(_, f)| *f == field)
                                .map_or(field.to_uppercase(), |(h, _)| h.to_string())
                        }
                    })
                    .collect::<String>();
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
