//! The build cache: what each build step produced, by cache key, in
//! `build-cache/records/<key hex>.json`. Records keep their layers from gc like images do;
//! `build-cache/mounts/` holds `RUN --mount=type=cache` folders.

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;

use crate::atomic::write_file_durably;
use crate::error::{IoResultExt, Result};
use crate::Store;

/// What one build step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// `None` when the step changed nothing.
    pub layer: Option<BuildLayer>,
    /// When the step ran (RFC 3339).
    pub created: String,
}

/// A layer a build step made, and where it sits in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLayer {
    pub diff_id: Digest,
    pub blob: Digest,
    pub media_type: String,
    pub size: u64,
    pub chain_id: Digest,
}

impl Store {
    pub fn build_cache_dir(&self) -> PathBuf {
        self.root.join("build-cache")
    }

    /// Work folders of running build steps (overlay upper dirs, mount points): one each,
    /// removed by the step, or by gc after a crash.
    pub fn build_steps_dir(&self) -> PathBuf {
        self.build_cache_dir().join("steps")
    }

    fn records_dir(&self) -> PathBuf {
        self.build_cache_dir().join("records")
    }

    /// The record of `key` if there is one and its layer is still whole in the store.
    pub fn build_record(&self, key: &Digest) -> Result<Option<BuildRecord>> {
        let path = self.records_dir().join(format!("{}.json", key.hex()));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).at("read", &path),
        };
        // A record that does not parse is a cache miss, not an error: it is rewritten.
        let Ok(record) = serde_json::from_slice::<BuildRecord>(&bytes) else {
            return Ok(None);
        };
        if let Some(layer) = &record.layer {
            let unpacked = self
                .layer_info(&layer.chain_id)?
                .is_some_and(|info| info.diff_id == layer.diff_id);
            // Its tar comes from its blob (the former layout) or its tree and record.
            let whole = self.blobs().exists(&layer.blob)
                || self.layer_record_path(&layer.chain_id).is_file();
            if !unpacked || !whole {
                return Ok(None);
            }
        }
        Ok(Some(record))
    }

    pub fn save_build_record(&self, key: &Digest, record: &BuildRecord) -> Result<()> {
        let dir = self.records_dir();
        fs::create_dir_all(&dir).at("create directory", &dir)?;
        let path = dir.join(format!("{}.json", key.hex()));
        write_file_durably(
            &path,
            &serde_json::to_vec(record).expect("build records serialize"),
        )
    }

    /// Every build record (those that do not parse are skipped), for gc.
    pub fn build_records(&self) -> Result<Vec<BuildRecord>> {
        Ok(self
            .keyed_build_records()?
            .into_iter()
            .map(|(_, record)| record)
            .collect())
    }

    /// Every build record with its cache key (hex), for `system df` and `builder prune`.
    pub fn keyed_build_records(&self) -> Result<Vec<(String, BuildRecord)>> {
        let dir = self.records_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).at("list", &dir),
        };
        let mut records = Vec::new();
        for entry in entries {
            let path = entry.at("list", &dir)?.path();
            let key = path.file_stem().map(|k| k.to_string_lossy().into_owned());
            if let (Some(key), Ok(Some(record))) = (
                key,
                fs::read(&path)
                    .ok()
                    .map(|b| serde_json::from_slice::<BuildRecord>(&b))
                    .transpose(),
            ) {
                records.push((key, record));
            }
        }
        Ok(records)
    }

    /// Forgets the build step results of `keys` (hex, as [`Store::keyed_build_records`]
    /// gives them); the next gc removes the layers only they kept. Returns the bytes their
    /// records took.
    pub fn forget_build_records(&self, keys: &[String]) -> Result<u64> {
        let mut bytes = 0;
        for key in keys {
            let path = self.records_dir().join(format!("{key}.json"));
            bytes += crate::disk_bytes(&path);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(e).at("remove", &path)?,
                _ => {}
            }
        }
        Ok(bytes)
    }

    /// Forgets every build step result and cache mount (`wharf builder prune`); the next gc
    /// removes the layers only they kept. Returns how many records were removed.
    pub fn clear_build_cache(&self) -> Result<usize> {
        let count = self.build_records()?.len();
        let dir = self.build_cache_dir();
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).at("remove", &dir)?,
            _ => {}
        }
        Ok(count)
    }
}

/// Detaches every mount under a build step's work folder (`merged`, `source-*`, and what a
/// killed build or step left stacked there), so that removing the folder, after the step or
/// after a crash, cannot reach through them or fail on them.
pub fn unmount_step_dir(dir: &std::path::Path) {
    // Deepest first; a mount stacked on another needs one detach each.
    for _ in 0..8 {
        let mut points = mount_points_under(dir);
        if points.is_empty() {
            return;
        }
        points.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
        for point in points {
            let _ = rustix::mount::unmount(&point, rustix::mount::UnmountFlags::DETACH);
        }
    }
}

/// The mount points of this mount namespace at or below `dir`.
fn mount_points_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    crate::mounts::mount_points()
        .unwrap_or_default()
        .into_iter()
        .filter(|point| point.starts_with(dir))
        .collect()
}
