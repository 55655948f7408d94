//! Healthchecks as Docker runs them: every interval the monitor starts a probe, and the result
//! goes into `State.Health`. The probe is a helper process (the `wharf` binary re-executed as
//! the hidden `__healthcheck`, single-threaded) that execs the test in the container, enforces
//! the timeout and reports the exit code: the tenant exec runs libcontainer code that closes
//! file descriptors by number, which in a long-lived monitor once closed its own log pipes.
//! The monitor stays single-threaded: its poll loop waits on the helper's pidfd and on timers.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wharf_runtime::{ExecConfig, ExecProcess, Stdio};

use super::record::{write_state, ContainerRecord, ContainerState};
use crate::error::{EngineError, Result};
use crate::{now_rfc3339, Engine};

/// Docker's defaults and limits.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;
const MAX_LOG_ENTRIES: usize = 5;
const MAX_OUTPUT: usize = 4096;
/// The file the probe writes its stdout and stderr to, in the container folder.
const OUTPUT_FILE: &str = "health.out";
/// The file the helper writes its result line to (`exit N` or `timeout`).
const RESULT_FILE: &str = "health.result";
/// The hidden subcommand of the helper.
pub const HEALTHCHECK_COMMAND: &str = "__healthcheck";

/// How one probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    Exited(i32),
    TimedOut,
}

/// A container's healthcheck in Docker's shape (`Config.Healthcheck`): `Test` is `["NONE"]`,
/// `["CMD", arg...]` or `["CMD-SHELL", command]`, durations are in nanoseconds, zero for
/// "the default".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: u64,
    #[serde(default)]
    pub timeout: u64,
    #[serde(default)]
    pub start_period: u64,
    /// The interval during the start period, while the container is still `starting`
    /// (Docker 25's `--health-start-interval`); zero: the interval.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: u64,
    #[serde(default)]
    pub retries: u32,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `--health-*` flags, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthOptions {
    pub cmd: Option<String>,
    /// A whole test in Docker's shape (`["CMD", ...]`, `["CMD-SHELL", "..."]`), as compose's
    /// `healthcheck.test`; `cmd` is the `--health-cmd` shorthand.
    pub test: Option<Vec<String>>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
    /// `--no-healthcheck`.
    pub disable: bool,
}

impl HealthOptions {
    fn any_set(&self) -> bool {
        self.cmd.is_some()
            || self.test.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.start_period.is_some()
            || self.start_interval.is_some()
            || self.retries.is_some()
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Healthcheck {
    /// Docker's merge: the flags over the image's `Healthcheck`, field by field;
    /// `--no-healthcheck` (or a test of `NONE`) disables it.
    pub fn merge(image: Option<&Value>, options: &HealthOptions) -> Result<Option<Healthcheck>> {
        if options.disable {
            if options.any_set() {
                return Err(EngineError::BadOption {
                    flag: "--no-healthcheck",
                    value: String::new(),
                    message: "conflicts with the --health-* options".into(),
                });
            }
            return Ok(None);
        }
        let mut check: Healthcheck = match image {
            Some(value) if !value.is_null() => {
                serde_json::from_value(value.clone()).map_err(|e| EngineError::BadOption {
                    flag: "--health-cmd",
                    value: value.to_string(),
                    message: format!("the image's Healthcheck is not Docker's shape: {e}"),
                })?
            }
            _ => Healthcheck::default(),
        };
        if let Some(test) = &options.test {
            check.test = test.clone();
        }
        if let Some(cmd) = &options.cmd {
            check.test = vec!["CMD-SHELL".into(), cmd.clone()];
        }
        if let Some(interval) = options.interval {
            check.interval = nanos(interval);
        }
        if let Some(timeout) = options.timeout {
            check.timeout = nanos(timeout);
        }
        if let Some(start_period) = options.start_period {
            check.start_period = nanos(start_period);
        }
        if let Some(start_interval) = options.start_interval {
            check.start_interval = nanos(start_interval);
        }
        if let Some(retries) = options.retries {
            check.retries = retries;
        }
        match check.test.first().map(String::as_str) {
            None | Some("NONE") => Ok(None),
            Some("CMD" | "CMD-SHELL") if check.test.len() >= 2 => Ok(Some(check)),
            Some(other) => Err(EngineError::BadOption {
                flag: "--health-cmd",
                value: check.test.join(" "),
                message: format!(
                    "a healthcheck test is [\"CMD\", ...] or [\"CMD-SHELL\", \"...\"], not {other}"
                ),
            }),
        }
    }

    /// The probe's argv.
    pub fn args(&self) -> Vec<String> {
        match self.test.first().map(String::as_str) {
            Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), self.test[1..].join(" ")],
            _ => self.test[1..].to_vec(),
        }
    }

