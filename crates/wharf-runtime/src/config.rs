//! [`RunConfig`]: what one container run needs, typed and validated without I/O.
//!
//! The caller (the engine) resolves the image config, the user's flags and the network into
//! this; [`crate::spec`] turns it into an OCI spec and [`mod@crate::run`] runs it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use oci_spec::runtime::{Capability, PosixRlimitType};
use serde::{Deserialize, Serialize};

/// The file names inside a container directory (the OCI bundle).
pub mod layout {
    /// The OCI runtime spec written for libcontainer.
    pub const CONFIG_JSON: &str = "config.json";
    /// The overlay's writable layer.
    pub const UPPER: &str = "upper";
    /// The overlay's scratch directory.
    pub const WORK: &str = "work";
    /// Where the overlay is mounted: the container's root.
    pub const MERGED: &str = "merged";
    /// Written by the caller, bind-mounted on `/etc/hostname`.
    pub const HOSTNAME: &str = "hostname";
    /// Written by the caller, bind-mounted on `/etc/hosts`.
    pub const HOSTS: &str = "hosts";
    /// Written by the caller, bind-mounted on `/etc/resolv.conf`.
    pub const RESOLV_CONF: &str = "resolv.conf";
    /// libcontainer writes the init's pid here, so a failed create can still reap it.
    pub const INIT_PID: &str = "init.pid";
}

/// One container run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Container id: also the libcontainer id and the cgroup `/wharf/<id>`.
    pub id: String,
    /// The container directory (OCI bundle); see [`layout`] for what lives in it.
    pub container_dir: PathBuf,
    /// Image layers used as overlay lower dirs, top layer first.
    pub lower_dirs: Vec<PathBuf>,
    pub process: Process,
    pub hostname: String,
    /// Bind and tmpfs mounts, in the order given.
    pub mounts: Vec<Mount>,
    pub read_only_rootfs: bool,
    pub resources: Resources,
    pub ulimits: Vec<Ulimit>,
    /// `--device`: host device nodes made in the container and allowed by its cgroup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRequest>,
    pub capabilities: CapabilityChanges,
    /// Docker's `--privileged`: all capabilities, no seccomp, no masked paths, all devices.
    pub privileged: bool,
    pub network: NetworkMode,
    /// With [`NetworkMode::Joined`], the namespace to join (`/proc/PID/ns/net` of the other
    /// container's init), known only when it starts. With [`NetworkMode::New`], a new
    /// namespace that the caller made (and set up) for this container alone, or `None` for
    /// the runtime to make one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_namespace: Option<PathBuf>,
    /// Docker's `--init`: this host binary (tini) is bind-mounted read-only at
    /// [`INIT_PATH`] and runs as PID 1, with the process as its child.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// The container is removed when it exits (`--rm`): its writable layer needs no
    /// durability, so the overlay is mounted `volatile` (see [`crate::Overlay::volatile`]).
    #[serde(default)]
    pub ephemeral: bool,
    /// `--sysctl`: kernel parameters of the container's own namespaces (see
    /// [`validate_sysctl`]), over Docker's defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// `--shm-size` in bytes: the size of `/dev/shm` (Docker's 64 MiB when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u64>,
}

/// Where `--init`'s binary appears in the container, as in Docker.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// The process run as the container's init.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    /// argv; `args[0]` is resolved in the container's `PATH`.
    pub args: Vec<String>,
    /// `KEY=value` pairs: the image's env with the user's on top.
    pub env: Vec<String>,
    /// Absolute working directory inside the container.
    pub cwd: PathBuf,
    pub user: User,
    /// Allocate a pseudo-terminal (needs a console socket at run time).
    pub tty: bool,
    pub no_new_privileges: bool,
}

/// Numeric credentials, already resolved against the image's `/etc/passwd` and `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: the user's groups from the image plus `--group-add`.
    #[serde(default)]
    pub additional_gids: Vec<u32>,
}

