//! The monitor: one small process per container (the `wharf` binary re-executed), started
//! before any thread exists. It creates the container through the runtime, joins it to its
//! networks, starts it, records its output as Docker's json-file log, waits for it, records
//! how it ended, and cleans up (network endpoints included). Attached, it also copies the
//! output to its own stdout and stderr, which are the attached CLI's.
//!
//! With `-t` the container's stdio is a pty whose master libcontainer sends to the monitor
//! (console socket); the monitor logs what comes out of it. Attached with `-i`, the monitor's
//! stdin is the CLI's and the monitor relays it to the pty, and sets the pty's size from its
//! stdout (the CLI's terminal) at start and on each SIGWINCH the CLI forwards. Without `-t`,
//! an attached `-i` container reads the CLI's stdin itself: nothing to copy, and its end is
//! the container's end of input.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags};
use wharf_runtime::{ConsoleSocket, Container, RunError, StartError, Stdio as ContainerStdio};

use super::attach::TtyDriver;
use super::create::{etc_files_lost, resolve_user, write_etc_files};
use super::exec::dev_null;
use super::health::{Health, HealthMonitor};
use super::logfile::JsonLog;
use super::record::{
    container_dir, read_json, write_state, ContainerRecord, ContainerState, RestartPolicy, Status,
    LOG_FILE, STATE_FILE, STOPPED_BY_USER_FILE,
};
use super::stdin_relay::{socket_path, StdinRelay};
use crate::error::{EngineError, IoResultExt, Result};
use crate::{now_rfc3339, Engine};

/// The hidden subcommand the monitor runs as.
pub const MONITOR_COMMAND: &str = "__monitor";
/// What a detached monitor prints once the container runs.
const STARTED: &str = "started";
/// What a monitor started for a policy restart prints once it has taken over.
const RESTARTING: &str = "restarting";
/// How often a monitor waiting to restart looks for a stop by the user.
const BACKOFF_POLL: Duration = Duration::from_millis(20);

/// How the monitor reports to the CLI that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Output goes to the monitor's stdout/stderr too; the CLI waits for the monitor. With
    /// `stdin`, the monitor's stdin is the CLI's, for a container created with `-i`.
    Attached { stdin: bool },
    /// The monitor prints `started` once running, then lets go of its stdio.
    Detached,
    /// A monitor started by the previous one for a policy restart: it takes over the
    /// container (prints `restarting`, then lets go of its stdio), waits the backoff unless
    /// the user stops the container meanwhile, and runs it again.
    Restarted,
}

impl Engine {
    /// Starts the monitor of container `id` as a new process of this binary.
    pub fn spawn_monitor(&self, id: &str, attach: Attach) -> Result<std::process::Child> {
        let exe = std::env::current_exe().at("find", "the wharf executable")?;
        let mut command = Command::new(&exe);
        command
            .arg("--root")
            .arg(self.root())
            .arg("--run-root")
            .arg(&self.run_root)
            .arg(MONITOR_COMMAND)
            .arg(id)
            .stdin(Stdio::null());
        match attach {
            Attach::Attached { stdin } => {
                command.arg("--attach");
                if stdin {
                    command.arg("--stdin").stdin(Stdio::inherit());
                }
            }
            Attach::Detached => {
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
            Attach::Restarted => {
                command
                    .arg("--restarted")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null());
            }
        }
        command.spawn().at("start the monitor", &exe)
    }

    /// Waits until a detached monitor reports the container running, or reports why not.
    pub fn await_detached_start(&self, mut child: std::process::Child, name: &str) -> Result<()> {
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        if out.trim() == STARTED {
            return Ok(());
        }
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        let status = child.wait().at("wait for the monitor of", name)?;
        let exit_code = status.code().unwrap_or(125);
        // The monitor reported in the house style: pass its message and hint on as they are.
        if let Some(message) = err.lines().find_map(|l| l.strip_prefix("error: ")) {
            return Err(EngineError::StartFailed {
                message: message.to_string(),
                hint: err
                    .lines()
                    .find_map(|l| l.strip_prefix("hint: "))
                    .map(str::to_string),
                exit_code,
            });
        }
        Err(EngineError::Runtime {
            name: name.to_string(),
            message: err.trim().to_string(),
            exit_code,
        })
    }

