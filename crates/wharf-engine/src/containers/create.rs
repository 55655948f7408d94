//! `create`: from an image and the user's flags to a container record and a prepared bundle
//! (the image's layers as lower dirs, `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wharf_oci::Digest;
use wharf_runtime::{
    CapabilityChanges, ConfigError, DeviceRequest, Mount, Process, Resources, RunConfig, Ulimit,
    User,
};

use super::health::{HealthOptions, Healthcheck};
use super::logfile::LogConfig;
use super::record::{
    container_dir, write_json, write_state, ContainerRecord, ContainerState, RestartPolicy,
    RECORD_FILE, STATE_FILE,
};
use crate::error::{EngineError, IoResultExt, Result};
use crate::{now_rfc3339, Engine};

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_STOP_TIMEOUT: u64 = 10;

/// The flags of `create` and `run`, already parsed.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    pub name: Option<String>,
    /// The command; `None` keeps the image's `Cmd`.
    pub command: Option<Vec<String>>,
    /// `--entrypoint`; `Some("")` clears the image's entrypoint, as Docker's.
    pub entrypoint: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub auto_remove: bool,
    /// `bridge` (the default), `none`, `host` or a network's name or id.
    pub network: Option<String>,
    /// `-p` values, as typed.
    pub publish: Vec<String>,
    /// `-P`: publish every exposed port of the image on a free host port.
    pub publish_all: bool,
    /// `HostConfig.PortBindings` as an API client sent it, which inspect shows as sent, as
    /// Docker does (docker-py passes `8125/udp` through as a host port; the port published
    /// is the number). `None`: inspect shows what `publish` asked for.
    pub port_bindings_as_sent: Option<serde_json::Value>,
    /// `--expose` (the API's `ExposedPorts`): exposed beside the image's, `80` or `80/udp`.
    pub expose: Vec<String>,
    /// `--ip`.
    pub ip: Option<String>,
    /// `--network-alias`.
    pub network_aliases: Vec<String>,
    /// `--add-host NAME:IP`.
    pub add_hosts: Vec<String>,
    /// `--dns`.
    pub dns: Vec<String>,
    /// Bind and tmpfs mounts.
    pub mounts: Vec<Mount>,
    /// `-v NAME:/path`, `-v /path`, `--mount type=volume`.
    pub volumes: Vec<VolumeRequest>,
    /// The anonymous volumes of the container this one replaces (compose's recreate): an
    /// anonymous volume at one of their destinations is that volume again, data and all.
    pub inherited_volumes: Vec<super::VolumeMount>,
    pub read_only: bool,
    pub resources: Resources,
    pub ulimits: Vec<Ulimit>,
    /// `--device`.
    pub devices: Vec<DeviceRequest>,
    pub capabilities: CapabilityChanges,
    pub privileged: bool,
    pub no_new_privileges: bool,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u64>,
    /// `--restart`.
    pub restart_policy: RestartPolicy,
    /// `--health-*`, `--no-healthcheck`.
    pub health: HealthOptions,
    /// `--log-driver`, `--log-opt`.
    pub log_config: LogConfig,
    /// `-t`: the container's stdio is a pseudo-terminal.
    pub tty: bool,
    /// `-i`: keep the container's stdin open.
    pub open_stdin: bool,
    /// Docker's `StdinOnce`: the first attached client's end of input closes the
    /// container's stdin (without a tty).
    pub stdin_once: bool,
    /// `--init`: this binary (tini, static so that it runs in any image) runs as PID 1,
    /// forwarding signals and reaping zombies.
    pub init: Option<PathBuf>,
    /// `--sysctl NAME=VALUE`: kernel parameters of the container's own namespaces.
    pub sysctls: BTreeMap<String, String>,
    /// `--shm-size` in bytes.
    pub shm_size: Option<u64>,
}

/// A volume to mount: named (created when missing) or anonymous (made for this container).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeRequest {
    /// `None`: an anonymous volume.
    pub name: Option<String>,
    pub destination: PathBuf,
    pub read_only: bool,
    /// `volume-nocopy`: do not fill an empty volume from the image.
    pub no_copy: bool,
}