/// A mount requested by the user (`-v`, `--mount`, `--tmpfs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Mount {
    /// `-v /host:/ctr[:ro]`, `--mount type=bind`, and volumes (a bind of their folder).
    Bind {
        source: PathBuf,
        destination: PathBuf,
        read_only: bool,
        /// `bind-propagation`; Docker's default is `rprivate`.
        #[serde(default)]
        propagation: Propagation,
    },
    /// `--tmpfs /ctr[:opts]`: `nosuid,nodev` always, `noexec` unless `exec`.
    Tmpfs {
        destination: PathBuf,
        /// `size=` in bytes; the kernel's default (half of RAM) when `None`.
        size_bytes: Option<u64>,
        /// `mode=` (octal permission bits); the kernel's default (1777) when `None`.
        mode: Option<u32>,
        read_only: bool,
        exec: bool,
    },
}

/// Mount propagation of a bind mount, as `--mount bind-propagation=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    Private,
    #[default]
    Rprivate,
    Shared,
    Rshared,
    Slave,
    Rslave,
}

impl Propagation {
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }
}

impl FromStr for Propagation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "private" => Propagation::Private,
            "rprivate" => Propagation::Rprivate,
            "shared" => Propagation::Shared,
            "rshared" => Propagation::Rshared,
            "slave" => Propagation::Slave,
            "rslave" => Propagation::Rslave,
            _ => {
                return Err(format!(
                    "unknown propagation `{text}`: use private, rprivate, shared, rshared, slave or rslave"
                ))
            }
        })
    }
}

impl Mount {
    pub fn destination(&self) -> &Path {
        match self {
            Mount::Bind { destination, .. } | Mount::Tmpfs { destination, .. } => destination,
        }
    }
}

/// cgroup limits; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Resources {
    /// `--memory`, in bytes.
    pub memory: Option<u64>,
    /// `--memory-swap`: memory plus swap. Like Docker, twice `memory` when only `memory` is set.
    pub memory_swap: Option<MemorySwap>,
    /// `--cpus`: fractional CPUs, turned into a CFS quota over a 100 ms period.
    pub cpus: Option<f64>,
    /// `--cpu-shares`: relative weight.
    pub cpu_shares: Option<u64>,
    /// `--pids-limit`.
    pub pids_limit: Option<u64>,
    /// `--memory-reservation`: a soft limit the kernel reclaims toward under pressure
    /// (`memory.soft_limit_in_bytes` on cgroup v1, `memory.low` on v2).
    #[serde(default)]
    pub memory_reservation: Option<u64>,
}

/// `--memory-swap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySwap {
    /// Memory plus swap, in bytes; at least `memory`.
    Limit(u64),
    /// `--memory-swap -1`.
    Unlimited,
}

/// `--ulimit kind=soft:hard`. Never above the host's hard limit: raising one needs
/// CAP_SYS_RESOURCE, which wharf may not have ([`crate::spec::build`] refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub kind: PosixRlimitType,
    pub soft: u64,
    pub hard: u64,
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, as Docker parses it: the container path defaults
/// to the host's, the permissions (some of `rwm`) to `rwm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRequest {
    pub host: PathBuf,
    pub container: PathBuf,
    pub permissions: String,
}

impl FromStr for DeviceRequest {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidDevice(text.to_owned());
        // Docker's rule: a second part that reads as permissions is permissions.
        let is_permissions = |p: &str| {
            !p.is_empty()
                && p.len() <= 3
                && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
                && p.chars().enumerate().all(|(i, c)| !p[..i].contains(c))
        };
        let parts: Vec<&str> = text.split(':').collect();
        let (host, container, permissions) = match parts.as_slice() {
            [host] => (*host, *host, "rwm"),
            [host, permissions] if is_permissions(permissions) => (*host, *host, *permissions),
            [host, container] => (*host, *container, "rwm"),
            [host, container, permissions] if is_permissions(permissions) => {
                (*host, *container, *permissions)
            }
            _ => return Err(invalid()),
        };
        if !host.starts_with('/') || !container.starts_with('/') {
            return Err(invalid());
        }
        Ok(DeviceRequest {
            host: host.into(),
            container: container.into(),
            permissions: permissions.to_owned(),
        })
    }
}

/// `--cap-add` / `--cap-drop`, applied to Docker's default set as Docker does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CapabilityChanges {
    pub add: Vec<CapabilityName>,
    pub drop: Vec<CapabilityName>,
}

/// A capability as the user writes it: `ALL`, `NET_ADMIN`, `cap_net_admin`...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum CapabilityName {
    All,
    One(Capability),
}

impl FromStr for CapabilityName {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        if upper == "ALL" {
            return Ok(CapabilityName::All);
        }
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        bare.parse::<Capability>()
            .map(CapabilityName::One)
            .map_err(|_| ConfigError::UnknownCapability(s.to_owned()))
    }
}

