//! A layer's tar, for `save`, `push` and recompression: read through one function, from its
//! blob while the store keeps one, else rebuilt from its tree and tar-split record.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, ErrorKind, Write};
use std::path::PathBuf;

use wharf_oci::{Digest, Sha256Writer};

use crate::blobs::{sniff_compression, LayerCompression};
use crate::error::{IoResultExt, Result, StoreError};
use crate::image::ImageLayer;
use crate::layers::LayerForm;
use crate::tar_split::{rebuild, OutputErrors, Record, RECORD_FILE};
use crate::Store;

impl Store {
    /// Where the layer's tar-split record is (see [`crate::tar_split`]).
    pub fn layer_record_path(&self, chain_id: &Digest) -> PathBuf {
        self.layer_dir(chain_id).join(RECORD_FILE)
    }

    /// The layer's tar-split record, or `None` when it has none.
    pub(crate) fn layer_record(&self, chain_id: &Digest) -> Result<Option<Record>> {
        let path = self.layer_record_path(chain_id);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).at("open", &path),
        };
        Record::read_from(BufReader::new(file))
            .map(Some)
            .map_err(|reason| StoreError::BadLayerRecord {
                chain_id: chain_id.clone(),
                path,
                reason,
            })
    }

    /// Whether the layer's uncompressed tar comes from its blob (else from its record).
    pub fn layer_tar_from_blob(&self, layer: &ImageLayer) -> bool {
        self.blobs().exists(&layer.blob)
    }

    /// The length of the layer's tar rebuilt from its record.
    pub fn layer_tar_size(&self, layer: &ImageLayer) -> Result<u64> {
        match self.layer_record(&layer.chain_id)? {
            Some(record) => Ok(record.tar_size),
            None => Err(StoreError::LayerTarLost {
                chain_id: layer.chain_id.clone(),
            }),
        }
    }

    /// Writes the layer's uncompressed tar into `out`: its blob decompressed while the store
    /// keeps one, else the tar rebuilt from its tree and record. What is written is hashed
    /// and checked against the diff id; a tree file that changed stops the tar before its
    /// content, naming it. Returns the tar's length.
    pub fn write_layer_tar(&self, layer: &ImageLayer, out: &mut dyn Write) -> Result<u64> {
        let mut hashing = Sha256Writer::new(OutputErrors::new(out));
        let blobs = self.blobs();
        if blobs.exists(&layer.blob) {
            let path = blobs.path(&layer.blob);
            let mut reader = BufReader::with_capacity(1 << 20, blobs.open(&layer.blob)?);
            let compression = sniff_compression(&mut reader).at("read", &path)?;
            let copied = compression
                .decoder(reader)
                .and_then(|mut tar| io::copy(&mut tar, &mut hashing));
            let (actual, size, writer) = hashing.finish();
            if let Some(e) = writer.failed {
                return Err(e).at("write the tar of layer from", &path);
            }
            copied.map_err(|source| StoreError::BadTar {
                blob: layer.blob.clone(),
                source,
            })?;
            if actual != layer.diff_id {
                return Err(StoreError::DiffIdMismatch {
                    blob: layer.blob.clone(),
                    expected: layer.diff_id.clone(),
                    actual,
                });
            }
            return Ok(size);
        }
        let record =
            self.layer_record(&layer.chain_id)?
                .ok_or_else(|| StoreError::LayerTarLost {
                    chain_id: layer.chain_id.clone(),
                })?;
        let tree = self.layer_diff_dir(&layer.chain_id);
        let rebuilt = rebuild(&record, &tree, &mut hashing);
        let (actual, size, writer) = hashing.finish();
        match rebuilt {
            Ok(()) => {}
            Err(Ok(bad)) => {
                return Err(StoreError::LayerFileChanged {
                    chain_id: layer.chain_id.clone(),
                    file: bad.path,
                    reason: bad.reason,
                })
            }
            Err(Err(e)) => {
                let e = writer.failed.unwrap_or(e);
                return Err(e).at("write the tar of layer from", &tree);
            }
        }
        if actual != layer.diff_id {
            return Err(StoreError::RebuiltLayerMismatch {
                chain_id: layer.chain_id.clone(),
                expected: layer.diff_id.clone(),
                actual,
            });
        }
        Ok(size)
    }
}

impl Store {
    /// The layer's tar compressed as `to` asks, written into `out`. The form it makes is
    /// recorded with the layer (the same tar at the same level makes the same blob again,
    /// so a later push finds it known) and returned.
    pub fn compress_layer(
        &self,
        layer: &ImageLayer,
        to: LayerCompression,
        out: impl Write,
    ) -> Result<LayerForm> {
        let dir = self.layer_dir(&layer.chain_id);
        let mut encoder = to
            .encoder(Sha256Writer::new(out))
            .at("compress the tar of layer", &dir)?;
        self.write_layer_tar(layer, &mut encoder)?;
        let (digest, size, _) = encoder
            .finish()
            .at("compress the tar of layer", &dir)?
            .finish();
        let form = LayerForm {
            digest,
            size,
            media_type: to.kind.layer_media_type().to_string(),
            level: Some(to.effective_level()),
        };
        self.record_layer_form(&layer.chain_id, form.clone())?;
        Ok(form)
    }

    /// Records that layer `chain_id` is also known as blob `form`.
    pub fn record_layer_form(&self, chain_id: &Digest, form: LayerForm) -> Result<()> {
        match self.layer_info(chain_id)? {
            Some(mut info) => {
                if info.add_form(form) {
                    self.write_layer_info(&info)?;
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Removes the blobs `digests` of layers whose tree and record give their tar back.
    /// A blob that a layer without a record (the store's former layout) still needs is
    /// kept. Called after the images using the layers are committed.
    pub fn drop_layer_blobs<'a>(
        &self,
        digests: impl IntoIterator<Item = &'a Digest>,
    ) -> Result<()> {
        let needed = self.blobs_needed_by_layers()?;
        let blobs = self.blobs();
        for digest in digests {
            if !needed.contains(digest) {
                blobs.remove(digest)?;
            }
        }
        Ok(())
    }

    /// The blobs of layers that have no record: their tar is read from their blob.
    pub(crate) fn blobs_needed_by_layers(&self) -> Result<HashSet<Digest>> {
        let mut needed = HashSet::new();
        for chain_id in self.list_layers()? {
            if !self.layer_record_path(&chain_id).exists() {
                if let Ok(Some(info)) = self.layer_info(&chain_id) {
                    needed.insert(info.blob);
                }
            }
        }
        Ok(needed)
    }

    /// The form (size, media type) a layer of the store is known under as blob `digest`:
    /// what a blob tells once another process unpacked its layer and dropped it.
    pub fn layer_form_of_blob(&self, digest: &Digest) -> Result<Option<LayerForm>> {
        for chain_id in self.list_layers()? {
            if let Ok(Some(info)) = self.layer_info(&chain_id) {
                if let Some(form) = info.forms.into_iter().find(|f| &f.digest == digest) {
                    return Ok(Some(form));
                }
            }
        }
        Ok(None)
    }

    /// Whether the store can give the layer's tar: from its blob or its record.
    pub fn layer_tar_available(&self, layer: &ImageLayer) -> bool {
        self.blobs().exists(&layer.blob) || self.layer_record_path(&layer.chain_id).is_file()
    }
}
