//! Network state on disk: `<dir>/<network id>.json`, one file per network with its leases,
//! written atomically (temp file, fsync, rename; see [`Store::save`]), and `<dir>/lock`,
//! flocked shared by readers and exclusively by every change.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::error::{io_error, NetError};
use crate::model::Network;

#[derive(Debug, Clone)]
pub(crate) struct Store {
    dir: PathBuf,
}

/// Holds the state lock until dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Self, NetError> {
        fs::create_dir_all(dir).map_err(io_error("create network state directory", dir))?;
        Ok(Store {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self, operation: FlockOperation) -> Result<Lock, NetError> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open lock", &path))?;
        flock(&file, operation).map_err(|e| io_error("lock", &path)(e.into()))?;
        Ok(Lock { _file: file })
    }

    pub fn lock_shared(&self) -> Result<Lock, NetError> {
        self.lock(FlockOperation::LockShared)
    }

    pub fn lock_exclusive(&self) -> Result<Lock, NetError> {
        self.lock(FlockOperation::LockExclusive)
    }

    /// Every network, sorted by name. Call with a lock held.
    pub fn load(&self, _lock: &Lock) -> Result<Vec<Network>, NetError> {
        let entries = fs::read_dir(&self.dir).map_err(io_error("read", &self.dir))?;
        let mut networks = Vec::new();
        for entry in entries {
            let path = entry.map_err(io_error("read", &self.dir))?.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let bytes = fs::read(&path).map_err(io_error("read", &path))?;
            let network: Network = serde_json::from_slice(&bytes)
                .map_err(|source| NetError::State { path, source })?;
            networks.push(network);
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    fn path(&self, network: &Network) -> PathBuf {
        self.dir.join(format!("{}.json", network.id))
    }

    /// Writes `network` atomically. Call with the exclusive lock held.
    ///
    /// The file is synced before the rename, so a crash leaves the old or the new version,
    /// never a torn one. The directory is synced only when the file is new
    /// ([`Store::create`]): a lease change that a power loss forgets belongs to a container
    /// that the power loss stopped too, and [`crate::Networks::reconcile`] cleans up after
    /// it; this halves the cost of a container's network setup.
    pub fn save(&self, _lock: &Lock, network: &Network) -> Result<(), NetError> {
        let path = self.path(network);
        let temp = self.dir.join(format!(".{}.json.tmp", network.id));
        let mut bytes = serde_json::to_vec_pretty(network).map_err(|source| NetError::State {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        let mut file = File::create(&temp).map_err(io_error("create", &temp))?;
        file.write_all(&bytes).map_err(io_error("write", &temp))?;
        file.sync_all().map_err(io_error("sync", &temp))?;
        drop(file);
        fs::rename(&temp, &path).map_err(io_error("rename into place", &path))
    }

    /// Writes the file of a new network, durably.
    pub fn create(&self, lock: &Lock, network: &Network) -> Result<(), NetError> {
        self.save(lock, network)?;
        self.sync_dir()
    }

    /// Removes `network`'s file. Call with the exclusive lock held.
    pub fn remove(&self, _lock: &Lock, network: &Network) -> Result<(), NetError> {
        let path = self.path(network);
        fs::remove_file(&path).map_err(io_error("remove", &path))?;
        self.sync_dir()
    }

    fn sync_dir(&self) -> Result<(), NetError> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error("sync", &self.dir))
    }
}