/// Docker's ulimit names and the rlimits they set.
const ULIMIT_NAMES: [(&str, PosixRlimitType); 15] = [
    ("core", PosixRlimitType::RlimitCore),
    ("cpu", PosixRlimitType::RlimitCpu),
    ("data", PosixRlimitType::RlimitData),
    ("fsize", PosixRlimitType::RlimitFsize),
    ("locks", PosixRlimitType::RlimitLocks),
    ("memlock", PosixRlimitType::RlimitMemlock),
    ("msgqueue", PosixRlimitType::RlimitMsgqueue),
    ("nice", PosixRlimitType::RlimitNice),
    ("nofile", PosixRlimitType::RlimitNofile),
    ("nproc", PosixRlimitType::RlimitNproc),
    ("rss", PosixRlimitType::RlimitRss),
    ("rtprio", PosixRlimitType::RlimitRtprio),
    ("rttime", PosixRlimitType::RlimitRttime),
    ("sigpending", PosixRlimitType::RlimitSigpending),
    ("stack", PosixRlimitType::RlimitStack),
];

impl Ulimit {
    /// Docker's name (`nofile`), as `--ulimit` takes it and inspect shows it.
    pub fn name(&self) -> &'static str {
        ULIMIT_NAMES
            .iter()
            .find(|(_, kind)| *kind == self.kind)
            .map_or("unknown", |(name, _)| name)
    }
}

impl FromStr for Ulimit {
    type Err = ConfigError;

    /// Docker's `--ulimit NAME=SOFT[:HARD]`; a single value sets both.
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidUlimit(text.to_string());
        let (name, limits) = text.split_once('=').ok_or_else(invalid)?;
        let kind = ULIMIT_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
            .ok_or_else(invalid)?;
        let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
        let soft = soft.parse().map_err(|_| invalid())?;
        let hard = hard.parse().map_err(|_| invalid())?;
        Ok(Ulimit { kind, soft, hard })
    }
}

impl fmt::Display for CapabilityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapabilityName::All => f.write_str("ALL"),
            CapabilityName::One(cap) => write!(f, "CAP_{cap}"),
        }
    }
}

impl From<CapabilityName> for String {
    fn from(name: CapabilityName) -> Self {
        name.to_string()
    }
}

impl TryFrom<String> for CapabilityName {
    type Error = ConfigError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// `--network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// A new network namespace; it starts with only a loopback device (`--network none`),
    /// or the network code made it and attached it to a bridge
    /// ([`RunConfig::network_namespace`]).
    #[default]
    New,
    /// The host's network namespace (`--network host`).
    Host,
    /// Another container's network namespace (`--network container:NAME`), named by
    /// [`RunConfig::network_namespace`].
    Joined,
}

