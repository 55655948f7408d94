//! A running container frozen while wharf works in its files (`cp`, compose secrets,
//! `compose watch`), so no process in it can swap a folder for a symlink between the
//! resolution of a path and its use (CVE-2018-15664), as Docker's `cp` pauses it.
//!
//! Several copies into one container share the freeze: each holds a shared flock on the
//! container's `freeze.lock` while it works, and on its way out the one that can turn that
//! lock exclusive (no other copy holds it) thaws the container.

use std::fs::File;
use std::path::PathBuf;

use rustix::fs::{flock, FlockOperation};

use super::lifecycle::ContainerInfo;
use crate::error::{IoResultExt, Result};
use crate::Engine;

/// Held while a copy works in a running container; thaws it when the last copy ends.
pub(super) struct Freeze {
    lock: File,
    cgroups_path: PathBuf,
    id: String,
}

impl Freeze {
    pub(super) fn hold(engine: &Engine, info: &ContainerInfo) -> Result<Self> {
        let path = info.record.run.container_dir.join("freeze.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .at("open lock file", &path)?;
        flock(&lock, FlockOperation::LockShared)
            .map_err(std::io::Error::from)
            .at("lock", &path)?;
        engine.set_frozen(info, true)?;
        Ok(Self {
            lock,
            cgroups_path: info.record.run.cgroups_path(),
            id: info.record.id.clone(),
        })
    }
}

impl Drop for Freeze {
    fn drop(&mut self) {
        // Another copy still works in it: that one thaws it. A thaw that fails has nothing
        // to tell: the container is gone (its cgroup with it), or `unpause` thaws it.
        if flock(&self.lock, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = wharf_runtime::cgroup::set_frozen(&self.cgroups_path, &self.id, false);
        }
    }
}
