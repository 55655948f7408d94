//! A running container frozen while wharf works in its files (`cp`, compose secrets,
//! `compose watch`), so no process in it can swap a folder for a symlink between the
//! resolution of a path and its use (CVE-2018-15664), as Docker's `cp` pauses it.
//!
//! Several copies into one container share the freeze. Each holds a shared flock on the
//! container's `freeze.lock` while it works; joining and leaving happen under an exclusive
//! flock on `freeze.mutex`, so the last copy out (the one that can take `freeze.lock`
//! exclusive then) knows no other copy works and thaws the container. A container frozen
//! by copies has a `frozen-by-copy` marker: one frozen without it was paused by the user
//! and stays paused. A copy killed midway leaves the marker and the freeze to the next
//! copy, or to `unpause`.

use std::fs::File;
use std::path::PathBuf;

use rustix::fs::{flock, FlockOperation};

use super::lifecycle::ContainerInfo;
use crate::error::{IoResultExt, Result};
use crate::Engine;

const LOCK_FILE: &str = "freeze.lock";
const MUTEX_FILE: &str = "freeze.mutex";
const MARKER_FILE: &str = "frozen-by-copy";

/// Held while a copy works in a running container; thaws it when the last copy ends.
pub(super) struct Freeze {
    lock: File,
    dir: PathBuf,
    cgroups_path: PathBuf,
    id: String,
}

impl Freeze {
    pub(super) fn hold(engine: &Engine, info: &ContainerInfo) -> Result<Self> {
        let dir = info.record.run.container_dir.clone();
        let cgroups_path = info.record.run.cgroups_path();
        let _mutex = wharf_store::lock_file(&dir.join(MUTEX_FILE), FlockOperation::LockExclusive)?;
        let lock = wharf_store::lock_file(&dir.join(LOCK_FILE), FlockOperation::LockShared)?;
        let marker = dir.join(MARKER_FILE);
        let frozen = wharf_runtime::cgroup::is_frozen(&cgroups_path).unwrap_or(false);
        if !frozen {
            std::fs::write(&marker, b"").at("write", &marker)?;
            if let Err(error) = engine.set_frozen(info, true) {
                // Not frozen: a marker left would make a later copy thaw the user's pause.
                let _ = std::fs::remove_file(&marker);
                return Err(error);
            }
        }
        Ok(Self {
            lock,
            dir,
            cgroups_path,
            id: info.record.id.clone(),
        })
    }
}

impl Drop for Freeze {
    fn drop(&mut self) {
        let Ok(_mutex) =
            wharf_store::lock_file(&self.dir.join(MUTEX_FILE), FlockOperation::LockExclusive)
        else {
            return;
        };
        // Under the mutex nobody joins, so exclusive means no other copy works in it. A thaw
        // that fails has nothing to tell: the container is gone (its cgroup with it).
        let marker = self.dir.join(MARKER_FILE);
        if flock(&self.lock, FlockOperation::NonBlockingLockExclusive).is_ok() && marker.exists() {
            let _ = wharf_runtime::cgroup::set_frozen(&self.cgroups_path, &self.id, false);
            let _ = std::fs::remove_file(&marker);
        }
    }
}

/// After `unpause`: the container is no longer frozen by copies.
pub(super) fn forget(info: &ContainerInfo) {
    let _ = std::fs::remove_file(info.record.run.container_dir.join(MARKER_FILE));
}
