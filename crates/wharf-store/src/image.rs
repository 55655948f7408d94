//! Images as the store knows them: an index record, a manifest and a config.

use wharf_oci::spec::ImageManifest;
use wharf_oci::{Digest, ImageConfig, Reference};

use crate::error::{Result, StoreError};
use crate::index::{ImageRecord, Index};
use crate::layers::{chain_ids, LayerToUnpack};
use crate::lock::SharedLock;
use crate::Store;

/// An image read from the store.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image id: the digest of its config, as Docker's.
    pub id: Digest,
    pub record: ImageRecord,
    pub manifest: ImageManifest,
    /// The config exactly as stored, for `inspect` and `save`.
    pub config_bytes: Vec<u8>,
    pub config: ImageConfig,
}

/// One layer of an image, with everything needed to find or unpack it.
#[derive(Debug, Clone)]
pub struct ImageLayer {
    pub blob: Digest,
    pub media_type: String,
    pub blob_size: u64,
    pub diff_id: Digest,
    pub chain_id: Digest,
}

impl Image {
    /// The layers, bottom first.
    pub fn layers(&self) -> Result<Vec<ImageLayer>> {
        let diff_ids = &self.config.rootfs.diff_ids;
        let descriptors = self.manifest.layers();
        if descriptors.len() != diff_ids.len() {
            return Err(self.bad(format!(
                "its manifest lists {} layers but its config {} diff ids",
                descriptors.len(),
                diff_ids.len()
            )));
        }
        let chain = chain_ids(diff_ids);
        descriptors
            .iter()
            .zip(diff_ids.iter().zip(chain))
            .map(|(descriptor, (diff_id, chain_id))| {
                Ok(ImageLayer {
                    blob: parse_descriptor_digest(descriptor.digest().as_ref())
                        .map_err(|m| self.bad(m))?,
                    media_type: descriptor.media_type().to_string(),
                    blob_size: descriptor.size(),
                    diff_id: diff_id.clone(),
                    chain_id,
                })
            })
            .collect()
    }

    pub fn config_digest(&self) -> &Digest {
        &self.id
    }

    fn bad(&self, message: String) -> StoreError {
        StoreError::BadImage {
            image: self.id.clone(),
            message,
        }
    }
}

impl ImageLayer {
    pub fn to_unpack(&self, parent: Option<&ImageLayer>) -> LayerToUnpack {
        LayerToUnpack {
            blob: self.blob.clone(),
            diff_id: self.diff_id.clone(),
            chain_id: self.chain_id.clone(),
            parent: parent.map(|p| p.chain_id.clone()),
        }
    }
}

fn parse_descriptor_digest(text: &str) -> std::result::Result<Digest, String> {
    text.parse().map_err(|e| format!("{e}"))
}

/// Parses a manifest blob: OCI image manifest or Docker schema2 (the same JSON shape).
pub fn parse_manifest(digest: &Digest, bytes: &[u8]) -> Result<ImageManifest> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::BadJson {
        what: "manifest",
        digest: digest.clone(),
        source,
    })
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current time formats")
}

/// What committing an image changed, for the caller to report.
#[derive(Debug, Clone)]
pub struct Committed {
    pub id: Digest,
    /// Each tag set, with the image it pointed at before when that was another one.
    pub tags: Vec<(Reference, Option<Digest>)>,
}

impl Store {
    /// Reads image `id` using the index snapshot `index`.
    pub fn image(&self, index: &Index, id: &Digest) -> Result<Image> {
        let record = index
            .images
            .get(id)
            .ok_or_else(|| StoreError::ImageNotFound(id.clone()))?;
        let blobs = self.blobs();
        let manifest = parse_manifest(&record.manifest, &blobs.read(&record.manifest)?)?;
        let config_digest =
            parse_descriptor_digest(manifest.config().digest().as_ref()).map_err(|message| {
                StoreError::BadImage {
                    image: id.clone(),
                    message,
                }
            })?;
        if &config_digest != id {
            return Err(StoreError::BadImage {
                image: id.clone(),
                message: format!("its manifest names config {config_digest}"),
            });
        }
        let config_bytes = blobs.read(id)?;
        let config =
            ImageConfig::from_slice(&config_bytes).map_err(|source| StoreError::BadJson {
                what: "image config",
                digest: id.clone(),
                source,
            })?;
        Ok(Image {
            id: id.clone(),
            record: record.clone(),
            manifest,
            config_bytes,
            config,
        })
    }

