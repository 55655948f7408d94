//! `system check`: proves the store consistent, or says what is not and repairs it.

use std::fmt;

use wharf_oci::Digest;

use crate::error::Result;
use crate::image::ImageLayer;
use crate::lock::ExclusiveLock;
use crate::tar_split::Item;
use crate::Store;

/// A broken promise: something an image or tag needs is missing or wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    TagToMissingImage {
        tag: String,
        image: Digest,
    },
    UnreadableImage {
        image: Digest,
        reason: String,
    },
    BadBlob {
        image: Digest,
        blob: Digest,
        reason: String,
    },
    BadLayer {
        image: Digest,
        chain_id: Digest,
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TagToMissingImage { tag, image } => {
                write!(f, "tag {tag} points at missing image {image}")
            }
            Self::UnreadableImage { image, reason } => {
                write!(f, "image {image} is unreadable: {reason}")
            }
            Self::BadBlob {
                image,
                blob,
                reason,
            } => write!(f, "image {image}: blob {blob}: {reason}"),
            Self::BadLayer {
                image,
                chain_id,
                reason,
            } => write!(f, "image {image}: layer {chain_id}: {reason}"),
        }
    }
}

#[derive(Debug, Default)]
pub struct CheckReport {
    pub images: usize,
    pub blobs_verified: usize,
    /// Layers checked through their tar-split record (they keep no blob).
    pub records_checked: usize,
    /// Layers still kept as blob and tree (the former layout): they work; `repair` moves them.
    pub former_layout_layers: usize,
    pub problems: Vec<Problem>,
    /// Temp files and folders of interrupted writes: harmless, reclaimable.
    pub leftovers: Vec<std::path::PathBuf>,
    pub unreferenced_blobs: usize,
    pub unreferenced_layers: usize,
    /// What `repair` did, one line each.
    pub repairs: Vec<String>,
}

impl Store {
    /// What is wrong with the layer's tar-split record, if anything.
    fn check_layer_record(&self, layer: &ImageLayer, thorough: bool) -> Result<(), String> {
        let record = self
            .layer_record(&layer.chain_id)
            .map_err(|e| e.to_string())?
            .ok_or("has neither its blob nor a tar-split record: its tar can't be made")?;
        if thorough {
            return self
                .write_layer_tar(layer, &mut std::io::sink())
                .map(drop)
                .map_err(|e| e.to_string());
        }
        let tree = self.layer_diff_dir(&layer.chain_id);
        for item in &record.items {
            if let Item::File { path, size, .. } = item {
                match std::fs::symlink_metadata(tree.join(path)) {
                    Ok(meta) if meta.is_file() && meta.len() == *size => {}
                    Ok(meta) if meta.is_file() => {
                        return Err(format!(
                            "file {} is {} bytes long, its record says {size}",
                            path.display(),
                            meta.len()
                        ))
                    }
                    Ok(_) => return Err(format!("{} is no longer a file", path.display())),
                    Err(e) => return Err(format!("file {}: {e}", path.display())),
                }
            }
        }
        Ok(())
    }

