//! Everything after create: start, stop, kill, rm, ps, wait, logs, inspect. Each reads the
//! state the monitor wrote and first reconciles it with reality, so a monitor killed with
//! SIGKILL shows as exited (and is cleaned up) at the next command.

use std::io::{BufRead, BufReader, Seek};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::logfile::{rotated_files, LogDriver};
use super::monitor::{is_alive, Attach};
use super::record::{
    container_dir, read_json, write_state, ContainerRecord, ContainerState, Status, LOG_FILE,
    RECORD_FILE, STATE_FILE, STOPPED_BY_USER_FILE,
};
use crate::error::{EngineError, IoResultExt, Result};
use crate::{now_rfc3339, Engine};

/// A container with its current state.
#[derive(Debug, Clone)]
pub struct ContainerInfo {
    pub record: ContainerRecord,
    pub state: ContainerState,
    /// Running, with its processes frozen (`pause`): read from its cgroup, never stored.
    pub paused: bool,
}

/// What `logs` shows: `--tail`, `--follow`, `--since`, `--until`.
#[derive(Debug, Clone, Default)]
pub struct LogsOptions {
    /// The last this many lines (before `since` and `until` apply, as Docker's).
    pub tail: Option<usize>,
    pub follow: bool,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// One line of a container's log.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub stream: String,
    pub time: String,
    pub text: String,
}

pub(super) const POLL: Duration = Duration::from_millis(5);
/// How long `rm -f` waits for a killed container and its monitor to end (a loaded or
/// emulated machine can take seconds).
const KILL_WAIT: Duration = Duration::from_secs(60);

impl Engine {
    /// Finds a container by full id, unique id prefix, or name.
    pub fn find_container(&self, name: &str) -> Result<ContainerInfo> {
        let id = self.resolve_container(name)?;
        self.container_info(&id)
    }

    fn resolve_container(&self, name: &str) -> Result<String> {
        if let Some(id) = self.id_by_name(name) {
            return Ok(id);
        }
        let not_found = || EngineError::ContainerNotFound(name.to_string());
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut matches = self
            .container_ids()?
            .into_iter()
            .filter(|id| id.starts_with(name));
        match (matches.next(), matches.next()) {
            (Some(id), None) => Ok(id),
            _ => Err(not_found()),
        }
    }

