//! Network state: `<dir>/<network id>.json`, one file per network (its definition, written
//! durably when the network is made), `<leases dir>/<network id>.json` with its endpoints
//! (rewritten by every connect and disconnect, see [`Store::save`]), and `<dir>/lock`,
//! flocked shared by readers and exclusively by every change.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::error::{io_error, NetError};
use crate::model::{Endpoint, Network};

#[derive(Debug, Clone)]
pub(crate) struct Store {
    dir: PathBuf,
    leases: PathBuf,
}

/// Holds the state lock until dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Store {
    pub fn open(dir: &Path, leases: &Path) -> Result<Self, NetError> {
        for dir in [dir, leases] {
            fs::create_dir_all(dir).map_err(io_error("create network state directory", dir))?;
        }
        Ok(Store {
            dir: dir.to_owned(),
            leases: leases.to_owned(),
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
            let mut network: Network = serde_json::from_slice(&bytes)
                .map_err(|source| NetError::State { path, source })?;
            // Definitions written before leases had a file of their own carry them inline.
            if let Some(endpoints) = self.load_leases(&network)? {
                network.endpoints = endpoints;
            }
            networks.push(network);
        }
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(networks)
    }

    fn path(&self, network: &Network) -> PathBuf {
        self.dir.join(format!("{}.json", network.id))
    }

    fn leases_path(&self, network: &Network) -> PathBuf {
        self.leases.join(format!("{}.json", network.id))
    }

    /// The leases file of `network`; `None` when it has none yet. A file that is not JSON
    /// can only be a write that a power loss cut short (see [`Self::save`]): its leases
    /// belong to containers that stopped with the machine, so it counts as empty.
    fn load_leases(
        &self,
        network: &Network,
    ) -> Result<Option<BTreeMap<String, Endpoint>>, NetError> {
        let path = self.leases_path(network);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).unwrap_or_default())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path)(e)),
        }
    }

    /// Writes the leases of `network` atomically. Call with the exclusive lock held.
    ///
    /// Temp file and rename, so a crashed process leaves the old or the new version; but
    /// no fsync, which cost 5 to 20 ms per container start and as much at its exit (and on
    /// a disk, even the rename over the old file waits for the new one's writeback: the
    /// leases belong on a tmpfs). A lease change that a power loss forgets or tears belongs
    /// to a container that the power loss stopped too, and [`crate::Networks::reconcile`]
    /// cleans up after it. The definition, which users cannot recreate, is written durably
    /// by [`Self::create`] only.
    pub fn save(&self, _lock: &Lock, network: &Network) -> Result<(), NetError> {
        let path = self.leases_path(network);
        let temp = self.leases.join(format!(".{}.json.tmp", network.id));
        let bytes = serde_json::to_vec(&network.endpoints).map_err(|source| NetError::State {
            path: path.clone(),
            source,
        })?;
        fs::write(&temp, bytes).map_err(io_error("write", &temp))?;
        fs::rename(&temp, &path).map_err(io_error("rename into place", &path))
    }

    /// Writes the definition and the (empty) leases of a new network, durably: the file is
    /// synced before the rename, so a crash leaves no torn definition, and the folder after.
    pub fn create(&self, lock: &Lock, network: &Network) -> Result<(), NetError> {
        let path = self.path(network);
        let temp = self.dir.join(format!(".{}.json.tmp", network.id));
        let definition = Network {
            endpoints: BTreeMap::new(),
            ..network.clone()
        };
        let mut bytes =
            serde_json::to_vec_pretty(&definition).map_err(|source| NetError::State {
                path: path.clone(),
                source,
            })?;
        bytes.push(b'\n');
        let mut file = File::create(&temp).map_err(io_error("create", &temp))?;
        file.write_all(&bytes).map_err(io_error("write", &temp))?;
        file.sync_all().map_err(io_error("sync", &temp))?;
        drop(file);
        fs::rename(&temp, &path).map_err(io_error("rename into place", &path))?;
        self.sync_dir()?;
        self.save(lock, network)
    }

    /// Removes `network`'s file. Call with the exclusive lock held.
    pub fn remove(&self, _lock: &Lock, network: &Network) -> Result<(), NetError> {
        let path = self.path(network);
        fs::remove_file(&path).map_err(io_error("remove", &path))?;
        self.sync_dir()?;
        let leases = self.leases_path(network);
        match fs::remove_file(&leases) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io_error("remove", &leases)(e))
            }
            _ => Ok(()),
        }
    }

    fn sync_dir(&self) -> Result<(), NetError> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error("sync", &self.dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Driver;

    fn network(endpoints: &[&str]) -> Network {
        Network {
            name: "app".into(),
            id: "a".repeat(64),
            driver: Driver::Bridge,
            subnet: "10.9.0.0/24".parse().unwrap(),
            gateway: "10.9.0.1".parse().unwrap(),
            internal: false,
            labels: BTreeMap::new(),
            bridge: "wh-aaaaaaaaaaaa".into(),
            created: "2024-01-01T00:00:00Z".into(),
            endpoints: endpoints
                .iter()
                .map(|id| {
                    let endpoint = Endpoint {
                        container_name: (*id).into(),
                        aliases: Vec::new(),
                        ip: "10.9.0.2".parse().unwrap(),
                        interface: "eth0".into(),
                        veth: "wvx".into(),
                        ports: Vec::new(),
                    };
                    ((*id).to_string(), endpoint)
                })
                .collect(),
        }
    }

    #[test]
    fn leases_live_apart_from_the_definition() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &dir.path().join("leases")).unwrap();
        let lock = store.lock_exclusive().unwrap();
        store.create(&lock, &network(&[])).unwrap();
        store.save(&lock, &network(&["c1"])).unwrap();
        assert_eq!(store.load(&lock).unwrap(), [network(&["c1"])]);
        let definition = fs::read_to_string(store.path(&network(&[]))).unwrap();
        assert!(!definition.contains("c1"), "{definition}");

        // A leases file torn by a power loss: its containers are gone, so are the leases.
        fs::write(store.leases_path(&network(&[])), b"{\"c1\": {\"contai").unwrap();
        assert_eq!(store.load(&lock).unwrap(), [network(&[])]);

        // A definition from before leases had their own file keeps its inline leases.
        fs::remove_file(store.leases_path(&network(&[]))).unwrap();
        let legacy = serde_json::to_vec(&network(&["old"])).unwrap();
        fs::write(store.path(&network(&[])), legacy).unwrap();
        assert_eq!(store.load(&lock).unwrap(), [network(&["old"])]);

        store.remove(&lock, &network(&[])).unwrap();
        assert!(store.load(&lock).unwrap().is_empty());
        assert!(!store.leases_path(&network(&[])).exists());
    }
}
