//! `wharf load`: reads the whole archive into the blob store (verifying what names its
//! digest), works out its images, unpacks their layers, then commits each image with its
//! tags in one index update. Until that commit nothing is visible; after an error or a kill
//! what was written is unreferenced and gc removes it.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

use serde_json::json;
use wharf_oci::media_type;
use wharf_oci::spec::{ImageIndex, ImageManifest};
use wharf_oci::{Digest, ImageConfig, Reference};
use wharf_store::{chain_ids, parse_manifest, Compression, LayerToUnpack, SharedLock};

use super::{DockerManifestEntry, IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION};
use crate::error::{EngineError, Result};
use crate::Engine;

/// Small metadata files are kept in memory; anything larger is a layer and goes to the store.
const METADATA_LIMIT: u64 = 16 << 20;

#[derive(Debug, Default)]
pub struct LoadReport {
    pub images: Vec<LoadedImage>,
}

#[derive(Debug)]
pub struct LoadedImage {
    pub id: Digest,
    pub tags: Vec<Reference>,
    /// Tags that moved here from another image, which Docker reports as renamed.
    pub replaced: Vec<(Reference, Digest)>,
}

/// A file of the archive, by where its content went.
enum Stored {
    Blob(Digest),
    Bytes(Vec<u8>),
}

/// What the archive holds, by path inside it.
struct ArchiveFiles {
    name: String,
    files: HashMap<PathBuf, Stored>,
    /// Symlinks and hard links inside the archive (older `docker save` links shared layers).
    links: HashMap<PathBuf, PathBuf>,
}

/// An image found in the archive, ready to unpack and commit.
struct FoundImage {
    manifest: Digest,
    tags: Vec<Reference>,
}

impl Engine {
    /// Loads every image of a `docker save` archive or OCI layout tarball (plain, gzip or
    /// zstd). `name` names the input in errors.
    pub fn load(&self, input: impl Read, name: &str) -> Result<LoadReport> {
        let held = self.store.shared_lock()?;
        let result = self
            .read_archive(input, name)
            .and_then(|files| self.find_images(&files))
            .and_then(|found| self.commit_found(&held, &found));
        let report = self.clean_up_on_failure(held, result)?;
        for image in &report.images {
            let id = image.id.to_string();
            for tag in &image.tags {
                self.record_image_event("tag", &id, &tag.familiar());
            }
            self.record_image_event("load", &id, &id);
        }
        Ok(report)
    }

