//! Running one container with libcontainer: create, start, wait, kill, delete.
//!
//! **The caller must be single-threaded.** libcontainer's create clones the calling process
//! and runs Rust code in the child; with other threads alive, a lock one of them held (the
//! allocator's, stdout's, the environment's) stays locked forever in the child. wharf calls
//! this from a monitor process started before any thread exists. Create also marks the calling
//! process non-dumpable (no core dumps, `/proc/self` owned by root).
//!
//! The init process is the caller's child: [`Container::wait`] reaps it. Every error path
//! undoes what was done, in reverse: no mount, cgroup, state directory or process is left.

use std::fmt;
use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use libcgroups::common::CgroupManager;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::{Container as Inner, ContainerStatus};
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use oci_spec::runtime::Spec;
use rustix::io::Errno;
use rustix::process::{Pid, WaitOptions};
use serde::{Deserialize, Serialize};

use crate::cgroup;
use crate::config::{layout, Mount, RunConfig};
use crate::devices;
use crate::filter::{self, FilterError};
use crate::host::{Host, HostError};
use crate::rootfs::{self, Overlay, RootfsError};
use crate::spec::{self, SpecError};
use crate::start_error::StartError;

/// The init's stdio and terminal. `None` streams are inherited from the caller.
#[derive(Debug, Default)]
pub struct Stdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// For a tty: a listening unix socket to which libcontainer sends the pty master.
    pub console_socket: Option<PathBuf>,
}

/// How the init ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The exit code as Docker reports it: 128 + signal for a killed process.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(signal) => 128 + signal,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Exited(code) => write!(f, "exited with code {code}"),
            ExitStatus::Signaled(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: ExitStatus,
    /// The kernel's OOM killer killed a process in the container's cgroup.
    pub oom_killed: bool,
}

/// Why a container could not be run, stopped or removed; each names its object.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error("failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// The container's process cannot start: its command, working directory or a device.
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("container {id} already exists in {state_root}")]
    Exists { id: String, state_root: PathBuf },
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("invalid signal {0}")]
    InvalidSignal(i32),
    #[error("libcontainer needs a single-threaded caller, and this process has {0} threads")]
    Threaded(usize),
    #[error("failed to {action} container {id}")]
    Libcontainer {
        action: &'static str,
        id: String,
        // Boxed: libcontainer's error is large and every result here carries it.
        #[source]
        source: Box<LibcontainerError>,
    },
    #[error("failed to signal process {pid} of container {id}")]
    Signal {
        id: String,
        pid: i32,
        #[source]
        source: io::Error,
    },
    #[error("failed to wait for process {pid} of container {id}")]
    Wait {
        id: String,
        pid: i32,
        #[source]
        source: io::Error,
    },
    #[error("failed to open cgroup {path}")]
    CgroupOpen {
        path: PathBuf,
        #[source]
        source: libcgroups::common::CreateCgroupSetupError,
    },
    #[error("failed to remove cgroup {path}")]
    CgroupRemove {
        path: PathBuf,
        #[source]
        source: libcgroups::common::AnyManagerError,
    },
    #[error("cgroup setup of this host is unsupported")]
    CgroupSetup(#[source] libcgroups::common::GetCgroupSetupError),
    #[error("failed to {action} cgroup {path}")]
    Cgroup {
        action: &'static str,
        path: PathBuf,
        // Boxed, as libcontainer's: the manager's error is large.
        #[source]
        source: Box<libcgroups::common::AnyManagerError>,
    },
    #[error("cannot find the {controller} cgroup hierarchy")]
    CgroupHierarchy {
        controller: String,
        #[source]
        source: Box<libcgroups::v1::util::V1MountPointError>,
    },
    #[error("{error}; cleanup also failed: {}", list(cleanup))]
    Cleanup {
        error: Box<RunError>,
        cleanup: Vec<RunError>,
    },
}