/// A [`RunConfig`] that cannot run; each names the field or value at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error(
        "invalid container id {0:?}: use 1-128 characters from [a-zA-Z0-9_.-], starting with a letter or digit"
    )]
    InvalidId(String),
    #[error("network mode joined needs the path of the network namespace to join")]
    NoNetworkNamespace,
    #[error("{field} must be an absolute path: {path:?}")]
    NotAbsolute { field: &'static str, path: PathBuf },
    #[error("{field} must not contain '..': {path:?}")]
    ParentComponent { field: &'static str, path: PathBuf },
    #[error("overlay path must not contain ':', ',' or '\\': {0:?}")]
    OverlayUnsafePath(PathBuf),
    #[error("no image layers: at least one lower dir is needed")]
    NoLowerDirs,
    #[error("no command: process args are empty")]
    EmptyArgs,
    #[error("invalid environment entry {0:?}: expected KEY=value with a non-empty KEY")]
    InvalidEnv(String),
    #[error("invalid hostname {0:?}: use 1-63 characters from [a-zA-Z0-9.-]")]
    InvalidHostname(String),
    #[error("two mounts on {0:?}")]
    DuplicateMount(PathBuf),
    /// Docker's wording; the limit asked for is named by the caller, with its flag.
    #[error("Minimum memory limit allowed is 6MB")]
    MemoryTooLow(u64),
    #[error("memory+swap limit needs a memory limit too")]
    SwapWithoutMemory,
    #[error("memory+swap limit {swap} bytes is below the memory limit {memory} bytes")]
    SwapBelowMemory { memory: u64, swap: u64 },
    /// Docker's wording.
    #[error("Minimum memory limit can not be less than memory reservation limit, see usage")]
    ReservationAboveMemory { memory: u64, reservation: u64 },
    #[error("cpus {0} is out of range: use at least 0.01")]
    InvalidCpus(f64),
    #[error("pids limit must be at least 1")]
    ZeroPidsLimit,
    #[error("ulimit {kind:?}: soft limit {soft} is above hard limit {hard}")]
    UlimitSoftAboveHard {
        kind: PosixRlimitType,
        soft: u64,
        hard: u64,
    },
    #[error("ulimit {0:?} is given twice")]
    DuplicateUlimit(PosixRlimitType),
    #[error("invalid ulimit {0:?}: expected NAME=SOFT[:HARD], NAME one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack")]
    InvalidUlimit(String),
    #[error("invalid device specification {0:?}: expected HOST[:CONTAINER][:PERMISSIONS], absolute paths, PERMISSIONS some of rwm")]
    InvalidDevice(String),
    #[error("unknown capability {0:?}")]
    UnknownCapability(String),
    #[error("tmpfs mode {mode:o} on {destination:?} is not a permission mode (at most 7777)")]
    InvalidTmpfsMode { destination: PathBuf, mode: u32 },
    /// Docker's (runc's) rule: only parameters of namespaces the container has of its own.
    #[error("sysctl {name:?} is not in a separate kernel namespace{why}")]
    SysctlNotNamespaced { name: String, why: &'static str },
    #[error("shm size must be greater than 0")]
    ZeroShmSize,
}

/// Docker's minimum for `--memory`.
const MIN_MEMORY: u64 = 6 * 1024 * 1024;

impl RunConfig {
    /// Checks everything that can be checked without looking at the host.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_id(&self.id)?;
        absolute("container_dir", &self.container_dir)?;
        overlay_safe(&self.container_dir)?;
        if self.lower_dirs.is_empty() {
            return Err(ConfigError::NoLowerDirs);
        }
        for lower in &self.lower_dirs {
            absolute("lower_dirs", lower)?;
            overlay_safe(lower)?;
        }
        self.process.validate()?;
        if let Some(init) = &self.init {
            absolute("init", init)?;
        }
        validate_hostname(&self.hostname)?;
        self.validate_mounts()?;
        self.resources.validate()?;
        validate_ulimits(&self.ulimits)?;
        for name in self.sysctls.keys() {
            validate_sysctl(name, self.network)?;
        }
        if self.shm_size == Some(0) {
            return Err(ConfigError::ZeroShmSize);
        }
        Ok(())
    }

    /// The container's root: the image layers under its own writable layer.
    pub fn overlay(&self) -> crate::Overlay {
        crate::Overlay {
            lower: self.lower_dirs.clone(),
            upper: self.upper_dir(),
            work: self.work_dir(),
            merged: self.merged_dir(),
            volatile: self.ephemeral,
        }
    }

    pub fn upper_dir(&self) -> PathBuf {
        self.container_dir.join(layout::UPPER)
    }

    pub fn work_dir(&self) -> PathBuf {
        self.container_dir.join(layout::WORK)
    }

    pub fn merged_dir(&self) -> PathBuf {
        self.container_dir.join(layout::MERGED)
    }

    /// Where the caller writes the container's `/etc/hostname`.
    pub fn hostname_path(&self) -> PathBuf {
        self.container_dir.join(layout::HOSTNAME)
    }

    /// Where the caller writes the container's `/etc/hosts`.
    pub fn hosts_path(&self) -> PathBuf {
        self.container_dir.join(layout::HOSTS)
    }

    /// Where the caller writes the container's `/etc/resolv.conf`.
    pub fn resolv_conf_path(&self) -> PathBuf {
        self.container_dir.join(layout::RESOLV_CONF)
    }

    /// The cgroup path, relative to each hierarchy's root.
    pub fn cgroups_path(&self) -> PathBuf {
        PathBuf::from("/wharf").join(&self.id)
    }

    fn validate_mounts(&self) -> Result<(), ConfigError> {
        let mut seen: Vec<&Path> = Vec::with_capacity(self.mounts.len());
        for mount in &self.mounts {
            let destination = mount.destination();
            absolute("mount destination", destination)?;
            match mount {
                Mount::Bind { source, .. } => absolute("bind mount source", source)?,
                Mount::Tmpfs {
                    mode: Some(mode), ..
                } if *mode > 0o7777 => {
                    return Err(ConfigError::InvalidTmpfsMode {
                        destination: destination.to_owned(),
                        mode: *mode,
                    });
                }
                Mount::Tmpfs { .. } => {}
            }
            if seen.contains(&destination) {
                return Err(ConfigError::DuplicateMount(destination.to_owned()));
            }
            seen.push(destination);
        }
        Ok(())
    }
}

impl Process {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.args.is_empty() {
            return Err(ConfigError::EmptyArgs);
        }
        for entry in &self.env {
            match entry.split_once('=') {
                Some((key, _)) if !key.is_empty() => {}
                _ => return Err(ConfigError::InvalidEnv(entry.clone())),
            }
        }
        absolute("cwd", &self.cwd)
    }
}

