//! Managing a container without stopping it: `rename`, `pause`/`unpause` (the cgroup
//! freezer), `stats` (cgroup and network counters) and `top` (the host's `ps` over the
//! processes of its cgroup, as Docker's).

use std::process::Command;

use super::create::validate_name;
use super::lifecycle::ContainerInfo;
use super::record::{container_dir, write_json, Status, RECORD_FILE};
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// One reading of a container's counters, for `stats`. Rates come from two readings.
#[derive(Debug, Clone)]
pub struct ContainerStats {
    pub id: String,
    pub name: String,
    /// False for a container that is not running: every counter is zero.
    pub running: bool,
    /// CPU time of the container's processes, and of the whole host, in nanoseconds.
    pub cpu_ns: u64,
    pub host_cpu_ns: u64,
    /// Of `cpu_ns`, the time in user mode and in the kernel.
    pub cpu_user_ns: u64,
    pub cpu_kernel_ns: u64,
    pub online_cpus: u32,
    pub memory_bytes: u64,
    /// Its memory limit, or the host's memory without one (as Docker shows it).
    pub memory_limit: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub block_read_bytes: u64,
    pub block_write_bytes: u64,
    pub pids: u64,
}

/// `top`'s answer: `ps`'s column titles and one row per process of the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTable {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

impl Engine {
    /// `wharf rename`: the new name is claimed first (atomically, as `create` does), then
    /// written into the record, then the old name is let go. A running container keeps
    /// running.
    pub fn rename_container(&self, name: &str, new_name: &str) -> Result<()> {
        let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
        validate_name("rename", new_name)?;
        let ContainerInfo { mut record, .. } = self.find_container(name)?;
        if record.name == new_name {
            return Err(EngineError::BadOption {
                flag: "rename",
                value: new_name.to_string(),
                message: "the container already has this name".into(),
            });
        }
        self.claim_name(new_name, &record.id)?;
        let old_name = std::mem::replace(&mut record.name, new_name.to_string());
        let path = container_dir(self.root(), &record.id).join(RECORD_FILE);
        // A running container's endpoints answer to the new name in DNS, as Docker's.
        let renamed = self
            .networks()
            .and_then(|networks| Ok(networks.rename_container(&record.id, new_name)?))
            .and_then(|()| {
                write_json(&path, &record).inspect_err(|_| {
                    let _ = self
                        .networks()
                        .map(|networks| networks.rename_container(&record.id, &old_name));
                })
            });
        match renamed {
            Ok(()) => {
                self.release_name(&old_name);
                Ok(())
            }
            Err(error) => {
                self.release_name(new_name);
                Err(error)
            }
        }
    }

    /// `wharf pause`: freezes every process of a running container.
    pub fn pause_container(&self, name: &str) -> Result<()> {
        let info = self.running_container(name)?;
        if info.paused {
            return Err(EngineError::ContainerPaused {
                name: info.record.name,
            });
        }
        self.set_frozen(&info, true)?;
        self.record_event("pause", &info.record, &[]);
        Ok(())
    }

    /// `wharf unpause`: thaws a paused container.
    pub fn unpause_container(&self, name: &str) -> Result<()> {
        let info = self.running_container(name)?;
        if !info.paused {
            return Err(EngineError::ContainerNotPaused {
                name: info.record.name,
            });
        }
        self.set_frozen(&info, false)?;
        // Thawed for good: a freeze a killed copy left is over too.
        super::freeze::forget(&info);
        self.record_event("unpause", &info.record, &[]);
        Ok(())
    }

    fn running_container(&self, name: &str) -> Result<ContainerInfo> {
        let info = self.find_container(name)?;
        if info.state.status != Status::Running {
            return Err(EngineError::ContainerNotRunning {
                name: info.record.name,
            });
        }
        Ok(info)
    }

    pub(super) fn set_frozen(&self, info: &ContainerInfo, frozen: bool) -> Result<()> {
        wharf_runtime::cgroup::set_frozen(&info.record.run.cgroups_path(), &info.record.id, frozen)
            .map_err(|e| EngineError::Runtime {
                name: info.record.name.clone(),
                message: wharf_oci::error_chain(&e),
                exit_code: 125,
            })
    }

    /// Reads the counters of a container now (all zero when it is not running).
    pub fn container_stats(&self, info: &ContainerInfo) -> Result<ContainerStats> {
        let host = HostCpu::read()?;
        let mut stats = ContainerStats {
            id: info.record.id.clone(),
            name: info.record.name.clone(),
            running: false,
            cpu_ns: 0,
            host_cpu_ns: host.total_ns,
            cpu_user_ns: 0,
            cpu_kernel_ns: 0,
            online_cpus: host.online,
            memory_bytes: 0,
            memory_limit: 0,
            net_rx_bytes: 0,
            net_tx_bytes: 0,
            block_read_bytes: 0,
            block_write_bytes: 0,
            pids: 0,
        };
        let (Status::Running, Some(pid)) = (info.state.status, info.state.pid) else {
            return Ok(stats);
        };
        let usage =
            match wharf_runtime::cgroup::usage(&info.record.run.cgroups_path(), &info.record.id) {
                Ok(usage) => usage,
                // It exited meanwhile: its cgroup is gone.
                Err(_) if self.container_info(&info.record.id)?.state.status != Status::Running => {
                    return Ok(stats)
                }
                Err(e) => {
                    return Err(EngineError::Runtime {
                        name: info.record.name.clone(),
                        message: wharf_oci::error_chain(&e),
                        exit_code: 125,
                    })
                }
            };
        let host_memory = host_memory_bytes()?;
        // With the host's network, Docker counts nothing as the container's own.
        let (rx, tx) = if info.record.network_mode == "host" {
            (0, 0)
        } else {
            network_bytes(pid)?
        };
        stats.running = true;
        stats.cpu_ns = usage.cpu_ns;
        stats.cpu_user_ns = usage.cpu_user_ns;
        stats.cpu_kernel_ns = usage.cpu_kernel_ns;
        stats.memory_bytes = usage.memory_bytes;
        stats.memory_limit = usage
            .memory_limit
            .map_or(host_memory, |l| l.min(host_memory));
        stats.net_rx_bytes = rx;
        stats.net_tx_bytes = tx;
        stats.block_read_bytes = usage.block_read_bytes;
        stats.block_write_bytes = usage.block_write_bytes;
        stats.pids = usage.pids;
        Ok(stats)
    }

