//! A container on disk: `containers/<id>/container.json` (what was asked for, written at
//! create; `network connect` and `disconnect` rewrite its networks) and
//! `containers/<id>/state.json` (what happened, written by the monitor).
//! The same folder is the OCI bundle: the runtime writes `config.json` and the overlay dirs.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;
use wharf_runtime::RunConfig;

use crate::error::{EngineError, IoResultExt, Result};

pub const RECORD_FILE: &str = "container.json";
pub const STATE_FILE: &str = "state.json";
pub const LOG_FILE: &str = "container.log";
/// Present while the user has stopped or killed the container (`stop`, `kill`, `rm -f`): its
/// monitor must not restart it. `start` removes it.
pub const STOPPED_BY_USER_FILE: &str = "stopped-by-user";

/// What `create` decided, from the image and the flags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    /// The image as the user named it, and the id it resolved to.
    pub image_name: String,
    pub image_id: Digest,
    pub created: String,
    pub run: RunConfig,
    /// `--rm`: the monitor removes the container when it exits.
    pub auto_remove: bool,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Docker's `--network` value, for inspect: `bridge`, `none`, `host` or a network name.
    pub network_mode: String,
    /// Networks to join at start, published ports and name settings. Rewritten by
    /// `network connect` and `network disconnect`.
    #[serde(default)]
    pub net: NetConfig,
    /// `--stop-signal` or the image's STOPSIGNAL.
    pub stop_signal: String,
    /// `--stop-timeout` in seconds (Docker's default is 10).
    pub stop_timeout: u64,
    /// `--restart`.
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// The image's healthcheck with the `--health-*` flags over it; `None` without one.
    #[serde(default)]
    pub healthcheck: Option<super::health::Healthcheck>,
    /// `--log-driver` and `--log-opt`.
    #[serde(default)]
    pub log_config: super::logfile::LogConfig,
    /// Named and anonymous volumes.
    #[serde(default)]
    pub volumes: Vec<VolumeMount>,
    /// `-i`: the container's stdin stays open (the attached user's, else an idle pipe).
    #[serde(default)]
    pub open_stdin: bool,
    /// Docker's `StdinOnce`: an attached client's end of input closes the container's stdin.
    #[serde(default)]
    pub stdin_once: bool,
    /// Docker's `Config.Entrypoint` and `Config.Cmd`: what `run.process.args` was made of.
    /// Both empty in records written before they were kept.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    #[serde(default)]
    pub cmd: Vec<String>,
    /// Docker's `Config.User`: `-u` as given, or the image's USER; empty for the default.
    #[serde(default)]
    pub user: String,
}

/// A volume the container mounts (its bind mount is in `run.mounts`, same destination).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeMount {
    pub name: String,
    pub destination: PathBuf,
    /// Made for this container (`-v /path`, the image's `VOLUME`): `rm -v` removes it.
    pub anonymous: bool,
}

/// Docker's `--restart`: whether the monitor starts the container again when it exits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum RestartPolicy {
    #[default]
    No,
    /// Only after a non-zero exit, at most `max_retries` times (0: no limit).
    OnFailure {
        max_retries: u32,
    },
    Always,
    /// As `always`, except after the user stopped it.
    UnlessStopped,
}

impl RestartPolicy {
    /// Docker's name, as `HostConfig.RestartPolicy.Name` shows it.
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure { .. } => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }

    pub fn max_retries(self) -> u32 {
        match self {
            RestartPolicy::OnFailure { max_retries } => max_retries,
            _ => 0,
        }
    }

    /// Docker's rule, after `restarts` restarts so far. A container stopped by the user is
    /// never restarted (Docker cancels its restart manager on `stop` and `kill`).
    pub fn should_restart(self, exit_code: i32, restarts: u32, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure { max_retries } => {
                exit_code != 0 && (max_retries == 0 || restarts < max_retries)
            }
        }
    }

    /// Whether the container is started again when the machine boots (Docker's rule when
    /// dockerd starts): `always` even after a stop by the user, `unless-stopped` unless
    /// stopped by the user, `on-failure` after a non-zero exit (a container running when
    /// the machine went down counts as killed).
    pub fn at_boot(self, exit_code: i32, stopped_by_user: bool) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always => true,
            RestartPolicy::UnlessStopped => !stopped_by_user,
            RestartPolicy::OnFailure { .. } => !stopped_by_user && exit_code != 0,
        }
    }

    /// Docker's backoff: 100 ms, doubled at each restart up to a minute, back to 100 ms after
    /// a run of 10 s or more. `previous` is the last delay (zero before the first restart).
    pub fn next_delay(previous: Duration, ran_for: Duration) -> Duration {
        const FIRST: Duration = Duration::from_millis(100);
        const MAX: Duration = Duration::from_secs(60);
        if previous.is_zero() || ran_for >= Duration::from_secs(10) {
            FIRST
        } else {
            (previous * 2).min(MAX)
        }
    }
}

