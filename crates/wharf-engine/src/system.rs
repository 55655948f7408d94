//! `system df`, `info` and `version`: facts about the store and the host.

use std::collections::HashSet;

use serde::Serialize;

use wharf_oci::Digest;

use crate::containers::container_dir;
use crate::error::Result;
use crate::Engine;

/// `system df`: what images, containers, volumes and the build cache hold, as Docker counts it.
#[derive(Debug, Serialize)]
pub struct DiskUsage {
    pub images: Usage,
    pub containers: Usage,
    pub volumes: Usage,
    pub build_cache: Usage,
}

/// One row of `system df`.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Usage {
    pub total: usize,
    /// Images and volumes used by a container (any state), running containers; nothing of
    /// the build cache is in use outside a build.
    pub active: usize,
    /// Bytes: unpacked layers (each shared one once); containers' writable layers; volumes'
    /// content; the layers only the build cache keeps, and its cache mounts.
    pub size: u64,
    /// Bytes that removing what is not active would free.
    pub reclaimable: u64,
}

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
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let index = self.store.index()?;
        let containers = self.list_containers()?;
        let layer_size = |chain_id: &Digest| {
            self.store
                .layer_info(chain_id)
                .ok()
                .flatten()
                .map_or(0, |info| info.size)
        };

        let used_images: HashSet<&Digest> = containers.iter().map(|c| &c.record.image_id).collect();
        let mut image_layers = HashSet::new();
        let mut active_layers = HashSet::new();
        for id in index.images.keys() {
            let Ok(image) = self.store.image(&index, id) else {
                continue;
            };
            for layer in image.layers().unwrap_or_default() {
                if used_images.contains(id) {
                    active_layers.insert(layer.chain_id.clone());
                }
                image_layers.insert(layer.chain_id);
            }
        }
        let images_size: u64 = image_layers.iter().map(layer_size).sum();
        let images = Usage {
            total: index.images.len(),
            active: index
                .images
                .keys()
                .filter(|id| used_images.contains(id))
                .count(),
            size: images_size,
            reclaimable: images_size - active_layers.iter().map(layer_size).sum::<u64>(),
        };

        let mut containers_usage = Usage {
            total: containers.len(),
            ..Usage::default()
        };
        for container in &containers {
            let writable = self.writable_layer_size(&container.record.id);
            containers_usage.size += writable;
            if container.state.status.is_up() {
                containers_usage.active += 1;
            } else {
                containers_usage.reclaimable += writable;
            }
        }

        let volumes = self.list_volumes()?;
        let mut volumes_usage = Usage {
            total: volumes.len(),
            ..Usage::default()
        };
        for volume in &volumes {
            let size = crate::fs_size::bytes_under(&volume.mountpoint);
            volumes_usage.size += size;
            if containers
                .iter()
                .any(|c| c.record.volumes.iter().any(|v| v.name == volume.name))
            {
                volumes_usage.active += 1;
            } else {
                volumes_usage.reclaimable += size;
            }
        }

        let records = self.store.build_records()?;
        let cache_layers: HashSet<Digest> = records
            .iter()
            .filter_map(|record| record.layer.as_ref())
            .map(|layer| layer.chain_id.clone())
            .filter(|chain_id| !image_layers.contains(chain_id))
            .collect();
        let cache_size = cache_layers.iter().map(layer_size).sum::<u64>()
            + crate::fs_size::bytes_under(&self.store.build_cache_dir().join("mounts"));
        Ok(DiskUsage {
            images,
            containers: containers_usage,
            volumes: volumes_usage,
            build_cache: Usage {
                total: records.len(),
                active: 0,
                size: cache_size,
                reclaimable: cache_size,
            },
        })
    }

    /// The bytes in the writable layer of container `id` (its full id): what removing it
    /// frees, besides its volumes.
    pub fn writable_layer_size(&self, id: &str) -> u64 {
        crate::fs_size::bytes_under(&container_dir(self.root(), id).join("upper"))
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