impl Engine {
    /// Creates a container and returns its id. Nothing runs yet.
    pub fn create_container(&self, options: &CreateOptions) -> Result<String> {
        let _held = self.store.shared_lock()?;
        let index = self.store.index()?;
        let image_id = index
            .resolve(&options.image)
            .ok_or_else(|| EngineError::ImageNotFound(options.image.clone()))?;
        let image = self.store.image(&index, &image_id)?;
        let layers = image.layers()?;
        let lower_dirs: Vec<PathBuf> = layers
            .iter()
            .rev()
            .map(|l| self.store.layer_diff_dir(&l.chain_id))
            .collect();
        let config = &image.config.config;
        let (network_mode, network, net) =
            self.plan_networking(options, config.exposed_ports.as_ref())?;

        let id = random_id()?;
        // A generated name is drawn when it is claimed, below.
        let name = match &options.name {
            Some(name) => {
                let name = name.strip_prefix('/').unwrap_or(name);
                validate_name("--name", name)?;
                name.to_string()
            }
            None => String::new(),
        };
        let (entrypoint, cmd) =
            command_line(config.entrypoint.as_deref(), config.cmd.as_deref(), options)?;
        let args: Vec<String> = entrypoint.iter().chain(&cmd).cloned().collect();
        let user_spec = options.user.clone().unwrap_or_else(|| config.user.clone());
        // As Docker, the user is looked up at each start (the monitor does), in the
        // container's own files: one the image lacks fails `start`, not `create`.
        let user = match resolve_user(&user_spec, &lower_dirs) {
            Ok(user) => Some(user),
            Err(EngineError::UnknownUser { .. }) => None,
            Err(error) => return Err(error),
        };
        let mut env = config.env.clone().unwrap_or_default();
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, DEFAULT_PATH.to_string());
        }
        let hostname = options
            .hostname
            .clone()
            .unwrap_or_else(|| id[..12].to_string());
        // As Docker's Config.Env: HOSTNAME and HOME are the runtime's, added at each start.
        merge_env(&mut env, &options.env);
        let cwd = options
            .workdir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| {
                if config.working_dir.is_empty() {
                    "/".into()
                } else {
                    config.working_dir.clone()
                }
            });
        if !cwd.starts_with('/') {
            return Err(EngineError::BadOption {
                flag: "--workdir",
                value: cwd,
                message: "the working directory must be an absolute path".into(),
            });
        }

        if options.auto_remove && options.restart_policy != RestartPolicy::No {
            return Err(EngineError::BadOption {
                flag: "--restart",
                value: options.restart_policy.name().into(),
                message:
                    "conflicts with --rm: a container removed when it exits is never restarted"
                        .into(),
            });
        }
        let healthcheck = Healthcheck::merge(config.healthcheck.as_ref(), &options.health)?;
        if let Some(path) = options.init.as_ref().filter(|path| !path.is_file()) {
            return Err(EngineError::NoInit { path: path.clone() });
        }
        let (volumes, volume_binds) = self.plan_volumes(options, config.volumes.as_ref())?;
        let dir = container_dir(self.root(), &id);
        let run = RunConfig {
            id: id.clone(),
            container_dir: dir.clone(),
            lower_dirs,
            process: Process {
                args,
                env,
                cwd: cwd.into(),
                user: user.map(|user| user.ids()).unwrap_or_default(),
                tty: options.tty,
                no_new_privileges: options.no_new_privileges,
            },
            hostname: hostname.clone(),
            mounts: options.mounts.iter().cloned().chain(volume_binds).collect(),
            read_only_rootfs: options.read_only,
            resources: options.resources,
            ulimits: options.ulimits.clone(),
            devices: options.devices.clone(),
            capabilities: options.capabilities.clone(),
            privileged: options.privileged,
            network: network_mode,
            network_namespace: None,
            init: options.init.clone(),
            ephemeral: options.auto_remove,
            sysctls: options.sysctls.clone(),
            shm_size: options.shm_size,
        };
        run.validate().map_err(|e| match e {
            ConfigError::MemoryTooLow(bytes) => EngineError::BadOption {
                flag: "--memory",
                value: format!("{bytes} bytes"),
                message: e.to_string(),
            },
            ConfigError::SysctlNotNamespaced { ref name, .. } => EngineError::BadOption {
                flag: "--sysctl",
                value: name.clone(),
                message: e.to_string(),
            },
            ConfigError::ZeroShmSize => EngineError::BadOption {
                flag: "--shm-size",
                value: "0".into(),
                message: e.to_string(),
            },
            ConfigError::ReservationAboveMemory { reservation, .. } => EngineError::BadOption {
                flag: "--memory-reservation",
                value: format!("{reservation} bytes"),
                message: e.to_string(),
            },
            _ => EngineError::BadOption {
                flag: "run",
                value: options.image.clone(),
                message: e.to_string(),
            },
        })?;
        // Checked here too, so that such a container is never created.
        if !run.ulimits.is_empty() {
            let host = wharf_runtime::Host::current().map_err(|e| EngineError::BadOption {
                flag: "--ulimit",
                value: String::new(),
                message: e.to_string(),
            })?;
            wharf_runtime::spec::check_ulimits(&run.ulimits, &host).map_err(|e| {
                EngineError::BadOption {
                    flag: "--ulimit",
                    value: run
                        .ulimits
                        .iter()
                        .map(|u| format!("{}={}:{}", u.name(), u.soft, u.hard))
                        .collect::<Vec<_>>()
                        .join(","),
                    message: e.to_string(),
                }
            })?;
        }
        let mut record = ContainerRecord {
            id: id.clone(),
            name: name.clone(),
            image_name: options.image.clone(),
            image_id,
            created: now_rfc3339(),
            run,
            auto_remove: options.auto_remove,
            labels: options.labels.clone(),
            network_mode: network,
            net,
            stop_signal: options
                .stop_signal
                .clone()
                .or_else(|| (!config.stop_signal.is_empty()).then(|| config.stop_signal.clone()))
                .unwrap_or_else(|| "SIGTERM".into()),
            stop_timeout: options.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
            restart_policy: options.restart_policy,
            healthcheck,
            log_config: options.log_config.clone(),
            volumes,
            open_stdin: options.open_stdin,
            stdin_once: options.stdin_once,
            entrypoint,
            cmd,
            user: user_spec,
        };
        if name.is_empty() {
            record.name = self.claim_random_name(&id)?;
        } else {
            self.claim_name(&name, &id)?;
        }
        let mut created_volumes = Vec::new();
        // The record last, once its volumes exist and are filled: a create cut short (a
        // kill) leaves a folder without it, which `system check --repair` removes, never a
        // container that cannot start.
        let result = write_bundle(&record, &dir)
            .and_then(|()| self.prepare_volumes(&record, &options.volumes, &mut created_volumes))
            .and_then(|()| write_json(&dir.join(RECORD_FILE), &record));
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
            self.release_name(&record.name);
            for volume in &created_volumes {
                let _ = self.delete_volume(volume);
            }
        } else {
            self.record_event("create", &record, &[]);
        }
        result.map(|()| id)
    }
}

