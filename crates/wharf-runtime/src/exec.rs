//! Running another process in a running container (`exec`, healthchecks): libcontainer's
//! tenant builder joins the init's namespaces and cgroup.
//!
//! **The caller must be single-threaded**, as for [`crate::run::Container::create`]:
//! [`exec`] checks it and refuses otherwise. The process is the caller's child:
//! [`ExecProcess::wait`] or [`ExecProcess::try_wait`] reaps it.
//!
//! The process runs with the container's capabilities, rlimits, `no_new_privileges`, seccomp
//! filter (installed by [`FilteringExecutor`], as for the init) and environment (the `env`
//! given here on top).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use libcontainer::container::Container as Inner;
use oci_spec::runtime::Spec;
use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};

use crate::config::{layout, User};
use crate::filter::FilteringExecutor;
use crate::run::{container_builder, lc_error, load_spec, reap, ExitStatus, RunError, Stdio};
use crate::start_error::StartError;

/// What to run in the container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecConfig {
    /// argv; `args[0]` is resolved in the container's `PATH`.
    pub args: Vec<String>,
    /// `KEY=value` entries put over the container's environment.
    pub env: Vec<String>,
    /// Absolute working directory; the container's when `None`.
    pub cwd: Option<PathBuf>,
    /// Numeric credentials; the container's user when `None`.
    pub user: Option<User>,
    /// A pseudo-terminal as stdio: libcontainer sends its master to the console socket.
    pub tty: bool,
}

/// A process running in a container, child of the caller.
#[derive(Debug)]
pub struct ExecProcess {
    id: String,
    pid: Pid,
    exit: Option<ExitStatus>,
}

/// Runs `config` in the running container `id` (state under `state_root`) and returns once
/// the process has started (its program exec'd). A program that is missing or not executable
/// is an error naming it, as for the init.
///
/// **Call only from a single-threaded process** (checked).
pub fn exec(
    state_root: &Path,
    id: &str,
    config: &ExecConfig,
    stdio: Stdio,
) -> Result<ExecProcess, RunError> {
    prepare_exec(state_root, id, config)?.run(stdio)
}

/// An [`exec`] made ready up to the start of its process: the container's state and spec
/// read, the process written down. What is left takes a few milliseconds less than the
/// whole (a healthcheck prepares its probe before it is due). Dropped without
/// [`PreparedExec::run`], it removes what it wrote.
#[derive(Debug)]
pub struct PreparedExec {
    id: String,
    executor: FilteringExecutor,
    private_root: PathBuf,
}

