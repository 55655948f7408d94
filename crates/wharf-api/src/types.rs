//! Docker's JSON, as clients send it and read it. Fields clients may send as `null` are
//! `Option`s; unknown fields are ignored, as Docker ignores them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A list that some clients send as one string (`"Cmd": "echo hi"`, docker-py's
/// `Entrypoint`): Docker's `strslice.StrSlice`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum StrSlice {
    One(String),
    Many(Vec<String>),
}

impl StrSlice {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

/// `POST /commit`: its query, and its body (a `Config` whose values win over the
/// container's; `None` when empty).
#[derive(Debug, Default)]
pub struct Commit {
    pub container: String,
    /// `repo[:tag]`, or none for an untagged image.
    pub reference: Option<String>,
    pub comment: Option<String>,
    pub author: Option<String>,
    pub pause: bool,
    /// Dockerfile instructions (`-c`).
    pub changes: Vec<String>,
    pub config: Option<Value>,
}

/// The body of `POST /containers/create`: `Config` with `HostConfig` and
/// `NetworkingConfig` beside its fields.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreate {
    pub image: Option<String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub tty: Option<bool>,
    pub open_stdin: Option<bool>,
    pub stdin_once: Option<bool>,
    pub env: Option<Vec<String>>,
    pub cmd: Option<StrSlice>,
    pub entrypoint: Option<StrSlice>,
    pub working_dir: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u64>,
    pub healthcheck: Option<HealthConfig>,
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// Anonymous volumes (`docker run -v /data`): the paths are the keys.
    pub volumes: Option<BTreeMap<String, Value>>,
    pub host_config: Option<HostConfig>,
    pub networking_config: Option<NetworkingConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `[]` inherits, `["NONE"]` disables, `["CMD", ...]`, `["CMD-SHELL", "..."]`.
    pub test: Option<Vec<String>>,
    /// Nanoseconds, as Docker's `time.Duration`.
    pub interval: Option<u64>,
    pub timeout: Option<u64>,
    pub start_period: Option<u64>,
    pub start_interval: Option<u64>,
    pub retries: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `-v` syntax: `/host:/ctr[:ro]`, `name:/ctr`.
    pub binds: Option<Vec<String>>,
    pub mounts: Option<Vec<MountSpec>>,
    /// `"80/tcp": [{"HostIp": "", "HostPort": ""}]`; an empty host port picks a free one.
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBindingSpec>>>>,
    pub publish_all_ports: Option<bool>,
    pub network_mode: Option<String>,
    pub restart_policy: Option<RestartPolicySpec>,
    pub auto_remove: Option<bool>,
    pub init: Option<bool>,
    pub privileged: Option<bool>,
    pub read_only: Option<bool>,
    pub memory: Option<u64>,
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<u64>,
    pub shm_size: Option<u64>,
    pub sysctls: Option<BTreeMap<String, String>>,
    pub nano_cpus: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub pids_limit: Option<i64>,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub dns: Option<Vec<String>>,
    pub extra_hosts: Option<Vec<String>>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub security_opt: Option<Vec<String>>,
    pub log_config: Option<LogConfigSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountSpec {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub source: Option<String>,
    pub target: Option<String>,
    pub read_only: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBindingSpec {
    pub host_ip: Option<String>,
    pub host_port: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicySpec {
    pub name: Option<String>,
    pub maximum_retry_count: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfigSpec {
    #[serde(rename = "Type")]
    pub driver: Option<String>,
    pub config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, Option<EndpointSpec>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointSpec {
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<String>,
}

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecCreate {
    pub attach_stdin: Option<bool>,
    pub attach_stdout: Option<bool>,
    pub attach_stderr: Option<bool>,
    pub tty: Option<bool>,
    pub cmd: Option<StrSlice>,
    pub env: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub privileged: Option<bool>,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStart {
    pub detach: Option<bool>,
    pub tty: Option<bool>,
}

/// A started exec's process: its stdio, and how to wait for its end (after which its exit
/// code is in its inspect).
pub struct ExecProcess {
    /// One raw stream when true, else stdout and stderr frames.
    pub tty: bool,
    pub stdin: Option<Box<dyn std::io::Write + Send>>,
    pub stdout: Box<dyn std::io::Read + Send>,
    pub stderr: Option<Box<dyn std::io::Read + Send>>,
    pub wait: Box<dyn FnOnce() + Send>,
}

/// The body of `POST /networks/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreate {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub internal: Option<bool>,
    #[serde(rename = "IPAM")]
    pub ipam: Option<Ipam>,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    pub config: Option<Vec<IpamPool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamPool {
    pub subnet: Option<String>,
    pub gateway: Option<String>,
}

/// The body of `POST /networks/{id}/connect` and `.../disconnect`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnect {
    pub container: Option<String>,
    pub endpoint_config: Option<EndpointSpec>,
    pub force: Option<bool>,
}

/// The body of `POST /volumes/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreate {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// The query of `POST /build`, read (the body is the context, a tar).
#[derive(Debug, Clone, Default)]
pub struct BuildQuery {
    /// `t`, repeatable.
    pub tags: Vec<String>,
    /// Inside the context; `Dockerfile` when absent.
    pub dockerfile: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    /// `networkmode`: `default`, `bridge`, `host`, `none`.
    pub network: Option<String>,
    pub extra_hosts: Vec<String>,
}

/// One row of `GET /containers/json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    /// With Docker's leading slash.
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    pub ports: Vec<PortSummary>,
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`.
    pub state: String,
    /// `Up 2 minutes`, `Exited (0) 3 seconds ago`.
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworks,
    pub mounts: Vec<Value>,
    /// With `size=true`: the writable layer's bytes (left out when none, as Docker).
    #[serde(rename = "SizeRw", skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<u64>,
    /// With `size=true`: the writable layer's and the image's bytes.
    #[serde(rename = "SizeRootFs", skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<u64>,
    /// For the `health` filter; not part of Docker's reply.
    #[serde(skip)]
    pub health: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortSummary {
    #[serde(rename = "IP", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub private_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    pub network_mode: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworks {
    pub networks: BTreeMap<String, Value>,
}

/// One row of `GET /images/json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: u64,
    pub virtual_size: u64,
    pub shared_size: i64,
    pub labels: BTreeMap<String, String>,
    pub containers: i64,
}

/// One line of `DELETE /images/{name}`'s reply.
#[derive(Debug, Clone, Serialize)]
pub enum ImageDeleted {
    Untagged(String),
    Deleted(String),
}

/// `GET /version`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub version: String,
    pub api_version: String,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: String,
    pub git_commit: String,
    pub go_version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: String,
    pub build_time: String,
}

/// `GET /containers/{id}/top`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// What `wait` waits for (`condition=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

/// The query of `GET /containers/{id}/logs`, times already read.
#[derive(Debug, Clone, Default)]
pub struct LogsQuery {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds (with a fraction).
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub tail: Option<usize>,
    pub timestamps: bool,
}

/// One log line (with its newline, when it had one).
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub stderr: bool,
    /// RFC 3339 with nanoseconds.
    pub time: String,
    pub text: String,
}

/// A step of a pull, as Docker's JSON progress messages say it.
#[derive(Debug, Clone)]
pub enum PullProgress {
    /// `Pulling from library/busybox`, `Digest: ...`, `Status: ...`.
    Status(String),
    /// A layer's line: `id`, `Pulling fs layer`, `Downloading`, `Pull complete`.
    Layer {
        id: String,
        status: String,
        current: Option<u64>,
        total: Option<u64>,
    },
}

/// The query of `GET /events`: Unix times in nanoseconds, and the decoded `filters`.
#[derive(Debug, Clone, Default)]
pub struct EventsQuery {
    pub since: Option<i128>,
    pub until: Option<i128>,
    pub filters: BTreeMap<String, Vec<String>>,
}

/// One reading of a container's counters, for `GET /containers/{id}/stats`. All zero for a
/// container that is not running.
#[derive(Debug, Clone, Default)]
pub struct StatsSample {
    pub id: String,
    pub name: String,
    /// RFC 3339 with nanoseconds; Go's zero time when not running.
    pub read: String,
    /// CPU time of the container (all, user mode, kernel) and of the host, in nanoseconds.
    pub cpu_ns: u64,
    pub cpu_user_ns: u64,
    pub cpu_kernel_ns: u64,
    pub system_cpu_ns: u64,
    pub online_cpus: u32,
    /// In use without the inactive page cache, and the limit (the host's memory without one).
    pub memory_bytes: u64,
    pub memory_limit: u64,
    pub pids: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

/// What a path in a container is, for `docker cp` (Docker's `container.PathStat`).
#[derive(Debug, Clone, Default)]
pub struct PathStat {
    pub name: String,
    pub size: u64,
    /// `st_mode`: the type and permission bits.
    pub unix_mode: u32,
    /// RFC 3339.
    pub mtime: String,
    /// What a symlink points to; empty for anything else.
    pub link_target: String,
}

impl PathStat {
    /// The JSON Docker sends base64-encoded in `X-Docker-Container-Path-Stat`; `mode` is Go's
    /// `os.FileMode` (permissions, and the type in the high bits), which the docker CLI
    /// reads to tell a directory from a file.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "size": self.size,
            "mode": go_file_mode(self.unix_mode),
            "mtime": self.mtime,
            "linkTarget": self.link_target,
        })
    }
}