    /// The monitor's whole life; returns the container's exit code (or 125/126/127 when it
    /// could not run, as Docker). **Call only from a single-threaded process.**
    pub fn monitor(&self, id: &str, attach: Attach) -> Result<i32> {
        // Its own session: Ctrl-C in the user's terminal must not kill the monitor.
        let _ = rustix::process::setsid();
        // Processes its helpers leave behind come to it, not to init (see reap_orphans).
        let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
        // What the attached CLI blocks to forward is the container's to receive.
        crate::signals::unblock_all().at("unblock signals of", "the monitor")?;
        let dir = container_dir(self.root(), id);
        let record: ContainerRecord = read_json(&dir.join(super::record::RECORD_FILE))?;
        let state_path = dir.join(STATE_FILE);
        let mut state: ContainerState = read_json(&state_path)?;
        let stopped_marker = dir.join(STOPPED_BY_USER_FILE);
        let me = rustix::process::getpid().as_raw_nonzero().get();
        if attach == Attach::Restarted {
            if state.status != Status::Restarting {
                return Err(EngineError::BadOption {
                    flag: "start",
                    value: record.name.clone(),
                    message: "the container is not waiting for a restart".into(),
                });
            }
            // Ours from now on; the previous monitor exits once it reads the word.
            state.monitor_pid = Some(me);
            state.monitor_start_time = process_start_time(me);
            write_state(&state_path, &state)?;
            announce(RESTARTING);
            if !wait_unless_stopped(
                Duration::from_millis(state.restart_delay_ms),
                &stopped_marker,
            ) {
                state.status = Status::Exited;
                write_state(&state_path, &state)?;
                return Ok(state.exit_code.unwrap_or(0));
            }
        } else {
            if state.status.is_up() {
                return Err(EngineError::BadOption {
                    flag: "start",
                    value: record.name.clone(),
                    message: "the container is already running".into(),
                });
            }
            // Started by the user: a stop by the user before counts no more, nor do restarts.
            match std::fs::remove_file(&stopped_marker) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).at("remove", &stopped_marker)
                }
                _ => {}
            }
            state.restart_count = 0;
            state.restart_delay_ms = 0;
        }
        let attached = matches!(attach, Attach::Attached { .. });
        let user_stdin = attach == Attach::Attached { stdin: true } && record.open_stdin;
        // Held until the container ends: its stdin stays open (`-i`) with nobody attached.
        let (stdio, output, mut idle_stdin) = self.container_stdio(&record, user_stdin)?;
        let me = rustix::process::getpid().as_raw_nonzero().get();
        let mut fresh = ContainerState::created();
        if attach == Attach::Restarted {
            // A restart stays `restarting`, with the code it last exited with, until the
            // container runs, as Docker's: `created` for the moment of the setup made `ps`
            // miss it (it lists what is up).
            fresh.status = Status::Restarting;
            fresh.exit_code = state.exit_code;
            fresh.finished_at = state.finished_at.take();
        }
        state = ContainerState {
            monitor_pid: Some(me),
            monitor_start_time: process_start_time(me),
            restart_count: state.restart_count,
            restart_delay_ms: state.restart_delay_ms,
            ..fresh
        };
        // Our pid first: from now on the container's network endpoints are ours, and a
        // reconcile by another command must not take them.
        write_state(&state_path, &state)?;
        // A bridged container's network namespace, named by its spec (which `exec` checks)
        // until the container has ended.
        let mut netns = None;
        let restored = if etc_files_lost(&record) {
            write_etc_files(&record)
        } else {
            Ok(())
        };
        let created = restored
            .and_then(|()| self.prepare_resolv_conf(&record))
            .and_then(|()| {
                let mut run = self.join_owner_network(&record)?;
                // As Docker: the user is looked up at each start, in the container's own files
                // (its writable layer over the image's).
                let layers: Vec<PathBuf> = std::iter::once(run.upper_dir())
                    .chain(run.lower_dirs.iter().cloned())
                    .collect();
                let user = resolve_user(&record.user, &layers)?;
                // As runc: HOME from the user's entry unless the container sets it.
                if !run.process.env.iter().any(|e| e.starts_with("HOME=")) {
                    run.process.env.push(format!("HOME={}", user.home));
                }
                run.process.user = user.ids();
                let dns = match self.prepare_network(&record, &mut run)? {
                    Some((new, dns)) => {
                        netns = Some(new);
                        dns
                    }
                    None => Vec::new(),
                };
                let created = (|| {
                    wharf_runtime::run::clear_stale(&self.runtime_state_root(), &record.id)
                        .map_err(|e| runtime_error(&record.name, &e))?;
                    let mut container = Container::create(&run, &self.runtime_state_root(), stdio)
                        .map_err(|e| runtime_error(&record.name, &e))?;
                    let streams = match output {
                        Output::Pipes { stdout, stderr } => vec![
                            LogStream::new("stdout", stdout),
                            LogStream::new("stderr", stderr),
                        ],
                        Output::Tty(console) => {
                            let master = console
                                .receive_master()
                                .map_err(|e| runtime_error(&record.name, &e))?;
                            // Before start, so the process sees the user's size from its first
                            // moment. Not a terminal (output redirected): the pty keeps its default.
                            if attached {
                                let _ = wharf_runtime::copy_window_size(io::stdout(), &master);
                            }
                            // As Docker's json-file: what a pty prints is logged as stdout.
                            vec![LogStream::new("stdout", master)]
                        }
                    };
                    // The container's first lookup must find its networks' DNS helpers.
                    for start in dns {
                        start.ready(self)?;
                    }
                    container
                        .start()
                        .map_err(|e| runtime_error(&record.name, &e))?;
                    Ok((container, streams))
                })();
                if created.is_err() {
                    let _ = self.detach_networks(&record.id);
                    netns = None;
                }
                created
            });
        let (mut container, streams) = match created {
            Ok(created) => created,
            Err(error) => {
                let (message, code) = match &error {
                    EngineError::Runtime {
                        message, exit_code, ..
                    } => (message.clone(), *exit_code),
                    EngineError::Start { error, .. } => (error.to_string(), error.exit_code()),
                    other => (other.to_string(), 125),
                };
                // As Docker's: a container that never ran stays created, with why in its state.
                state.status = Status::Created;
                state.monitor_pid = None;
                state.monitor_start_time = None;
                state.exit_code = Some(code);
                state.error = Some(message.clone());
                write_state(&state_path, &state)?;
                self.finish(&record);
                return Err(match error {
                    runtime @ (EngineError::Runtime { .. } | EngineError::Start { .. }) => runtime,
                    other => EngineError::StartFailed {
                        message: format!("container {}: {message}", record.name),
                        hint: other.hint(),
                        exit_code: code,
                    },
                });
            }
        };
        // Healthchecks count their first interval from here, as Docker's from the start.
        let ran = Instant::now();
        state.status = Status::Running;
        state.pid = Some(container.pid());
        state.started_at = Some(now_rfc3339());
        state.health = record.healthcheck.as_ref().map(|_| Health::starting());
        write_state(&state_path, &state)?;
        self.record_event("start", &record, &[]);
        if attach == Attach::Detached {
            println_started();
        }
        // Attached, the user drives the pty: their input and their window size.
        let mut tty = match streams.as_slice() {
            [master] if attached => Some(TtyDriver::new(
                &master.fd,
                user_stdin.then(stdin_of_this_process).transpose()?,
                None,
            )?),
            _ => None,
        };

        // Nobody's input at start: attach clients may give it later.
        let stdin_target = match (&idle_stdin, streams.as_slice()) {
            _ if !record.open_stdin || user_stdin => None,
            (Some(_), _) => idle_stdin.take(),
            (None, [master]) => Some(master.fd.try_clone().at("duplicate", "the pty master")?),
            (None, _) => None,
        };
        let mut relay = match stdin_target {
            Some(target) => Some(StdinRelay::bind(
                socket_path(&self.run_root, &record.id),
                target,
                record.stdin_once && !record.run.process.tty,
            )?),
            None => None,
        };

        let log_path = dir.join(LOG_FILE);
        let log = JsonLog::open(&log_path, &record.log_config).at("open", &log_path)?;
        let mut health = record.healthcheck.as_ref().map(|check| {
            HealthMonitor::new(
                self,
                &record,
                check.clone(),
                state.clone(),
                state_path.clone(),
                ran,
            )
        });
        // From here on the monitor only copies output and waits: the code that set the
        // container up need not stay resident for the container's lifetime. Not done for a
        // container that ends at once (`run --rm IMAGE true`), where it would only cost time.
        let release_pages_at = Some(Instant::now() + RELEASE_PAGES_AFTER);
        let pumped = pump(
            streams,
            log,
            attached,
            health.as_mut(),
            tty.as_mut(),
            relay.as_mut(),
            release_pages_at,
        )
        .at("write the log", &log_path);
        drop(tty);
        drop(relay);
        drop(idle_stdin);
        // Its output has ended: no more probes (a probe cut short leaves its orphans to the
        // wait below).
        let health_failure = health.and_then(|health| {
            let (last, failure) = health.finish();
            state.health = last;
            failure
        });
        let status = container.wait_reaping_orphans();
        let ran_for = ran.elapsed();
        reap_orphans();
        let oom_killed = container.oom_killed().unwrap_or(false);
        // Held until its ports and veths are gone: a namespace with no process left still
        // refuses connections to the published ports, where one that is gone drops them.
        // Let go before the runtime's cleanup: the kernel's cleanup of the namespace (tens
        // of milliseconds, holding locks every network change waits for) overlaps it.
        let detached = self.detach_ended_networks(&record.id);
        drop(netns);
        let deleted = container.delete();
        state.status = Status::Exited;
        state.finished_at = Some(now_rfc3339());
        state.oom_killed = oom_killed;
        state.exit_code = Some(status.as_ref().map_or(125, |s| s.code()));
        if let Err(error) = status.as_ref().map(drop).and(deleted.as_ref().map(drop)) {
            state.error = Some(wharf_oci::error_chain(error));
        } else if let Err(error) = &detached {
            state.error = Some(error.to_string());
        } else if let Some(error) = health_failure {
            state.error = Some(format!("healthcheck: {error}"));
        }
        let code = state.exit_code.unwrap_or(125);
        self.record_event("die", &record, &[("exitCode", code.to_string())]);
        // `update` may have changed the policy while the container ran.
        let policy = read_json::<ContainerRecord>(
            &container_dir(self.root(), &record.id).join(super::record::RECORD_FILE),
        )
        .map_or(record.restart_policy, |now| now.restart_policy);
        let restart = state.error.is_none()
            && policy.should_restart(code, state.restart_count, stopped_marker.exists());
        if restart {
            state.status = Status::Restarting;
            state.restart_count += 1;
            let delay =
                RestartPolicy::next_delay(Duration::from_millis(state.restart_delay_ms), ran_for);
            state.restart_delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            write_state(&state_path, &state)?;
            if let Err(error) = self.hand_over(&record) {
                state.status = Status::Exited;
                state.error = Some(error.to_string());
                write_state(&state_path, &state)?;
            }
        } else {
            write_state(&state_path, &state)?;
        }
        pumped?;
        if !restart {
            self.finish(&record);
        }
        Ok(code)
    }

    /// Starts the monitor that restarts the container and waits until it has taken over.
    /// A new process rather than a loop here: an attached `run` returns at the first exit,
    /// as Docker's, while the container goes on restarting.
    fn hand_over(&self, record: &ContainerRecord) -> Result<()> {
        let mut child = self.spawn_monitor(&record.id, Attach::Restarted)?;
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        if out.trim() == RESTARTING {
            return Ok(());
        }
        let status = child.wait().at("wait for the monitor of", &record.name)?;
        Err(EngineError::Runtime {
            name: record.name.clone(),
            message: format!("the monitor that restarts it failed ({status})"),
            exit_code: 125,
        })
    }

    /// `--rm`: remove the container once it has exited.
    fn finish(&self, record: &ContainerRecord) {
        if record.auto_remove {
            // As Docker's `run --rm`: anonymous volumes go too.
            let _ = self.remove_container(&record.id, false, true);
        }
    }

    pub(crate) fn runtime_state_root(&self) -> std::path::PathBuf {
        self.run_root.join("runtime")
    }

    /// Where this process receives a pty master: one at a time per process, and short,
    /// as a socket's path must be.
    pub(crate) fn console_socket_path(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.run_root).at("create directory", &self.run_root)?;
        Ok(self
            .run_root
            .join(format!("console-{}.sock", std::process::id())))
    }

    /// The container's stdio, what the monitor reads of it, and the writing end of a stdin
    /// kept open for nobody (`-i` with no one attached).
    fn container_stdio(
        &self,
        record: &ContainerRecord,
        user_stdin: bool,
    ) -> Result<(ContainerStdio, Output, Option<OwnedFd>)> {
        if record.run.process.tty {
            // libcontainer makes the pty the process's stdio; the monitor relays the user's.
            let path = self.console_socket_path()?;
            let console =
                ConsoleSocket::bind(&path).map_err(|e| runtime_error(&record.name, &e))?;
            let stdio = ContainerStdio {
                console_socket: Some(path),
                ..ContainerStdio::default()
            };
            return Ok((stdio, Output::Tty(console), None));
        }
        let mut idle_stdin = None;
        let stdin = if user_stdin {
            stdin_of_this_process()?
        } else if record.open_stdin {
            let (read, write) = pipe()?;
            idle_stdin = Some(write);
            read
        } else {
            dev_null(false)?
        };
        let (out_read, out_write) = pipe()?;
        let (err_read, err_write) = pipe()?;
        let stdio = ContainerStdio {
            stdin: Some(stdin),
            stdout: Some(out_write),
            stderr: Some(err_write),
            console_socket: None,
        };
        let output = Output::Pipes {
            stdout: out_read,
            stderr: err_read,
        };
        Ok((stdio, output, idle_stdin))
    }
}