    fn read_archive(&self, input: impl Read, name: &str) -> Result<ArchiveFiles> {
        let bad = |message: String| EngineError::BadArchive {
            archive: name.to_string(),
            message,
        };
        let mut reader = BufReader::with_capacity(1 << 20, input);
        let compression =
            wharf_store::sniff_compression(&mut reader).map_err(|e| bad(e.to_string()))?;
        let decoder = compression
            .decoder(reader)
            .map_err(|e| bad(e.to_string()))?;
        let mut archive = tar::Archive::new(decoder);
        let mut files = ArchiveFiles {
            name: name.to_string(),
            files: HashMap::new(),
            links: HashMap::new(),
        };
        let blobs = self.store.blobs();
        for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(format!("not a valid tar archive: {e}")))?;
            let path = normalize(&entry.path().map_err(|e| bad(e.to_string()))?)
                .ok_or_else(|| bad("an entry's path leaves the archive".into()))?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(|e| bad(e.to_string()))?
                    .ok_or_else(|| bad(format!("link {} has no target", path.display())))?;
                let base = if kind.is_symlink() {
                    path.parent().unwrap_or(Path::new(""))
                } else {
                    Path::new("")
                };
                let target = normalize(&base.join(target)).ok_or_else(|| {
                    bad(format!(
                        "link {} points outside the archive",
                        path.display()
                    ))
                })?;
                files.links.insert(path, target);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let stored = if let Some(digest) = blob_path_digest(&path) {
                Stored::Blob(blobs.put(&mut entry, Some(&digest))?.0)
            } else if is_metadata(&path)
                && entry.header().size().unwrap_or(u64::MAX) <= METADATA_LIMIT
            {
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(e.to_string()))?;
                Stored::Bytes(bytes)
            } else {
                Stored::Blob(blobs.put(&mut entry, None)?.0)
            };
            files.files.insert(path, stored);
        }
        Ok(files)
    }

    fn find_images(&self, files: &ArchiveFiles) -> Result<Vec<FoundImage>> {
        // Manifests the OCI layout names, by config digest, to keep their original digests.
        let mut oci_images = Vec::new();
        if files.get(Path::new("index.json")).is_some() {
            let index: ImageIndex = self.parse_json(files, Path::new("index.json"))?;
            for descriptor in index.manifests() {
                self.collect_oci_manifests(files, descriptor, &mut oci_images, 0)?;
            }
        }
        if files.get(Path::new("manifest.json")).is_none() {
            if oci_images.is_empty() && files.get(Path::new("index.json")).is_none() {
                return Err(files.bad(
                    "it has neither manifest.json (docker save) nor index.json (OCI layout)".into(),
                ));
            }
            return Ok(oci_images);
        }
        let entries: Vec<DockerManifestEntry> =
            self.parse_json(files, Path::new("manifest.json"))?;
        let mut found = Vec::new();
        for entry in entries {
            let config = files.blob(&self.store, Path::new(&entry.config))?;
            let tags = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|tag| Reference::parse_normalized(tag))
                .collect::<Result<Vec<_>, _>>()?;
            let known = oci_images.iter().find_map(|image| {
                let bytes = self.store.blobs().read(&image.manifest).ok()?;
                let manifest = parse_manifest(&image.manifest, &bytes).ok()?;
                (manifest.config().digest().to_string() == config.to_string())
                    .then(|| image.manifest.clone())
            });
            let manifest = match known {
                Some(manifest) => manifest,
                None => {
                    let layers = entry
                        .layers
                        .iter()
                        .map(|layer| files.blob(&self.store, Path::new(layer)))
                        .collect::<Result<Vec<_>>>()?;
                    self.synthesize_manifest(&config, &layers)?
                }
            };
            found.push(FoundImage { manifest, tags });
        }
        Ok(found)
    }

    /// Follows an index descriptor to image manifests, picking this host's platform from
    /// nested indexes.
    fn collect_oci_manifests(
        &self,
        files: &ArchiveFiles,
        descriptor: &wharf_oci::spec::Descriptor,
        found: &mut Vec<FoundImage>,
        depth: usize,
    ) -> Result<()> {
        let digest: Digest = descriptor
            .digest()
            .to_string()
            .parse()
            .map_err(|e| files.bad(format!("index.json: {e}")))?;
        let blobs = self.store.blobs();
        if !blobs.exists(&digest) {
            return Err(files.bad(format!(
                "index.json names {digest}, which the archive does not hold"
            )));
        }
        let media = descriptor.media_type().to_string();
        if media_type::is_index(&media) {
            if depth > 4 {
                return Err(files.bad("image indexes nest too deep".into()));
            }
            let index: ImageIndex = serde_json::from_slice(&blobs.read(&digest)?)
                .map_err(|e| files.bad(format!("index {digest}: {e}")))?;
            let host = index.manifests().iter().find(|m| {
                m.platform().as_ref().is_none_or(|p| {
                    p.os().to_string() == "linux"
                        && p.architecture().to_string() == wharf_oci::config::host_architecture()
                })
            });
            if let Some(manifest) = host {
                self.collect_oci_manifests(files, manifest, found, depth + 1)?;
            }
            return Ok(());
        }
        let annotations = descriptor.annotations().clone().unwrap_or_default();
        let name = annotations.get(IMAGE_NAME_ANNOTATION).or_else(|| {
            annotations
                .get(REF_NAME_ANNOTATION)
                .filter(|n| n.contains(['/', ':']))
        });
        let tags = name
            .map(|n| Reference::parse_normalized(n))
            .transpose()?
            .into_iter()
            .collect();
        match found.iter_mut().find(|image| image.manifest == digest) {
            Some(image) => image.tags.extend(tags),
            None => found.push(FoundImage {
                manifest: digest,
                tags,
            }),
        }
        Ok(())
    }

    /// Writes an OCI manifest for a `docker save` image, which has none of its own.
    fn synthesize_manifest(&self, config: &Digest, layers: &[Digest]) -> Result<Digest> {
        let blobs = self.store.blobs();
        let mut layer_descriptors = Vec::new();
        for layer in layers {
            let (media_type, size) = match blobs.open(layer) {
                Ok(mut file) => {
                    let mut head = [0u8; 4];
                    let read = file.read(&mut head).unwrap_or(0);
                    let media_type = Compression::detect(&head[..read]).layer_media_type();
                    (media_type.to_owned(), blobs.size(layer)?)
                }
                // A load of the same layer beside this one unpacked it and dropped its blob:
                // the layer knows the blob's form.
                Err(wharf_store::StoreError::BlobNotFound(_)) => {
                    match self.store.layer_form_of_blob(layer)? {
                        Some(form) => (form.media_type, form.size),
                        None => return Err(wharf_store::StoreError::BlobNotFound(layer.clone()))?,
                    }
                }
                Err(error) => return Err(error.into()),
            };
            layer_descriptors.push(json!({
                "mediaType": media_type,
                "digest": layer.to_string(),
                "size": size,
            }));
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": {
                "mediaType": media_type::OCI_CONFIG,
                "digest": config.to_string(),
                "size": blobs.size(config)?,
            },
            "layers": layer_descriptors,
        });
        Ok(blobs.put_bytes(&serde_json::to_vec(&manifest).expect("manifests serialize"))?)
    }

    fn commit_found(&self, held: &SharedLock, found: &[FoundImage]) -> Result<LoadReport> {
        let blobs = self.store.blobs();
        // Unpack everything first: a bad layer in any image leaves no image committed.
        let mut prepared = Vec::new();
        for image in found {
            let manifest: ImageManifest =
                parse_manifest(&image.manifest, &blobs.read(&image.manifest)?)?;
            let config_digest: Digest =
                manifest
                    .config()
                    .digest()
                    .to_string()
                    .parse()
                    .map_err(|e| EngineError::BadArchive {
                        archive: image.manifest.to_string(),
                        message: format!("{e}"),
                    })?;
            let config = ImageConfig::from_slice(&blobs.read(&config_digest)?).map_err(|e| {
                EngineError::BadArchive {
                    archive: config_digest.to_string(),
                    message: format!("image config is not valid: {e}"),
                }
            })?;
            let diff_ids = &config.rootfs.diff_ids;
            if diff_ids.len() != manifest.layers().len() {
                return Err(EngineError::BadArchive {
                    archive: config_digest.to_string(),
                    message: format!(
                        "the image has {} layers but its config lists {} diff ids",
                        manifest.layers().len(),
                        diff_ids.len()
                    ),
                });
            }
            let chain = chain_ids(diff_ids);
            for (i, descriptor) in manifest.layers().iter().enumerate() {
                prepared.push(LayerToUnpack {
                    blob: descriptor.digest().to_string().parse().map_err(|e| {
                        EngineError::BadArchive {
                            archive: image.manifest.to_string(),
                            message: format!("{e}"),
                        }
                    })?,
                    diff_id: diff_ids[i].clone(),
                    chain_id: chain[i].clone(),
                    parent: i.checked_sub(1).map(|p| chain[p].clone()),
                });
            }
        }
        prepared.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
        prepared.dedup_by(|a, b| a.chain_id == b.chain_id);
        self.store.unpack_layers(&prepared)?;

        let mut report = LoadReport::default();
        for image in found {
            let committed = self
                .store
                .commit_image(held, &image.manifest, &image.tags, false)?;
            report.images.push(LoadedImage {
                id: committed.id,
                replaced: committed
                    .tags
                    .iter()
                    .filter_map(|(tag, old)| old.clone().map(|old| (tag.clone(), old)))
                    .collect(),
                tags: image.tags.clone(),
            });
        }
        // Unpacked, each layer's tree and record give its tar back: its blob goes.
        self.store
            .drop_layer_blobs(prepared.iter().map(|layer| &layer.blob))?;
        Ok(report)
    }

    fn parse_json<T: serde::de::DeserializeOwned>(
        &self,
        files: &ArchiveFiles,
        path: &Path,
    ) -> Result<T> {
        let bytes = match files.get(path) {
            Some(Stored::Bytes(bytes)) => bytes.clone(),
            Some(Stored::Blob(digest)) => self.store.blobs().read(digest)?,
            None => return Err(files.bad(format!("{} is missing", path.display()))),
        };
        serde_json::from_slice(&bytes).map_err(|e| files.bad(format!("{}: {e}", path.display())))
    }
}

