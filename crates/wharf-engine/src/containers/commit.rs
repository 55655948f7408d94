//! `wharf commit`: a container's changes become an image, as Docker's. The new layer is the
//! container's upper dir written as an OCI layer (overlay whiteouts as `.wh.` entries,
//! opaque folders with `.wh..wh..opq`), read in place: the container keeps running, frozen
//! meanwhile unless `--pause=false`. The placeholders of the files wharf mounts over
//! (`/etc/hosts`...) are not changes (Docker keeps them in a layer of its own).
//!
//! The config is Docker's: the container's `Config` (or the API's, when given) with the
//! `--change` instructions applied, then merged with the container's as moby's
//! `daemon/commit.go` merges; the history gains one entry whose `created_by` is the
//! container's command.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wharf_oci::{ContainerConfig, Digest, HistoryEntry, ImageConfig, Reference};
use wharf_store::{LayerCompression, SharedLock};

use super::diff::PLACEHOLDERS;
use super::lifecycle::ContainerInfo;
use super::record::Status;
use crate::error::{EngineError, Result};
use crate::{now_rfc3339, Engine};

#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    pub reference: Option<Reference>,
    /// `--change` instructions.
    pub changes: Vec<String>,
    /// `--message`: the history comment.
    pub message: Option<String>,
    /// `--author`.
    pub author: Option<String>,
    /// `--pause`: freeze a running container while its files are read.
    pub pause: bool,
    /// The API's config: its values win over the container's.
    pub config: Option<ContainerConfig>,
}

impl Engine {
    /// Commits container `name` and returns the new image's id.
    pub fn commit_container(&self, name: &str, options: &CommitOptions) -> Result<Digest> {
        let info = self.find_container(name)?;
        let held = self.store.shared_lock()?;
        let result = self.commit_locked(&held, &info, options);
        let (id, paused) = self.clean_up_on_failure(held, result)?;
        if let Some(reference) = &options.reference {
            self.record_image_event("tag", &id.to_string(), &reference.familiar());
        }
        let mut extra = vec![("imageID", id.to_string())];
        if let Some(reference) = &options.reference {
            extra.push(("imageRef", reference.familiar()));
        }
        if let Some(message) = &options.message {
            extra.push(("comment", message.clone()));
        }
        self.record_event("commit", &info.record, &extra);
        if paused {
            self.unpause_container(&info.record.id)?;
        }
        Ok(id)
    }

    /// Docker's `Config` of the container: what `inspect` shows, less its defaults, plus its
    /// volumes.
    fn container_config(
        &self,
        info: &ContainerInfo,
        image: &ContainerConfig,
    ) -> Result<ContainerConfig> {
        let record = &info.record;
        let inspect = self.inspect_container(&record.id)?;
        let mut config: ContainerConfig = serde_json::from_value(inspect["Config"].clone())
            .map_err(|e| EngineError::Runtime {
                name: record.name.clone(),
                message: format!("its config does not read back: {e}"),
                exit_code: 125,
            })?;
        if config.stop_signal == "SIGTERM" && image.stop_signal.is_empty() {
            config.stop_signal.clear();
        }
        if config.stop_timeout == Some(10) {
            config.stop_timeout = image.stop_timeout;
        }
        let mut volumes = image.volumes.clone().unwrap_or_default();
        for volume in record.volumes.iter().filter(|v| v.anonymous) {
            volumes.insert(volume.destination.display().to_string(), Default::default());
        }
        config.volumes = (!volumes.is_empty()).then_some(volumes);
        Ok(config)
    }

