//! A container on disk: `containers/<id>/container.json` (what was asked for, written at
//! create; `network connect` and `disconnect` rewrite its networks) and
//! `containers/<id>/state.json` (what happened, written by the monitor).
//! The same folder is the OCI bundle: the runtime writes `config.json` and the overlay dirs.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;
use wharf_runtime::RunConfig;

use crate::error::{EngineError, IoResultExt, Result};

pub const RECORD_FILE: &str = "container.json";
pub const STATE_FILE: &str = "state.json";
pub const LOG_FILE: &str = "container.log";

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
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
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

/// Atomic and durable: temp file in the same folder, fsync, rename. For what is written once
/// and must survive a crash (the container record).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, value, true)
}

/// Atomic but not fsynced: for state that the next command reconciles with reality anyway
/// (state.json, pid files). Each fsync costs ~10 ms on the `run` path.
pub fn write_state<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, value, false)
}

fn write_atomic<T: Serialize>(path: &Path, value: &T, durable: bool) -> Result<()> {
    let dir = path.parent().expect("container files live in a folder");
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .at("create a temp file in", dir)?;
    serde_json::to_writer_pretty(&mut temp, value).map_err(|e| EngineError::Io {
        op: "write",
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    if durable {
        temp.as_file().sync_all().at("fsync", temp.path())?;
    }
    temp.persist(path).map_err(|e| e.error).at("write", path)?;
    Ok(())
}

pub fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}