    fn interval(&self) -> Duration {
        or_default(self.interval, DEFAULT_INTERVAL)
    }

    /// The wait before the first probe: the start interval when there is a start period.
    fn first_interval(&self) -> Duration {
        if self.start_interval > 0 && self.start_period > 0 {
            Duration::from_nanos(self.start_interval)
        } else {
            self.interval()
        }
    }

    fn timeout(&self) -> Duration {
        or_default(self.timeout, DEFAULT_TIMEOUT)
    }

    fn retries(&self) -> u32 {
        if self.retries == 0 {
            DEFAULT_RETRIES
        } else {
            self.retries
        }
    }
}

fn or_default(nanos: u64, default: Duration) -> Duration {
    if nanos == 0 {
        default
    } else {
        Duration::from_nanos(nanos)
    }
}

/// `State.Health`, in Docker's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: u32,
    pub log: Vec<HealthLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthLog {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

impl Health {
    pub(crate) fn starting() -> Self {
        Self {
            status: "starting".into(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }

    /// Docker's rule: a success makes it healthy; a failure counts unless it is still in
    /// its start period and has not been healthy yet; `retries` failures in a row make it
    /// unhealthy.
    fn record(&mut self, entry: HealthLog, in_start_period: bool, retries: u32) {
        if entry.exit_code == 0 {
            self.failing_streak = 0;
            self.status = "healthy".into();
        } else if !in_start_period || self.status != "starting" {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = "unhealthy".into();
            }
        }
        self.log.push(entry);
        let excess = self.log.len().saturating_sub(MAX_LOG_ENTRIES);
        self.log.drain(..excess);
    }
}

/// One probe, under way or armed.
struct Probe {
    helper: std::process::Child,
    pidfd: OwnedFd,
    /// While armed: the monitor's end of the helper's stdin, on which it waits for its go.
    go: Option<OwnedFd>,
    /// When it was told to go.
    started: Instant,
    start_time: String,
}

impl Probe {
    /// Kills the helper and what it started outside the container (the runtime's processes
    /// that join the container's cgroup on the way in), then reaps the helper. Those left
    /// without a parent come to the monitor, a subreaper, which reaps them before it removes
    /// the cgroup (`reap_orphans` in monitor.rs).
    fn kill(&mut self) {
        if let Some(group) = rustix::process::Pid::from_raw(self.helper.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.helper.wait();
    }
}

/// Runs the healthcheck of one running container from its monitor's poll loop.
pub(crate) struct HealthMonitor<'a> {
    engine: &'a Engine,
    record: &'a ContainerRecord,
    check: Healthcheck,
    state: ContainerState,
    state_path: PathBuf,
    output_path: PathBuf,
    result_path: PathBuf,
    started: Instant,
    next: Instant,
    probe: Option<Probe>,
    /// The child that paid the kernel's wait for the last probe's move into the container's
    /// cgroup, until reaped.
    warm_up: Option<i32>,
    /// Why healthchecking stopped (state could not be written...): it does not run on.
    failed: Option<EngineError>,
}

impl<'a> HealthMonitor<'a> {
    /// For a container that started at `started`: `state` is what the monitor wrote, with
    /// its health [`Health::starting`].
    pub(crate) fn new(
        engine: &'a Engine,
        record: &'a ContainerRecord,
        check: Healthcheck,
        state: ContainerState,
        state_path: PathBuf,
        started: Instant,
    ) -> Self {
        Self {
            engine,
            output_path: record.run.container_dir.join(OUTPUT_FILE),
            result_path: record.run.container_dir.join(RESULT_FILE),
            record,
            next: started + check.first_interval(),
            check,
            state,
            state_path,
            started,
            probe: None,
            warm_up: None,
            failed: None,
        }
    }

    /// How long the poll loop may sleep before [`HealthMonitor::tick`] has work.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        if self.failed.is_some() {
            return None;
        }
        let now = Instant::now();
        Some(match &self.probe {
            Some(probe) if probe.go.is_none() => {
                (probe.started + self.check.timeout() + HELPER_GRACE).saturating_duration_since(now)
            }
            Some(_) => self.next.saturating_duration_since(now),
            None => self
                .next
                .saturating_duration_since(now)
                .saturating_sub(ARM_AHEAD),
        })
    }

    /// The probe helper's pidfd: readable once it has exited.
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.probe.as_ref().map(|p| p.pidfd.as_fd())
    }

    /// Finishes a probe that exited or ran out of time, starts one when it is due. An error
    /// stops healthchecking; [`HealthMonitor::finish`] reports it.
    pub(crate) fn tick(&mut self) {
        if self.failed.is_none() {
            if let Err(error) = self.try_tick() {
                self.failed = Some(error);
            }
        }
    }

    fn try_tick(&mut self) -> Result<()> {
        self.reap_warm_up();
        if self.probe.is_none() && Instant::now() + ARM_AHEAD >= self.next {
            self.arm_probe()?;
        }
        if let Some(probe) = self.probe.as_mut().filter(|probe| probe.go.is_some()) {
            // A helper that ended before its go (it failed) is judged at once.
            let ended = probe.helper.try_wait().ok().flatten().is_some();
            if Instant::now() >= self.next || ended {
                // As Docker: no probe while the container is paused; the next an interval
                // later.
                let paused = wharf_runtime::cgroup::is_frozen(&self.record.run.cgroups_path())
                    .unwrap_or(false);
                if paused && !ended {
                    self.next = Instant::now() + self.interval();
                    return Ok(());
                }
                self.go();
            }
            return Ok(());
        }
        if let Some(probe) = &mut self.probe {
            let exited = probe.helper.try_wait().ok().flatten();
            let stuck = probe.started.elapsed() >= self.check.timeout() + HELPER_GRACE;
            if exited.is_none() && !stuck {
                return Ok(());
            }
            let mut probe = self.probe.take().expect("a probe runs");
            if exited.is_none() {
                probe.kill();
            }
            let result = std::fs::read_to_string(&self.result_path).unwrap_or_default();
            let (exit_code, output) = match parse_result(&result) {
                Some(ProbeResult::Exited(code)) => (code, self.read_output()),
                Some(ProbeResult::TimedOut) | None
                    if exited.is_none() || result.trim() == "timeout" =>
                {
                    (
                        -1,
                        format!(
                            "Health check exceeded timeout ({})",
                            go_duration(self.check.timeout())
                        ),
                    )
                }
                _ => (
                    -1,
                    format!("the healthcheck helper failed: {}", self.read_output()),
                ),
            };
            self.record_result(probe.start_time, exit_code, output)?;
            self.next = Instant::now() + self.interval();
            if Instant::now() + ARM_AHEAD >= self.next {
                self.arm_probe()?;
            }
        }
        Ok(())
    }

    /// As Docker's: the start interval while in the start period and still starting.
    fn interval(&self) -> Duration {
        let starting = self
            .state
            .health
            .as_ref()
            .is_none_or(|health| health.status == "starting");
        let in_start_period =
            self.started.elapsed() < Duration::from_nanos(self.check.start_period);
        if starting && in_start_period {
            self.check.first_interval()
        } else {
            self.check.interval()
        }
    }

    /// Reaps the warm-up child once it has ended (the monitor reaps any child only once the
    /// container has ended).
    fn reap_warm_up(&mut self) {
        if let Some(pid) = self.warm_up.and_then(rustix::process::Pid::from_raw) {
            let options = rustix::process::WaitOptions::NOHANG;
            if !matches!(rustix::process::waitpid(Some(pid), options), Ok(None)) {
                self.warm_up = None;
            }
        }
    }

    /// Starts the helper of the next probe ahead of time: it gets ready (the `wharf`
    /// binary started, the container looked up) and waits for [`HealthMonitor::go`], so
    /// that at the due time only the test's own start is left.
    fn arm_probe(&mut self) -> Result<()> {
        use crate::error::IoResultExt;
        let result = std::fs::File::create(&self.result_path).at("create", &self.result_path)?;
        let exe = std::env::current_exe().at("find", "the wharf executable")?;
        let (ours, theirs) =
            std::os::unix::net::UnixStream::pair().at("create a socket pair for", &exe)?;
        let helper = std::process::Command::new(&exe)
            .arg("--root")
            .arg(self.engine.root())
            .arg("--run-root")
            .arg(&self.engine.run_root)
            .arg(HEALTHCHECK_COMMAND)
            .arg(&self.record.id)
            .stdin(OwnedFd::from(theirs))
            .stdout(result)
            .stderr(std::process::Stdio::null())
            // A group of its own, for `Probe::kill` to end with what it started.
            .process_group(0)
            .spawn()
            .at("start the healthcheck helper", &exe)?;
        let pid = rustix::process::Pid::from_raw(helper.id() as i32).expect("a live pid");
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).map_err(
            |errno| EngineError::Io {
                op: "open a pidfd for",
                path: format!("/proc/{}", helper.id()).into(),
                source: errno.into(),
            },
        );
        let pidfd = match pidfd {
            Ok(fd) => fd,
            Err(error) => {
                let mut helper = helper;
                let _ = helper.kill();
                let _ = helper.wait();
                return Err(error);
            }
        };
        self.probe = Some(Probe {
            helper,
            pidfd,
            go: Some(ours.into()),
            started: Instant::now(),
            start_time: String::new(),
        });
        Ok(())
    }

    /// Tells the armed helper to run the test now.
    fn go(&mut self) {
        // The helper's move into the container's cgroup waits for an RCU grace period
        // (~8 ms here) unless another move came just before: a child pays it meanwhile,
        // while the helper gets on. Best effort: without it the probe only starts later.
        if self.warm_up.is_none() {
            self.warm_up = wharf_runtime::cgroup::warm_up_moves_in_child().ok();
        }
        let probe = self.probe.as_mut().expect("an armed probe");
        probe.start_time = now_rfc3339();
        probe.started = Instant::now();
        if let Some(go) = probe.go.take() {
            // A helper that has ended cannot read it: its exit tells.
            let _ = rustix::net::send(&go, GO, rustix::net::SendFlags::NOSIGNAL);
        }
    }

    fn read_output(&self) -> String {
        let mut bytes = Vec::new();
        if let Ok(file) = std::fs::File::open(&self.output_path) {
            let _ = file.take(MAX_OUTPUT as u64).read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn record_result(&mut self, start: String, exit_code: i32, output: String) -> Result<()> {
        let in_start_period =
            self.started.elapsed() < Duration::from_nanos(self.check.start_period);
        let retries = self.check.retries();
        let health = self.state.health.get_or_insert_with(Health::starting);
        health.record(
            HealthLog {
                start,
                end: now_rfc3339(),
                exit_code,
                output,
            },
            in_start_period,
            retries,
        );
        write_state(&self.state_path, &self.state)
    }

    /// Once the container has exited: stops a probe still under way, and hands the health
    /// back for the final state, with why healthchecking stopped if it did.
    pub(crate) fn finish(mut self) -> (Option<Health>, Option<EngineError>) {
        if let Some(mut probe) = self.probe.take() {
            // Its probe died with the container; it may still be starting one.
            probe.kill();
        }
        let _ = std::fs::remove_file(&self.output_path);
        let _ = std::fs::remove_file(&self.result_path);
        (self.state.health.take(), self.failed.take())
    }
}

/// How long past the timeout the monitor waits for a helper before killing it.
const HELPER_GRACE: Duration = Duration::from_secs(5);
/// How long before a probe is due its helper starts (see [`HealthMonitor::arm_probe`]).
const ARM_AHEAD: Duration = Duration::from_millis(50);
/// What the monitor sends an armed helper to run the test.
const GO: &[u8] = b"g";

/// The helper's result line.
fn parse_result(line: &str) -> Option<ProbeResult> {
    match line.trim() {
        "timeout" => Some(ProbeResult::TimedOut),
        other => other
            .strip_prefix("exit ")
            .and_then(|code| code.parse().ok())
            .map(ProbeResult::Exited),
    }
}

impl ProbeResult {
    /// The line the helper prints for the monitor.
    pub fn line(self) -> String {
        match self {
            ProbeResult::Exited(code) => format!("exit {code}"),
            ProbeResult::TimedOut => "timeout".into(),
        }
    }
}

impl Engine {
    /// The healthcheck helper: once its monitor says go on stdin, runs container `id`'s
    /// test once in it, output to the container's `health.out`, killing it after the
    /// timeout. A test that cannot run counts as exit code -1, its error as output, as
    /// Docker's. `None` when the monitor went away instead (stdin closed): nothing ran.
    /// **Call only from a single-threaded process.**
    pub fn run_healthcheck(&self, id: &str) -> Result<Option<ProbeResult>> {
        use crate::error::IoResultExt;
        // Started by a monitor that may block SIGWINCH (tty); the probe must not inherit it.
        crate::signals::unblock_all().at("unblock signals of", "the healthcheck")?;
        let info = self.find_container(id)?;
        let record = &info.record;
        let check = record
            .healthcheck
            .clone()
            .ok_or_else(|| EngineError::BadOption {
                flag: "--health-cmd",
                value: record.name.clone(),
                message: "the container has no healthcheck".into(),
            })?;
        let output_path = record.run.container_dir.join(OUTPUT_FILE);
        let (out, err) = output_file(&output_path)?;
        let stdio = Stdio {
            stdin: Some(super::exec::dev_null(false)?),
            stdout: Some(out),
            stderr: Some(err),
            console_socket: None,
        };
        let config = ExecConfig {
            args: check.args(),
            ..ExecConfig::default()
        };
        // Prepared before the go: at the due time only the process's start is left.
        let prepared = wharf_runtime::prepare_exec(&self.runtime_state_root(), &record.id, &config)
            .map_err(|e| super::monitor::runtime_error(&record.name, &e));
        let mut go = [0u8; 1];
        if !matches!(rustix::io::read(std::io::stdin(), &mut go), Ok(1) if go == GO) {
            return Ok(None);
        }
        let started = prepared.and_then(|prepared| {
            prepared
                .run(stdio)
                .map_err(|e| super::monitor::runtime_error(&record.name, &e))
        });
        let mut process = match started {
            Ok(process) => process,
            Err(error) => {
                let message = match &error {
                    EngineError::Runtime { message, .. } => message.clone(),
                    EngineError::Start { error, .. } => error.to_string(),
                    other => other.to_string(),
                };
                let _ = std::fs::write(&output_path, message);
                return Ok(Some(ProbeResult::Exited(-1)));
            }
        };
        Ok(Some(
            match wait_with_timeout(&mut process, check.timeout())? {
                Some(status) => ProbeResult::Exited(status.code()),
                None => {
                    let _ = process.kill(rustix::process::Signal::KILL.as_raw());
                    let _ = process.wait();
                    ProbeResult::TimedOut
                }
            },
        ))
    }
}

/// Waits for `process` at most `timeout` (on its pidfd).
fn wait_with_timeout(
    process: &mut ExecProcess,
    timeout: Duration,
) -> Result<Option<wharf_runtime::ExitStatus>> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let pid = rustix::process::Pid::from_raw(process.pid()).expect("a live pid");
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).map_err(
        |errno| EngineError::Io {
            op: "open a pidfd for",
            path: format!("/proc/{}", process.pid()).into(),
            source: errno.into(),
        },
    )?;
    let deadline = Instant::now() + timeout;
    loop {
        let status = process.try_wait().map_err(|e| EngineError::Runtime {
            name: String::new(),
            message: e.to_string(),
            exit_code: 125,
        })?;
        if status.is_some() {
            return Ok(status);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let left = Timespec::try_from(left).unwrap_or_default();
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&left)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(errno) => {
                return Err(EngineError::Io {
                    op: "poll the pidfd of",
                    path: format!("/proc/{}", process.pid()).into(),
                    source: errno.into(),
                })
            }
        }
    }
}

