//! A container on disk: `containers/<id>/container.json` (what was asked for, written once
//! at create) and `containers/<id>/state.json` (what happened, written by the monitor).
//! The same folder is the OCI bundle: the runtime writes `config.json` and the overlay dirs.

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
    /// Docker's `--network` value, for inspect (`none` or `host` until bridges land).
    pub network_mode: String,
    /// `--stop-signal` or the image's STOPSIGNAL.
    pub stop_signal: String,
    /// `--stop-timeout` in seconds (Docker's default is 10).
    pub stop_timeout: u64,
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

/// Atomic replace: temp file in the same folder, fsync, rename.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
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
    temp.as_file().sync_all().at("fsync", temp.path())?;
    temp.persist(path).map_err(|e| e.error).at("write", path)?;
    Ok(())
}

pub fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}
