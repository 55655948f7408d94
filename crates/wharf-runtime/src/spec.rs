//! [`RunConfig`] → OCI runtime spec, set up the way Docker sets up `docker run` (moby
//! `oci/defaults.go`, `daemon/oci_linux.go`). Pure: no I/O.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxDeviceCgroup,
    LinuxDeviceCgroupBuilder, LinuxDeviceType, LinuxMemoryBuilder, LinuxNamespace,
    LinuxNamespaceBuilder, LinuxNamespaceType, LinuxPidsBuilder, LinuxResourcesBuilder,
    Mount as OciMount, PosixRlimitBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder,
    UserBuilder,
};

use crate::caps;
use crate::config::{
    CapabilityName, ConfigError, MemorySwap, Mount, NetworkMode, Propagation, Resources, RunConfig,
    INIT_PATH,
};
use crate::host::Host;
use crate::seccomp::{self, KernelVersion, SeccompError};

/// Docker's `DefaultPathEnv`, used when the image sets no `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's default `--shm-size`: 64 MiB.
pub const SHM_SIZE: u64 = 64 * 1024 * 1024;

/// The CFS period Docker uses for `--cpus`, in microseconds.
pub const CPU_PERIOD: u64 = 100_000;

/// Paths Docker hides from the container (files under /dev/null, directories under an
/// empty read-only tmpfs).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Why a spec could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("invalid run config")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    #[error("capability {0} is not in this host's bounding set")]
    CapabilityUnavailable(Capability),
    #[error("ulimit {name}: hard limit {requested} is above this host's {host}, and raising it needs CAP_SYS_RESOURCE")]
    UlimitAboveHost {
        name: &'static str,
        requested: u64,
        host: u64,
    },
    #[error("OCI spec {what} does not build")]
    Build {
        what: &'static str,
        #[source]
        source: oci_spec::OciSpecError,
    },
}

pub(crate) fn built<T>(
    what: &'static str,
    result: Result<T, oci_spec::OciSpecError>,
) -> Result<T, SpecError> {
    result.map_err(|source| SpecError::Build { what, source })
}

/// Refuses ulimits above `host`'s hard limits: raising one needs CAP_SYS_RESOURCE.
pub fn check_ulimits(ulimits: &[crate::Ulimit], host: &Host) -> Result<(), SpecError> {
    for ulimit in ulimits {
        let limit = host.hard_limit(ulimit.kind);
        if ulimit.hard > limit {
            return Err(SpecError::UlimitAboveHost {
                name: ulimit.name(),
                requested: ulimit.hard,
                host: limit,
            });
        }
    }
    Ok(())
}

/// The OCI spec for `config` on `host`.
pub fn build(config: &RunConfig, host: &Host) -> Result<Spec, SpecError> {
    config.validate()?;
    let caps = capabilities(config, host)?;
    check_ulimits(&config.ulimits, host)?;
    let kernel = host.kernel;

    let root = built(
        "root",
        RootBuilder::default()
            .path(config.merged_dir())
            .readonly(config.read_only_rootfs)
            .build(),
    )?;

    let mut spec = built(
        "spec",
        SpecBuilder::default()
            .version(oci_spec::runtime::VERSION)
            .root(root)
            .hostname(config.hostname.clone())
            .mounts(mounts(config))
            .process(process(config, &caps)?)
            .linux(linux(config, &caps, kernel)?)
            .build(),
    )?;
    // The builder fills unset fields from Spec::default(), which is not Docker's.
    spec.set_annotations(None);
    Ok(spec)
}

/// Docker's set, within what the host can grant: implicit capabilities (the defaults, `ALL`,
/// `--privileged`) are narrowed to it, an explicit `--cap-add` outside it is an error.
fn capabilities(config: &RunConfig, host: &Host) -> Result<Vec<Capability>, SpecError> {
    for name in &config.capabilities.add {
        if let CapabilityName::One(cap) = name {
            if !host.capabilities.contains(cap) {
                return Err(SpecError::CapabilityUnavailable(*cap));
            }
        }
    }
    let mut caps = caps::resolve(&config.capabilities, config.privileged);
    caps.retain(|cap| host.capabilities.contains(cap));
    Ok(caps)
}

