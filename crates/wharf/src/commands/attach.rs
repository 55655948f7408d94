//! `attach`: the output of a running container from now on (through its log, as `logs -f`)
//! and, for a container created with `-i`, this process's stdin to its process through its
//! monitor, until it exits or the detach keys are typed. With `--sig-proxy` (the default,
//! without a tty) the signals that end a process go to the container instead, as Docker's.

use std::io::{self, IsTerminal};
use std::net::Shutdown;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustix::event::{poll, PollFd, PollFlags};
use wharf_api::{DetachKeys, DEFAULT_DETACH_KEYS};
use wharf_engine::{Engine, LogsOptions, Signals, Status, TERMINATING};

use super::{CommandError, CommandResult};
use crate::cli::AttachArgs;
use crate::printer::Printer;
use crate::terminal::RawMode;

pub fn attach(engine: &Engine, printer: Printer, args: AttachArgs) -> CommandResult {
    let info = engine.find_container(&args.container)?;
    if info.state.status != Status::Running {
        return Err(CommandError::new(
            format!(
                "container {}: you cannot attach to a stopped container",
                args.container
            ),
            Some("start it first (`wharf start -a`)"),
        ));
    }
    let keys = DetachKeys::parse(args.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS))
        .map_err(|e| CommandError::new(format!("--detach-keys: {e}"), None))?;
    let id = info.record.id.clone();
    let tty = info.record.run.process.tty;
    let stdin = !args.no_stdin && info.record.open_stdin;
    // Before any thread: the threads inherit the blocked signals.
    let signals = (args.sig_proxy && !tty)
        .then(|| Signals::block(TERMINATING))
        .transpose()
        .map_err(|e| CommandError::new(format!("cannot block signals: {e}"), None))?;
    let raw = Arc::new(Mutex::new(if tty && stdin && io::stdin().is_terminal() {
        Some(RawMode::enable()?)
    } else {
        None
    }));
    if let Some(to) = stdin
        .then(|| engine.connect_stdin(&id, &|| false))
        .transpose()?
        .flatten()
    {
        let raw = Arc::clone(&raw);
        std::thread::spawn(move || relay_stdin(to, keys, &raw));
    }
    let options = LogsOptions {
        tail: Some(0),
        follow: true,
        ..LogsOptions::default()
    };
    let ended = AtomicBool::new(false);
    std::thread::scope(|scope| {
        if let Some(signals) = &signals {
            scope.spawn(|| proxy_signals(engine, &id, signals, &ended));
        }
        let followed =
            engine.container_logs(&id, &options, |line| printer.raw(&line.stream, &line.text));
        ended.store(true, Ordering::Relaxed);
        followed
    })?;
    drop(raw.lock().map(|mut raw| raw.take()));
    let code = engine
        .find_container(&id)
        .ok()
        .and_then(|info| info.state.exit_code)
        .unwrap_or(0);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Copies this process's stdin to the container's until its end, or until the detach keys
/// (then this process ends, the container runs on, as Docker's `read escape sequence`).
fn relay_stdin(
    mut to: std::os::unix::net::UnixStream,
    mut keys: DetachKeys,
    raw: &Mutex<Option<RawMode>>,
) {
    if keys.relay(&mut io::stdin().lock(), &mut to) {
        drop(raw.lock().map(|mut raw| raw.take()));
        std::process::exit(0);
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Until `ended`, sends the signals this process receives to the container.
fn proxy_signals(engine: &Engine, id: &str, signals: &Signals, ended: &AtomicBool) {
    let tick = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    while !ended.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(signals, PollFlags::IN)];
        if poll(&mut fds, Some(&tick)).is_err() {
            continue;
        }
        while let Ok(Some(signal)) = signals.next() {
            let _ = engine.kill_container(id, &signal.to_string());
        }
    }
}
