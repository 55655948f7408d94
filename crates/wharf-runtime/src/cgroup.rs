//! A running container's cgroup, from any process: freeze and thaw it (`pause`/`unpause`),
//! read its usage (`stats`) and list its processes (`top`). cgroup v1 (this host, hybrid)
//! and v2 both, through libcgroups where it has the operation.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use libcgroups::common::{
    AnyCgroupManager, CgroupConfig, CgroupManager, CgroupSetup, ControllerOpt, FreezerState,
};
use libcgroups::stats::Stats;
use libcgroups::v1::ControllerType;

use crate::config::Resources;
use crate::run::RunError;

/// One reading of a container's cgroup counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupUsage {
    /// CPU time used by all its processes, in nanoseconds.
    pub cpu_ns: u64,
    /// Of that, the time spent in user mode and in the kernel.
    pub cpu_user_ns: u64,
    pub cpu_kernel_ns: u64,
    /// Memory in use, without the inactive page cache (what Docker shows).
    pub memory_bytes: u64,
    /// The memory limit; `None` without one.
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
}

pub(crate) fn manager(cgroups_path: &Path, id: &str) -> Result<AnyCgroupManager, RunError> {
    libcgroups::common::create_cgroup_manager(CgroupConfig {
        cgroup_path: cgroups_path.to_owned(),
        systemd_cgroup: false,
        container_name: id.to_owned(),
    })
    .map_err(|source| RunError::CgroupOpen {
        path: cgroups_path.to_owned(),
        source,
    })
}

fn cgroup_error<'a>(
    action: &'static str,
    cgroups_path: &'a Path,
) -> impl FnOnce(libcgroups::common::AnyManagerError) -> RunError + 'a {
    move |source| RunError::Cgroup {
        action,
        path: cgroups_path.to_owned(),
        source: Box::new(source),
    }
}

/// Freezes (`true`) or thaws every process of the cgroup; returns once the kernel has done it.
pub fn set_frozen(cgroups_path: &Path, id: &str, frozen: bool) -> Result<(), RunError> {
    let state = if frozen {
        FreezerState::Frozen
    } else {
        FreezerState::Thawed
    };
    manager(cgroups_path, id)?
        .freeze(state)
        .map_err(cgroup_error(
            if frozen { "freeze" } else { "thaw" },
            cgroups_path,
        ))
}

/// Sets the limits of a running container's cgroup to `resources` (`update`).
pub fn set_resources(cgroups_path: &Path, id: &str, resources: &Resources) -> Result<(), RunError> {
    let mut resources = crate::spec::linux_resources(resources, false)?;
    // The device rules stay as they are: rewriting them denies every device for a moment.
    resources.set_devices(None);
    manager(cgroups_path, id)?
        .apply(&ControllerOpt {
            resources: &resources,
            disable_oom_killer: false,
            oom_score_adj: None,
            freezer_state: None,
        })
        .map_err(cgroup_error("set the limits of", cgroups_path))
}

/// Whether the cgroup is frozen (or freezing). A cgroup that does not exist is not.
pub fn is_frozen(cgroups_path: &Path) -> Result<bool, RunError> {
    let file = controller_file(
        cgroups_path,
        ControllerType::Freezer,
        "freezer.state",
        "cgroup.freeze",
    )?;
    Ok(match read_if_exists(&file)? {
        Some(text) => matches!(text.trim(), "FROZEN" | "FREEZING" | "1"),
        None => false,
    })
}

/// The pids of every process in the cgroup, in the host's pid namespace.
pub fn pids(cgroups_path: &Path, id: &str) -> Result<Vec<i32>, RunError> {
    let pids = manager(cgroups_path, id)?
        .get_all_pids()
        .map_err(cgroup_error("list the processes of", cgroups_path))?;
    Ok(pids.into_iter().map(|pid| pid.as_raw()).collect())
}

/// CPU, memory, pids and block I/O of the cgroup now.
pub fn usage(cgroups_path: &Path, id: &str) -> Result<CgroupUsage, RunError> {
    let manager = manager(cgroups_path, id)?;
    let stats = manager
        .stats()
        .map_err(cgroup_error("read the statistics of", cgroups_path))?;
    // cgroup v2 counts CPU time in microseconds (`usage_usec` of cpu.stat), v1 in
    // nanoseconds (cpuacct.usage).
    let cpu_unit_ns = match manager {
        AnyCgroupManager::V2(_) => 1000,
        _ => 1,
    };
    Ok(usage_from(&stats, cpu_unit_ns))
}