/// What the monitor reads of a container's output.
enum Output {
    Pipes {
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// Received once the container is created.
    Tty(ConsoleSocket),
}

/// A descriptor of this process's stdin, to give on.
pub(crate) fn stdin_of_this_process() -> Result<OwnedFd> {
    io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .at("duplicate", "the standard input")
}

/// A runtime failure of container `name`: why its process could not start, when that is
/// what failed (with Docker's exit code, [`StartError::exit_code`]), else the runtime's
/// error (125).
pub(crate) fn runtime_error(name: &str, error: &RunError) -> EngineError {
    if let RunError::Start(error) = error {
        return EngineError::Start {
            name: name.to_string(),
            error: error.clone(),
        };
    }
    EngineError::Runtime {
        name: name.to_string(),
        message: wharf_oci::error_chain(error),
        exit_code: start_error(error).map_or(125, StartError::exit_code),
    }
}

/// The start error in `error`, also when a cleanup failed after it.
fn start_error(error: &RunError) -> Option<&StartError> {
    match error {
        RunError::Start(error) => Some(error),
        RunError::Cleanup { error, .. } => start_error(error),
        _ => None,
    }
}

/// Reaps the monitor's children left once the container has ended and its healthcheck
/// helper is gone: what that helper started, which came to the monitor (a subreaper) when it
/// was killed. Until reaped, such a process holds the container's cgroup, which could not be
/// removed. They were killed with the helper; waits for them at most ORPHANS_WAIT. The DNS
/// helpers this monitor started for its user networks are children too, but they outlive
/// the container: once only they are left, there is nothing to wait for.
fn reap_orphans() {
    let deadline = Instant::now() + ORPHANS_WAIT;
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::NOHANG) {
            Ok(Some(_)) => {}
            Ok(None) if only_dns_helpers_left() => return,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            // None left (ECHILD), or waited long enough.
            _ => return,
        }
    }
}

