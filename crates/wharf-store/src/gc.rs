//! Garbage collection: mark what images reference, sweep the rest.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use wharf_oci::Digest;

use crate::error::{IoResultExt, Result};
use crate::index::Index;
use crate::lock::ExclusiveLock;
use crate::Store;

#[derive(Debug, Default, Clone)]
pub struct GcReport {
    pub removed_blobs: Vec<Digest>,
    pub removed_layers: Vec<Digest>,
    /// Leftovers of interrupted writes that were removed.
    pub removed_leftovers: usize,
    /// Bytes on disk freed (as `du` counts them), leftovers included.
    pub reclaimed_bytes: u64,
}

/// Everything the images of an index reference.
#[derive(Debug, Default)]
pub(crate) struct Referenced {
    pub blobs: HashSet<Digest>,
    pub layers: HashSet<Digest>,
}

impl Store {
    pub(crate) fn referenced(&self, index: &Index) -> Referenced {
        let mut referenced = Referenced::default();
        // Build cache records keep their layers; unreadable records keep nothing.
        for record in self.build_records().unwrap_or_default() {
            if let Some(layer) = record.layer {
                referenced.blobs.insert(layer.blob);
                referenced.layers.insert(layer.chain_id);
            }
        }
        for (id, record) in &index.images {
            referenced.blobs.insert(record.manifest.clone());
            referenced.blobs.insert(id.clone());
            // A broken image still keeps what it names; `check` reports it.
            let Ok(image) = self.image(index, id) else {
                continue;
            };
            let Ok(layers) = image.layers() else { continue };
            for layer in layers {
                referenced.blobs.insert(layer.blob);
                referenced.layers.insert(layer.chain_id);
            }
        }
        referenced
    }

    /// Removes blobs and layers no image references, and leftovers of interrupted writes.
    /// The exclusive lock guarantees that no other process is between writing content and
    /// committing the image that references it.
    pub fn gc(&self, _held: &ExclusiveLock) -> Result<GcReport> {
        let index = self.index()?;
        let referenced = self.referenced(&index);
        let mut report = GcReport::default();
        let blobs = self.blobs();
        for digest in blobs.list()? {
            if !referenced.blobs.contains(&digest) {
                report.reclaimed_bytes += self.blob_disk_bytes(&digest);
                blobs.remove(&digest)?;
                report.removed_blobs.push(digest);
            }
        }
        for chain_id in self.list_layers()? {
            if !referenced.layers.contains(&chain_id) {
                report.reclaimed_bytes += self.layer_disk_bytes(&chain_id);
                self.remove_layer(&chain_id)?;
                report.removed_layers.push(chain_id);
            }
        }
        let (leftovers, bytes) = self.remove_leftovers()?;
        report.removed_leftovers = leftovers;
        report.reclaimed_bytes += bytes;
        Ok(report)
    }

    /// Paths left behind by interrupted writes: temp blobs, half-unpacked layers, temp
    /// index files, layer folders without their record.
    pub(crate) fn leftovers(&self) -> Result<Vec<std::path::PathBuf>> {
        let mut found = Vec::new();
        for dir in [self.blobs().tmp_dir(), self.layers_dir().join("tmp")] {
            for entry in fs::read_dir(&dir).at("list", &dir)? {
                found.push(entry.at("list", &dir)?.path());
            }
        }
        // Temp files of a record migration that stopped (see `migrate`).
        for chain_id in self.list_layers()? {
            let dir = self.layer_dir(&chain_id);
            for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                    found.push(entry.path());
                }
            }
        }
        // Work folders of build steps that were killed; they may still hold mounts.
        let steps = self.build_steps_dir();
        if let Ok(entries) = fs::read_dir(&steps) {
            for entry in entries {
                found.push(entry.at("list", &steps)?.path());
            }
        }
        let images = self.root.join("images");
        for entry in fs::read_dir(&images).at("list", &images)? {
            let path = entry.at("list", &images)?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tmp-"))
            {
                found.push(path);
            }
        }
        Ok(found)
    }

    /// Removes the leftovers; returns how many there were and the bytes they took.
    fn remove_leftovers(&self) -> Result<(usize, u64)> {
        let leftovers = self.leftovers()?;
        let mut bytes = 0;
        for path in &leftovers {
            if path.starts_with(self.build_steps_dir()) {
                crate::build_cache::unmount_step_dir(path);
            }
            bytes += crate::disk_bytes(path);
            self.remove_leftover(path)?;
        }
        Ok((leftovers.len(), bytes))
    }

    /// Removes one of [`Store::leftovers`]; a build step's folder with its mounts detached
    /// first.
    pub(crate) fn remove_leftover(&self, path: &Path) -> Result<()> {
        if path.starts_with(self.build_steps_dir()) {
            remove_step_dir(path)
        } else {
            remove_any(path)
        }
    }
}

/// Removes a killed build step's folder. The namespace of the step's container releases
/// its mounts a moment after its last process has ended, and the folder is busy until
/// then: detach and try again, for a second at most.
fn remove_step_dir(path: &Path) -> Result<()> {
    let mut tries = 0;
    loop {
        crate::build_cache::unmount_step_dir(path);
        match remove_any(path) {
            Err(crate::StoreError::Io { source, .. })
                if source.raw_os_error() == Some(rustix::io::Errno::BUSY.raw_os_error())
                    && tries < 20 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

pub(crate) fn remove_any(path: &Path) -> Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.at("remove", path)
}
