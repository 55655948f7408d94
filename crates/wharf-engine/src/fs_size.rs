//! How many bytes files take, for `system df` and `volume prune`'s report.

use std::path::Path;

/// The bytes of the files under `path` (not following symlinks); what cannot be read counts 0.
pub(crate) fn bytes_under(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| bytes_under(&e.path())).sum())
        .unwrap_or(0)
}