fn write_bundle(record: &ContainerRecord, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).at("create directory", dir)?;
    for sub in [
        record.run.upper_dir(),
        record.run.work_dir(),
        record.run.merged_dir(),
    ] {
        std::fs::create_dir_all(&sub).at("create directory", &sub)?;
    }
    write_etc_files(record)?;
    write_state(&dir.join(STATE_FILE), &ContainerState::created())
}

/// The container's /etc/hostname, /etc/hosts and /etc/resolv.conf. Not synced (three fsyncs
/// on every create): a power cut may leave them empty, and the monitor writes them again at
/// start when it finds them so ([`etc_files_lost`]).
pub(crate) fn write_etc_files(record: &ContainerRecord) -> Result<()> {
    let hostname = &record.run.hostname;
    std::fs::write(record.run.hostname_path(), format!("{hostname}\n"))
        .at("write", record.run.hostname_path())?;
    // Networked containers get their address here at start.
    let hosts = crate::network::hosts_file(hostname, None, &record.net.extra_hosts, None);
    std::fs::write(record.run.hosts_path(), hosts).at("write", record.run.hosts_path())?;
    // The host's resolvers, as Docker copies them (the monitor points a container on a user
    // network at that network's DNS at start).
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let resolv = crate::network::resolv_conf(&host_resolv, &record.net, None, record.run.network);
    std::fs::write(record.run.resolv_conf_path(), resolv).at("write", record.run.resolv_conf_path())
}

/// Whether a power cut emptied (or removed) the files [`write_etc_files`] wrote: hostname
/// and hosts are never empty.
pub(crate) fn etc_files_lost(record: &ContainerRecord) -> bool {
    [record.run.hostname_path(), record.run.hosts_path()]
        .iter()
        .any(|path| std::fs::metadata(path).map_or(true, |m| m.len() == 0))
}

/// The container's entrypoint and command, by Docker's rule: `--entrypoint` replaces the
/// image's entrypoint and drops its `Cmd`; a command replaces the image's `Cmd`. Its process
/// runs the two one after the other.
fn command_line(
    image_entrypoint: Option<&[String]>,
    image_cmd: Option<&[String]>,
    options: &CreateOptions,
) -> Result<(Vec<String>, Vec<String>)> {
    let (entrypoint, default_cmd): (Vec<String>, Vec<String>) = match &options.entrypoint {
        Some(entrypoint) if entrypoint.is_empty() => (Vec::new(), Vec::new()),
        Some(entrypoint) => (vec![entrypoint.clone()], Vec::new()),
        None => (
            image_entrypoint.unwrap_or_default().to_vec(),
            image_cmd.unwrap_or_default().to_vec(),
        ),
    };
    let cmd = options.command.clone().unwrap_or(default_cmd);
    if entrypoint.is_empty() && cmd.is_empty() {
        return Err(EngineError::NoCommand(options.image.clone()));
    }
    Ok((entrypoint, cmd))
}

