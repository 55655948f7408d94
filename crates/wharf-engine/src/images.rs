//! Listing, inspecting, tagging, removing and pruning images.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use wharf_oci::{media_type, Digest, Reference};
use wharf_store::{GcReport, Image, Index};

use crate::error::{EngineError, Result};
use crate::Engine;

/// One image as `wharf images` shows it.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: Digest,
    /// Tags, fully qualified; empty for a dangling image.
    pub tags: Vec<Reference>,
    pub created: Option<String>,
    /// Bytes of unpacked content in all layers.
    pub size: u64,
    /// `repository@digest` of the manifests it was pulled or pushed as (`RepoDigests`).
    pub repo_digests: Vec<Reference>,
}

/// What `rmi` did to one argument.
#[derive(Debug, Default)]
pub struct RemovedImage {
    pub untagged: Vec<Reference>,
    /// The image id, then the layers removed with it.
    pub deleted: Vec<Digest>,
}

#[derive(Debug, Default)]
pub struct PruneReport {
    pub deleted_images: Vec<Digest>,
    pub untagged: Vec<Reference>,
    pub reclaimed_bytes: u64,
}

/// One row of `wharf image history`, newest first.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// The image id on the top row, `None` (Docker's `<missing>`) below it.
    pub id: Option<Digest>,
    pub created: Option<String>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

impl Engine {
    pub fn list_images(&self) -> Result<Vec<ImageSummary>> {
        let index = self.store.index()?;
        let mut summaries = Vec::new();
        for id in index.images.keys() {
            // An image removed by another process since the index was read is skipped.
            let Ok(image) = self.store.image(&index, id) else {
                continue;
            };
            summaries.push(ImageSummary {
                id: id.clone(),
                tags: index.tags_of(id),
                created: image.config.created.clone(),
                size: self.image_size(&image),
                repo_digests: index.images[id]
                    .repo_digests
                    .iter()
                    .filter_map(|text| Reference::parse_normalized(text).ok())
                    .collect(),
            });
        }
        summaries.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(summaries)
    }

    /// Docker's `SizeRw` and `SizeRootFs` of container `id` (its full id): the bytes of its
    /// writable layer, and those plus its image's.
    pub fn container_sizes(&self, id: &str) -> Result<(u64, u64)> {
        let info = self.container_info(id)?;
        let writable = self.writable_layer_size(id);
        let index = self.store.index()?;
        let image = self.find_image(&index, &info.record.image_id.to_string());
        Ok((
            writable,
            writable + image.map_or(0, |i| self.image_size(&i)),
        ))
    }

    fn image_size(&self, image: &Image) -> u64 {
        image
            .layers()
            .unwrap_or_default()
            .iter()
            .filter_map(|layer| self.store.layer_info(&layer.chain_id).ok().flatten())
            .map(|info| info.size)
            .sum()
    }

    fn find_image(&self, index: &Index, name: &str) -> Result<Image> {
        let id = index
            .resolve(name)
            .ok_or_else(|| EngineError::ImageNotFound(name.to_string()))?;
        Ok(self.store.image(index, &id)?)
    }

    /// `image inspect` in Docker's JSON shape.
    pub fn inspect_image(&self, name: &str) -> Result<Value> {
        let index = self.store.index()?;
        let image = self.find_image(&index, name)?;
        let config = &image.config;
        let size = self.image_size(&image);
        let layers = image.layers()?;
        let lower_dirs: Vec<String> = layers
            .iter()
            .rev()
            .map(|l| self.store.layer_diff_dir(&l.chain_id).display().to_string())
            .collect();
        let extra = |key: &str| config.extra.get(key).cloned();
        Ok(json!({
            "Id": image.id.to_string(),
            "RepoTags": index.tags_of(&image.id).iter().map(Reference::familiar).collect::<Vec<_>>(),
            "RepoDigests": image.record.repo_digests.iter()
                .filter_map(|text| text.parse::<Reference>().ok())
                .map(|r| r.familiar())
                .collect::<Vec<_>>(),
            "Parent": "",
            "Comment": extra("comment").unwrap_or(json!("")),
            "Created": config.created.clone().unwrap_or_default(),
            "Container": extra("container").unwrap_or(json!("")),
            "ContainerConfig": extra("container_config").unwrap_or_else(|| json!(wharf_oci::ContainerConfig::default())),
            "DockerVersion": extra("docker_version").unwrap_or(json!("")),
            "Author": config.author.clone().unwrap_or_default(),
            "Config": config.config,
            "Architecture": config.architecture,
            "Variant": config.variant,
            "Os": config.os,
            "Size": size,
            "VirtualSize": size,
            "GraphDriver": {
                "Data": { "LowerDir": lower_dirs.join(":") },
                "Name": "overlay",
            },
            "RootFS": {
                "Type": config.rootfs.kind,
                "Layers": config.rootfs.diff_ids,
            },
            "Metadata": {
                "LastTagTime": image.record.last_tag_time.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            },
        }))
    }

    /// `wharf tag SOURCE TARGET`.
    pub fn tag(&self, source: &str, target: &str) -> Result<()> {
        let target = Reference::parse_normalized(target)?;
        let index = self.store.index()?;
        let id = index
            .resolve(source)
            .ok_or_else(|| EngineError::ImageNotFound(source.to_string()))?;
        self.store.update_index(|index| {
            if !index.images.contains_key(&id) {
                return Err(EngineError::ImageNotFound(source.to_string()));
            }
            index.set_tag(&target, &id);
            Ok(())
        })?;
        self.record_image_event("tag", &id.to_string(), &target.familiar());
        Ok(())
    }

