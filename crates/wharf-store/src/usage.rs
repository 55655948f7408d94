//! Bytes on disk, counted as `du -sb` counts them: the apparent size of every file, folder
//! and symlink, each hard-linked inode once. `system df`, the prunes' reports and gc share
//! this count, so what they report is what `du` sees go.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use wharf_oci::Digest;

use crate::Store;

/// The bytes of `path` and everything under it (not following symlinks); what cannot be
/// read counts 0.
pub fn disk_bytes(path: &Path) -> u64 {
    let mut seen = HashSet::new();
    bytes_of(path, &mut seen)
}

fn bytes_of(path: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
        return 0;
    }
    if !meta.is_dir() {
        return meta.len();
    }
    let under: u64 = std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| bytes_of(&e.path(), seen)).sum())
        .unwrap_or(0);
    meta.len() + under
}

impl Store {
    /// The bytes blob `digest` takes (0 when it is absent).
    pub fn blob_disk_bytes(&self, digest: &Digest) -> u64 {
        disk_bytes(&self.blobs().path(digest))
    }

    /// The bytes layer `chain_id` takes: its unpacked tree and its record.
    pub fn layer_disk_bytes(&self, chain_id: &Digest) -> u64 {
        disk_bytes(&self.layer_dir(chain_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_folders_and_hard_links_once_like_du() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a"), vec![0; 1000]).unwrap();
        std::fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink("sub/a", dir.path().join("link")).unwrap();
        let folders = std::fs::metadata(dir.path()).unwrap().len()
            + std::fs::metadata(dir.path().join("sub")).unwrap().len();
        assert_eq!(
            disk_bytes(dir.path()),
            folders + 1000 + "sub/a".len() as u64
        );
        assert_eq!(disk_bytes(&dir.path().join("missing")), 0);
    }
}