fn merge_env(env: &mut Vec<String>, overrides: &[String]) {
    for entry in overrides {
        let key = entry.split('=').next().unwrap_or(entry);
        let prefix = format!("{key}=");
        env.retain(|e| !e.starts_with(&prefix) && e != key);
        env.push(entry.clone());
    }
}

pub(crate) struct ResolvedUser {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// The groups of `/etc/group` that list the user as a member, as runc adds them.
    pub(crate) additional_gids: Vec<u32>,
    pub(crate) home: String,
}

impl ResolvedUser {
    /// The runtime's form: ids only.
    pub(crate) fn ids(&self) -> User {
        User {
            uid: self.uid,
            gid: self.gid,
            additional_gids: self.additional_gids.clone(),
        }
    }
}

/// Resolves `user[:group]` (names or numbers) in the image's `/etc/passwd` and `/etc/group`,
/// read from the topmost of `lower_dirs` (layers, or a container's root) that has them. Without a group, a user found in `/etc/passwd`
/// also gets the groups that list it as a member (runc's rule; a group given replaces them).
pub(crate) fn resolve_user(spec: &str, lower_dirs: &[PathBuf]) -> Result<ResolvedUser> {
    // Each layer is opened as its own root: a symlink in it (to `/etc/passwd`, or `/etc`
    // to a host folder) resolves inside it, never on the host (CVE-2014-6407's family).
    let find = |file: &str| {
        lower_dirs
            .iter()
            .find_map(|dir| {
                wharf_runtime::rootfs::open_file_in_root(dir, Path::new(file))
                    .ok()
                    .flatten()
            })
            .and_then(|mut file| {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut file, &mut text).ok()?;
                Some(text)
            })
            .unwrap_or_default()
    };
    let (user, group) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let passwd = find("etc/passwd");
    // name:x:uid:gid:gecos:home:shell
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && (f[0] == user || f[2] == user));
    let uid = match (user.parse::<u32>(), &entry) {
        (Ok(uid), _) => uid,
        (Err(_), Some(fields)) => fields[2].parse().unwrap_or(0),
        (Err(_), None) => {
            return Err(EngineError::UnknownUser {
                kind: "user",
                name: user.to_string(),
                file: "passwd",
            })
        }
    };
    let home = entry
        .as_ref()
        .map_or_else(|| "/".to_string(), |f| f[5].to_string());
    let groups = find("etc/group");
    // name:x:gid:member,member
    let group_entries = || {
        groups
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .filter(|f| f.len() >= 3)
    };
    let (gid, additional_gids) = match group {
        Some(group) => match group.parse::<u32>() {
            Ok(gid) => (gid, Vec::new()),
            Err(_) => {
                let gid = group_entries()
                    .find(|f| f[0] == group)
                    .and_then(|f| f[2].parse().ok())
                    .ok_or_else(|| EngineError::UnknownUser {
                        kind: "group",
                        name: group.to_string(),
                        file: "group",
                    })?;
                (gid, Vec::new())
            }
        },
        None => {
            let gid = entry.as_ref().and_then(|f| f[3].parse().ok()).unwrap_or(0);
            let mut additional: Vec<u32> = match &entry {
                Some(fields) => group_entries()
                    .filter(|f| {
                        f.get(3)
                            .is_some_and(|m| m.split(',').any(|m| m == fields[0]))
                    })
                    .filter_map(|f| f[2].parse().ok())
                    .filter(|&g| g != gid)
                    .collect(),
                None => Vec::new(),
            };
            additional.sort_unstable();
            additional.dedup();
            (gid, additional)
        }
    };
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

/// Docker's names of containers and volumes: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub(crate) fn validate_name(flag: &'static str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.len() >= 2;
    if valid {
        Ok(())
    } else {
        Err(EngineError::BadOption {
            flag,
            value: name.to_string(),
            message: "a name is [a-zA-Z0-9][a-zA-Z0-9_.-]+".into(),
        })
    }
}

/// 64 random hex characters, as Docker's container ids and anonymous volume names.
pub(crate) fn random_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .at("read", "/dev/urandom")?;
    Ok(Digest::of(&bytes).hex().to_string())
}