    /// Writes the image; whether the container was paused for it.
    fn commit_locked(
        &self,
        held: &SharedLock,
        info: &ContainerInfo,
        options: &CommitOptions,
    ) -> Result<(Digest, bool)> {
        let record = &info.record;
        let index = self.store.index()?;
        let parent = self
            .store
            .image(&index, &record.image_id)
            .map_err(|_| EngineError::ImageNotFound(record.image_id.to_string()))?;
        let container = self.container_config(info, &parent.config.config)?;
        // The changes are checked before any work.
        let mut config = options.config.clone().unwrap_or_else(|| container.clone());
        crate::changes::apply(&mut config, &options.changes)?;
        merge(&mut config, container);

        let mut layers = crate::build::solver_layers(&parent)?;
        let leave_out: Vec<PathBuf> = PLACEHOLDERS
            .iter()
            .map(|p| PathBuf::from(p.trim_start_matches('/')))
            .collect();
        let pause = options.pause && info.state.status == Status::Running && !info.paused;
        if pause {
            self.pause_container(&record.id)?;
        }
        let new = self.store.add_layer_from_live_dir(
            &record.run.upper_dir(),
            layers.last().map(|l| &l.chain_id),
            leave_out,
            LayerCompression::default(),
        );
        let new = match new {
            Ok(new) => new,
            Err(error) => {
                if pause {
                    let _ = self.unpause_container(&record.id);
                }
                return Err(error.into());
            }
        };

        let created = now_rfc3339();
        let command = if record.cmd.is_empty() && record.entrypoint.is_empty() {
            &record.run.process.args
        } else {
            &record.cmd
        };
        let mut image = ImageConfig {
            created: Some(created.clone()),
            author: options.author.clone(),
            config,
            history: parent.config.history.clone(),
            ..ImageConfig::for_host(parent.config.rootfs.diff_ids.clone())
        };
        image.architecture = parent.config.architecture.clone();
        image.os = parent.config.os.clone();
        image.variant = parent.config.variant.clone();
        image.history.push(HistoryEntry {
            created: Some(created),
            created_by: Some(command.join(" ")),
            author: options.author.clone(),
            comment: options.message.clone(),
            empty_layer: new.is_none(),
        });
        image
            .extra
            .insert("container".into(), record.id.clone().into());
        if let Some(message) = &options.message {
            image.extra.insert("comment".into(), message.clone().into());
        }
        if let Some(new) = new {
            image.rootfs.diff_ids.push(new.info.diff_id.clone());
            layers.push(wharf_build::Layer {
                diff_id: new.info.diff_id,
                blob: new.info.blob,
                media_type: new.media_type.into(),
                size: new.blob_size,
                chain_id: new.info.chain_id,
            });
        }
        let tags: Vec<Reference> = options.reference.iter().cloned().collect();
        let written = self.write_image(held, &image, &layers, &tags, false);
        match written {
            Ok(id) => Ok((id, pause)),
            Err(error) => {
                if pause {
                    let _ = self.unpause_container(&record.id);
                }
                Err(error)
            }
        }
    }
}

/// moby's `merge`: what the user's config leaves unset comes from the container's; env
/// variables, labels, ports and volumes are added to the user's.
fn merge(user: &mut ContainerConfig, container: ContainerConfig) {
    if user.user.is_empty() {
        user.user = container.user;
    }
    let ports = user.exposed_ports.get_or_insert_with(BTreeMap::new);
    for (port, value) in container.exposed_ports.unwrap_or_default() {
        ports.entry(port).or_insert(value);
    }
    if ports.is_empty() {
        user.exposed_ports = None;
    }
    let env = user.env.get_or_insert_with(Vec::new);
    for variable in container.env.unwrap_or_default() {
        let key = variable.split('=').next().unwrap_or_default();
        if !env.iter().any(|e| e.split('=').next() == Some(key)) {
            env.push(variable);
        }
    }
    let labels = user.labels.get_or_insert_with(BTreeMap::new);
    for (key, value) in container.labels.unwrap_or_default() {
        labels.entry(key).or_insert(value);
    }
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if user.cmd.as_ref().is_none_or(Vec::is_empty) {
            user.cmd = container.cmd;
        }
        if user.entrypoint.is_none() {
            user.entrypoint = container.entrypoint;
        }
    }
    if user.healthcheck.is_none() {
        user.healthcheck = container.healthcheck;
    }
    if user.working_dir.is_empty() {
        user.working_dir = container.working_dir;
    }
    match (&mut user.volumes, container.volumes) {
        (Some(volumes), Some(theirs)) => volumes.extend(theirs),
        (volumes @ None, theirs) => *volumes = theirs,
        (Some(_), None) => {}
    }
    if user.stop_signal.is_empty() {
        user.stop_signal = container.stop_signal;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container() -> ContainerConfig {
        ContainerConfig {
            user: "app".into(),
            env: Some(vec!["PATH=/bin".into(), "A=container".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: "/srv".into(),
            labels: Some(BTreeMap::from([("a".into(), "container".into())])),
            ..ContainerConfig::default()
        }
    }

    #[test]
    fn the_users_values_win_and_the_rest_comes_from_the_container() {
        let mut user = ContainerConfig {
            env: Some(vec!["A=user".into()]),
            labels: Some(BTreeMap::from([("b".into(), "user".into())])),
            ..ContainerConfig::default()
        };
        merge(&mut user, container());
        assert_eq!(user.user, "app");
        assert_eq!(user.env.unwrap(), ["A=user", "PATH=/bin"]);
        assert_eq!(user.cmd.unwrap(), ["sh"]);
        assert_eq!(user.working_dir, "/srv");
        assert_eq!(user.labels.unwrap().len(), 2);
    }

    #[test]
    fn an_entrypoint_of_the_users_keeps_the_containers_command_out() {
        let mut user = ContainerConfig {
            entrypoint: Some(vec!["tini".into()]),
            ..ContainerConfig::default()
        };
        merge(&mut user, container());
        assert_eq!(user.cmd, None);
    }
}