impl Resources {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(memory) = self.memory {
            if memory < MIN_MEMORY {
                return Err(ConfigError::MemoryTooLow(memory));
            }
        }
        match (self.memory, self.memory_swap) {
            (None, Some(_)) => return Err(ConfigError::SwapWithoutMemory),
            (Some(memory), Some(MemorySwap::Limit(swap))) if swap < memory => {
                return Err(ConfigError::SwapBelowMemory { memory, swap });
            }
            _ => {}
        }
        if let (Some(memory), Some(reservation)) = (self.memory, self.memory_reservation) {
            if reservation > memory {
                return Err(ConfigError::ReservationAboveMemory {
                    memory,
                    reservation,
                });
            }
        }
        if let Some(cpus) = self.cpus {
            // Docker's floor: a 1 ms quota per 100 ms period.
            if !cpus.is_finite() || cpus < 0.01 {
                return Err(ConfigError::InvalidCpus(cpus));
            }
        }
        if self.pids_limit == Some(0) {
            return Err(ConfigError::ZeroPidsLimit);
        }
        Ok(())
    }
}

/// The kernel parameters a container may set, as Docker (runc) allows them: those of the
/// IPC namespace (System V IPC and POSIX message queues) and, when the container has a
/// network namespace of its own, `net.*`. Anything else would change the host.
pub fn validate_sysctl(name: &str, network: NetworkMode) -> Result<(), ConfigError> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let refused = |why| {
        Err(ConfigError::SysctlNotNamespaced {
            name: name.to_owned(),
            why,
        })
    };
    if IPC.contains(&name) || name.starts_with("fs.mqueue.") {
        return Ok(());
    }
    if name.starts_with("net.") {
        return match network {
            NetworkMode::New => Ok(()),
            NetworkMode::Host => refused(": the container uses the host's network"),
            NetworkMode::Joined => refused(": the container shares another one's network"),
        };
    }
    refused("")
}

fn validate_id(id: &str) -> Result<(), ConfigError> {
    let mut chars = id.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && id.len() <= 128 {
        Ok(())
    } else {
        Err(ConfigError::InvalidId(id.to_owned()))
    }
}

fn validate_hostname(hostname: &str) -> Result<(), ConfigError> {
    let ok = !hostname.is_empty()
        && hostname.len() <= 63
        && hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidHostname(hostname.to_owned()))
    }
}

fn validate_ulimits(ulimits: &[Ulimit]) -> Result<(), ConfigError> {
    for (i, ulimit) in ulimits.iter().enumerate() {
        if ulimit.soft > ulimit.hard {
            return Err(ConfigError::UlimitSoftAboveHard {
                kind: ulimit.kind,
                soft: ulimit.soft,
                hard: ulimit.hard,
            });
        }
        if ulimits[..i].iter().any(|u| u.kind == ulimit.kind) {
            return Err(ConfigError::DuplicateUlimit(ulimit.kind));
        }
    }
    Ok(())
}