impl ArchiveFiles {
    /// The file at `path`, following links inside the archive.
    fn get(&self, path: &Path) -> Option<&Stored> {
        let mut path = normalize(path)?;
        for _ in 0..16 {
            if let Some(stored) = self.files.get(&path) {
                return Some(stored);
            }
            path = self.links.get(&path)?.clone();
        }
        None
    }

    /// The file at `path` as a blob in the store (metadata kept in memory is stored now).
    fn blob(&self, store: &wharf_store::Store, path: &Path) -> Result<Digest> {
        match self.get(path) {
            Some(Stored::Blob(digest)) => Ok(digest.clone()),
            Some(Stored::Bytes(bytes)) => Ok(store.blobs().put_bytes(bytes)?),
            None => Err(self.bad(format!(
                "manifest.json names {}, which the archive does not hold",
                path.display()
            ))),
        }
    }

    fn bad(&self, message: String) -> EngineError {
        EngineError::BadArchive {
            archive: self.name.clone(),
            message,
        }
    }
}

/// A relative path without `.` or `..`, or `None` when it would leave the archive.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// `blobs/sha256/<hex>` names its own digest, which is then verified as it is stored.
fn blob_path_digest(path: &Path) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/sha256").ok()?;
    Digest::from_hex(rest.to_str()?).ok()
}

fn is_metadata(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".json") || matches!(name, "repositories" | "oci-layout" | "VERSION")
}