    /// Makes an image visible: its manifest, config and layer blobs must be stored and its
    /// layers unpacked. Checks all of that first, then adds the image and its tags in one
    /// atomic index update. Tags that pointed elsewhere move here (the old image may become
    /// dangling, as with Docker).
    ///
    /// The caller holds the shared lock from before it stored the content until this returns,
    /// so gc cannot remove that content in between.
    ///
    /// An image that is already there keeps its manifest (a pulled image its registry's),
    /// unless `replace_manifest` (a build asked for other layer blobs of the same layers).
    pub fn commit_image(
        &self,
        _held: &SharedLock,
        manifest_digest: &Digest,
        tags: &[Reference],
        replace_manifest: bool,
    ) -> Result<Committed> {
        let blobs = self.blobs();
        let manifest = parse_manifest(manifest_digest, &blobs.read(manifest_digest)?)?;
        let id =
            parse_descriptor_digest(manifest.config().digest().as_ref()).map_err(|message| {
                StoreError::BadImage {
                    image: manifest_digest.clone(),
                    message,
                }
            })?;
        let record = ImageRecord {
            manifest: manifest_digest.clone(),
            added: now_rfc3339(),
            last_tag_time: None,
            repo_digests: Vec::new(),
        };
        let mut probe = Index::default();
        probe.images.insert(id.clone(), record.clone());
        let image = self.image(&probe, &id)?;
        for layer in image.layers()? {
            if !self.layer_tar_available(&layer) {
                return Err(StoreError::BlobNotFound(layer.blob));
            }
            match self.layer_info(&layer.chain_id)? {
                Some(info) if info.diff_id == layer.diff_id => {}
                _ => {
                    return Err(StoreError::BadImage {
                        image: id,
                        message: format!("layer {} is not unpacked", layer.chain_id),
                    })
                }
            }
        }
        self.update_index(|index| {
            let record = match index.images.get(&id) {
                Some(existing) if !replace_manifest => existing.clone(),
                _ => record,
            };
            index.images.insert(id.clone(), record);
            let tags = tags
                .iter()
                .map(|tag| (tag.clone(), index.set_tag(tag, &id)))
                .collect();
            Ok::<_, StoreError>(Committed {
                id: id.clone(),
                tags,
            })
        })
    }
}

impl Store {
    /// Records that image `id` is `repo_digest` in a registry (after a pull or push).
    pub fn record_repo_digest(&self, id: &Digest, repo_digest: &Reference) -> Result<()> {
        self.update_index(|index| {
            index.add_repo_digest(id, repo_digest);
            Ok::<_, StoreError>(())
        })
    }
}

impl Index {
    /// Finds an image by reference (`python:3.11-slim`), full id (`sha256:...`), or id
    /// prefix of at least one hex character, as Docker does. An ambiguous prefix matches none.
    pub fn resolve(&self, text: &str) -> Option<Digest> {
        if let Ok(reference) = Reference::parse_normalized(text) {
            if let Some(id) = self.tags.get(&reference.to_string()) {
                return Some(id.clone());
            }
            if let Some(digest) = reference.digest() {
                let wanted = reference.with_digest(digest.clone()).to_string();
                return self
                    .images
                    .iter()
                    .find(|(_, record)| record.repo_digests.contains(&wanted))
                    .map(|(id, _)| id.clone());
            }
        }
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut matches = self.images.keys().filter(|id| id.hex().starts_with(hex));
        match (matches.next(), matches.next()) {
            (Some(id), None) => Some(id.clone()),
            _ => None,
        }
    }
}