/// Whether every child of this (single-threaded) process is a DNS helper, from
/// `/proc/self/task/<pid>/children` and their command lines; false when unreadable.
fn only_dns_helpers_left() -> bool {
    let pid = std::process::id();
    let Ok(children) = std::fs::read_to_string(format!("/proc/self/task/{pid}/children")) else {
        return false;
    };
    children.split_whitespace().all(|child| {
        std::fs::read(format!("/proc/{child}/cmdline")).is_ok_and(|cmdline| {
            cmdline
                .split(|&byte| byte == 0)
                .any(|arg| arg == crate::network::DNS_COMMAND.as_bytes())
        })
    })
}

/// How long [`reap_orphans`] waits for killed processes to end.
const ORPHANS_WAIT: Duration = Duration::from_secs(2);

/// Sleeps `delay`, or less when the user stops the container meanwhile (`marker` appears).
/// True when the delay ran out.
fn wait_unless_stopped(delay: Duration, marker: &std::path::Path) -> bool {
    let deadline = Instant::now() + delay;
    loop {
        if marker.exists() {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(BACKOFF_POLL));
    }
}

fn println_started() {
    announce(STARTED);
}

/// Prints `word` for the process that started us, then lets go of its pipes.
#[allow(clippy::print_stdout)]
pub(crate) fn announce(word: &str) {
    // Nobody may be reading any more (a helper's starter gave up): not worth a panic.
    let _ = writeln!(io::stdout(), "{word}");
    let _ = io::stdout().flush();
    // Let go of the CLI's pipes so it sees end of file and returns.
    if let Ok(null) = OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(io::Error::from)
        .at("create a pipe for", "container output")
}