impl std::str::FromStr for RestartPolicy {
    type Err = String;

    /// `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (name, count) = match text.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (text, None),
        };
        let policy = match name {
            "no" | "" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure {
                max_retries: match count {
                    None => 0,
                    Some(n) => n
                        .parse()
                        .map_err(|_| format!("maximum retry count `{n}` is not a number"))?,
                },
            },
            _ => return Err("expected no, on-failure[:N], always or unless-stopped".into()),
        };
        if count.is_some() && !matches!(policy, RestartPolicy::OnFailure { .. }) {
            return Err(format!(
                "a maximum retry count applies only to on-failure, not {name}"
            ));
        }
        Ok(policy)
    }
}

/// The networking a container asked for; what it got (addresses, host ports) lives in the
/// network state while it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    /// In order: the first is `eth0`, holds the default route and the published ports.
    /// Empty for `--network none` and `host`.
    #[serde(default)]
    pub networks: Vec<NetworkAttachment>,
    /// `-p`, and with `-P` every exposed port of the image, as asked for.
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
    /// `-P`.
    #[serde(default)]
    pub publish_all: bool,
    /// See [`CreateOptions::port_bindings_as_sent`](crate::CreateOptions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_bindings_as_sent: Option<serde_json::Value>,
    /// The image's exposed ports (`8000/tcp`), shown by `ps` and `inspect`.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// `--dns`.
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    /// `--add-host NAME:IP` (IP may be `host-gateway`), as `(name, ip)`.
    #[serde(default)]
    pub extra_hosts: Vec<(String, String)>,
}

/// One network to join, by id (a network removed and made again under the same name is
/// another network, as in Docker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    pub network_id: String,
    /// The network's name when the container was attached, for messages.
    pub network: String,
    /// `--network-alias`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--ip`.
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
}

/// One `-p` value (or `-P` entry) as asked for; see [`wharf_net::PortSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub host_ip: Option<IpAddr>,
    pub host_ports: Option<(u16, u16)>,
    pub container_port: u16,
    pub protocol: wharf_net::Protocol,
}

impl From<wharf_net::PortSpec> for PublishedPort {
    fn from(spec: wharf_net::PortSpec) -> Self {
        Self {
            host_ip: spec.host_ip,
            host_ports: spec.host_ports,
            container_port: spec.container_port,
            protocol: spec.protocol,
        }
    }
}

impl From<PublishedPort> for wharf_net::PortSpec {
    fn from(port: PublishedPort) -> Self {
        Self {
            host_ip: port.host_ip,
            host_ports: port.host_ports,
            container_port: port.container_port,
            protocol: port.protocol,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    /// Exited, and its monitor waits to start it again (restart policy).
    Restarting,
    Exited,
}

impl Status {
    /// Running, or waiting to run again under its restart policy: Docker counts both as
    /// running (`ps` without -a, `State.Running`).
    pub fn is_up(self) -> bool {
        matches!(self, Status::Running | Status::Restarting)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
        }
    }
}

/// What the monitor recorded last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    /// The monitor's pid and start time (clock ticks since boot), to tell a live monitor
    /// from a reused pid.
    #[serde(default)]
    pub monitor_pid: Option<i32>,
    #[serde(default)]
    pub monitor_start_time: Option<u64>,
    /// The container's init, in the host's pid namespace.
    #[serde(default)]
    pub pid: Option<i32>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub oom_killed: bool,
    /// Why the container could not run, as Docker's `State.Error`.
    #[serde(default)]
    pub error: Option<String>,
    /// Restarts by the restart policy since the user last started it.
    #[serde(default)]
    pub restart_count: u32,
    /// The last restart's backoff, in milliseconds.
    #[serde(default)]
    pub restart_delay_ms: u64,
    /// With a healthcheck, its results since the container last started.
    #[serde(default)]
    pub health: Option<super::health::Health>,
}