fn process(
    config: &RunConfig,
    caps: &[Capability],
) -> Result<oci_spec::runtime::Process, SpecError> {
    let p = &config.process;
    let mut user = UserBuilder::default().uid(p.user.uid).gid(p.user.gid);
    if !p.user.additional_gids.is_empty() {
        user = user.additional_gids(p.user.additional_gids.clone());
    }
    let set: oci_spec::runtime::Capabilities = caps.iter().copied().collect();
    let mut capabilities = built(
        "capabilities",
        LinuxCapabilitiesBuilder::default()
            .bounding(set.clone())
            .effective(set.clone())
            .permitted(set)
            .build(),
    )?;
    // Docker grants no inheritable or ambient capabilities (CVE-2022-24769).
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);

    let rlimits = config
        .ulimits
        .iter()
        .map(|u| {
            built(
                "rlimit",
                PosixRlimitBuilder::default()
                    .typ(u.kind)
                    .soft(u.soft)
                    .hard(u.hard)
                    .build(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut process = built(
        "process",
        ProcessBuilder::default()
            .terminal(p.tty)
            .user(built("user", user.build())?)
            .args(init_args(config))
            .env(docker_env(config))
            .cwd(p.cwd.clone())
            .capabilities(capabilities)
            .build(),
    )?;
    process.set_rlimits((!rlimits.is_empty()).then_some(rlimits));
    // Absent when false, as in Docker.
    process.set_no_new_privileges(p.no_new_privileges.then_some(true));
    Ok(process)
}

/// The process's argv, behind `--init`'s binary when there is one (`docker-init -- args`).
fn init_args(config: &RunConfig) -> Vec<String> {
    let prefix = config
        .init
        .as_ref()
        .map(|_| [INIT_PATH.to_owned(), "--".to_owned()]);
    prefix
        .into_iter()
        .flatten()
        .chain(config.process.args.iter().cloned())
        .collect()
}

/// Docker's `CreateDaemonEnvironment`: PATH, HOSTNAME and (with a tty) TERM, each replaced
/// by the config's own value when it sets one.
fn docker_env(config: &RunConfig) -> Vec<String> {
    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", config.hostname),
    ];
    if config.process.tty {
        env.push("TERM=xterm".to_owned());
    }
    for entry in &config.process.env {
        let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
        match env
            .iter_mut()
            .find(|e| e.split_once('=').is_some_and(|(k, _)| k == key))
        {
            Some(existing) => existing.clone_from(entry),
            None => env.push(entry.clone()),
        }
    }
    env
}

fn oci_mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> OciMount {
    let mut mount = OciMount::default();
    mount.set_destination(PathBuf::from(destination));
    mount.set_typ(Some(typ.to_owned()));
    mount.set_source(Some(PathBuf::from(source)));
    mount.set_options(Some(options.iter().map(|o| (*o).to_owned()).collect()));
    mount
}

fn bind(source: &Path, destination: &Path, read_only: bool, propagation: Propagation) -> OciMount {
    let mut options = vec!["rbind".to_owned()];
    if read_only {
        options.push("ro".to_owned());
    }
    options.push(propagation.as_str().to_owned());
    let mut mount = OciMount::default();
    mount.set_destination(destination.to_owned());
    mount.set_typ(Some("bind".to_owned()));
    mount.set_source(Some(source.to_owned()));
    mount.set_options(Some(options));
    mount
}

/// Docker's default mounts, then the user's (and the generated /etc files) sorted by depth
/// so that a parent is mounted before its children.
fn mounts(config: &RunConfig) -> Vec<OciMount> {
    let shm_size = format!("size={}", config.shm_size.unwrap_or(SHM_SIZE));
    // Privileged containers get /sys and cgroups read-write, as in Docker.
    let ro = if config.privileged { "rw" } else { "ro" };
    let defaults = [
        oci_mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        oci_mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        oci_mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        oci_mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", ro]),
        oci_mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &[ro, "nosuid", "noexec", "nodev"],
        ),
        oci_mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        oci_mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm_size],
        ),
    ];

    let mut user: Vec<OciMount> = config.mounts.iter().map(user_mount).collect();
    let etc_files = [
        (config.resolv_conf_path(), "/etc/resolv.conf"),
        (config.hostname_path(), "/etc/hostname"),
        (config.hosts_path(), "/etc/hosts"),
    ];
    if let Some(init) = &config.init {
        user.push(bind(
            init,
            Path::new(INIT_PATH),
            true,
            Propagation::default(),
        ));
    }
    for (source, destination) in etc_files {
        let destination = Path::new(destination);
        if !config.mounts.iter().any(|m| m.destination() == destination) {
            // Docker: writable unless the rootfs is read-only.
            user.push(bind(
                &source,
                destination,
                config.read_only_rootfs,
                Propagation::Rprivate,
            ));
        }
    }
    user.sort_by_key(|m| m.destination().components().count());

    let overridden = |d: &Path| user.iter().any(|m| m.destination() == d);
    let mut all: Vec<OciMount> = defaults
        .into_iter()
        .filter(|m| !overridden(m.destination()))
        .collect();
    all.extend(user);
    all
}