fn list(errors: &[RunError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

/// The first of `errors`, carrying the rest, or `Ok` when there are none.
fn first_error(mut errors: Vec<RunError>) -> Result<(), RunError> {
    if errors.is_empty() {
        Ok(())
    } else {
        let first = errors.remove(0);
        Err(first.with_cleanup(errors))
    }
}

impl RunError {
    /// `self`, with any errors from the cleanup that followed it.
    pub(crate) fn with_cleanup(self, cleanup: Vec<RunError>) -> RunError {
        if cleanup.is_empty() {
            self
        } else {
            RunError::Cleanup {
                error: Box::new(self),
                cleanup,
            }
        }
    }
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> RunError + 'a {
    move |source| RunError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn lc_error<'a>(
    action: &'static str,
    id: &'a str,
) -> impl FnOnce(LibcontainerError) -> RunError + 'a {
    move |source| match StartError::find(&source) {
        // The executor's error, carried by libcontainer as text: the error, not the text.
        Some(error) => RunError::Start(error),
        None => RunError::Libcontainer {
            action,
            id: id.to_owned(),
            source: Box::new(source),
        },
    }
}

/// Creates, starts and waits for the container, then deletes it and unmounts its rootfs.
///
/// **Call only from a single-threaded process** (see the module docs).
pub fn run(config: &RunConfig, state_root: &Path, stdio: Stdio) -> Result<Outcome, RunError> {
    let mut container = Container::create(config, state_root, stdio)?;
    let outcome = container.start().and_then(|()| {
        let status = container.wait()?;
        // Before delete, which removes the cgroup that counts OOM kills.
        let oom_killed = container.oom_killed()?;
        Ok(Outcome { status, oom_killed })
    });
    match (outcome, container.delete()) {
        (Ok(outcome), Ok(())) => Ok(outcome),
        (Ok(_), Err(error)) => Err(error),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(cleanup)) => Err(error.with_cleanup(vec![cleanup])),
    }
}

/// A created container whose init is this process's child.
///
/// Dropping it without [`Container::delete`] still tears it down, best effort.
#[derive(Debug)]
pub struct Container {
    id: String,
    bundle: PathBuf,
    cgroups_path: PathBuf,
    overlay: Overlay,
    inner: Inner,
    pid: Pid,
    exit: Option<ExitStatus>,
    deleted: bool,
}

impl Container {
    /// Mounts the rootfs, writes `config.json` and creates the container: its namespaces,
    /// cgroup and init exist, and the init waits for [`Container::start`]. A network
    /// namespace set up beforehand is joined (`RunConfig::network_namespace`).
    ///
    /// **Call only from a single-threaded process** (see the module docs).
    pub fn create(config: &RunConfig, state_root: &Path, stdio: Stdio) -> Result<Self, RunError> {
        let mut spec = spec::build(config, &Host::current()?)?;
        devices::add_to_spec(&mut spec, &devices::gather(&config.devices)?)?;
        for file in [
            config.hostname_path(),
            config.hosts_path(),
            config.resolv_conf_path(),
        ] {
            fs::metadata(&file).map_err(io_error("read", &file))?;
        }
        fs::create_dir_all(state_root).map_err(io_error("create state root", state_root))?;
        let state_dir = state_root.join(&config.id);
        if state_dir.exists() {
            return Err(RunError::Exists {
                id: config.id.clone(),
                state_root: state_root.to_owned(),
            });
        }

        let overlay = config.overlay();
        overlay.mount()?;

        let built = check_mount_points(config, &spec, &overlay.merged)
            .and_then(|()| prepare_working_dir(&mut spec, &overlay.merged))
            .map_err(RunError::from)
            .and_then(|working_dir| build(config, state_root, spec, stdio, working_dir));
        match built {
            Ok((inner, pid)) => Ok(Container {
                id: config.id.clone(),
                bundle: config.container_dir.clone(),
                cgroups_path: config.cgroups_path(),
                overlay,
                inner,
                pid,
                exit: None,
                deleted: false,
            }),
            Err(error) => {
                // libcontainer cleans up after its own failures, not after one before or
                // after them: undo everything in reverse; each step is a no-op when done.
                let mut cleanup = Vec::new();
                reap_failed_init(&config.container_dir.join(layout::INIT_PID), &config.id)
                    .unwrap_or_else(|e| cleanup.push(e));
                remove_cgroup(&config.cgroups_path(), &config.id)
                    .unwrap_or_else(|e| cleanup.push(e));
                if state_dir.exists() {
                    fs::remove_dir_all(&state_dir)
                        .map_err(io_error("remove state dir", &state_dir))
                        .unwrap_or_else(|e| cleanup.push(e));
                }
                unmount_retrying(&overlay.merged).unwrap_or_else(|e| cleanup.push(e));
                Err(error.with_cleanup(cleanup))
            }
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The init's pid, in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid.as_raw_nonzero().get()
    }

    /// Lets the init exec the container's process.
    pub fn start(&mut self) -> Result<(), RunError> {
        self.inner.start().map_err(lc_error("start", &self.id))
    }

    /// Sends `signal` to the init.
    pub fn kill(&mut self, signal: i32) -> Result<(), RunError> {
        if self.exit.is_some() {
            return Err(RunError::NotRunning(self.id.clone()));
        }
        kill_inner(&mut self.inner, signal)
    }

    /// Blocks until the init exits and reaps it. When the init exits, the kernel kills every
    /// other process in the container's pid namespace.
    pub fn wait(&mut self) -> Result<ExitStatus, RunError> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        let status = loop {
            if let Some(status) = reap(&self.id, self.pid, WaitOptions::empty())? {
                break status;
            }
        };
        self.exit = Some(status);
        Ok(status)
    }

