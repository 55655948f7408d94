//! `wharf diff`: what a container changed in its filesystem, read from its overlay's upper
//! layer as Docker's overlay driver reads it: a whiteout (a 0/0 character device) is a
//! deletion, an entry the image has is a change, any other an addition. A directory the
//! image has counts as changed only when something in it did; the files wharf mounts over
//! (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`) leave empty placeholders in the
//! upper layer, which Docker keeps in a layer of its own: they are not changes.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{IoResultExt, Result};
use crate::Engine;

/// The mount points of the files wharf gives every container.
pub(super) const PLACEHOLDERS: &[&str] = &["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Modified,
    Added,
    Deleted,
}

impl ChangeKind {
    /// Docker's letter in `docker diff`.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

impl Engine {
    /// Every change, by path in the container, sorted by path.
    pub fn container_changes(&self, name: &str) -> Result<Vec<(ChangeKind, String)>> {
        let record = self.find_container(name)?.record;
        let upper = record.run.upper_dir();
        let mut changes = Vec::new();
        walk(&upper, Path::new("/"), &record.run.lower_dirs, &mut changes)?;
        changes.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(changes)
    }
}

/// Adds the changes under `dir` (which is `at` in the container); whether there were any.
fn walk(
    dir: &Path,
    at: &Path,
    lower: &[PathBuf],
    changes: &mut Vec<(ChangeKind, String)>,
) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // Never started: no upper layer yet, no change.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).at("read", dir),
    };
    let mut any = false;
    for entry in entries {
        let entry = entry.at("read", dir)?;
        let path = entry.path();
        let meta = entry.metadata().at("read", &path)?;
        let inside = at.join(entry.file_name());
        if PLACEHOLDERS.iter().any(|p| inside == Path::new(p)) && meta.len() == 0 {
            continue;
        }
        let relative = inside.strip_prefix("/").unwrap_or(&inside);
        let kind = if meta.file_type().is_char_device() && meta.rdev() == 0 {
            ChangeKind::Deleted
        } else if lower
            .iter()
            .any(|l| std::fs::symlink_metadata(l.join(relative)).is_ok())
        {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        let at_index = changes.len();
        let inner = meta.is_dir() && walk(&path, &inside, lower, changes)?;
        if kind != ChangeKind::Modified || !meta.is_dir() || inner {
            changes.insert(at_index, (kind, inside.display().to_string()));
            any = true;
        }
    }
    Ok(any)
}