    /// `wharf top`: the host's `ps` with `ps_args` (Docker's default `-ef`), keeping the
    /// rows of the container's processes, as Docker does.
    pub fn top_container(&self, name: &str, ps_args: &[String]) -> Result<ProcessTable> {
        let info = self.running_container(name)?;
        let pids = wharf_runtime::cgroup::pids(&info.record.run.cgroups_path(), &info.record.id)
            .map_err(|e| EngineError::Runtime {
                name: info.record.name.clone(),
                message: wharf_oci::error_chain(&e),
                exit_code: 125,
            })?;
        let default_args = ["-ef".to_string()];
        let args = if ps_args.is_empty() {
            &default_args[..]
        } else {
            ps_args
        };
        let list: Vec<String> = pids.iter().map(ToString::to_string).collect();
        // `-q` makes `ps` look only at those pids; some options (`f`) refuse it.
        let output = match run_ps(args, Some(&list.join(",")))? {
            Some(output) => output,
            None => run_ps(args, None)?.ok_or_else(|| EngineError::BadOption {
                flag: "top",
                value: args.join(" "),
                message: "ps refused these options".into(),
            })?,
        };
        parse_ps(&output, &pids).map_err(|message| EngineError::BadOption {
            flag: "top",
            value: args.join(" "),
            message,
        })
    }
}

/// The output of `ps ARGS [-q PIDS]`, or `None` when ps fails.
fn run_ps(args: &[String], pids: Option<&str>) -> Result<Option<String>> {
    let mut command = Command::new("ps");
    command.args(args);
    if let Some(pids) = pids {
        command.arg("-q").arg(pids);
    }
    let output = command.output().at("run", "ps")?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// `ps` output: the header's titles, and the rows whose PID is one of `pids`; the last
/// column (the command) keeps its spaces.
fn parse_ps(output: &str, pids: &[i32]) -> std::result::Result<ProcessTable, String> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let pid_column = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or("ps printed no PID column")?;
    let mut processes = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let Ok(pid) = fields[pid_column].parse::<i32>() else {
            continue;
        };
        if pids.contains(&pid) {
            let mut row: Vec<String> = fields[..titles.len() - 1]
                .iter()
                .map(|f| f.to_string())
                .collect();
            row.push(fields[titles.len() - 1..].join(" "));
            processes.push(row);
        }
    }
    Ok(ProcessTable { titles, processes })
}

/// The whole host's CPU time (`/proc/stat`) and how many CPUs are online.
struct HostCpu {
    total_ns: u64,
    online: u32,
}

impl HostCpu {
    fn read() -> Result<Self> {
        let text = std::fs::read_to_string("/proc/stat").at("read", "/proc/stat")?;
        let ticks: u64 = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("cpu "))
            .map(|l| {
                l.split_whitespace()
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        let online = text
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count();
        let hz = rustix::param::clock_ticks_per_second();
        Ok(Self {
            total_ns: ticks.saturating_mul(1_000_000_000 / hz.max(1)),
            online: u32::try_from(online.max(1)).unwrap_or(1),
        })
    }
}

fn host_memory_bytes() -> Result<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").at("read", "/proc/meminfo")?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024))
}

/// Bytes received and sent by the interfaces of process `pid`'s network namespace,
/// loopback left out (as Docker).
fn network_bytes(pid: i32) -> Result<(u64, u64)> {
    let path = format!("/proc/{pid}/net/dev");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(e).at("read", path),
    };
    Ok(text
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim() != "lo")
        .map(|(_, counters)| {
            let fields: Vec<u64> = counters
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            (
                fields.first().copied().unwrap_or(0),
                fields.get(8).copied().unwrap_or(0),
            )
        })
        .fold((0, 0), |(rx, tx), (r, t)| (rx + r, tx + t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_output_is_filtered_by_pid_and_keeps_the_command_whole() {
        let output = "UID PID PPID C STIME TTY TIME CMD\n\
                      root 1 0 0 10:00 ? 00:00:01 /sbin/init splash\n\
                      root 42 1 0 10:01 ? 00:00:00 sh -c while true; do :; done\n";
        let table = parse_ps(output, &[42]).unwrap();
        assert_eq!(table.titles.len(), 8);
        assert_eq!(
            table.processes,
            vec![vec![
                "root",
                "42",
                "1",
                "0",
                "10:01",
                "?",
                "00:00:00",
                "sh -c while true; do :; done"
            ]]
        );
        assert!(parse_ps("USER COMMAND\nroot x\n", &[1]).is_err());
    }
}
