//! Advisory file locks (flock) between wharf processes. Released when dropped, and by the
//! kernel when a process dies, so a `kill -9` never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::error::{IoResultExt, Result};

/// Held by every process that adds or reads content: gc waits until none is held.
#[derive(Debug)]
pub struct SharedLock {
    _file: File,
}

/// Held by gc and deletes: no other process adds or reads content meanwhile.
#[derive(Debug)]
pub struct ExclusiveLock {
    _file: File,
}

impl SharedLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        lock_file(path, FlockOperation::LockShared).map(|_file| Self { _file })
    }
}

impl ExclusiveLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        lock_file(path, FlockOperation::LockExclusive).map(|_file| Self { _file })
    }

    /// The lock if no other process holds it now, `None` otherwise.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<Self>> {
        match lock_file(path, FlockOperation::NonBlockingLockExclusive) {
            Ok(_file) => Ok(Some(Self { _file })),
            Err(crate::StoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::WouldBlock =>
            {
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }
}

/// Opens (creating) the lock file `path` and takes `operation` on it; released when the
/// file is dropped.
pub fn lock_file(path: &Path, operation: FlockOperation) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .at("open lock file", path)?;
    flock(&file, operation)
        .map_err(std::io::Error::from)
        .at("lock", path)?;
    Ok(file)
}
