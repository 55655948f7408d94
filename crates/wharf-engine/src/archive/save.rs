//! `wharf save`: one tarball with the images' blobs in OCI layout (`oci-layout`,
//! `index.json`, `blobs/sha256/...`) plus Docker's `manifest.json`, which is what Docker 25+
//! writes and what every Docker version's `load` reads.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use serde_json::json;
use wharf_oci::{media_type, Digest, Reference};

use wharf_store::ImageLayer;

use super::{DockerManifestEntry, IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION};
use crate::error::{EngineError, IoResultExt, Result};
use crate::manifest_edit::{replace_layers, tar_media_type, LayerBlob};
use crate::Engine;

/// An image to save and the tags to save with it.
struct Selected {
    id: Digest,
    tags: Vec<Reference>,
}

impl Engine {
    /// Writes `names` (references, ids or repositories meaning all their tags) to `out`.
    pub fn save(&self, names: &[String], out: impl Write) -> Result<()> {
        let _held = self.store.shared_lock()?;
        let selected = self.select_for_save(names)?;
        self.write_archive(&selected, out)?;
        self.saved(&selected);
        Ok(())
    }

    fn saved(&self, selected: &[Selected]) {
        for image in selected {
            self.record_image_event("save", &image.id.to_string(), &image.id.to_string());
        }
    }

    /// Like [`Self::save`] into a file that appears only when complete.
    pub fn save_to_file(&self, names: &[String], path: &Path) -> Result<()> {
        let _held = self.store.shared_lock()?;
        let selected = self.select_for_save(names)?;
        write_atomically(path, |file| self.write_archive(&selected, file))?;
        self.saved(&selected);
        Ok(())
    }

    fn select_for_save(&self, names: &[String]) -> Result<Vec<Selected>> {
        let index = self.store.index()?;
        let mut selected: Vec<Selected> = Vec::new();
        let mut add =
            |id: Digest, tag: Option<Reference>| match selected.iter_mut().find(|s| s.id == id) {
                Some(existing) => existing
                    .tags
                    .extend(tag.filter(|t| !existing.tags.contains(t))),
                None => selected.push(Selected {
                    id,
                    tags: tag.into_iter().collect(),
                }),
            };
        for name in names {
            // A repository without a tag means all of its tags, as with Docker.
            if let Ok(repository) = Reference::parse_normalized_name(name) {
                if repository.tag().is_none() && repository.digest().is_none() {
                    let prefix = format!("{}:", repository.repository());
                    let mut any = false;
                    for (tag, id) in index
                        .tags
                        .iter()
                        .filter(|(tag, _)| tag.starts_with(&prefix))
                    {
                        add(id.clone(), tag.parse().ok());
                        any = true;
                    }
                    if any {
                        continue;
                    }
                }
            }
            let id = index
                .resolve(name)
                .ok_or_else(|| EngineError::ImageNotFound(name.clone()))?;
            let tag = Reference::parse_normalized(name)
                .ok()
                .filter(|r| index.tags.get(&r.to_string()) == Some(&id));
            add(id, tag);
        }
        Ok(selected)
    }