    fn container_ids(&self) -> Result<Vec<String>> {
        let dir = self.root().join("containers");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).at("list", &dir),
        };
        Ok(entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|name| {
                name.len() == 64 && container_dir(self.root(), name).join(RECORD_FILE).exists()
            })
            .collect())
    }

    /// Reads a container, reconciling a dead monitor first.
    pub(crate) fn container_info(&self, id: &str) -> Result<ContainerInfo> {
        let dir = container_dir(self.root(), id);
        let record: ContainerRecord = read_json(&dir.join(RECORD_FILE))
            .map_err(|_| EngineError::ContainerNotFound(id.to_string()))?;
        let state_path = dir.join(STATE_FILE);
        let read_state = || match read_json(&state_path) {
            Ok(state) => Ok(state),
            // It is replaced atomically but not synced: a power cut can leave it empty. No
            // monitor outlives one, so the container is not running. (A file gone is an `rm`
            // at work.)
            Err(_) if state_path.exists() => Ok(lost_state(&dir)),
            Err(e) => Err(e),
        };
        let mut state: ContainerState = read_state()?;
        let monitor_gone = |state: &ContainerState| {
            let starting = state.status == Status::Created && state.monitor_pid.is_some();
            (state.status.is_up() || starting)
                && !state
                    .monitor_pid
                    .is_some_and(|pid| is_alive(pid, state.monitor_start_time))
        };
        // A monitor records the container's end, or hands a restarting one to the next
        // monitor, and then exits: a state read just before names a monitor gone by the
        // time it is checked. Only a state that stays the same names a dead one.
        while monitor_gone(&state) {
            let again = read_state()?;
            let same = (again.status, again.monitor_pid, again.monitor_start_time)
                == (state.status, state.monitor_pid, state.monitor_start_time);
            state = again;
            if same {
                break;
            }
        }
        if monitor_gone(&state) {
            // The monitor died without recording the end: kill what runs, clean up, say so.
            let _ = wharf_runtime::run::delete(&self.runtime_state_root(), id);
            let _ = self.detach_networks(id);
            state.status = Status::Exited;
            state.exit_code = Some(137);
            state.finished_at = Some(now_rfc3339());
            state.error = Some("the container's monitor was killed".into());
            write_state(&dir.join(STATE_FILE), &state)?;
        }
        let paused = state.status == Status::Running
            && wharf_runtime::cgroup::is_frozen(&record.run.cgroups_path()).unwrap_or(false);
        Ok(ContainerInfo {
            record,
            state,
            paused,
        })
    }

    /// Every container, newest first.
    pub fn list_containers(&self) -> Result<Vec<ContainerInfo>> {
        let mut all: Vec<ContainerInfo> = self
            .container_ids()?
            .iter()
            .filter_map(|id| self.container_info(id).ok())
            .collect();
        all.sort_by(|a, b| b.record.created.cmp(&a.record.created));
        Ok(all)
    }

    /// A container is about to start (`run`, `start`): begins paying, on a thread of this
    /// process, the kernel's wait for the container's move into its cgroup, while the
    /// container is set up ([`wharf_runtime::cgroup::warm_up_moves`]).
    pub fn warm_up_container_start(&self) {
        // Best effort, as the warm-up itself: without it the start only waits longer.
        let _ = crate::signals::with_all_blocked(wharf_runtime::cgroup::warm_up_moves);
    }

    /// Starts a created or exited container through a new monitor.
    pub fn start_container(&self, name: &str, attach: Attach) -> Result<std::process::Child> {
        let info = self.find_container(name)?;
        if info.state.status.is_up() {
            return Err(EngineError::BadOption {
                flag: "start",
                value: info.record.name,
                message: "the container is already running".into(),
            });
        }
        self.spawn_monitor(&info.record.id, attach)
    }

    /// Sends `signal` (a name like `SIGTERM`/`TERM` or a number) to the container's init.
    /// SIGKILL or the container's stop signal stop it for good: its restart policy does not
    /// restart it (until the next `start`), and one waiting to restart stays exited.
    pub fn kill_container(&self, name: &str, signal: &str) -> Result<()> {
        let info = self.find_container(name)?;
        let number = parse_signal(signal)?;
        let stops = number == 9 || signal_number(&info.record.stop_signal) == Some(number);
        match info.state.status {
            Status::Running => {}
            Status::Restarting if stops => return self.mark_stopped_by_user(&info.record.id),
            _ => {
                return Err(EngineError::ContainerNotRunning {
                    name: info.record.name,
                })
            }
        }
        if stops {
            self.mark_stopped_by_user(&info.record.id)?;
        }
        let runtime_error = |e: wharf_runtime::RunError| EngineError::Runtime {
            name: info.record.name.clone(),
            message: wharf_oci::error_chain(&e),
            exit_code: 125,
        };
        wharf_runtime::run::kill(&self.runtime_state_root(), &info.record.id, number)
            .map_err(runtime_error)?;
        self.record_event("kill", &info.record, &[("signal", number.to_string())]);
        // As Docker: a paused container is thawed, so that it gets the signal.
        if info.paused {
            wharf_runtime::cgroup::set_frozen(
                &info.record.run.cgroups_path(),
                &info.record.id,
                false,
            )
            .map_err(runtime_error)?;
        }
        Ok(())
    }

    /// `start --all-restartable`, for the boot unit (contrib/systemd/wharf-restart.service):
    /// the containers that are not running and whose restart policy starts them at boot
    /// ([`RestartPolicy::at_boot`]), oldest first. Reading each container reconciles one
    /// whose monitor died with the machine.
    pub fn restartable_at_boot(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .list_containers()?
            .into_iter()
            .filter(|info| {
                let state = &info.state;
                let stopped_by_user = container_dir(self.root(), &info.record.id)
                    .join(STOPPED_BY_USER_FILE)
                    .exists();
                !state.status.is_up()
                    && state.started_at.is_some()
                    && info
                        .record
                        .restart_policy
                        .at_boot(state.exit_code.unwrap_or(0), stopped_by_user)
            })
            .map(|info| info.record.name)
            .collect();
        names.reverse();
        Ok(names)
    }

    /// Tells the container's monitor not to restart it.
    pub(super) fn mark_stopped_by_user(&self, id: &str) -> Result<()> {
        let path = container_dir(self.root(), id).join(STOPPED_BY_USER_FILE);
        std::fs::write(&path, b"").at("write", &path)
    }

    /// Waits until the container is not running (or `timeout` passes) and returns its state.
    pub fn wait_exited(
        &self,
        id: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<ContainerState>> {
        let start = Instant::now();
        loop {
            let info = self.container_info(id)?;
            if is_not_running(&info.state) {
                return Ok(Some(info.state));
            }
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }

    /// `container prune`: removes every container that is not running (created or exited);
    /// returns their ids and the bytes of their writable layers.
    pub fn prune_containers(&self) -> Result<(Vec<String>, u64)> {
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for container in self.list_containers()? {
            if matches!(container.state.status, Status::Exited | Status::Created) {
                // Its whole folder, log and config with the writable layer: what `du` sees go.
                let size = self.container_disk_bytes(&container.record.id);
                self.remove_container(&container.record.id, false, false)?;
                reclaimed += size;
                removed.push(container.record.id);
            }
        }
        Ok((removed, reclaimed))
    }

    /// `wharf rm [-f] [-v]`: removes the container and its writable layer; with `volumes`,
    /// its anonymous volumes too.
    pub fn remove_container(&self, name: &str, force: bool, volumes: bool) -> Result<String> {
        let info = self.find_container(name)?;
        let id = info.record.id.clone();
        if info.state.status.is_up() {
            if !force {
                return Err(EngineError::ContainerRunning {
                    name: info.record.name,
                });
            }
            let _ = self.kill_container(&id, "SIGKILL");
            // Nothing is removed under a monitor still at work: it records the exit before
            // its last cleanup, and `rm -f`, as Docker's, returns when nothing runs.
            let ended = self
                .wait_exited(&id, Some(KILL_WAIT))?
                .is_some_and(|state| wait_monitor_gone(&state, KILL_WAIT));
            if !ended {
                return Err(EngineError::ContainerDidNotEnd {
                    name: info.record.name,
                    seconds: KILL_WAIT.as_secs(),
                });
            }
        }
        let dir = container_dir(self.root(), &id);
        // Never delete through a still-mounted rootfs.
        let merged = info.record.run.merged_dir();
        if is_mounted(&merged) {
            let _ = wharf_runtime::run::delete(&self.runtime_state_root(), &id);
            wharf_runtime::rootfs::unmount(&merged).map_err(|e| EngineError::Runtime {
                name: info.record.name.clone(),
                message: e.to_string(),
                exit_code: 125,
            })?;
        }
        self.keep_exit_of_removed(&id, info.state.exit_code);
        // The record goes first, so a half-removed folder is never listed.
        let record_path = dir.join(RECORD_FILE);
        match std::fs::remove_file(&record_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).at("remove", &record_path)
            }
            _ => {}
        }
        match std::fs::remove_dir_all(&dir) {
            // The other remover of a `--rm` container (its monitor, or `rm -f`) is at it too.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            result => result.at("remove", &dir)?,
        }
        self.release_name(&info.record.name);
        // What a dead monitor left in the networks (its own are gone by now).
        let _ = self.detach_networks(&id);
        let _ = self.reconcile_networks(true);
        if volumes {
            self.remove_anonymous_volumes(&info.record.volumes);
        }
        self.record_event("destroy", &info.record, &[]);
        Ok(info.record.name)
    }

    /// The container's log lines, from its rotated files on, oldest first; with `follow`,
    /// calls `each` as lines arrive until the container has exited (or `until` has passed).
    pub fn container_logs(
        &self,
        name: &str,
        options: &LogsOptions,
        mut each: impl FnMut(&LogLine),
    ) -> Result<()> {
        self.container_logs_while(name, options, |line| {
            each(line);
            ControlFlow::Continue(())
        })
    }

    /// As [`Engine::container_logs`], ending early when `each` breaks (its reader has gone).
    /// A container removed while followed (`--rm`) has ended: its last lines are read from
    /// the file still open.
    pub fn container_logs_while(
        &self,
        name: &str,
        options: &LogsOptions,
        mut each: impl FnMut(&LogLine) -> ControlFlow<()>,
    ) -> Result<()> {
        let info = self.find_container(name)?;
        if info.record.log_config.driver == LogDriver::None {
            return Err(EngineError::NoLogs {
                name: info.record.name,
                driver: LogDriver::None.as_str(),
            });
        }
        let wanted = |line: &LogLine| {
            let time = OffsetDateTime::parse(&line.time, &Rfc3339).ok();
            options
                .since
                .is_none_or(|since| time.is_some_and(|t| t >= since))
                && options
                    .until
                    .is_none_or(|until| time.is_some_and(|t| t <= until))
        };
        let path = container_dir(self.root(), &info.record.id).join(LOG_FILE);
        let mut lines = Vec::new();
        for rotated in rotated_files(&path) {
            match std::fs::File::open(&rotated) {
                Ok(file) => read_lines(&mut BufReader::new(file), &rotated, &mut lines)?,
                // Rotated away while we read: its lines are in the next file.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).at("open", &rotated),
            }
        }
        // A follower of a container not started yet makes the log file the monitor will
        // append to: it then reads every line even if a `--rm` container is removed (its
        // folder deleted) before the follower would have looked again.
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .append(options.follow)
            .create(options.follow)
            .open(&path);
        let mut reader = match opened {
            Ok(file) => Some(BufReader::new(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).at("open", &path),
        };
        if let Some(reader) = &mut reader {
            read_lines(reader, &path, &mut lines)?;
        }
        let skip = options.tail.map_or(0, |n| lines.len().saturating_sub(n));
        let sent = lines
            .iter()
            .skip(skip)
            .filter(|l| wanted(l))
            .try_for_each(&mut each);
        if !options.follow || sent.is_break() {
            return Ok(());
        }
        loop {
            let exited = match self.container_info(&info.record.id) {
                // Its start failed since we began: it will log nothing more.
                Ok(now) if now.state.status == Status::Created => {
                    now.state.monitor_pid.is_none()
                        && now.state.error.is_some()
                        && now.state.error != info.state.error
                }
                Ok(now) => now.state.status == Status::Exited,
                Err(EngineError::ContainerNotFound(_)) => true,
                Err(error) => return Err(error),
            };
            let mut arrived = Vec::new();
            if let Some(open) = &mut reader {
                read_lines(open, &path, &mut arrived)?;
            }
            // The monitor rotated the file: what we read is complete, go on with the new one.
            if reader
                .as_ref()
                .is_none_or(|open| is_replaced(open.get_ref(), &path))
            {
                // What reached the old file between the read above and its rotation.
                if let Some(open) = &mut reader {
                    read_lines(open, &path, &mut arrived)?;
                }
                if let Ok(file) = std::fs::File::open(&path) {
                    let mut next = BufReader::new(file);
                    read_lines(&mut next, &path, &mut arrived)?;
                    reader = Some(next);
                }
            }
            let past_until = options
                .until
                .is_some_and(|until| OffsetDateTime::now_utc() > until);
            if arrived
                .iter()
                .filter(|l| wanted(l))
                .try_for_each(&mut each)
                .is_break()
            {
                return Ok(());
            }
            if (exited || past_until) && arrived.is_empty() {
                return Ok(());
            }
            if arrived.is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Container names and ids that use image `id`, for rmi and prune.
    pub(crate) fn containers_using(&self, image: &wharf_oci::Digest) -> Result<Vec<String>> {
        Ok(self
            .list_containers()?
            .into_iter()
            .filter(|c| &c.record.image_id == image)
            .map(|c| c.record.name)
            .collect())
    }

    /// `inspect` of a container, in Docker's JSON shape.
    pub fn inspect_container(&self, name: &str) -> Result<Value> {
        let ContainerInfo {
            record,
            state,
            paused,
        } = self.find_container(name)?;
        let run = &record.run;
        let mounts = mounts_json(&record);
        let zero_time = "0001-01-01T00:00:00Z";
        let health = record.healthcheck.as_ref().map(|_| {
            state.health.clone().unwrap_or_else(|| crate::Health {
                status: "starting".into(),
                failing_streak: 0,
                log: Vec::new(),
            })
        });
        let network_settings = self.network_settings(&record, &state);
        let (network_host_config, exposed_ports) = Engine::network_host_config(&record);
        let mut value = json!({
            "Id": record.id,
            "Created": record.created,
            "Path": run.process.args.first(),
            "Args": run.process.args.get(1..).unwrap_or_default(),
            "State": {
                "Status": if paused { "paused" } else { state.status.as_str() },
                // Docker counts a container waiting to restart as running.
                "Running": state.status.is_up(),
                "Paused": paused,
                "Restarting": state.status == Status::Restarting,
                "OOMKilled": state.oom_killed,
                "Dead": false,
                "Pid": if state.status == Status::Running { state.pid.unwrap_or(0) } else { 0 },
                "ExitCode": state.exit_code.unwrap_or(0),
                "Error": state.error.clone().unwrap_or_default(),
                "StartedAt": state.started_at.clone().unwrap_or_else(|| zero_time.into()),
                "FinishedAt": state.finished_at.clone().unwrap_or_else(|| zero_time.into()),
            },
            "RestartCount": state.restart_count,
            "Image": record.image_id.to_string(),
            "ResolvConfPath": run.resolv_conf_path(),
            "HostnamePath": run.hostname_path(),
            "HostsPath": run.hosts_path(),
            "LogPath": match record.log_config.driver {
                LogDriver::JsonFile => container_dir(self.root(), &record.id).join(LOG_FILE),
                LogDriver::None => std::path::PathBuf::new(),
            },
            "Name": format!("/{}", record.name),
            "Driver": "overlay",
            "HostConfig": {
                "NetworkMode": record.network_mode,
                "AutoRemove": record.auto_remove,
                "RestartPolicy": {
                    "Name": record.restart_policy.name(),
                    "MaximumRetryCount": record.restart_policy.max_retries(),
                },
                "Privileged": run.privileged,
                "ReadonlyRootfs": run.read_only_rootfs,
                "Memory": run.resources.memory.unwrap_or(0),
                "MemoryReservation": run.resources.memory_reservation.unwrap_or(0),
                "ShmSize": run.shm_size.unwrap_or(wharf_runtime::spec::SHM_SIZE),
                "Sysctls": (!run.sysctls.is_empty()).then_some(&run.sysctls),
                "NanoCpus": run.resources.cpus.map_or(0, |c| (c * 1e9) as u64),
                "CpuShares": run.resources.cpu_shares.unwrap_or(0),
                "PidsLimit": run.resources.pids_limit,
                "Ulimits": run.ulimits.iter().map(|u| json!({"Name": u.name(), "Soft": u.soft, "Hard": u.hard})).collect::<Vec<_>>(),
                "LogConfig": {
                    "Type": record.log_config.driver.as_str(),
                    "Config": record.log_config.options,
                },
                "CapAdd": run.capabilities.add.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "CapDrop": run.capabilities.drop.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "PortBindings": network_host_config["PortBindings"],
                "PublishAllPorts": network_host_config["PublishAllPorts"],
                "Dns": network_host_config["Dns"],
                "ExtraHosts": network_host_config["ExtraHosts"],
                "Init": run.init.is_some().then_some(true),
            },
            "Mounts": mounts,
            "NetworkSettings": network_settings,
            "Config": {
                "Hostname": run.hostname,
                "User": record.user,
                "Env": run.process.env,
                "Entrypoint": (!record.entrypoint.is_empty()).then_some(&record.entrypoint),
                "Cmd": if record.entrypoint.is_empty() && record.cmd.is_empty() {
                    // A record from before the two were kept: its whole command line.
                    Some(&run.process.args)
                } else {
                    (!record.cmd.is_empty()).then_some(&record.cmd)
                },
                "Tty": run.process.tty,
                "OpenStdin": record.open_stdin,
                "StdinOnce": record.stdin_once,
                "Image": record.image_name,
                "WorkingDir": run.process.cwd,
                "Labels": record.labels,
                "StopSignal": record.stop_signal,
                "StopTimeout": record.stop_timeout,
                "ExposedPorts": exposed_ports,
                "Healthcheck": record.healthcheck,
            },
        });
        // As Docker's: `State.Health` only for a container with a healthcheck.
        if let Some(health) = health {
            value["State"]["Health"] = json!(health);
        }
        Ok(value)
    }
}

/// Appends the complete lines from `reader` to `lines`; a partial last line stays unread.
fn read_lines(
    reader: &mut BufReader<std::fs::File>,
    path: &std::path::Path,
    lines: &mut Vec<LogLine>,
) -> Result<()> {
    let mut line = String::new();
    loop {
        let start = reader.stream_position().at("read", path)?;
        if reader.read_line(&mut line).at("read", path)? == 0 {
            return Ok(());
        }
        if !line.ends_with('\n') {
            // Written halfway: read it again whole next time.
            reader
                .seek(std::io::SeekFrom::Start(start))
                .at("read", path)?;
            return Ok(());
        }
        lines.extend(parse_log_line(&line));
        line.clear();
    }
}

/// Whether `path` is no longer the file `open` (rotated away, or gone).
fn is_replaced(open: &std::fs::File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (open.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(current)) => open.ino() != current.ino() || open.dev() != current.dev(),
        _ => true,
    }
}

fn parse_log_line(line: &str) -> Option<LogLine> {
    let value: Value = serde_json::from_str(line).ok()?;
    Some(LogLine {
        stream: value["stream"].as_str()?.to_string(),
        time: value["time"].as_str().unwrap_or_default().to_string(),
        text: value["log"].as_str()?.to_string(),
    })
}

pub(crate) fn is_mounted(path: &std::path::Path) -> bool {
    let target = path.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|info| {
            info.lines()
                .any(|l| l.split(' ').nth(4) == Some(target.as_str()))
        })
        .unwrap_or(false)
}