/// `st_mode` as Go's `os.FileMode`.
fn go_file_mode(mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let kind = match mode & 0o170000 {
        0o040000 => DIR,
        0o120000 => SYMLINK,
        0o060000 => DEVICE,
        0o020000 => DEVICE | CHAR_DEVICE,
        0o010000 => NAMED_PIPE,
        0o140000 => SOCKET,
        _ => 0,
    };
    let special = [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)]
        .into_iter()
        .filter(|(bit, _)| mode & bit != 0)
        .fold(0, |all, (_, go)| all | go);
    kind | special | (mode & 0o777)
}

/// The body of `POST /auth` (Docker's `registry.AuthConfig`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthConfig {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// Docker Hub when empty.
    #[serde(default)]
    pub serveraddress: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies_take_nulls_strings_and_unknown_fields() {
        let body: ContainerCreate = serde_json::from_str(
            r#"{"Image":"busybox","Cmd":"true","Entrypoint":null,"Env":null,"Frobnicate":1,
                "HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":""}]},"Binds":null}}"#,
        )
        .unwrap();
        assert_eq!(body.cmd, Some(StrSlice::One("true".into())));
        let ports = body.host_config.unwrap().port_bindings.unwrap();
        assert_eq!(
            ports["80/tcp"].as_ref().unwrap()[0].host_port.as_deref(),
            Some("")
        );
    }

    /// A full body with bytes changed at random: decoded or refused, never a panic.
    #[test]
    fn fuzzed_create_bodies_never_panic() {
        let valid = br#"{"Image":"busybox","Cmd":["sh","-c","x"],"Env":["A=1"],"Labels":{"k":"v"},"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000},"ExposedPorts":{"80/tcp":{}},"HostConfig":{"Binds":["/a:/b:ro"],"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"Memory":1048576,"Tmpfs":{"/t":"size=1m"}},"NetworkingConfig":{"EndpointsConfig":{"n":{"Aliases":["a"]}}}}"#;
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5000 {
            let mut body = valid.to_vec();
            for _ in 0..1 + seed % 3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = seed as usize % body.len();
                body[at] = (seed >> 32) as u8;
            }
            let _ = serde_json::from_slice::<ContainerCreate>(&body);
        }
    }

    #[test]
    fn wrong_types_are_refused() {
        let error = serde_json::from_str::<ContainerCreate>(r#"{"Image":"busybox","Tty":"yes"}"#)
            .unwrap_err();
        assert!(error.to_string().contains("expected a boolean"), "{error}");
    }

    #[test]
    fn modes_are_gos() {
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
    }
}
