//! Volumes, as Docker's `local` driver keeps them: `volumes/<name>/_data` is what containers
//! mount, `volumes/<name>/volume.json` says when it was made and with which labels. A folder
//! without `volume.json` is a volume half made (or half removed) and is not listed.
//!
//! Anonymous volumes (`-v /path`, an image's `VOLUME`) get a random 64-hex name and the label
//! `com.docker.volume.anonymous`, as Docker 23+ marks them: `volume prune` removes only those
//! unless given `--all`, and `rm -v` / `run --rm` remove a container's anonymous volumes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use wharf_runtime::Mount;

use crate::check::Leftover;
use crate::containers::{
    random_id, read_json, validate_name, write_json, ContainerRecord, CreateOptions, VolumeMount,
    VolumeRequest,
};
use crate::error::{EngineError, IoResultExt, Result};
use crate::{now_rfc3339, Engine};

/// Docker's label on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";
const DATA_DIR: &str = "_data";
const RECORD_FILE: &str = "volume.json";
/// A volume being removed is first renamed to this prefix, out of `volume ls`'s sight.
const REMOVING_PREFIX: &str = ".removing-";
/// A volume's first fill from an image is written into `volumes/<name>/.filling-*` and then
/// renamed over its empty `_data`.
const FILLING_PREFIX: &str = ".filling-";

/// One volume, as `volume ls` and `volume inspect` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Where its content is on the host (`_data`).
    #[serde(skip)]
    pub mountpoint: PathBuf,
}

impl Volume {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// What `volume prune` removed.
#[derive(Debug, Default)]
pub struct VolumePruneReport {
    pub removed: Vec<String>,
    /// Bytes of the files removed.
    pub reclaimed: u64,
}

impl Engine {
    fn volumes_dir(&self) -> PathBuf {
        self.root().join("volumes")
    }

    /// Where volume `name`'s content lives on the host.
    pub(crate) fn volume_data_dir(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name).join(DATA_DIR)
    }