fn output_file(path: &std::path::Path) -> Result<(OwnedFd, OwnedFd)> {
    use crate::error::IoResultExt;
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .at("open", path)?;
    let copy = file.try_clone().at("open", path)?;
    Ok((file.into(), copy.into()))
}

/// A duration as Go prints it (`30s`, `1m30s`, `500ms`), for messages like Docker's.
fn go_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let secs = duration.as_secs_f64();
    let (minutes, seconds) = ((secs / 60.0).floor(), secs % 60.0);
    let seconds = format!("{seconds}").trim_end_matches(".0").to_string();
    if minutes >= 1.0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// Go's `time.ParseDuration` for the `--health-*` flags: `1s`, `500ms`, `1m30s`, `1h`.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration like 30s, 500ms or 1m30s");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| bad())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_end..];
        // Go refuses what overflows its durations; ours are longer, but not endless.
        total = Duration::try_from_secs_f64(number * scale)
            .ok()
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{text}` is longer than a duration can be"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
    }

    /// `--health-interval 99999999999999999999h` (or `events --since` of one) panicked in
    /// the conversion to a `Duration`; Go refuses what overflows its durations, as here.
    #[test]
    fn durations_too_long_are_refused_not_a_panic() {
        for text in [
            "99999999999999999999999h",
            "18446744073709551615s1h",
            "1e400h",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        let long = "9".repeat(400) + "s";
        assert!(parse_duration(&long).is_err());
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }

    #[test]
    fn flags_merge_over_the_image_check() {
        let image = serde_json::json!({
            "Test": ["CMD", "curl", "-f", "http://localhost/"],
            "Interval": 5_000_000_000u64,
            "Retries": 2,
        });
        let merged = Healthcheck::merge(Some(&image), &HealthOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(merged.args(), ["curl", "-f", "http://localhost/"]);
        assert_eq!(merged.interval(), Duration::from_secs(5));
        assert_eq!(merged.timeout(), DEFAULT_TIMEOUT);
        let options = HealthOptions {
            cmd: Some("test -e /ok".into()),
            retries: Some(1),
            ..HealthOptions::default()
        };
        let merged = Healthcheck::merge(Some(&image), &options).unwrap().unwrap();
        assert_eq!(merged.args(), ["/bin/sh", "-c", "test -e /ok"]);
        assert_eq!(
            (merged.retries(), merged.interval()),
            (1, Duration::from_secs(5))
        );
        let none = serde_json::json!({"Test": ["NONE"]});
        assert_eq!(
            Healthcheck::merge(Some(&none), &HealthOptions::default()).unwrap(),
            None
        );
        let disabled = HealthOptions {
            disable: true,
            ..HealthOptions::default()
        };
        assert_eq!(Healthcheck::merge(Some(&image), &disabled).unwrap(), None);
        assert_eq!(
            Healthcheck::merge(None, &HealthOptions::default()).unwrap(),
            None
        );
    }

    #[test]
    fn status_follows_dockers_rules() {
        let entry = |exit_code| HealthLog {
            start: String::new(),
            end: String::new(),
            exit_code,
            output: String::new(),
        };
        let mut health = Health::starting();
        health.record(entry(1), true, 1);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("starting", 0)
        );
        health.record(entry(1), false, 2);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("starting", 1)
        );
        health.record(entry(1), false, 2);
        assert_eq!(health.status, "unhealthy");
        health.record(entry(0), false, 2);
        assert_eq!(
            (health.status.as_str(), health.failing_streak),
            ("healthy", 0)
        );
        for _ in 0..10 {
            health.record(entry(0), false, 2);
        }
        assert_eq!(health.log.len(), MAX_LOG_ENTRIES);
    }
}