fn user_mount(mount: &Mount) -> OciMount {
    match mount {
        Mount::Bind {
            source,
            destination,
            read_only,
            propagation,
        } => bind(source, destination, *read_only, *propagation),
        Mount::Tmpfs {
            destination,
            size_bytes,
            mode,
            read_only,
            exec,
        } => {
            let mut options = vec![
                "nosuid".to_owned(),
                "nodev".to_owned(),
                if *exec { "exec" } else { "noexec" }.to_owned(),
                if *read_only { "ro" } else { "rw" }.to_owned(),
            ];
            if let Some(size) = size_bytes {
                options.push(format!("size={size}"));
            }
            if let Some(mode) = mode {
                options.push(format!("mode={mode:o}"));
            }
            let mut m = OciMount::default();
            m.set_destination(destination.clone());
            m.set_typ(Some("tmpfs".to_owned()));
            m.set_source(Some(PathBuf::from("tmpfs")));
            m.set_options(Some(options));
            m
        }
    }
}

fn namespaces(config: &RunConfig) -> Result<Vec<LinuxNamespace>, SpecError> {
    let mut types = vec![LinuxNamespaceType::Mount];
    if config.network == NetworkMode::New && config.network_namespace.is_none() {
        types.push(LinuxNamespaceType::Network);
    }
    types.extend([
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Cgroup,
    ]);
    let mut namespaces = types
        .into_iter()
        .map(|typ| {
            built(
                "namespace",
                LinuxNamespaceBuilder::default().typ(typ).build(),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    if config.network == NetworkMode::Joined || config.network_namespace.is_some() {
        let path = config
            .network_namespace
            .clone()
            .ok_or(ConfigError::NoNetworkNamespace)?;
        namespaces.push(built(
            "namespace",
            LinuxNamespaceBuilder::default()
                .typ(LinuxNamespaceType::Network)
                .path(path)
                .build(),
        )?);
    }
    Ok(namespaces)
}

/// Docker's device cgroup rules; libcontainer adds the usual allow rules (pts, ptmx, tun...).
fn device_rules(privileged: bool) -> Result<Vec<LinuxDeviceCgroup>, SpecError> {
    let rule = |allow: bool, major: Option<i64>, minor: Option<i64>| {
        let mut b = LinuxDeviceCgroupBuilder::default()
            .allow(allow)
            .access("rwm");
        if major.is_some() {
            b = b.typ(LinuxDeviceType::C);
        }
        if let Some(major) = major {
            b = b.major(major);
        }
        if let Some(minor) = minor {
            b = b.minor(minor);
        }
        built("device rule", b.build())
    };
    if privileged {
        return Ok(vec![rule(true, None, None)?]);
    }
    [
        (false, None, None),
        (true, Some(1), Some(5)),     // zero
        (true, Some(1), Some(3)),     // null
        (true, Some(1), Some(9)),     // urandom
        (true, Some(1), Some(8)),     // random
        (true, Some(5), Some(0)),     // tty
        (true, Some(5), Some(1)),     // console
        (false, Some(10), Some(229)), // fuse
    ]
    .into_iter()
    .map(|(allow, major, minor)| rule(allow, major, minor))
    .collect()
}

/// The cgroup limits of `r` (and the device rules), for the spec and for `update`.
pub(crate) fn linux_resources(
    r: &Resources,
    privileged: bool,
) -> Result<oci_spec::runtime::LinuxResources, SpecError> {
    let mut resources = LinuxResourcesBuilder::default().devices(device_rules(privileged)?);

    if r.memory.is_some() || r.memory_reservation.is_some() {
        let mut memory = LinuxMemoryBuilder::default();
        if let Some(limit) = r.memory {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let swap = match r.memory_swap {
                Some(MemorySwap::Limit(swap)) => i64::try_from(swap).unwrap_or(i64::MAX),
                Some(MemorySwap::Unlimited) => -1,
                // Docker: swap as large as memory, so memory+swap is twice memory.
                None => limit.saturating_mul(2),
            };
            memory = memory.limit(limit).swap(swap);
        }
        if let Some(reservation) = r.memory_reservation {
            memory = memory.reservation(i64::try_from(reservation).unwrap_or(i64::MAX));
        }
        resources = resources.memory(built("memory", memory.build())?);
    }

    if r.cpus.is_some() || r.cpu_shares.is_some() {
        let mut cpu = LinuxCpuBuilder::default();
        if let Some(shares) = r.cpu_shares {
            cpu = cpu.shares(shares);
        }
        if let Some(cpus) = r.cpus {
            // Docker goes through NanoCPUs, truncating to whole microseconds of quota.
            let nano = (cpus * 1e9).round() as i64;
            let period = CPU_PERIOD as i64;
            cpu = cpu
                .period(CPU_PERIOD)
                .quota(nano.saturating_mul(period) / 1_000_000_000);
        }
        resources = resources.cpu(built("cpu", cpu.build())?);
    }

    if let Some(limit) = r.pids_limit {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        resources = resources.pids(built(
            "pids",
            LinuxPidsBuilder::default().limit(limit).build(),
        )?);
    }
    built("resources", resources.build())
}

fn linux(
    config: &RunConfig,
    caps: &[Capability],
    kernel: KernelVersion,
) -> Result<oci_spec::runtime::Linux, SpecError> {
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces(config)?)
        .cgroups_path(config.cgroups_path())
        .resources(linux_resources(&config.resources, config.privileged)?);

    let mut sysctl = HashMap::new();
    if config.network == NetworkMode::New {
        // Docker (20.10+) lets unprivileged users bind low ports and ping inside a private netns.
        sysctl.insert(
            "net.ipv4.ip_unprivileged_port_start".to_owned(),
            "0".to_owned(),
        );
        sysctl.insert(
            "net.ipv4.ping_group_range".to_owned(),
            "0 2147483647".to_owned(),
        );
    }
    sysctl.extend(config.sysctls.clone());
    if !sysctl.is_empty() {
        linux = linux.sysctl(sysctl);
    }

    if !config.privileged {
        linux = linux
            .masked_paths(MASKED_PATHS.map(str::to_owned).to_vec())
            .readonly_paths(READONLY_PATHS.map(str::to_owned).to_vec())
            .seccomp(seccomp::default_profile(caps, kernel)?);
    }

    let mut linux = built("linux", linux.build())?;
    if config.privileged {
        // Unset fields come from Linux::default(), which masks paths; Docker does not.
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    }
    Ok(linux)
}

#[cfg(test)]
mod tests {
    use oci_spec::runtime::PosixRlimitType;
    use serde_json::Value;

    use super::*;
    use crate::config::{Resources, RunConfig, Ulimit, User};

    fn host() -> Host {
        Host {
            kernel: KernelVersion { major: 6, minor: 1 },
            capabilities: caps::ALL.to_vec(),
            hard_limits: vec![(PosixRlimitType::RlimitNofile, 4096)],
        }
    }

    /// The config module's sample, running a shell command.
    fn config() -> RunConfig {
        let mut config = crate::config::tests::sample();
        config.process.args = vec!["sh".to_owned(), "-c".to_owned(), "echo hi".to_owned()];
        config.process.env = vec!["FOO=bar".to_owned()];
        config
    }

    /// JSON with capability sets sorted: oci-spec keeps them in a HashSet.
    fn stable_json(spec: &Spec) -> Value {
        let mut value = serde_json::to_value(spec).unwrap();
        if let Some(Value::Object(sets)) = value.pointer_mut("/process/capabilities") {
            for set in sets.values_mut() {
                if let Value::Array(items) = set {
                    items.sort_by_key(|v| v.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        // oci-spec keeps sysctls in a HashMap: its order changes from run to run.
        if let Some(Value::Object(sysctl)) = value.pointer_mut("/linux/sysctl") {
            sysctl.sort_keys();
        }
        value
    }

    #[test]
    fn default_spec_matches_docker() {
        let spec = build(&config(), &host()).unwrap();
        insta::assert_json_snapshot!("default_spec", stable_json(&spec));
    }

    #[test]
    fn a_network_namespace_made_for_the_container_is_joined_and_set_up_as_new() {
        let mut config = config();
        config.network_namespace = Some(PathBuf::from("/proc/42/fd/7"));
        let spec = build(&config, &host()).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let network: Vec<_> = linux
            .namespaces()
            .iter()
            .flatten()
            .filter(|namespace| namespace.typ() == LinuxNamespaceType::Network)
            .collect();
        assert_eq!(network.len(), 1);
        assert_eq!(
            network[0].path().as_deref(),
            Some(Path::new("/proc/42/fd/7"))
        );
        assert!(linux
            .sysctl()
            .as_ref()
            .is_some_and(|sysctl| sysctl.contains_key("net.ipv4.ip_unprivileged_port_start")));
    }

    #[test]
    fn limits_mounts_and_user() {
        let mut config = config();
        config.process.user = User {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![10],
        };
        config.process.tty = true;
        config.process.no_new_privileges = true;
        config.read_only_rootfs = true;
        config.network = NetworkMode::Host;
        config.resources = Resources {
            memory: Some(64 << 20),
            memory_swap: None,
            cpus: Some(1.5),
            cpu_shares: Some(512),
            pids_limit: Some(100),
            memory_reservation: Some(32 << 20),
        };
        config.ulimits = vec![Ulimit {
            kind: PosixRlimitType::RlimitNofile,
            soft: 512,
            hard: 1024,
        }];
        config.mounts = vec![
            Mount::Bind {
                source: PathBuf::from("/srv/data"),
                destination: PathBuf::from("/data/deep"),
                read_only: true,
                propagation: Default::default(),
            },
            Mount::Tmpfs {
                destination: PathBuf::from("/run"),
                size_bytes: Some(1 << 20),
                mode: Some(0o755),
                read_only: false,
                exec: true,
            },
            Mount::Tmpfs {
                destination: PathBuf::from("/dev/shm"),
                size_bytes: Some(1 << 20),
                mode: None,
                read_only: false,
                exec: false,
            },
        ];
        let spec = build(&config, &host()).unwrap();
        let mut json = stable_json(&spec);
        // The seccomp profile is covered by the default snapshot.
        json["linux"]["seccomp"] = Value::String("<docker default>".to_owned());
        insta::assert_json_snapshot!("limited_spec", json);
    }

    #[test]
    fn privileged_drops_confinement() {
        let mut config = config();
        config.privileged = true;
        let spec = build(&config, &host()).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        assert!(linux.seccomp().is_none());
        assert!(linux.masked_paths().is_none());
        assert!(linux.readonly_paths().is_none());
        let devices = linux
            .resources()
            .as_ref()
            .unwrap()
            .devices()
            .as_ref()
            .unwrap();
        assert_eq!(devices.len(), 1);
        assert!(devices[0].allow());
        let bounding = spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .as_ref()
            .unwrap()
            .bounding()
            .as_ref()
            .unwrap();
        assert_eq!(bounding.len(), caps::ALL.len());
        let sys = spec
            .mounts()
            .iter()
            .flatten()
            .find(|m| m.destination() == Path::new("/sys"))
            .unwrap();
        assert!(sys.options().iter().flatten().any(|o| o == "rw"));
    }

    #[test]
    fn init_runs_the_process_as_its_child_from_a_read_only_bind() {
        let mut config = config();
        config.init = Some(PathBuf::from("/usr/bin/tini-static"));
        let spec = build(&config, &host()).unwrap();
        let args = spec.process().as_ref().unwrap().args().clone().unwrap();
        assert_eq!(args, [INIT_PATH, "--", "sh", "-c", "echo hi"]);
        let init = spec
            .mounts()
            .iter()
            .flatten()
            .find(|m| m.destination() == Path::new(INIT_PATH))
            .unwrap();
        assert_eq!(init.source().as_deref(), config.init.as_deref());
        assert!(init.options().iter().flatten().any(|o| o == "ro"));
    }

    #[test]
    fn env_overrides_docker_defaults() {
        let mut config = config();
        config.process.env = vec!["PATH=/bin".to_owned(), "A=1".to_owned()];
        assert_eq!(
            docker_env(&config),
            ["PATH=/bin", "HOSTNAME=c1", "A=1"].map(str::to_owned)
        );
    }

    #[test]
    fn fractional_cpus_become_a_quota() {
        let mut config = config();
        config.resources.cpus = Some(0.25);
        let spec = build(&config, &host()).unwrap();
        let cpu = spec
            .linux()
            .as_ref()
            .and_then(|l| l.resources().as_ref())
            .and_then(|r| r.cpu().as_ref())
            .cloned()
            .unwrap();
        assert_eq!(cpu.period(), Some(100_000));
        assert_eq!(cpu.quota(), Some(25_000));
    }

    #[test]
    fn host_limits_are_respected() {
        let mut host = host();
        host.capabilities.retain(|c| *c != Capability::SysResource);

        let mut config = config();
        config.privileged = true;
        let spec = build(&config, &host).unwrap();
        let caps = spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .as_ref()
            .unwrap();
        let bounding = caps.bounding().as_ref().unwrap();
        assert_eq!(bounding.len(), caps::ALL.len() - 1);
        assert!(!bounding.contains(&Capability::SysResource));

        let mut config = self::config();
        config.capabilities.add = vec![CapabilityName::One(Capability::SysResource)];
        assert!(matches!(
            build(&config, &host),
            Err(SpecError::CapabilityUnavailable(Capability::SysResource))
        ));

        let mut config = self::config();
        config.ulimits = vec![Ulimit {
            kind: PosixRlimitType::RlimitNofile,
            soft: 1,
            hard: 8192,
        }];
        assert!(matches!(
            build(&config, &host),
            Err(SpecError::UlimitAboveHost {
                requested: 8192,
                host: 4096,
                ..
            })
        ));
    }

    #[test]
    fn invalid_config_is_refused() {
        let mut config = config();
        config.process.args.clear();
        assert!(matches!(
            build(&config, &host()),
            Err(SpecError::Config(ConfigError::EmptyArgs))
        ));
    }
}