    /// [`Container::wait`] for a caller that is a child subreaper: reaps every other child
    /// that ends meanwhile. A process started in the container's pid namespace from outside
    /// (an exec whose parent died) is reparented to the subreaper, and the dying init waits
    /// in the kernel until it is reaped: waiting for the init alone would wait forever.
    pub fn wait_reaping_orphans(&mut self) -> Result<ExitStatus, RunError> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        loop {
            match rustix::process::wait(WaitOptions::empty()) {
                Ok(Some((pid, status))) if pid == self.pid => {
                    let Some(status) = exit_status(status) else {
                        continue;
                    };
                    self.exit = Some(status);
                    return Ok(status);
                }
                Ok(_) | Err(Errno::INTR) => {}
                Err(errno) => {
                    return Err(RunError::Wait {
                        id: self.id.clone(),
                        pid: self.pid.as_raw_nonzero().get(),
                        source: errno.into(),
                    })
                }
            }
        }
    }

    /// Whether the OOM killer killed anything in the container's cgroup. Ask before
    /// [`Container::delete`], which removes the cgroup.
    pub fn oom_killed(&self) -> Result<bool, RunError> {
        oom_killed(&self.cgroups_path)
    }

    /// Kills what still runs, reaps the init, removes the cgroup and the state, and unmounts
    /// the rootfs. The container directory (with the upper layer) stays.
    pub fn delete(mut self) -> Result<(), RunError> {
        self.deleted = true;
        first_error(self.teardown())
    }

    fn teardown(&mut self) -> Vec<RunError> {
        let mut errors = Vec::new();
        if self.exit.is_none() {
            // SIGKILL to the init takes the whole pid namespace down with it.
            match rustix::process::kill_process(self.pid, rustix::process::Signal::KILL) {
                Ok(()) | Err(Errno::SRCH) => {}
                Err(errno) => errors.push(RunError::Signal {
                    id: self.id.clone(),
                    pid: self.pid(),
                    source: errno.into(),
                }),
            }
            if let Err(error) = self.wait() {
                errors.push(error);
            }
        }
        if let Err(source) = self.inner.delete(true) {
            errors.push(lc_error("delete", &self.id)(source));
        }
        if let Err(error) = unmount_retrying(&self.overlay.merged) {
            errors.push(error);
        }
        let pid_file = self.bundle.join(layout::INIT_PID);
        if let Err(error) = remove_file_if_exists(&pid_file) {
            errors.push(error);
        }
        errors
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.deleted {
            // Nobody to report to; delete() is the way to see errors.
            let _ = self.teardown();
        }
    }
}

/// A bind whose source is gone, or of a file onto a directory of the image, or of a
/// directory (or a tmpfs) onto a file, fails in libcontainer with only "failed to prepare
/// rootfs": named here first. A destination below another mount cannot be seen from here,
/// and is left to libcontainer.
fn check_mount_points(config: &RunConfig, spec: &Spec, rootfs: &Path) -> Result<(), StartError> {
    for mount in &config.mounts {
        let (mounted, source_is_dir) = match mount {
            Mount::Bind { source, .. } => {
                let meta = fs::metadata(source).map_err(|e| StartError::BindSource {
                    path: source.clone(),
                    errno: e.raw_os_error().unwrap_or(libc::EIO),
                })?;
                (source.display().to_string(), meta.is_dir())
            }
            Mount::Tmpfs { .. } => ("tmpfs".to_owned(), true),
        };
        let destination = mount.destination();
        refuse_in_proc(rootfs, destination)?;
        if below_a_mount(spec, destination) {
            continue;
        }
        // Missing, libcontainer makes it; not reachable, libcontainer says so.
        let Ok(Some(destination_is_dir)) = rootfs::is_dir_in_root(rootfs, destination) else {
            continue;
        };
        if destination_is_dir != source_is_dir {
            return Err(StartError::MountType {
                mounted,
                destination: destination.to_owned(),
                source_is_dir,
            });
        }
    }
    Ok(())
}