/// [`signal_number`], or an error naming `--signal`.
/// Docker's "not-running": exited, or created and not starting (never started, or its start
/// failed).
pub(super) fn is_not_running(state: &ContainerState) -> bool {
    let created = state.status == Status::Created && state.monitor_pid.is_none();
    state.status == Status::Exited || created
}

pub(super) fn parse_signal(signal: &str) -> Result<i32> {
    signal_number(signal).ok_or_else(|| EngineError::BadOption {
        flag: "--signal",
        value: signal.to_string(),
        message: "not a signal name or number".into(),
    })
}

/// Signal names as Docker accepts them (`SIGTERM`, `TERM`, `15`).
pub fn signal_number(signal: &str) -> Option<i32> {
    if let Ok(number) = signal.parse::<i32>() {
        return (1..=64).contains(&number).then_some(number);
    }
    let name = signal.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "CHLD" => 17,
        "CONT" => 18,
        "STOP" => 19,
        "TSTP" => 20,
        "WINCH" => 28,
        _ => return None,
    })
}

/// Waits (`limit` at most) for the monitor of an exited container to end; whether it has.
/// The monitor of a `--rm` container removes it itself: no wait then.
fn wait_monitor_gone(state: &ContainerState, limit: Duration) -> bool {
    let Some(pid) = state
        .monitor_pid
        .filter(|&pid| pid != std::process::id() as i32)
    else {
        return true;
    };
    let start = Instant::now();
    while is_alive(pid, state.monitor_start_time) {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// The state of a container whose state file a crash lost: created if it never ran (it has
/// no log yet), else exited as Docker shows a container that a crash of its daemon ended.
fn lost_state(dir: &std::path::Path) -> ContainerState {
    let mut state = ContainerState::created();
    if dir.join(LOG_FILE).exists() {
        state.status = Status::Exited;
        state.exit_code = Some(255);
        state.finished_at = Some(now_rfc3339());
        state.error = Some("its state was lost in a crash".into());
    }
    let _ = write_state(&dir.join(STATE_FILE), &state);
    state
}

/// A container's `Mounts`, in Docker's JSON shape (inspect's, which `ps` summarises).
pub fn mounts_json(record: &ContainerRecord) -> Vec<Value> {
    record
        .run
        .mounts
        .iter()
        .map(|mount| match mount {
            wharf_runtime::Mount::Bind { source, destination, read_only, propagation } => {
                match record.volumes.iter().find(|v| &v.destination == destination) {
                    Some(volume) => json!({
                        "Type": "volume", "Name": volume.name, "Source": source, "Destination": destination, "Driver": "local", "Mode": if *read_only { "ro" } else { "z" }, "RW": !read_only, "Propagation": "",
                    }),
                    None => json!({
                        "Type": "bind", "Source": source, "Destination": destination, "Mode": if *read_only { "ro" } else { "" }, "RW": !read_only, "Propagation": propagation.as_str(),
                    }),
                }
            }
            wharf_runtime::Mount::Tmpfs { destination, read_only, .. } => json!({
                "Type": "tmpfs", "Source": "", "Destination": destination, "Mode": "", "RW": !read_only, "Propagation": "",
            }),
        })
        .collect()
}
