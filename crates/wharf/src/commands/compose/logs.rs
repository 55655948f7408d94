//! `compose logs` and the log view of an attached `compose up`: each container's lines
//! prefixed as docker compose does (`web-1  | `: its service and number, or its
//! `container_name`), padded to the longest, in a color of its own on a terminal.

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::Arc;

use wharf_compose::labels::{CONTAINER_NUMBER, PROJECT, SERVICE};
use wharf_engine::{ContainerInfo, Engine, LogLine, LogsOptions, Signals, TERMINATING};

use super::{load_project, ordered_containers};
use crate::cli::{ComposeLogsArgs, ComposeProjectArgs};
use crate::commands::container::parse_tail;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// docker compose's rotation of prefix colors (ANSI foreground codes).
const COLORS: [u8; 6] = [36, 33, 32, 35, 34, 31];

/// docker compose's name for a container in its logs: `web-1` for `<project>-web-1`, the
/// whole name for a `container_name` (or a `run` container).
pub(super) fn short_name(container: &ContainerInfo) -> String {
    let labels = &container.record.labels;
    let name = &container.record.name;
    let label = |key| labels.get(key).map_or("", String::as_str);
    let service = format!("{}-{}", label(SERVICE), label(CONTAINER_NUMBER));
    match name.strip_prefix(label(PROJECT)) {
        Some(rest) if rest.strip_prefix('-') == Some(service.as_str()) => service,
        _ => name.clone(),
    }
}

/// How one container's lines are shown.
#[derive(Debug, Clone)]
struct Prefix {
    text: String,
    /// The color's escape code, empty without color.
    color: String,
}

impl Prefix {
    fn new(name: &str, width: usize, index: usize, color: bool, show: bool) -> Self {
        let color = if color {
            format!("\x1b[{}m", COLORS[index % COLORS.len()])
        } else {
            String::new()
        };
        // docker compose pads the name to the longest plus two, then `| `.
        let width = width + 2;
        let text = match (show, color.is_empty()) {
            (false, _) => String::new(),
            (true, true) => format!("{name:width$}| "),
            (true, false) => format!("{color}{name:width$}| \x1b[0m"),
        };
        Self { text, color }
    }

    fn print(&self, printer: Printer, line: &LogLine, timestamps: bool) {
        let time = if timestamps {
            format!("{} ", line.time)
        } else {
            String::new()
        };
        printer.raw(&line.stream, &format!("{}{time}{}", self.text, line.text));
    }

    /// docker compose's `web-1 exited with code 0`, in the container's color, after the
    /// carriage return and erase-line that docker compose writes before it even when its
    /// output is no terminal.
    fn exited(&self, printer: Printer, name: &str, code: i32) {
        let line = format!("\r\x1b[K{name} exited with code {code}");
        match self.color.is_empty() {
            true => printer.data(line),
            false => printer.data(format!("{}{line}\x1b[0m", self.color)),
        }
    }
}

fn prefixes(names: &[String], color: bool, show: bool) -> Vec<Prefix> {
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let color = color && std::io::stdout().is_terminal();
    names
        .iter()
        .enumerate()
        .map(|(index, name)| Prefix::new(name, width, index, color, show))
        .collect()
}

