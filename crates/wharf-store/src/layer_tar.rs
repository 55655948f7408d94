//! A layer's tar, for `save`, `push` and recompression: read through one function, from its
//! blob while the store keeps one, else rebuilt from its tree and tar-split record.

use std::fs::File;
use std::io::{self, BufReader, ErrorKind, Write};
use std::path::PathBuf;

use wharf_oci::{Digest, Sha256Writer};

use crate::blobs::sniff_compression;
use crate::error::{IoResultExt, Result, StoreError};
use crate::image::ImageLayer;
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