    /// `wharf rmi [-f] NAME`: a tag is untagged and the image deleted when no tag is left;
    /// an id deletes the image, which needs `force` when several tags name it.
    pub fn remove_image(&self, name: &str, force: bool) -> Result<RemovedImage> {
        let held = self.store.exclusive_lock()?;
        let mut removed = RemovedImage::default();
        let target = self.store.index()?.resolve(name);
        let users = match &target {
            Some(id) => self.containers_using(id)?,
            None => Vec::new(),
        };
        let deleted_id = self.store.update_index(|index| {
            let id = index
                .resolve(name)
                .filter(|id| Some(id) == target.as_ref())
                .ok_or_else(|| EngineError::ImageNotFound(name.to_string()))?;
            let by_tag = Reference::parse_normalized(name)
                .ok()
                .filter(|r| index.tags.get(&r.to_string()) == Some(&id));
            match by_tag {
                Some(tag) => {
                    index.tags.remove(&tag.to_string());
                    removed.untagged.push(tag);
                }
                None => {
                    if let (Some(container), false) = (users.first(), force) {
                        return Err(EngineError::ImageInUse {
                            image: name.to_string(),
                            container: container.clone(),
                        });
                    }
                    let tags = index.tags_of(&id);
                    if tags.len() > 1 && !force {
                        return Err(EngineError::ImageHasSeveralTags {
                            image: id.short().to_string(),
                        });
                    }
                    for tag in tags {
                        index.tags.remove(&tag.to_string());
                        removed.untagged.push(tag);
                    }
                }
            }
            // An image a container uses stays (untagged) until the container is removed.
            Ok((index.is_dangling(&id) && users.is_empty()).then(|| {
                index.images.remove(&id);
                id
            }))
        })?;
        if let Some(id) = &target {
            let id = id.to_string();
            for _ in &removed.untagged {
                self.record_image_event("untag", &id, &id);
            }
        }
        if let Some(id) = deleted_id {
            self.record_image_event("delete", &id.to_string(), &id.to_string());
            removed.deleted.push(id);
            removed.deleted.extend(self.store.gc(&held)?.removed_layers);
        }
        Ok(removed)
    }

    /// `image prune`: removes dangling images, or with `all` every image no container
    /// uses, then collects what they referenced.
    pub fn prune_images(&self, all: bool) -> Result<PruneReport> {
        let held = self.store.exclusive_lock()?;
        let in_use: BTreeSet<Digest> = self
            .list_containers()?
            .into_iter()
            .map(|c| c.record.image_id)
            .collect();
        let mut report = PruneReport::default();
        self.store.update_index(|index| {
            let doomed: BTreeSet<Digest> = index
                .images
                .keys()
                .filter(|id| !in_use.contains(*id) && (all || index.is_dangling(id)))
                .cloned()
                .collect();
            for id in &doomed {
                report.untagged.extend(index.tags_of(id));
                index.images.remove(id);
            }
            index.tags.retain(|_, id| !doomed.contains(id));
            report.deleted_images = doomed.into_iter().collect();
            Ok::<_, EngineError>(())
        })?;
        let GcReport {
            reclaimed_bytes, ..
        } = self.store.gc(&held)?;
        report.reclaimed_bytes = reclaimed_bytes;
        Ok(report)
    }

    /// `image history`: the config's history, newest first, each layer's size on the entry
    /// that created it.
    pub fn image_history(&self, name: &str) -> Result<Vec<HistoryRow>> {
        let index = self.store.index()?;
        let image = self.find_image(&index, name)?;
        let mut layer_sizes = image.layers()?.into_iter().map(|l| {
            self.store
                .layer_info(&l.chain_id)
                .ok()
                .flatten()
                .map_or(0, |i| i.size)
        });
        let mut rows: Vec<HistoryRow> = image
            .config
            .history
            .iter()
            .map(|entry| HistoryRow {
                id: None,
                created: entry.created.clone(),
                created_by: entry.created_by.clone().unwrap_or_default(),
                size: if entry.empty_layer {
                    0
                } else {
                    layer_sizes.next().unwrap_or(0)
                },
                comment: entry.comment.clone().unwrap_or_default(),
            })
            .collect();
        rows.reverse();
        if let Some(top) = rows.first_mut() {
            top.id = Some(image.id.clone());
        }
        Ok(rows)
    }
}

impl Engine {
    /// Stores an image's config and manifest (its layers are stored and unpacked already)
    /// and commits it with its tags (see [`wharf_store::Store::commit_image`] for
    /// `replace_manifest`). Returns the image id.
    pub(crate) fn write_image(
        &self,
        held: &wharf_store::SharedLock,
        config: &wharf_oci::ImageConfig,
        layers: &[wharf_build::Layer],
        tags: &[Reference],
        replace_manifest: bool,
    ) -> Result<Digest> {
        let blobs = self.store.blobs();
        let config_bytes = serde_json::to_vec(config).expect("image configs serialize");
        let config_digest = blobs.put_bytes(&config_bytes)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": {
                "mediaType": media_type::OCI_CONFIG,
                "digest": config_digest.to_string(),
                "size": config_bytes.len(),
            },
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type,
                "digest": l.blob.to_string(),
                "size": l.size,
            })).collect::<Vec<_>>(),
        });
        let manifest_digest =
            blobs.put_bytes(&serde_json::to_vec(&manifest).expect("manifests serialize"))?;
        Ok(self
            .store
            .commit_image(held, &manifest_digest, tags, replace_manifest)?
            .id)
    }
}