    /// Verifies every image: its blobs exist and hash to their names, its layers are
    /// unpacked with the right diff ids, and every tag points at an image. With `repair`,
    /// re-unpacks missing layers whose blobs are intact, drops images whose content is lost
    /// (and their tags), and removes leftovers and unreferenced content.
    ///
    /// A layer kept as tree and tar-split record (no blob) is checked by its record: it
    /// parses and names files of the tree with their sizes; `thorough` also rebuilds its
    /// tar and checks it against the diff id (reading every byte, as blobs are).
    pub fn check(&self, held: &ExclusiveLock, repair: bool, thorough: bool) -> Result<CheckReport> {
        let index = self.index()?;
        let blobs = self.blobs();
        let mut report = CheckReport {
            images: index.images.len(),
            ..CheckReport::default()
        };
        let mut broken_images = Vec::new();
        for (tag, id) in &index.tags {
            if !index.images.contains_key(id) {
                report.problems.push(Problem::TagToMissingImage {
                    tag: tag.clone(),
                    image: id.clone(),
                });
            }
        }
        for (id, record) in &index.images {
            let mut problems = Vec::new();
            for blob in [&record.manifest, id] {
                report.blobs_verified += 1;
                if let Err(e) = blobs.verify(blob) {
                    problems.push(Problem::BadBlob {
                        image: id.clone(),
                        blob: blob.clone(),
                        reason: e.to_string(),
                    });
                }
            }
            let layers = match self.image(&index, id).and_then(|image| image.layers()) {
                Ok(layers) => layers,
                Err(e) => {
                    problems.push(Problem::UnreadableImage {
                        image: id.clone(),
                        reason: e.to_string(),
                    });
                    Vec::new()
                }
            };
            for (i, layer) in layers.iter().enumerate() {
                // The layer's tar comes from its blob while there is one, else from its
                // tree and record: check whichever it is.
                let blob_ok = if blobs.exists(&layer.blob) {
                    report.blobs_verified += 1;
                    match blobs.verify(&layer.blob) {
                        Ok(()) => true,
                        Err(e) => {
                            problems.push(Problem::BadBlob {
                                image: id.clone(),
                                blob: layer.blob.clone(),
                                reason: e.to_string(),
                            });
                            false
                        }
                    }
                } else {
                    report.records_checked += 1;
                    if let Err(reason) = self.check_layer_record(layer, thorough) {
                        problems.push(Problem::BadLayer {
                            image: id.clone(),
                            chain_id: layer.chain_id.clone(),
                            reason,
                        });
                    }
                    false
                };
                let reason = match self.layer_info(&layer.chain_id) {
                    Ok(Some(info)) if info.diff_id != layer.diff_id => {
                        Some(format!("records diff id {}", info.diff_id))
                    }
                    Ok(Some(_)) if !self.layer_diff_dir(&layer.chain_id).is_dir() => {
                        Some("has no diff folder".into())
                    }
                    Ok(Some(_)) => None,
                    Ok(None) => Some("is not unpacked".into()),
                    Err(e) => Some(e.to_string()),
                };
                if let Some(reason) = reason {
                    if repair && blob_ok {
                        self.remove_layer(&layer.chain_id)?;
                        let parent = i.checked_sub(1).map(|p| &layers[p]);
                        self.unpack_layer(&layer.to_unpack(parent))?;
                        report.repairs.push(format!(
                            "re-unpacked layer {} from its blob",
                            layer.chain_id
                        ));
                    } else if !problems.iter().any(|p| {
                        matches!(p, Problem::BadLayer { chain_id, .. } if chain_id == &layer.chain_id)
                    }) {
                        problems.push(Problem::BadLayer {
                            image: id.clone(),
                            chain_id: layer.chain_id.clone(),
                            reason,
                        });
                    }
                }
            }
            if !problems.is_empty() {
                broken_images.push(id.clone());
            }
            report.problems.extend(problems);
        }

        report.former_layout_layers = self.blobs_needed_by_layers()?.len();
        if repair && report.former_layout_layers > 0 {
            let failed = self.migrate_layers(held)?;
            report.repairs.push(format!(
                "moved {} layers to the tree + tar-split record layout",
                report.former_layout_layers - failed.len()
            ));
            for (chain_id, reason) in failed {
                report
                    .repairs
                    .push(format!("layer {chain_id} keeps its blob: {reason}"));
            }
        }

        let referenced = self.referenced(&index);
        report.unreferenced_blobs = blobs
            .list()?
            .iter()
            .filter(|d| !referenced.blobs.contains(d))
            .count();
        report.unreferenced_layers = self
            .list_layers()?
            .iter()
            .filter(|d| !referenced.layers.contains(d))
            .count();
        report.leftovers = self.leftovers()?;

        if repair {
            if !report.problems.is_empty() {
                self.update_index(|index| {
                    for id in &broken_images {
                        index.images.remove(id);
                    }
                    index.tags.retain(|_, id| index.images.contains_key(id));
                    Ok::<_, crate::StoreError>(())
                })?;
                for id in &broken_images {
                    report.repairs.push(format!(
                        "removed image {id}: its content is lost; pull or load it again"
                    ));
                }
                report.repairs.push("removed tags of missing images".into());
            }
            for path in &report.leftovers {
                self.remove_leftover(path)?;
            }
            let collected = self.gc(held)?;
            report.repairs.push(format!(
                "removed {} leftovers, {} unreferenced blobs and {} unreferenced layers",
                report.leftovers.len(),
                collected.removed_blobs.len(),
                collected.removed_layers.len()
            ));
        }
        Ok(report)
    }
}