/// What runc lets a mount cover inside /proc (lxcfs's files): anything else there would let
/// the container change what the runtime reads and writes in /proc while it sets the
/// container up (CVE-2019-19921), and an image's symlink to /proc must not get around it.
const PROC_FILES_MOUNTABLE: [&str; 10] = [
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Refuses a mount whose destination is /proc or inside it, as written or once the image's
/// symlinks are followed in `rootfs`, as runc does.
fn refuse_in_proc(rootfs: &Path, destination: &Path) -> Result<(), StartError> {
    let written: PathBuf = destination.components().collect();
    let resolved = rootfs::resolve_in_root(rootfs, destination).unwrap_or_else(|_| written.clone());
    for path in [&written, &resolved] {
        if path.starts_with("/proc") && !PROC_FILES_MOUNTABLE.iter().any(|f| path == Path::new(f)) {
            return Err(StartError::MountInProc {
                destination: destination.to_owned(),
                resolved: path.clone(),
            });
        }
    }
    Ok(())
}

/// Whether `path` is strictly below one of the spec's mounts, whose content the container's
/// root does not show (a mount point itself is there once mounted).
fn below_a_mount(spec: &Spec, path: &Path) -> bool {
    spec.mounts()
        .iter()
        .flatten()
        .any(|mount| path != mount.destination() && path.starts_with(mount.destination()))
}

/// Makes sure the process can enter its working directory, as Docker's daemon does before
/// runc starts it: in the container's root (`rootfs`), a missing one is made (root's, 0755,
/// also on a read-only root, whose upper layer is writable until the container makes it
/// read-only) and one that is not a directory is an error naming it. Below a mount the
/// container gets when it is created (a volume, a tmpfs, /proc), it cannot be seen from here:
/// the executor enters it (returned) and libcontainer is told `/`, so that any failure is
/// named rather than libcontainer's "failed to unix syscall".
fn prepare_working_dir(spec: &mut Spec, rootfs: &Path) -> Result<Option<PathBuf>, StartError> {
    let Some(cwd) = spec.process().as_ref().map(|p| p.cwd().clone()) else {
        return Ok(None);
    };
    if below_a_mount(spec, &cwd) {
        if let Some(process) = spec.process_mut() {
            process.set_cwd(PathBuf::from("/"));
        }
        return Ok(Some(cwd));
    }
    rootfs::make_dir_in_root(rootfs, &cwd).map_err(|errno| StartError::WorkingDir {
        path: cwd,
        errno: errno.raw_os_error(),
    })?;
    Ok(None)
}

fn build(
    config: &RunConfig,
    state_root: &Path,
    mut spec: Spec,
    stdio: Stdio,
    working_dir: Option<PathBuf>,
) -> Result<(Inner, Pid), RunError> {
    let id = config.id.as_str();
    let bundle = &config.container_dir;
    let mut executor = filter::hand_off(&mut spec, &filter_cache_dir(state_root))?.for_init();
    if let Some(dir) = working_dir {
        executor = executor.with_working_dir(dir);
    }
    executor.save(bundle)?;
    let config_json = bundle.join(layout::CONFIG_JSON);
    let json = serde_json::to_vec_pretty(&spec).map_err(|e| RunError::Io {
        action: "serialize",
        path: config_json.clone(),
        source: e.into(),
    })?;
    fs::write(&config_json, json).map_err(io_error("write", &config_json))?;
    let pid_file = bundle.join(layout::INIT_PID);
    remove_file_if_exists(&pid_file)?;

    let inner = container_builder(id, state_root, &pid_file, stdio)?
        .with_executor(executor)
        .as_init(bundle)
        .with_systemd(false)
        .with_detach(true)
        .build()
        .map_err(lc_error("create", id))?;
    let pid = inner
        .pid()
        .and_then(|pid| Pid::from_raw(pid.as_raw()))
        .ok_or_else(|| RunError::NotRunning(id.to_owned()))?;
    Ok((inner, pid))
}

/// Where compiled seccomp filters are kept: beside the containers' states, whose ids are hex.
fn filter_cache_dir(state_root: &Path) -> PathBuf {
    state_root.join(".seccomp")
}

/// A libcontainer builder for container `id` with the state root, pid file and stdio set,
/// ready to become an init (`as_init`) or a process in a running container (`as_tenant`).
pub(crate) fn container_builder(
    id: &str,
    state_root: &Path,
    pid_file: &Path,
    stdio: Stdio,
) -> Result<ContainerBuilder, RunError> {
    let mut builder = ContainerBuilder::new(id.to_owned(), SyscallType::default())
        .with_root_path(state_root)
        .map_err(lc_error("set the state root of", id))?
        .with_pid_file(Some(pid_file))
        .map_err(lc_error("set the pid file of", id))?
        .with_console_socket(stdio.console_socket.as_ref());
    if let Some(fd) = stdio.stdin {
        builder = builder.with_stdin(fd);
    }
    if let Some(fd) = stdio.stdout {
        builder = builder.with_stdout(fd);
    }
    if let Some(fd) = stdio.stderr {
        builder = builder.with_stderr(fd);
    }
    builder
        .validate_id()
        .map_err(lc_error("validate the id of", id))
}

/// Reaps our child `pid` (of container `id`), blocking unless `options` says NOHANG:
/// its exit status once it has ended, `None` while it runs or when interrupted.
/// How a process ended; `None` when it only stopped or continued.
fn exit_status(status: rustix::process::WaitStatus) -> Option<ExitStatus> {
    status
        .exit_status()
        .map(ExitStatus::Exited)
        .or_else(|| status.terminating_signal().map(ExitStatus::Signaled))
}

pub(crate) fn reap(
    id: &str,
    pid: Pid,
    options: WaitOptions,
) -> Result<Option<ExitStatus>, RunError> {
    match rustix::process::waitpid(Some(pid), options) {
        Ok(Some((_, status))) => Ok(exit_status(status)),
        Ok(None) | Err(Errno::INTR) => Ok(None),
        Err(errno) => Err(RunError::Wait {
            id: id.to_owned(),
            pid: pid.as_raw_nonzero().get(),
            source: errno.into(),
        }),
    }
}

/// After a failed create the init may exist (a zombie, or waiting for start); libcontainer
/// wrote its pid before failing. Kill and reap it.
pub(crate) fn reap_failed_init(pid_file: &Path, id: &str) -> Result<(), RunError> {
    let text = match fs::read_to_string(pid_file) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("read", pid_file)(e)),
    };
    remove_file_if_exists(pid_file)?;
    let Some(pid) = text.trim().parse().ok().and_then(Pid::from_raw) else {
        return Ok(());
    };
    match rustix::process::kill_process(pid, rustix::process::Signal::KILL) {
        Ok(()) | Err(Errno::SRCH) => {}
        Err(errno) => {
            return Err(RunError::Signal {
                id: id.to_owned(),
                pid: pid.as_raw_nonzero().get(),
                source: errno.into(),
            });
        }
    }
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            // ECHILD: not our child (already reaped, or the pid was never the init).
            Ok(_) | Err(Errno::CHILD) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(errno) => {
                return Err(RunError::Wait {
                    id: id.to_owned(),
                    pid: pid.as_raw_nonzero().get(),
                    source: errno.into(),
                });
            }
        }
    }
}