/// [`exec`]'s first part: checks `config` and the container, and prepares its process.
pub fn prepare_exec(
    state_root: &Path,
    id: &str,
    config: &ExecConfig,
) -> Result<PreparedExec, RunError> {
    if config.args.is_empty() {
        return Err(RunError::Spec(crate::SpecError::Config(
            crate::ConfigError::EmptyArgs,
        )));
    }
    if let Some(cwd) = &config.cwd {
        if !cwd.is_absolute() {
            return Err(RunError::Spec(crate::SpecError::Config(
                crate::ConfigError::NotAbsolute {
                    field: "cwd",
                    path: cwd.clone(),
                },
            )));
        }
    }
    let state_dir = state_root.join(id);
    let inner = Inner::load(state_dir.clone()).map_err(|source| RunError::Libcontainer {
        action: "load the state of",
        id: id.to_owned(),
        source: Box::new(source),
    })?;
    if let (Some(cwd), Some(pid)) = (&config.cwd, inner.pid()) {
        // Seen as the process will see it: the init's root, with the container's mounts.
        let root = PathBuf::from(format!("/proc/{pid}/root"));
        crate::rootfs::find_dir_in_root(&root, cwd).map_err(|errno| StartError::WorkingDir {
            path: cwd.clone(),
            errno: errno.raw_os_error(),
        })?;
    }
    let spec = load_spec(&inner)?;
    let executor = FilteringExecutor::load(inner.bundle(), &spec)?;
    let process = tenant_process(&spec, config).ok_or_else(|| RunError::Io {
        action: "find the process in",
        path: inner.bundle().join(layout::CONFIG_JSON),
        source: io::ErrorKind::NotFound.into(),
    })?;

    // libcontainer leaves a socket per exec in the state dir it is given: give it a private
    // one (a copy of the container's state) inside the container's, removed when done, and
    // at the latest with the container.
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let prepared = PreparedExec {
        id: id.to_owned(),
        executor,
        private_root: state_dir.join(format!(
            "exec-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        )),
    };
    write_private_state(
        &state_dir,
        &prepared.private_root.join(id),
        &prepared.process_json(),
        &process,
    )?;
    Ok(prepared)
}

impl PreparedExec {
    fn process_json(&self) -> PathBuf {
        self.private_root.join("process.json")
    }

    /// Starts the process; returns once its program is exec'd.
    ///
    /// **Call only from a single-threaded process** (checked).
    pub fn run(mut self, stdio: Stdio) -> Result<ExecProcess, RunError> {
        ensure_single_threaded()?;
        let pid_file = self.private_root.join("exec.pid");
        let built = build(
            &self.private_root,
            &self.id,
            &self.process_json(),
            &pid_file,
            stdio,
            std::mem::take(&mut self.executor),
        );
        let mut cleanup = Vec::new();
        if built.is_err() {
            // The process may exist (it failed to exec): reap it.
            if let Err(error) = crate::run::reap_failed_init(&pid_file, &self.id) {
                cleanup.push(error);
            }
        }
        if let Err(error) = self.remove() {
            cleanup.push(error);
        }
        let pid = built.map_err(|error| error.with_cleanup(std::mem::take(&mut cleanup)))?;
        let mut process = ExecProcess {
            id: self.id.clone(),
            pid,
            exit: None,
        };
        if let Some(error) = cleanup.into_iter().next() {
            // Nothing half-done: a process whose files could not be removed does not run on.
            let _ = process.kill(rustix::process::Signal::KILL.as_raw());
            let _ = process.wait();
            return Err(error);
        }
        Ok(process)
    }

    fn remove(&self) -> Result<(), RunError> {
        match fs::remove_dir_all(&self.private_root) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(RunError::Io {
                action: "remove",
                path: self.private_root.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

impl Drop for PreparedExec {
    fn drop(&mut self) {
        // Removed already after a run; nobody to report to otherwise.
        let _ = self.remove();
    }
}

fn write_private_state(
    state_dir: &Path,
    private_dir: &Path,
    process_json: &Path,
    process: &oci_spec::runtime::Process,
) -> Result<(), RunError> {
    let io_error = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| RunError::Io {
            action,
            path,
            source,
        }
    };
    fs::create_dir_all(private_dir).map_err(io_error("create directory", private_dir))?;
    let state = state_dir.join("state.json");
    fs::copy(&state, private_dir.join("state.json")).map_err(io_error("copy", &state))?;
    let json = serde_json::to_vec(process).map_err(|e| RunError::Io {
        action: "serialize",
        path: process_json.to_owned(),
        source: e.into(),
    })?;
    fs::write(process_json, json).map_err(io_error("write", process_json))
}

fn build(
    state_root: &Path,
    id: &str,
    process_json: &Path,
    pid_file: &Path,
    stdio: Stdio,
    executor: FilteringExecutor,
) -> Result<Pid, RunError> {
    let pid = container_builder(id, state_root, pid_file, stdio)?
        .with_executor(executor)
        .as_tenant()
        .with_process(Some(process_json))
        .with_detach(true)
        .build()
        .map_err(lc_error("exec in", id))?;
    Pid::from_raw(pid.as_raw()).ok_or_else(|| RunError::NotRunning(id.to_owned()))
}

/// The container's own process, with `config`'s args, env, cwd and user on it.
fn tenant_process(spec: &Spec, config: &ExecConfig) -> Option<oci_spec::runtime::Process> {
    let mut process = spec.process().clone()?;
    process.set_args(Some(config.args.clone()));
    process.set_terminal(Some(config.tty));
    process.set_console_size(None);
    let mut env = process.env().clone().unwrap_or_default();
    // Docker's exec environment: TERM=xterm with a tty unless the container sets one.
    if config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".to_owned());
    }
    for entry in &config.env {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
        env.push(entry.clone());
    }
    process.set_env(Some(env));
    if let Some(cwd) = &config.cwd {
        process.set_cwd(cwd.clone());
    }
    if let Some(user) = &config.user {
        let mut spec_user = process.user().clone();
        spec_user.set_uid(user.uid);
        spec_user.set_gid(user.gid);
        spec_user.set_additional_gids(
            (!user.additional_gids.is_empty()).then(|| user.additional_gids.clone()),
        );
        process.set_user(spec_user);
    }
    Some(process)
}

/// libcontainer clones the caller and runs Rust code in the child: another thread's lock
/// held at that moment would stay locked there forever.
fn ensure_single_threaded() -> Result<(), RunError> {
    let tasks = Path::new("/proc/self/task");
    let count = fs::read_dir(tasks)
        .map_err(|source| RunError::Io {
            action: "list",
            path: tasks.to_owned(),
            source,
        })?
        .count();
    if count == 1 {
        Ok(())
    } else {
        Err(RunError::Threaded(count))
    }
}

impl ExecProcess {
    /// The process's pid, in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid.as_raw_nonzero().get()
    }

    /// Blocks until the process exits and reaps it.
    pub fn wait(&mut self) -> Result<ExitStatus, RunError> {
        loop {
            if let Some(status) = self.reap(WaitOptions::empty())? {
                return Ok(status);
            }
        }
    }

    /// Reaps the process if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, RunError> {
        self.reap(WaitOptions::NOHANG)
    }

    fn reap(&mut self, options: WaitOptions) -> Result<Option<ExitStatus>, RunError> {
        if let Some(status) = self.exit {
            return Ok(Some(status));
        }
        let Some(status) = reap(&self.id, self.pid, options)? else {
            return Ok(None);
        };
        self.exit = Some(status);
        Ok(Some(status))
    }

    /// Sends `signal` to the process (not to what it started).
    pub fn kill(&mut self, signal: i32) -> Result<(), RunError> {
        if self.exit.is_some() {
            return Ok(());
        }
        let sig = rustix::process::Signal::from_named_raw(signal)
            .ok_or(RunError::InvalidSignal(signal))?;
        match rustix::process::kill_process(self.pid, sig) {
            Ok(()) | Err(Errno::SRCH) => Ok(()),
            Err(errno) => Err(RunError::Signal {
                id: self.id.clone(),
                pid: self.pid(),
                source: errno.into(),
            }),
        }
    }
}
