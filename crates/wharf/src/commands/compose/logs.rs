//! `compose logs` and the log view of an attached `compose up`: each container's lines
//! prefixed with its name, padded to the longest, in a color of its own on a terminal.

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

use wharf_engine::{Engine, LogLine, LogsOptions, Signals, TERMINATING};

use super::{load_project, ordered_containers};
use crate::cli::{ComposeLogsArgs, ComposeProjectArgs};
use crate::commands::container::parse_tail;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// docker compose's rotation of prefix colors (ANSI foreground codes).
const COLORS: [u8; 6] = [36, 33, 32, 35, 34, 31];

/// How one container's lines are shown.
#[derive(Debug, Clone)]
struct Prefix {
    text: String,
}

impl Prefix {
    fn new(name: &str, width: usize, index: usize, color: bool, show: bool) -> Self {
        let text = match (show, color) {
            (false, _) => String::new(),
            (true, false) => format!("{name:width$} | "),
            (true, true) => format!(
                "\x1b[{}m{name:width$} |\x1b[0m ",
                COLORS[index % COLORS.len()]
            ),
        };
        Self { text }
    }

    fn print(&self, printer: Printer, line: &LogLine, timestamps: bool) {
        let time = if timestamps {
            format!("{} ", line.time)
        } else {
            String::new()
        };
        printer.raw(&line.stream, &format!("{}{time}{}", self.text, line.text));
    }
}

fn prefixes(names: &[String], color: bool, show: bool) -> Vec<Prefix> {
    let width = names.iter().map(String::len).max().unwrap_or(0);
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
    let names: Vec<String> = ordered_containers(engine, &project, &args.services)?
        .into_iter()
        .map(|c| c.record.name)
        .collect();
    let options = LogsOptions {
        tail,
        follow: args.follow,
        ..LogsOptions::default()
    };
    let prefixes = prefixes(&names, !args.no_color, !args.no_log_prefix);
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

/// Attached `up`: follows the containers' logs until they all exit, or a terminating
/// signal comes, or the first container exits as `abort` says: then `stop` runs
/// (with the signals back to their default, so that a second Ctrl-C ends wharf), given
/// that first container's name, and the logs are followed to their end. As each log ends,
/// docker compose's `NAME exited with code N` line. Returns the first container that
/// exited when it stopped the others.
pub fn follow_until_signal(
    engine: &Engine,
    printer: Printer,
    names: &[String],
    color: bool,
    show_prefix: bool,
    abort: AbortOn,
    stop: impl FnOnce(Option<&str>) -> Result<(), CommandError>,
) -> Result<Option<String>, CommandError> {
    let signals = Signals::block(TERMINATING)
        .map_err(|e| CommandError::new(format!("cannot block signals: {e}"), None))?;
    let prefixes = prefixes(names, color, show_prefix);
    let options = LogsOptions {
        follow: true,
        ..LogsOptions::default()
    };
    let pipe_error =
        |e: std::io::Error| CommandError::new(format!("cannot make a pipe: {e}"), None);
    // Every log thread holds a writer: the pipe closes once all logs end; with
    // an exit that aborts, a thread also writes its index there as its log ends.
    let (mut done_reader, done_writer) = std::io::pipe().map_err(pipe_error)?;
    let writers = names
        .iter()
        .map(|_| done_writer.try_clone())
        .collect::<Result<Vec<_>, _>>()
        .map_err(pipe_error)?;
    drop(done_writer);
    std::thread::scope(|scope| {
        let prefixes = &prefixes;
        let options = &options;
        wharf_engine::with_all_blocked(|| {
            for (index, ((name, prefix), mut writer)) in
                names.iter().zip(prefixes).zip(writers).enumerate()
            {
                scope.spawn(move || {
                    let _ = engine
                        .container_logs(name, options, |line| prefix.print(printer, line, false));
                    let code = engine
                        .find_container(name)
                        .map_or(0, |info| info.state.exit_code.unwrap_or(0));
                    printer.data(format!("{name} exited with code {code}"));
                    if abort == AbortOn::Exit || (abort == AbortOn::Failure && code != 0) {
                        let _ = writer.write_all(&(index as u32).to_ne_bytes());
                    }
                });
            }
        })
        .map_err(|e| CommandError::new(format!("cannot follow logs: {e}"), None))?;
        let signal = signals
            .wait_readable(done_reader.as_fd())
            .map_err(|e| CommandError::new(format!("cannot wait for signals: {e}"), None))?;
        drop(signals);
        let mut index = [0u8; 4];
        let first = match signal {
            Some(_) => None,
            None if abort != AbortOn::Signal && done_reader.read_exact(&mut index).is_ok() => {
                Some(names[u32::from_ne_bytes(index) as usize].clone())
            }
            // Every container ended on its own.
            None => return Ok(None),
        };
        // The log threads end as the containers stop.
        stop(first.as_deref())?;
        Ok(first)
    })
}
