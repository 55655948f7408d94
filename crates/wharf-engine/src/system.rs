//! `system df`, `info` and `version`: facts about the store and the host.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::Result;
use crate::Engine;

#[derive(Debug, Serialize)]
pub struct DiskUsage {
    pub images: usize,
    /// Images used by a container (none can be until containers land).
    pub active_images: usize,
    /// Unpacked content of all layers, each shared layer counted once.
    pub images_size: u64,
    /// Bytes of the stored blobs (compressed or not) behind those layers.
    pub blobs_size: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostInfo {
    pub images: usize,
    pub containers: usize,
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
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let index = self.store.index()?;
        let mut layers = HashSet::new();
        let mut blobs = HashSet::new();
        for id in index.images.keys() {
            let Ok(image) = self.store.image(&index, id) else {
                continue;
            };
            for layer in image.layers().unwrap_or_default() {
                blobs.insert(layer.blob);
                layers.insert(layer.chain_id);
            }
        }
        let images_size = layers
            .iter()
            .filter_map(|chain_id| self.store.layer_info(chain_id).ok().flatten())
            .map(|info| info.size)
            .sum();
        let blob_store = self.store.blobs();
        let blobs_size = blobs.iter().filter_map(|b| blob_store.size(b).ok()).sum();
        Ok(DiskUsage {
            images: index.images.len(),
            active_images: 0,
            images_size,
            blobs_size,
        })
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
        Ok(HostInfo {
            images: self.store.index()?.images.len(),
            containers: 0,
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