    /// `volume create`: a new volume (a random name when `name` is `None`). As Docker, creating
    /// a volume that exists returns it unchanged.
    pub fn create_volume(
        &self,
        name: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> Result<String> {
        let name = match name {
            Some(name) => {
                validate_name("volume name", name)?;
                name.to_string()
            }
            None => random_id()?,
        };
        self.ensure_volume(&name, labels)?;
        Ok(name)
    }

    /// Returns the volume `name`, creating it when missing; `true` when this call created it.
    pub(crate) fn ensure_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(Volume, bool)> {
        let dir = self.volumes_dir().join(name);
        std::fs::create_dir_all(self.volumes_dir()).at("create directory", self.volumes_dir())?;
        let created = match std::fs::create_dir(&dir) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e).at("create directory", &dir),
        };
        if !created {
            if let Ok(volume) = self.find_volume(name) {
                return Ok((volume, false));
            }
        }
        let data = dir.join(DATA_DIR);
        match std::fs::create_dir(&data) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(e).at("create directory", &data)
            }
            _ => {}
        }
        let volume = Volume {
            name: name.to_string(),
            created_at: now_rfc3339(),
            labels: labels.clone(),
            mountpoint: data,
        };
        // The record last: it is what makes the volume exist. Then the new folder's entry
        // (ext4's journal carries it with the record; xfs and btrfs need its own fsync).
        write_json(&dir.join(RECORD_FILE), &volume)?;
        wharf_store::sync_dir(&self.volumes_dir())?;
        self.volume_event("create", name);
        Ok((volume, true))
    }

    pub fn find_volume(&self, name: &str) -> Result<Volume> {
        let not_found = || EngineError::VolumeNotFound(name.to_string());
        if validate_name("volume name", name).is_err() {
            return Err(not_found());
        }
        let dir = self.volumes_dir().join(name);
        let mut volume: Volume = read_json(&dir.join(RECORD_FILE)).map_err(|_| not_found())?;
        volume.mountpoint = dir.join(DATA_DIR);
        Ok(volume)
    }

    /// Every volume, sorted by name.
    pub fn list_volumes(&self) -> Result<Vec<Volume>> {
        let dir = self.volumes_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).at("list", &dir),
        };
        let mut volumes: Vec<Volume> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter_map(|name| self.find_volume(&name).ok())
            .collect();
        volumes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(volumes)
    }

    /// `volume inspect`, in Docker's JSON shape.
    pub fn inspect_volume(&self, name: &str) -> Result<Value> {
        let volume = self.find_volume(name)?;
        Ok(json!({
            "CreatedAt": volume.created_at,
            "Driver": "local",
            "Labels": volume.labels,
            "Mountpoint": volume.mountpoint,
            "Name": volume.name,
            "Options": null,
            "Scope": "local",
        }))
    }

    /// The names of the containers (any state) that mount volume `name`.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .list_containers()?
            .into_iter()
            .filter(|c| c.record.volumes.iter().any(|v| v.name == name))
            .map(|c| c.record.name)
            .collect())
    }

    /// `volume rm`: refuses a volume that a container uses, naming the containers.
    pub fn remove_volume(&self, name: &str) -> Result<()> {
        let volume = self.find_volume(name)?;
        let users = self.volume_users(&volume.name)?;
        if !users.is_empty() {
            return Err(EngineError::VolumeInUse {
                volume: volume.name,
                containers: users,
            });
        }
        self.delete_volume(&volume.name).map(drop)
    }

    /// Removes the volume's folder, first renaming it out of sight so that a crash midway
    /// never leaves half a volume listed. Returns the bytes its files took.
    pub(crate) fn delete_volume(&self, name: &str) -> Result<u64> {
        let dir = self.volumes_dir().join(name);
        let doomed = self
            .volumes_dir()
            .join(format!("{REMOVING_PREFIX}{name}-{}", &random_id()?[..12]));
        std::fs::rename(&dir, &doomed).at("rename", &dir)?;
        let size = wharf_store::disk_bytes(&doomed);
        std::fs::remove_dir_all(&doomed).at("remove", &doomed)?;
        self.volume_event("destroy", name);
        Ok(size)
    }

    fn volume_event(&self, action: &str, name: &str) {
        self.record_object_event("volume", action, name, &[("driver", "local".to_string())]);
    }

    /// What a delete interrupted by a crash left (renamed out of sight, not yet removed).
    fn remove_interrupted_deletes(&self) {
        let Ok(entries) = std::fs::read_dir(self.volumes_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(REMOVING_PREFIX)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Fills the empty volume `name` through `fill`, which writes into a folder beside its
    /// `_data` that is then renamed over it (a rename replaces an empty folder): a fill cut
    /// short (a kill, a crash) leaves the volume empty, to be filled again by the next
    /// container, never half filled. If another fill won the race, its content stays.
    ///
    /// A running container that mounts the empty volume would keep the folder the rename
    /// replaced: then the fill is written in place, as before a crash could cut it short.
    pub(crate) fn fill_empty_volume(
        &self,
        name: &str,
        fill: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let data = self.volume_data_dir(name);
        let mounted = self
            .list_containers()?
            .iter()
            .any(|c| c.state.status.is_up() && c.record.volumes.iter().any(|v| v.name == name));
        if mounted {
            return fill(&data);
        }
        let dir = self.volumes_dir().join(name);
        let temp = tempfile::Builder::new()
            .prefix(FILLING_PREFIX)
            .tempdir_in(&dir)
            .at("create a folder in", &dir)?;
        fill(temp.path())?;
        // On the disk before it is in place, as a layer is: the rename (which a later fsync
        // carries to the disk) must never show a volume whose files a power cut emptied.
        std::fs::File::open(temp.path())
            .and_then(|dir| rustix::fs::syncfs(&dir).map_err(Into::into))
            .at("flush the filled volume in", temp.path())?;
        match std::fs::rename(temp.path(), &data) {
            Ok(()) => {
                // In place now: keep it from the temp guard's cleanup.
                let _ = temp.keep();
                Ok(())
            }
            Err(e)
                if matches!(
                    rustix::io::Errno::from_io_error(&e),
                    Some(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e).at("move the filled volume into place", &data),
        }
    }

    /// What interrupted operations left in the volumes folder: volumes renamed for removal
    /// and not yet removed, fills cut short. Only under the store's exclusive lock are they
    /// known to be dead (`create` and `rm` hold it shared).
    pub(crate) fn volume_leftovers(&self) -> Vec<Leftover> {
        let Ok(entries) = std::fs::read_dir(self.volumes_dir()) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(REMOVING_PREFIX) {
                found.push(Leftover::Path(entry.path()));
            } else if let Ok(inside) = std::fs::read_dir(entry.path()) {
                found.extend(
                    inside
                        .flatten()
                        .filter(|e| e.file_name().to_string_lossy().starts_with(FILLING_PREFIX))
                        .map(|e| Leftover::Path(e.path())),
                );
            }
        }
        found
    }

    /// `volume prune`: removes the volumes no container uses; only anonymous ones unless
    /// `all`, as Docker 23+.
    pub fn prune_volumes(&self, all: bool) -> Result<VolumePruneReport> {
        let used: Vec<String> = self
            .list_containers()?
            .into_iter()
            .flat_map(|c| c.record.volumes.into_iter().map(|v| v.name))
            .collect();
        let mut report = VolumePruneReport::default();
        self.remove_interrupted_deletes();
        for volume in self.list_volumes()? {
            if used.contains(&volume.name) || !(all || volume.is_anonymous()) {
                continue;
            }
            report.reclaimed += self.delete_volume(&volume.name)?;
            report.removed.push(volume.name);
        }
        Ok(report)
    }

    /// `rm -v` and `--rm`: removes the container's anonymous volumes that no other container
    /// uses (as Docker, named volumes stay). Called after the container is gone.
    pub(crate) fn remove_anonymous_volumes(&self, volumes: &[VolumeMount]) {
        for mount in volumes.iter().filter(|v| v.anonymous) {
            if self.volume_users(&mount.name).is_ok_and(|u| u.is_empty()) {
                let _ = self.delete_volume(&mount.name);
            }
        }
    }
}

impl Engine {
    /// The volumes a new container mounts: the user's (a random name for an anonymous one,
    /// or the inherited one at its destination) and an anonymous one for each of the
    /// image's `VOLUME`s that no mount of the user's covers; with the bind mounts of their
    /// folders. Checks names; creates nothing.
    pub(crate) fn plan_volumes(
        &self,
        options: &CreateOptions,
        image_volumes: Option<&BTreeMap<String, Value>>,
    ) -> Result<(Vec<VolumeMount>, Vec<Mount>)> {
        let clean = |p: &Path| p.components().collect::<PathBuf>();
        let anonymous_at = |destination: &Path| -> Result<String> {
            match options
                .inherited_volumes
                .iter()
                .find(|v| v.anonymous && clean(&v.destination) == clean(destination))
            {
                Some(inherited) => Ok(inherited.name.clone()),
                None => random_id(),
            }
        };
        let mut volumes = Vec::new();
        let mut binds = Vec::new();
        let mut add = |name: String, destination: PathBuf, read_only, anonymous| {
            binds.push(Mount::Bind {
                source: self.volume_data_dir(&name),
                destination: destination.clone(),
                read_only,
                propagation: Default::default(),
            });
            volumes.push(VolumeMount {
                name,
                destination,
                anonymous,
            });
        };
        let requests = &options.volumes;
        for request in requests {
            let name = match &request.name {
                Some(name) => {
                    validate_name("--volume", name)?;
                    name.clone()
                }
                None => anonymous_at(&request.destination)?,
            };
            add(
                name,
                request.destination.clone(),
                request.read_only,
                request.name.is_none(),
            );
        }
        for destination in image_volumes.into_iter().flat_map(|v| v.keys()) {
            let destination = clean(Path::new(destination));
            let covered = options
                .mounts
                .iter()
                .map(Mount::destination)
                .chain(requests.iter().map(|r| r.destination.as_path()))
                .any(|d| clean(d) == destination);
            if !covered && destination.is_absolute() {
                add(anonymous_at(&destination)?, destination, false, true);
            }
        }
        Ok((volumes, binds))
    }

    /// Creates the volumes of a container just written (pushing the names of those it
    /// created, for a rollback) and fills the empty ones from the image.
    pub(crate) fn prepare_volumes(
        &self,
        record: &ContainerRecord,
        requests: &[VolumeRequest],
        created: &mut Vec<String>,
    ) -> Result<()> {
        let anonymous = BTreeMap::from([(ANONYMOUS_LABEL.to_string(), String::new())]);
        for volume in &record.volumes {
            let labels = if volume.anonymous {
                anonymous.clone()
            } else {
                BTreeMap::new()
            };
            if self.ensure_volume(&volume.name, &labels)?.1 {
                created.push(volume.name.clone());
            }
        }
        self.fill_volumes(record, |destination| {
            requests
                .iter()
                .any(|r| r.no_copy && r.destination == destination)
        })
    }
}
