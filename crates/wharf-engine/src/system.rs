//! `info` and `version`: facts about the store and the host.

use serde::Serialize;

use crate::containers::container_dir;
use crate::error::Result;
use crate::Engine;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostInfo {
    pub images: usize,
    pub containers: usize,
    pub containers_running: usize,
    pub containers_paused: usize,
    pub containers_stopped: usize,
    pub root_dir: String,
    pub storage_driver: &'static str,
    pub cgroup_version: &'static str,
    pub kernel_version: String,
    pub operating_system: String,
    pub os_type: &'static str,
    pub architecture: &'static str,
    #[serde(rename = "NCPU")]
    pub ncpu: usize,
    pub mem_total: u64,
}

impl Engine {
    /// The bytes in the writable layer of container `id` (its full id): Docker's `SizeRw`.
    pub fn writable_layer_size(&self, id: &str) -> u64 {
        wharf_store::disk_bytes(&container_dir(self.root(), id).join("upper"))
    }

    /// The bytes container `id` (its full id) takes: its whole folder, writable layer, log
    /// and config, as `du` counts them; what removing it frees, besides its volumes.
    pub fn container_disk_bytes(&self, id: &str) -> u64 {
        wharf_store::disk_bytes(&container_dir(self.root(), id))
    }

    pub fn host_info(&self) -> Result<HostInfo> {
        let uname = rustix::system::uname();
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let operating_system = os_release
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map(|name| name.trim_matches('"').to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let mem_total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or(0, |kib| kib * 1024);
        let containers = self.list_containers()?;
        let up = || containers.iter().filter(|c| c.state.status.is_up());
        let paused = up().filter(|c| c.paused).count();
        let running = up().count() - paused;
        Ok(HostInfo {
            images: self.store.index()?.images.len(),
            containers: containers.len(),
            containers_running: running,
            containers_paused: paused,
            containers_stopped: containers.len() - running - paused,
            root_dir: self.root().display().to_string(),
            storage_driver: "overlay",
            cgroup_version: if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
                "2"
            } else {
                "1"
            },
            kernel_version: uname.release().to_string_lossy().into_owned(),
            operating_system,
            os_type: "linux",
            architecture: std::env::consts::ARCH,
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total,
        })
    }
}
