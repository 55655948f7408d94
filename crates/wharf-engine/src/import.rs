//! `wharf import`: a root filesystem tarball becomes a one-layer image.

use std::io::{BufReader, Read};

use wharf_oci::{media_type, Digest, HistoryEntry, ImageConfig, Reference};
use wharf_store::{sniff_compression, LayerToUnpack, SharedLock};

use crate::error::{EngineError, Result};
use crate::{now_rfc3339, Engine};

#[derive(Debug, Default, Clone)]
pub struct ImportOptions {
    /// `--change` instructions.
    pub changes: Vec<String>,
    /// `--message`: the history comment.
    pub message: Option<String>,
    pub reference: Option<Reference>,
    /// What the tarball came from (a path or `-`), for the history entry.
    pub source: String,
}

impl Engine {
    /// Imports a tarball (plain, gzip or zstd) and returns the new image's id.
    pub fn import(&self, input: impl Read, options: &ImportOptions) -> Result<Digest> {
        // Validate the changes before doing any work.
        let mut config = ImageConfig::for_host(Vec::new());
        crate::changes::apply(&mut config.config, &options.changes)?;

        let held = self.store.shared_lock()?;
        let result = self.import_locked(&held, input, options, config);
        let id = self.clean_up_on_failure(held, result)?;
        let text = id.to_string();
        if let Some(tag) = &options.reference {
            self.record_image_event("tag", &text, &tag.familiar());
        }
        self.record_image_event("import", &text, &text);
        Ok(id)
    }

    fn import_locked(
        &self,
        held: &SharedLock,
        input: impl Read,
        options: &ImportOptions,
        mut config: ImageConfig,
    ) -> Result<Digest> {
        let blobs = self.store.blobs();
        let mut reader = BufReader::with_capacity(1 << 20, input);
        let bad = |e: std::io::Error| EngineError::BadArchive {
            archive: options.source.clone(),
            message: e.to_string(),
        };
        let compression = sniff_compression(&mut reader).map_err(bad)?;
        // The layer's blob is uncompressed: its digest is its diff id, and once unpacked its
        // tree and record give it back (for `save`), so the blob goes.
        let (diff_id, size) = blobs.put(compression.decoder(reader).map_err(bad)?, None)?;
        self.store.unpack_layers(&[LayerToUnpack {
            blob: diff_id.clone(),
            diff_id: diff_id.clone(),
            chain_id: diff_id.clone(),
            parent: None,
        }])?;

        let created = now_rfc3339();
        config.created = Some(created.clone());
        config.rootfs.diff_ids = vec![diff_id.clone()];
        config.history = vec![HistoryEntry {
            created: Some(created),
            comment: Some(
                options
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("Imported from {}", options.source)),
            ),
            ..HistoryEntry::default()
        }];
        let layer = wharf_build::Layer {
            size,
            blob: diff_id.clone(),
            chain_id: diff_id.clone(),
            diff_id,
            media_type: media_type::OCI_LAYER_TAR.into(),
        };
        let tags: Vec<Reference> = options.reference.iter().cloned().collect();
        let id = self.write_image(held, &config, &[layer], &tags, false)?;
        self.store.drop_layer_blobs(&config.rootfs.diff_ids)?;
        Ok(id)
    }
}