/// How long a container runs before its monitor drops setup's resident pages.
const RELEASE_PAGES_AFTER: Duration = Duration::from_secs(1);

/// Copies the streams into the json-lines log (and to our stdio when attached) until all
/// reach end of file, which happens when every process of the container has exited. With a
/// healthcheck, runs it meanwhile: the poll also wakes for its timers and its probe's exit.
/// With `tty`, relays the user's input and window size to the pty meanwhile. At
/// `release_pages_at`, if still pumping, drops setup's resident pages.
pub(super) fn pump(
    mut streams: Vec<LogStream>,
    mut log: JsonLog,
    attached: bool,
    mut health: Option<&mut HealthMonitor<'_>>,
    mut tty: Option<&mut TtyDriver>,
    mut relay: Option<&mut StdinRelay>,
    mut release_pages_at: Option<Instant>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    while streams.iter().any(|s| s.open) {
        let mut fds: Vec<PollFd> = streams
            .iter()
            .filter(|s| s.open)
            .map(|s| PollFd::new(&s.fd, PollFlags::IN | PollFlags::HUP))
            .collect();
        let probe = health.as_deref().and_then(HealthMonitor::fd);
        if let Some(fd) = &probe {
            fds.push(PollFd::from_borrowed_fd(fd.as_fd(), PollFlags::IN));
        }
        let tty_fds = tty.as_deref().map(TtyDriver::poll_fds).unwrap_or_default();
        let tty_count = tty_fds.len();
        fds.extend(tty_fds);
        let relay_fds = relay
            .as_deref()
            .map(StdinRelay::poll_fds)
            .unwrap_or_default();
        let relay_count = relay_fds.len();
        fds.extend(relay_fds);
        let release_in = release_pages_at.map(|at| at.saturating_duration_since(Instant::now()));
        let health_in = health.as_deref().and_then(HealthMonitor::timeout);
        let timeout = [release_in, health_in]
            .into_iter()
            .flatten()
            .min()
            .map(|t| {
                rustix::event::Timespec::try_from(t).unwrap_or(rustix::event::Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                })
            });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        if release_pages_at.is_some_and(|at| Instant::now() >= at) {
            wharf_runtime::resident::release_clean_file_pages();
            release_pages_at = None;
        }
        let mut ready: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
        drop(fds);
        let relay_ready = ready.split_off(ready.len() - relay_count);
        if let Some(relay) = relay.as_deref_mut() {
            relay.handle(&relay_ready);
        }
        let tty_ready = ready.split_off(ready.len() - tty_count);
        if let Some(tty) = tty.as_deref_mut() {
            tty.handle(&tty_ready)?;
        }
        if let Some(health) = health.as_deref_mut() {
            health.tick();
        }
        let mut ready = ready.into_iter();
        for stream in streams.iter_mut().filter(|s| s.open) {
            if !ready.next().unwrap_or(false) {
                continue;
            }
            let n = match rustix::io::read(&stream.fd, &mut buf) {
                Ok(n) => n,
                // A pty's master: every process of the container closed its side.
                Err(rustix::io::Errno::IO) => 0,
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                stream.open = false;
                stream.flush_partial(&mut log)?;
                continue;
            }
            if attached {
                let _ = match stream.name {
                    "stdout" => io::stdout()
                        .write_all(&buf[..n])
                        .and_then(|()| io::stdout().flush()),
                    _ => io::stderr().write_all(&buf[..n]),
                };
            }
            stream.push(&buf[..n], &mut log)?;
        }
        log.flush()?;
    }
    log.flush()
}