impl ContainerState {
    pub fn created() -> Self {
        Self {
            status: Status::Created,
            monitor_pid: None,
            monitor_start_time: None,
            pid: None,
            started_at: None,
            finished_at: None,
            exit_code: None,
            oom_killed: false,
            error: None,
            restart_count: 0,
            restart_delay_ms: 0,
            health: None,
        }
    }
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).at("read", path)?;
    serde_json::from_slice(&bytes).map_err(|e| EngineError::Io {
        op: "parse",
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })
}

/// Atomic and durable ([`wharf_store::write_file_durably`]): for what is written once and
/// must survive a crash or a power cut (container, volume and network records).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    Ok(wharf_store::write_file_durably(
        path,
        &to_json(path, value)?,
    )?)
}

/// Atomic but not fsynced: for state that the next command reconciles with reality anyway
/// (state.json, pid files, exec instances in WHARF_RUN). Each fsync costs ~10 ms on the
/// `run` path.
pub fn write_state<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path.parent().expect("container files live in a folder");
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .at("create a temp file in", dir)?;
    // One write: serde_json writes each token separately to an unbuffered file.
    temp.write_all(&to_json(path, value)?)
        .at("write", temp.path())?;
    temp.persist(path).map_err(|e| e.error).at("write", path)?;
    Ok(())
}

fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| EngineError::Io {
        op: "write",
        path: path.to_path_buf(),
        source: e.into(),
    })
}

pub fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies_parse_like_dockers() {
        assert_eq!("no".parse(), Ok(RestartPolicy::No));
        assert_eq!("always".parse(), Ok(RestartPolicy::Always));
        assert_eq!("unless-stopped".parse(), Ok(RestartPolicy::UnlessStopped));
        assert_eq!(
            "on-failure".parse(),
            Ok(RestartPolicy::OnFailure { max_retries: 0 })
        );
        assert_eq!(
            "on-failure:3".parse(),
            Ok(RestartPolicy::OnFailure { max_retries: 3 })
        );
        assert!("on-failure:x".parse::<RestartPolicy>().is_err());
        assert!("always:2".parse::<RestartPolicy>().is_err());
        assert!("sometimes".parse::<RestartPolicy>().is_err());
    }

    #[test]
    fn restart_decisions_follow_docker() {
        let on_failure = RestartPolicy::OnFailure { max_retries: 2 };
        assert!(on_failure.should_restart(1, 0, false));
        assert!(on_failure.should_restart(1, 1, false));
        assert!(!on_failure.should_restart(1, 2, false));
        assert!(!on_failure.should_restart(0, 0, false));
        assert!(RestartPolicy::OnFailure { max_retries: 0 }.should_restart(1, 99, false));
        assert!(RestartPolicy::Always.should_restart(0, 5, false));
        assert!(!RestartPolicy::Always.should_restart(0, 5, true));
        assert!(!RestartPolicy::UnlessStopped.should_restart(1, 0, true));
        assert!(!RestartPolicy::No.should_restart(1, 0, false));
    }

    #[test]
    fn backoff_doubles_and_resets_after_ten_seconds() {
        let ms = Duration::from_millis;
        let quick = ms(50);
        assert_eq!(RestartPolicy::next_delay(Duration::ZERO, quick), ms(100));
        assert_eq!(RestartPolicy::next_delay(ms(100), quick), ms(200));
        assert_eq!(RestartPolicy::next_delay(ms(400), quick), ms(800));
        assert_eq!(
            RestartPolicy::next_delay(Duration::from_secs(40), quick),
            Duration::from_secs(60)
        );
        assert_eq!(
            RestartPolicy::next_delay(ms(800), Duration::from_secs(10)),
            ms(100)
        );
    }
}