fn absolute(field: &'static str, path: &Path) -> Result<(), ConfigError> {
    if !path.is_absolute() {
        return Err(ConfigError::NotAbsolute {
            field,
            path: path.to_owned(),
        });
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(ConfigError::ParentComponent {
            field,
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// overlayfs splits its options on ',' and lowerdir on ':'; refuse rather than escape.
fn overlay_safe(path: &Path) -> Result<(), ConfigError> {
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.iter().any(|b| matches!(b, b':' | b',' | b'\\')) {
        return Err(ConfigError::OverlayUnsafePath(path.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> RunConfig {
        RunConfig {
            id: "c1".to_owned(),
            container_dir: PathBuf::from("/var/lib/wharf/containers/c1"),
            lower_dirs: vec![PathBuf::from("/var/lib/wharf/layers/a")],
            process: Process {
                args: vec!["true".to_owned()],
                env: vec!["PATH=/bin".to_owned()],
                cwd: PathBuf::from("/"),
                user: User::default(),
                tty: false,
                no_new_privileges: false,
            },
            hostname: "c1".to_owned(),
            mounts: vec![],
            read_only_rootfs: false,
            resources: Resources::default(),
            ulimits: vec![],
            devices: vec![],
            capabilities: CapabilityChanges::default(),
            privileged: false,
            network: NetworkMode::New,
            network_namespace: None,
            init: None,
            ephemeral: false,
            sysctls: BTreeMap::new(),
            shm_size: None,
        }
    }

    #[test]
    fn sample_is_valid() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn sysctls_of_the_containers_own_namespaces_only() {
        for name in ["kernel.shmmax", "fs.mqueue.msg_max", "net.core.somaxconn"] {
            assert_eq!(validate_sysctl(name, NetworkMode::New), Ok(()), "{name}");
        }
        let refused = |name: &str, network| validate_sysctl(name, network).unwrap_err().to_string();
        assert_eq!(
            refused("vm.swappiness", NetworkMode::New),
            "sysctl \"vm.swappiness\" is not in a separate kernel namespace"
        );
        assert_eq!(
            refused("net.core.somaxconn", NetworkMode::Host),
            "sysctl \"net.core.somaxconn\" is not in a separate kernel namespace: the container uses the host's network"
        );
        let mut config = sample();
        config.sysctls.insert("kernel.panic".into(), "1".into());
        assert!(config.validate().is_err());
        let mut config = sample();
        config.shm_size = Some(0);
        assert_eq!(config.validate(), Err(ConfigError::ZeroShmSize));
    }

    #[test]
    fn rejects_bad_ids() {
        for id in ["", "-x", "a/b", "a b", "..", &"x".repeat(129)] {
            let mut config = sample();
            config.id = id.to_owned();
            assert_eq!(
                config.validate(),
                Err(ConfigError::InvalidId(id.to_owned()))
            );
        }
    }

    #[test]
    fn rejects_relative_and_overlay_unsafe_paths() {
        let mut config = sample();
        config.lower_dirs = vec![PathBuf::from("layers/a")];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::NotAbsolute {
                field: "lower_dirs",
                ..
            })
        ));
        config.lower_dirs = vec![PathBuf::from("/layers/a:b")];
        assert_eq!(
            config.validate(),
            Err(ConfigError::OverlayUnsafePath(PathBuf::from("/layers/a:b")))
        );
        config.lower_dirs = vec![PathBuf::from("/layers/../etc")];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::ParentComponent { .. })
        ));
    }

    #[test]
    fn rejects_bad_process() {
        let mut config = sample();
        config.process.args.clear();
        assert_eq!(config.validate(), Err(ConfigError::EmptyArgs));

        let mut config = sample();
        config.process.env.push("=x".to_owned());
        assert_eq!(
            config.validate(),
            Err(ConfigError::InvalidEnv("=x".to_owned()))
        );

        let mut config = sample();
        config.process.cwd = PathBuf::from("work");
        assert!(matches!(
            config.validate(),
            Err(ConfigError::NotAbsolute { field: "cwd", .. })
        ));
    }

    #[test]
    fn rejects_bad_resources() {
        let cases = [
            (
                Resources {
                    memory: Some(1024),
                    ..Resources::default()
                },
                ConfigError::MemoryTooLow(1024),
            ),
            (
                Resources {
                    memory_swap: Some(MemorySwap::Unlimited),
                    ..Resources::default()
                },
                ConfigError::SwapWithoutMemory,
            ),
            (
                Resources {
                    memory: Some(MIN_MEMORY * 2),
                    memory_swap: Some(MemorySwap::Limit(MIN_MEMORY)),
                    ..Resources::default()
                },
                ConfigError::SwapBelowMemory {
                    memory: MIN_MEMORY * 2,
                    swap: MIN_MEMORY,
                },
            ),
            (
                Resources {
                    memory: Some(MIN_MEMORY),
                    memory_reservation: Some(MIN_MEMORY + 1),
                    ..Resources::default()
                },
                ConfigError::ReservationAboveMemory {
                    memory: MIN_MEMORY,
                    reservation: MIN_MEMORY + 1,
                },
            ),
            (
                Resources {
                    cpus: Some(0.001),
                    ..Resources::default()
                },
                ConfigError::InvalidCpus(0.001),
            ),
            (
                Resources {
                    pids_limit: Some(0),
                    ..Resources::default()
                },
                ConfigError::ZeroPidsLimit,
            ),
        ];
        for (resources, error) in cases {
            let mut config = sample();
            config.resources = resources;
            assert_eq!(config.validate(), Err(error));
        }
    }

    #[test]
    fn devices_parse_as_dockers() {
        let device = |text: &str| text.parse::<DeviceRequest>();
        let parsed = |host: &str, container: &str, permissions: &str| {
            Ok(DeviceRequest {
                host: host.into(),
                container: container.into(),
                permissions: permissions.into(),
            })
        };
        assert_eq!(device("/dev/fuse"), parsed("/dev/fuse", "/dev/fuse", "rwm"));
        assert_eq!(device("/dev/fuse:r"), parsed("/dev/fuse", "/dev/fuse", "r"));
        assert_eq!(
            device("/dev/sda:/dev/xvda"),
            parsed("/dev/sda", "/dev/xvda", "rwm")
        );
        assert_eq!(
            device("/dev/sda:/dev/xvda:rw"),
            parsed("/dev/sda", "/dev/xvda", "rw")
        );
        for bad in [
            "",
            "dev/fuse",
            "/dev/a:b",
            "/dev/a:/dev/b:rx",
            "/dev/a:/b:rr",
            "/a:/b:r:w",
        ] {
            assert!(
                matches!(device(bad), Err(ConfigError::InvalidDevice(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_ulimits_and_mounts() {
        let mut config = sample();
        assert_eq!(
            "nofile=5:10".parse::<Ulimit>().unwrap(),
            Ulimit {
                kind: PosixRlimitType::RlimitNofile,
                soft: 5,
                hard: 10
            }
        );
        assert_eq!("nproc=7".parse::<Ulimit>().unwrap().hard, 7);
        assert!("nofiles=1".parse::<Ulimit>().is_err());
        assert!("nofile=a:b".parse::<Ulimit>().is_err());
        let nofile = Ulimit {
            kind: PosixRlimitType::RlimitNofile,
            soft: 10,
            hard: 5,
        };
        config.ulimits = vec![nofile];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::UlimitSoftAboveHard { .. })
        ));
        let nofile = Ulimit { soft: 5, ..nofile };
        config.ulimits = vec![nofile, nofile];
        assert_eq!(
            config.validate(),
            Err(ConfigError::DuplicateUlimit(PosixRlimitType::RlimitNofile))
        );

        let mut config = sample();
        let tmp = Mount::Tmpfs {
            destination: PathBuf::from("/tmp"),
            size_bytes: None,
            mode: None,
            read_only: false,
            exec: false,
        };
        config.mounts = vec![tmp.clone(), tmp];
        assert_eq!(
            config.validate(),
            Err(ConfigError::DuplicateMount(PathBuf::from("/tmp")))
        );
    }

    #[test]
    fn capability_names_parse_like_docker() {
        assert_eq!("all".parse(), Ok(CapabilityName::All));
        assert_eq!(
            "net_admin".parse(),
            Ok(CapabilityName::One(Capability::NetAdmin))
        );
        assert_eq!(
            "CAP_SYS_ADMIN".parse(),
            Ok(CapabilityName::One(Capability::SysAdmin))
        );
        assert_eq!(
            "NOPE".parse::<CapabilityName>(),
            Err(ConfigError::UnknownCapability("NOPE".to_owned()))
        );
        assert_eq!(
            CapabilityName::One(Capability::NetRaw).to_string(),
            "CAP_NET_RAW"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let mut config = sample();
        config.process.user.additional_gids = vec![10, 20];
        config.capabilities.add = vec![CapabilityName::One(Capability::NetAdmin)];
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), config);
    }
}