/// One output stream of a container, as the log names it (`stdout`, `stderr`).
pub(super) struct LogStream {
    name: &'static str,
    pub(super) fd: OwnedFd,
    open: bool,
    partial: Vec<u8>,
}

impl LogStream {
    pub(super) fn new(name: &'static str, fd: OwnedFd) -> Self {
        Self {
            name,
            fd,
            open: true,
            partial: Vec::new(),
        }
    }

    /// Writes every complete line; keeps the rest for the next read.
    fn push(&mut self, bytes: &[u8], log: &mut JsonLog) -> io::Result<()> {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            log.write_entry(self.name, &line, &now_rfc3339_nanos())?;
        }
        Ok(())
    }

    fn flush_partial(&mut self, log: &mut JsonLog) -> io::Result<()> {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            log.write_entry(self.name, &rest, &now_rfc3339_nanos())?;
        }
        Ok(())
    }
}

pub(crate) fn now_rfc3339_nanos() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{}.{:09}Z",
        now.replace_nanosecond(0)
            .expect("zero nanoseconds are valid")
            .format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .expect("the time formats"),
        now.nanosecond()
    )
}

/// The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): with
/// the pid, it names one process even after pids are reused. `None` once the process is
/// dead, including a zombie nobody has reaped yet.
pub(crate) fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    let mut fields = stat[stat.rfind(')')? + 2..].split_whitespace();
    if matches!(fields.next(), Some("Z" | "X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

pub(crate) fn is_alive(pid: i32, start_time: Option<u64>) -> bool {
    start_time.is_some() && process_start_time(pid) == start_time
}