/// Removes the container's cgroup if it still exists, killing what is left in it.
fn remove_cgroup(cgroups_path: &Path, id: &str) -> Result<(), RunError> {
    cgroup::manager(cgroups_path, id)?
        .remove()
        .map_err(|source| RunError::CgroupRemove {
            path: cgroups_path.to_owned(),
            source,
        })
}

pub(crate) fn remove_file_if_exists(path: &Path) -> Result<(), RunError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", path)(e)),
    }
}

/// Unmounts the rootfs. The container's mount namespace, which holds it busy, goes away with
/// the container's last process, which may take a moment after a SIGKILL.
fn unmount_retrying(path: &Path) -> Result<(), RunError> {
    let mut delay = Duration::from_millis(1);
    loop {
        match rootfs::unmount(path) {
            Err(RootfsError::Unmount { source, .. })
                if source.raw_os_error() == Some(Errno::BUSY.raw_os_error())
                    && delay < Duration::from_secs(1) =>
            {
                thread::sleep(delay);
                delay *= 2;
            }
            result => return result.map_err(RunError::from),
        }
    }
}

fn kill_inner(inner: &mut Inner, signal: i32) -> Result<(), RunError> {
    let named =
        rustix::process::Signal::from_named_raw(signal).ok_or(RunError::InvalidSignal(signal))?;
    let id = inner.id().to_owned();
    inner
        .refresh_status()
        .map_err(lc_error("read the status of", &id))?;
    let pid = inner
        .pid()
        .and_then(|pid| Pid::from_raw(pid.as_raw()))
        .filter(|_| inner.status() != ContainerStatus::Stopped)
        .ok_or_else(|| RunError::NotRunning(id.clone()))?;
    // Sent here rather than by libcontainer's `kill`, which then saves the state as stopped
    // (whatever the signal): that save failed ("failed to open container state file") when
    // the signal had ended the container and its monitor had removed the state already.
    match rustix::process::kill_process(pid, named) {
        Ok(()) => Ok(()),
        Err(Errno::SRCH) => Err(RunError::NotRunning(id)),
        Err(errno) => Err(RunError::Signal {
            id,
            pid: pid.as_raw_nonzero().get(),
            source: errno.into(),
        }),
    }
}

