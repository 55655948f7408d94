//! `system check`: the store's images ([`wharf_store::Store::check`]), then what the engine
//! keeps beside them: leftovers of killed creates, volume fills, volume removals and copies.
//! All under the store's exclusive lock, so that nothing found is still at work.

use std::path::PathBuf;

use crate::error::{IoResultExt, Result};
use crate::Engine;

impl Engine {
    /// `system check`, with `--repair`: leftovers removed (or unmounted), besides the
    /// store's repairs; `thorough` rebuilds each layer's tar (see the store's check).
    pub fn check(&self, repair: bool, thorough: bool) -> Result<wharf_store::CheckReport> {
        let held = self.store.exclusive_lock()?;
        let mut report = self.store.check(&held, repair, thorough)?;
        let leftovers = [self.container_leftovers()?, self.volume_leftovers()].concat();
        if repair {
            for leftover in &leftovers {
                leftover.clean()?;
            }
            if !leftovers.is_empty() {
                report.repairs.push(format!(
                    "removed {} leftovers of killed container creates, copies, volume fills and removals",
                    leftovers.len()
                ));
            }
        }
        report
            .leftovers
            .extend(leftovers.iter().map(|l| l.path().clone()));
        Ok(report)
    }
}

/// One leftover and how it goes.
#[derive(Debug, Clone)]
pub(crate) enum Leftover {
    /// A folder or a name claim: removed.
    Path(PathBuf),
    /// The root of a stopped container: unmounted.
    Mount(PathBuf),
}

impl Leftover {
    pub(crate) fn path(&self) -> &PathBuf {
        match self {
            Self::Path(path) | Self::Mount(path) => path,
        }
    }

    pub(crate) fn clean(&self) -> Result<()> {
        match self {
            Self::Path(path) => {
                let removed = match std::fs::symlink_metadata(path) {
                    Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
                    Ok(_) => std::fs::remove_file(path),
                    Err(_) => Ok(()),
                };
                match removed {
                    // An `rm` at work removes it too.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other.at("remove", path),
                }
            }
            Self::Mount(merged) => wharf_runtime::rootfs::unmount(merged)
                .map_err(std::io::Error::other)
                .at("unmount", merged),
        }
    }
}