/// The usage in `stats`, whose CPU time counts units of `cpu_unit_ns` nanoseconds.
fn usage_from(stats: &Stats, cpu_unit_ns: u64) -> CgroupUsage {
    // Docker leaves the inactive page cache out: `total_inactive_file` on v1,
    // `inactive_file` on v2.
    let memory = &stats.memory;
    let inactive = memory
        .stats
        .get("total_inactive_file")
        .or_else(|| memory.stats.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    // An unlimited cgroup reports a huge number (v1) or zero.
    let memory_limit = Some(memory.memory.limit).filter(|&l| l > 0 && l < i64::MAX as u64 / 2);
    let block = |op: &str| {
        stats
            .blkio
            .service_bytes
            .iter()
            .filter(|s| {
                s.op_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(op))
            })
            .map(|s| s.value)
            .sum()
    };
    CgroupUsage {
        cpu_ns: stats.cpu.usage.usage_total.saturating_mul(cpu_unit_ns),
        cpu_user_ns: stats.cpu.usage.usage_user.saturating_mul(cpu_unit_ns),
        cpu_kernel_ns: stats.cpu.usage.usage_kernel.saturating_mul(cpu_unit_ns),
        memory_bytes: memory.memory.usage.saturating_sub(inactive),
        memory_limit,
        pids: stats.pids.current,
        block_read_bytes: block("read"),
        block_write_bytes: block("write"),
    }
}

/// Starts paying, on a thread of its own, the wait that the kernel makes a process's move
/// into a cgroup pay: call it as a container is about to start.
///
/// A move takes the kernel's `cgroup_threadgroup_rwsem` for writing, which waits for an RCU
/// grace period (about 15 ms on a small machine) unless another move ended less than a
/// grace period before. The thread moves this process into the cgroup it is already in,
/// which changes nothing but pays that wait while the container is being set up; the
/// container's own move, a few milliseconds later, finds it paid. Best effort: if the move
/// fails, the wait stays where it was. Not for a process that runs libcontainer itself
/// (which needs it single-threaded); the thread takes the caller's signal mask.
pub fn warm_up_moves() {
    let _ = std::thread::Builder::new()
        .name("cgroup-warm-up".into())
        .spawn(|| drop(move_into_own_cgroup()));
}

/// As [`warm_up_moves`], in a child process of its own, for a process that must stay
/// single-threaded (a monitor about to start a healthcheck probe, whose helper joins the
/// container's cgroup a few milliseconds later); returns the child's pid, for the caller
/// to reap. Refused in a process with more than one thread.
pub fn warm_up_moves_in_child() -> io::Result<i32> {
    crate::sys::fork_detached("wharf: cgroup warm-up", || drop(move_into_own_cgroup()))
}

/// Moves this process into the cgroup it is in (in the pids hierarchy on cgroup v1, the
/// unified one on v2); returns the `cgroup.procs` file written.
fn move_into_own_cgroup() -> Result<PathBuf, RunError> {
    let own_file = Path::new("/proc/self/cgroup");
    let own = fs::read_to_string(own_file).map_err(|source| RunError::Io {
        action: "read",
        path: own_file.to_owned(),
        source,
    })?;
    let controller = match libcgroups::common::get_cgroup_setup().map_err(RunError::CgroupSetup)? {
        CgroupSetup::Legacy | CgroupSetup::Hybrid => Some("pids"),
        CgroupSetup::Unified => None,
    };
    let cgroup = own_cgroup(&own, controller).ok_or_else(|| RunError::Io {
        action: "find this process's cgroup in",
        path: own_file.to_owned(),
        source: io::ErrorKind::NotFound.into(),
    })?;
    let procs = controller_file(
        &cgroup,
        ControllerType::Pids,
        "cgroup.procs",
        "cgroup.procs",
    )?;
    // "0": the writing process.
    fs::write(&procs, "0").map_err(|source| RunError::Io {
        action: "write",
        path: procs.clone(),
        source,
    })?;
    Ok(procs)
}

/// From the text of `/proc/self/cgroup`: the process's cgroup in `controller`'s v1
/// hierarchy, or in the unified one (`None`).
fn own_cgroup(text: &str, controller: Option<&str>) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let found = match controller {
            Some(name) => controllers.split(',').any(|c| c == name),
            None => controllers.is_empty(),
        };
        found.then(|| PathBuf::from(path))
    })
}