    fn write_archive(&self, selected: &[Selected], out: impl Write) -> Result<()> {
        let index = self.store.index()?;
        let blobs = self.store.blobs();
        let mut builder = tar::Builder::new(out);
        let mut written = BTreeSet::new();
        let mut docker_manifest = Vec::new();
        let mut oci_manifests = Vec::new();
        let path_of = |digest: &Digest| format!("blobs/sha256/{}", digest.hex());
        for image in selected {
            let stored = self.store.image(&index, &image.id)?;
            let layers = stored.layers()?;
            // A layer goes as its blob while the store keeps one, else as its tar rebuilt
            // from its tree (and the manifest saved names it so, as Docker's save does).
            let mut replaced = Vec::new();
            let mut layer_paths = Vec::new();
            for (i, layer) in layers.iter().enumerate() {
                if self.store.layer_tar_from_blob(layer) {
                    self.append_blob(&mut builder, &mut written, &layer.blob)?;
                    layer_paths.push(path_of(&layer.blob));
                    continue;
                }
                if written.insert(layer.diff_id.clone()) {
                    self.append_rebuilt_layer(&mut builder, layer, &path_of(&layer.diff_id))?;
                }
                replaced.push((
                    i,
                    LayerBlob {
                        media_type: tar_media_type(&layer.media_type).to_string(),
                        digest: layer.diff_id.clone(),
                        size: self.store.layer_tar_size(layer)?,
                    },
                ));
                layer_paths.push(path_of(&layer.diff_id));
            }
            self.append_blob(&mut builder, &mut written, &image.id)?;
            let manifest_bytes =
                replace_layers(&image.id, blobs.read(&stored.record.manifest)?, &replaced)?;
            let manifest_digest = Digest::of(&manifest_bytes);
            if written.insert(manifest_digest.clone()) {
                let mut header = blob_header(manifest_bytes.len() as u64);
                builder
                    .append_data(&mut header, path_of(&manifest_digest), &manifest_bytes[..])
                    .at("write archive entry", path_of(&manifest_digest))?;
            }
            let manifest_digest = &manifest_digest;
            docker_manifest.push(DockerManifestEntry {
                config: path_of(&image.id),
                repo_tags: (!image.tags.is_empty())
                    .then(|| image.tags.iter().map(Reference::familiar).collect()),
                layers: layer_paths,
            });
            let manifest_media_type = stored
                .manifest
                .media_type()
                .as_ref()
                .map_or_else(|| media_type::OCI_MANIFEST.to_string(), |m| m.to_string());
            let descriptor = |annotations: Option<serde_json::Value>| {
                let mut descriptor = json!({
                    "mediaType": manifest_media_type,
                    "digest": manifest_digest.to_string(),
                    "size": manifest_bytes.len(),
                });
                if let Some(annotations) = annotations {
                    descriptor["annotations"] = annotations;
                }
                descriptor
            };
            if image.tags.is_empty() {
                oci_manifests.push(descriptor(None));
            }
            for tag in &image.tags {
                oci_manifests.push(descriptor(Some(json!({
                    IMAGE_NAME_ANNOTATION: tag.to_string(),
                    REF_NAME_ANNOTATION: tag.tag().unwrap_or_default(),
                }))));
            }
        }
        let oci_index = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_INDEX,
            "manifests": oci_manifests,
        });
        let metadata = [
            (
                "oci-layout",
                serde_json::to_vec(&json!({"imageLayoutVersion": "1.0.0"})),
            ),
            ("index.json", serde_json::to_vec(&oci_index)),
            ("manifest.json", serde_json::to_vec(&docker_manifest)),
        ];
        for (name, bytes) in metadata {
            let bytes = bytes.expect("archive metadata serializes");
            let mut header = blob_header(bytes.len() as u64);
            builder
                .append_data(&mut header, name, bytes.as_slice())
                .at("write archive entry", name)?;
        }
        builder
            .into_inner()
            .and_then(|mut out| out.flush())
            .at("finish archive", "output")?;
        Ok(())
    }
}

impl Engine {
    /// Adds blob `digest` of the store to the archive, once.
    fn append_blob<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        written: &mut BTreeSet<Digest>,
        digest: &Digest,
    ) -> Result<()> {
        if !written.insert(digest.clone()) {
            return Ok(());
        }
        let blobs = self.store.blobs();
        let path = blobs.path(digest);
        let file = blobs.open(digest)?;
        let mut header = blob_header(blobs.size(digest)?);
        builder
            .append_data(&mut header, format!("blobs/sha256/{}", digest.hex()), file)
            .at("write blob from", &path)
    }

    /// Adds the layer's tar, rebuilt from its tree and record, to the archive as `name`.
    /// The store checks it on the way; a failure ends the archive there.
    fn append_rebuilt_layer<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        layer: &ImageLayer,
        name: &str,
    ) -> Result<()> {
        let size = self.store.layer_tar_size(layer)?;
        let mut header = blob_header(size);
        header.set_path(name).at("write archive entry", name)?;
        header.set_cksum();
        let out = builder.get_mut();
        out.write_all(header.as_bytes())
            .at("write archive entry", name)?;
        let written = self.store.write_layer_tar(layer, out)?;
        debug_assert_eq!(written, size);
        let padding = (512 - size % 512) % 512;
        out.write_all(&[0u8; 512][..padding as usize])
            .at("write archive entry", name)
    }
}

fn blob_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Writes `path` through a temp file beside it, renamed over it once whole: a failure leaves
/// nothing half-written (the temp file goes when dropped).
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&std::fs::File) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".wharf-")
        .tempfile_in(dir)
        .at("create a temp file in", dir)?;
    write(temp.as_file())?;
    temp.as_file().sync_all().at("fsync", temp.path())?;
    temp.persist(path).map_err(|e| e.error).at("write", path)?;
    Ok(())
}