pub fn logs(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeLogsArgs,
) -> CommandResult {
    let project = load_project(printer, project)?;
    let tail = parse_tail(args.tail.as_deref())?;
    let containers = ordered_containers(engine, &project, &args.services)?;
    let names: Vec<String> = containers.iter().map(|c| c.record.name.clone()).collect();
    let shown: Vec<String> = containers.iter().map(short_name).collect();
    let options = LogsOptions {
        tail,
        follow: args.follow,
        ..LogsOptions::default()
    };
    let prefixes = prefixes(&shown, !args.no_color, !args.no_log_prefix);
    if args.follow {
        follow(
            engine,
            printer,
            &names,
            &prefixes,
            &options,
            args.timestamps,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for (name, prefix) in names.iter().zip(&prefixes) {
        engine.container_logs(name, &options, |line| {
            prefix.print(printer, line, args.timestamps)
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Follows every container's log, one thread each (started with every signal blocked),
/// until all have exited.
fn follow(
    engine: &Engine,
    printer: Printer,
    names: &[String],
    prefixes: &[Prefix],
    options: &LogsOptions,
    timestamps: bool,
) -> Result<(), CommandError> {
    std::thread::scope(|scope| {
        let handles = wharf_engine::with_all_blocked(|| {
            names
                .iter()
                .zip(prefixes)
                .map(|(name, prefix)| {
                    scope.spawn(move || {
                        engine.container_logs(name, options, |line| {
                            prefix.print(printer, line, timestamps)
                        })
                    })
                })
                .collect::<Vec<_>>()
        })
        .map_err(|e| CommandError::new(format!("cannot follow logs: {e}"), None))?;
        for handle in handles {
            handle.join().expect("a log thread does not panic")?;
        }
        Ok(())
    })
}

/// When attached `up` stops the project before every container has exited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AbortOn {
    /// Only on a terminating signal.
    Signal,
    /// `--abort-on-container-exit`.
    Exit,
    /// `--abort-on-container-failure`: an exit with a code other than 0.
    Failure,
}

/// Attached `up`: follows the logs of `containers` from `since` (when `up` began: what a
/// container printed before is not shown again, as docker compose attaches before it
/// starts) until they all exit, or a terminating signal comes, or the first container
/// exits as `abort` says: then `stop` runs (with the signals back to their default, so
/// that a second Ctrl-C ends wharf), given that first container's name, and the logs of
/// the containers it stopped are followed to their end. As each log ends, docker
/// compose's `web-1 exited with code N` line. Returns the first container that exited
/// when it stopped the others.
pub fn follow_until_signal(
    engine: &Engine,
    printer: Printer,
    containers: &[ContainerInfo],
    since: time::OffsetDateTime,
    (color, show_prefix): (bool, bool),
    abort: AbortOn,
    stop: impl FnOnce(Option<&str>) -> Result<(), CommandError>,
) -> Result<Option<String>, CommandError> {
    if containers.is_empty() {
        return Ok(None);
    }
    let signals = Signals::block(TERMINATING)
        .map_err(|e| CommandError::new(format!("cannot block signals: {e}"), None))?;
    let names: Vec<String> = containers.iter().map(|c| c.record.name.clone()).collect();
    let shown: Vec<String> = containers.iter().map(short_name).collect();
    let prefixes = prefixes(&shown, color, show_prefix);
    let options = LogsOptions {
        follow: true,
        since: Some(since),
        ..LogsOptions::default()
    };
    let pipe_error =
        |e: std::io::Error| CommandError::new(format!("cannot make a pipe: {e}"), None);
    // Each log thread writes its index there as its log ends, and whether that ends `up`.
    let (mut done_reader, done_writer) = std::io::pipe().map_err(pipe_error)?;
    // The threads are not joined: the log of a dependency that `stop` leaves running
    // (`--attach-dependencies`) never ends. They have an engine of their own.
    let threads_engine = Arc::new(
        Engine::open(engine.root(), engine.run_root())
            .map_err(|e| CommandError::new(format!("cannot follow logs: {e}"), None))?,
    );
    wharf_engine::with_all_blocked(|| {
        for (index, (name, prefix)) in names.iter().zip(&prefixes).enumerate() {
            let (engine, name, prefix) = (threads_engine.clone(), name.clone(), prefix.clone());
            let (options, shown) = (options.clone(), shown[index].clone());
            let mut writer = done_writer.try_clone().map_err(pipe_error)?;
            std::thread::spawn(move || {
                let _ = engine
                    .container_logs(&name, &options, |line| prefix.print(printer, line, false));
                let code = engine
                    .find_container(&name)
                    .map_or(0, |info| info.state.exit_code.unwrap_or(0));
                prefix.exited(printer, &shown, code);
                let ends = abort == AbortOn::Exit || (abort == AbortOn::Failure && code != 0);
                let mut record = (index as u32).to_ne_bytes().to_vec();
                record.push(u8::from(ends));
                let _ = writer.write_all(&record);
            });
        }
        Ok::<_, CommandError>(())
    })
    .map_err(|e| CommandError::new(format!("cannot follow logs: {e}"), None))??;
    drop(done_writer);
    let mut ended = vec![false; names.len()];
    let first = loop {
        let signal = signals
            .wait_readable(done_reader.as_fd())
            .map_err(|e| CommandError::new(format!("cannot wait for signals: {e}"), None))?;
        if signal.is_some() {
            break None;
        }
        let (index, ends) = next_end(&mut done_reader)?;
        ended[index] = true;
        if ends {
            break Some(names[index].clone());
        }
        if ended.iter().all(|e| *e) {
            return Ok(None);
        }
    };
    drop(signals);
    stop(first.as_deref())?;
    // The logs of the containers stopped end with them: shown to their end.
    let stopped: Vec<bool> = names
        .iter()
        .map(|n| {
            engine
                .find_container(n)
                .is_ok_and(|c| !c.state.status.is_up())
        })
        .collect();
    while (0..names.len()).any(|i| stopped[i] && !ended[i]) {
        ended[next_end(&mut done_reader)?.0] = true;
    }
    Ok(first)
}

/// The next log thread to end: its index, and whether its end stops `up`.
fn next_end(reader: &mut std::io::PipeReader) -> Result<(usize, bool), CommandError> {
    let mut record = [0u8; 5];
    reader
        .read_exact(&mut record)
        .map_err(|e| CommandError::new(format!("cannot follow logs: {e}"), None))?;
    let index = u32::from_ne_bytes(record[..4].try_into().expect("4 bytes"));
    Ok((index as usize, record[4] == 1))
}