/// The file `v1_file` of the cgroup in controller `v1`'s hierarchy on cgroup v1, or
/// `v2_file` in the unified hierarchy.
pub(crate) fn controller_file(
    cgroups_path: &Path,
    v1: ControllerType,
    v1_file: &str,
    v2_file: &str,
) -> Result<PathBuf, RunError> {
    let relative = cgroups_path.strip_prefix("/").unwrap_or(cgroups_path);
    let (root, legacy) = controller_root(v1)?;
    Ok(root
        .join(relative)
        .join(if legacy { v1_file } else { v2_file }))
}

/// Where controller `v1`'s hierarchy is mounted (and `true`), or the unified hierarchy's
/// root (and `false`). Looked up once per process: libcgroups reads the whole mount table
/// each time, about a millisecond with containers' overlay mounts listed, which every
/// `ps` paid per container and every healthcheck per probe.
fn controller_root(v1: ControllerType) -> Result<(PathBuf, bool), RunError> {
    static ROOTS: Mutex<BTreeMap<String, (PathBuf, bool)>> = Mutex::new(BTreeMap::new());
    let key = v1.to_string();
    let known = ROOTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    if let Some(root) = known {
        return Ok(root);
    }
    let root = match libcgroups::common::get_cgroup_setup().map_err(RunError::CgroupSetup)? {
        CgroupSetup::Legacy | CgroupSetup::Hybrid => {
            let mount = libcgroups::v1::util::get_subsystem_mount_point(&v1).map_err(|source| {
                RunError::CgroupHierarchy {
                    controller: v1.to_string(),
                    source: Box::new(source),
                }
            })?;
            (mount, true)
        }
        CgroupSetup::Unified => (
            PathBuf::from(libcgroups::common::DEFAULT_CGROUP_ROOT),
            false,
        ),
    };
    ROOTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, root.clone());
    Ok(root)
}

/// The file's text, or `None` when it does not exist (the cgroup is gone).
pub(crate) fn read_if_exists(file: &Path) -> Result<Option<String>, RunError> {
    match fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RunError::Io {
            action: "read",
            path: file.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cgroup_is_read_from_the_hierarchy_asked_for() {
        let text = "12:pids:/user.slice\n11:cpu,cpuacct:/a\n1:name=systemd:/s\n0::/x:y\n";
        assert_eq!(own_cgroup(text, Some("pids")), Some("/user.slice".into()));
        assert_eq!(own_cgroup(text, Some("cpuacct")), Some("/a".into()));
        assert_eq!(own_cgroup(text, None), Some("/x:y".into()));
        assert_eq!(own_cgroup(text, Some("memory")), None);
    }

    #[test]
    fn usage_counts_cpu_time_in_nanoseconds_and_leaves_out_inactive_files() {
        let mut stats = Stats::default();
        // As libcgroups reads a v2 cgroup: cpu.stat in µs, memory.max "max", memory.stat.
        stats.cpu.usage.usage_total = 1_500;
        stats.cpu.usage.usage_user = 1_000;
        stats.cpu.usage.usage_kernel = 500;
        stats.memory.memory.usage = 10_000;
        stats.memory.memory.limit = u64::MAX;
        stats.memory.stats.insert("inactive_file".into(), 4_000);
        stats.pids.current = 2;
        let usage = usage_from(&stats, 1000);
        assert_eq!(usage.cpu_ns, 1_500_000);
        assert_eq!(
            (usage.cpu_user_ns, usage.cpu_kernel_ns),
            (1_000_000, 500_000)
        );
        assert_eq!(usage.memory_bytes, 6_000);
        assert_eq!(usage.memory_limit, None);
        assert_eq!(usage.pids, 2);
        // v1: cpuacct.usage in ns, a limit in bytes.
        stats.memory.memory.limit = 64 << 20;
        let usage = usage_from(&stats, 1);
        assert_eq!(usage.cpu_ns, 1_500);
        assert_eq!(usage.memory_limit, Some(64 << 20));
    }

    #[test]
    #[allow(clippy::print_stderr)] // a skipped test says so
    fn the_warm_up_moves_this_process_into_its_own_cgroup() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("SKIPPED: moving a process between cgroups needs root");
            return;
        }
        let before = fs::read_to_string("/proc/self/cgroup").unwrap();
        let procs = move_into_own_cgroup().unwrap();
        assert!(procs.ends_with("cgroup.procs"), "{}", procs.display());
        let listed = fs::read_to_string(&procs).unwrap();
        let me = std::process::id().to_string();
        assert!(
            listed.lines().any(|pid| pid == me),
            "{me} not in {}",
            procs.display()
        );
        assert_eq!(fs::read_to_string("/proc/self/cgroup").unwrap(), before);
    }
}