/// The spec a container was created with (its bundle's `config.json`).
pub(crate) fn load_spec(inner: &Inner) -> Result<Spec, RunError> {
    let config_json = inner.bundle().join(layout::CONFIG_JSON);
    Spec::load(&config_json).map_err(|e| RunError::Io {
        action: "read",
        path: config_json,
        source: io::Error::other(e),
    })
}

fn load(state_root: &Path, id: &str) -> Result<Inner, RunError> {
    Inner::load(state_root.join(id)).map_err(lc_error("load the state of", id))
}

/// Sends `signal` to the init of container `id`, from any process (not only its monitor).
pub fn kill(state_root: &Path, id: &str, signal: i32) -> Result<(), RunError> {
    kill_inner(&mut load(state_root, id)?, signal)
}

/// Before container `id` is created again: the state of a run whose monitor died without
/// deleting it (killed, or a power cut; `WHARF_RUN` is not always cleared at boot) is
/// deleted as [`delete`] does; a state torn by the crash, which cannot be read, is removed.
pub fn clear_stale(state_root: &Path, id: &str) -> Result<(), RunError> {
    let state_dir = state_root.join(id);
    if !state_dir.exists() {
        return Ok(());
    }
    if delete(state_root, id).is_err() && state_dir.exists() {
        fs::remove_dir_all(&state_dir).map_err(io_error("remove", &state_dir))?;
    }
    Ok(())
}

/// Removes container `id` from any process, e.g. after its monitor died: kills what still
/// runs, removes the cgroup and the state, and unmounts the rootfs named in its `config.json`.
/// The init is not this process's child, so it is not reaped here.
pub fn delete(state_root: &Path, id: &str) -> Result<(), RunError> {
    let mut inner = load(state_root, id)?;
    let spec = load_spec(&inner)?;
    let merged = spec
        .root()
        .as_ref()
        .map(|root| root.path().clone())
        .ok_or_else(|| RunError::Io {
            action: "find the rootfs in",
            path: inner.bundle().join(layout::CONFIG_JSON),
            source: io::ErrorKind::NotFound.into(),
        })?;
    let mut errors = Vec::new();
    if let Err(source) = inner.delete(true) {
        errors.push(lc_error("delete", id)(source));
    }
    if let Err(error) = unmount_retrying(&merged) {
        errors.push(error);
    }
    if let Err(error) = remove_file_if_exists(&inner.bundle().join(layout::INIT_PID)) {
        errors.push(error);
    }
    first_error(errors)
}

/// Reads the OOM kill count of cgroup `cgroups_path`: `memory.oom_control` on cgroup v1,
/// `memory.events` on v2. A cgroup without the memory controller saw no OOM kill.
fn oom_killed(cgroups_path: &Path) -> Result<bool, RunError> {
    let file = cgroup::controller_file(
        cgroups_path,
        libcgroups::v1::ControllerType::Memory,
        "memory.oom_control",
        "memory.events",
    )?;
    Ok(cgroup::read_if_exists(&file)?.is_some_and(|text| {
        text.lines()
            .filter_map(|line| line.strip_prefix("oom_kill "))
            .any(|count| count.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        assert_eq!(ExitStatus::Exited(3).code(), 3);
        assert_eq!(ExitStatus::Signaled(9).code(), 137);
    }

    #[test]
    fn cleanup_errors_are_kept() {
        let error =
            RunError::NotRunning("a".to_owned()).with_cleanup(vec![RunError::InvalidSignal(99)]);
        assert_eq!(
            error.to_string(),
            "container a is not running; cleanup also failed: invalid signal 99"
        );
    }
}
