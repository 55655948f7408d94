//! The store's layout version, and moving a store of the former layout (each layer kept
//! twice: its blob and its tree) to the current one (its tree and a tar-split record).
//!
//! When: on open, once. A store without `version` (or with an older one) is migrated by the
//! first process that opens it and finds the exclusive lock free; until then (another
//! process is busy) it works as it is, since a layer's tar is read from its blob while
//! there is one. Doing it once on open rather than lazily per layer keeps every other path
//! free of the former layout's cases and makes the disk space come back at once; the cost
//! is reading each layer's blob once (about a second for the python image).
//!
//! Per layer, under the exclusive lock, repeatable: the blob's tar is read and compared
//! with the tree (content the tree does not hold verbatim goes into the record), the record
//! is written to a temp file, the tar rebuilt from it and the tree must hash to the diff
//! id, then fsync, rename, fsync the folder, `layer.json` (with the blob as a known form)
//! replaced atomically, and only then the blob removed. A crash at any point leaves the
//! layer in one form or the other, and the next open goes on.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use wharf_oci::{Digest, Sha256Reader};

use crate::atomic::{sync_dir, write_file_durably};
use crate::blobs::sniff_compression;
use crate::error::{IoResultExt, Result, StoreError};
use crate::layers::LayerForm;
use crate::lock::ExclusiveLock;
use crate::tar_split::{open_in_tree, rebuild, Record, Recorder, RecordingReader, RECORD_FILE};
use crate::Store;

/// The layout this wharf writes: 2 = layers kept as tree and tar-split record.
pub(crate) const LAYOUT_VERSION: u32 = 2;
const VERSION_FILE: &str = "version";

impl Store {
    /// Migrates the store if it is of an older layout and no other process is busy; refuses
    /// a store of a newer layout.
    pub(crate) fn migrate_if_needed(&self) -> Result<()> {
        let path = self.root.join(VERSION_FILE);
        let version = match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse::<u32>().unwrap_or(0),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 1,
            Err(e) => return Err(e).at("read", &path),
        };
        if version > LAYOUT_VERSION {
            return Err(StoreError::NewerLayout {
                root: self.root.clone(),
                version,
            });
        }
        if version == LAYOUT_VERSION {
            return Ok(());
        }
        let Some(held) = self.try_exclusive_lock()? else {
            return Ok(());
        };
        self.migrate_layers(&held)?;
        write_file_durably(&path, format!("{LAYOUT_VERSION}\n").as_bytes())
    }

    /// Gives every layer kept in the former layout (its blob, no record) its record, and
    /// drops the blob. Returns the layers that could not be migrated (they keep their blob
    /// and work as before), with why.
    pub fn migrate_layers(&self, _held: &ExclusiveLock) -> Result<Vec<(Digest, String)>> {
        let mut failed = Vec::new();
        for chain_id in self.list_layers()? {
            let Some(info) = self.layer_info(&chain_id)? else {
                continue;
            };
            let record = self.layer_record_path(&chain_id);
            if !record.exists() {
                if !self.blobs().exists(&info.blob) {
                    failed.push((chain_id, "has neither its blob nor a record".into()));
                    continue;
                }
                if let Err(e) = self.migrate_layer(&info) {
                    failed.push((chain_id, e.to_string()));
                    continue;
                }
            }
            // Recorded (now or by a run that stopped before this step): the blob goes.
            self.drop_layer_blobs([&info.blob])?;
        }
        Ok(failed)
    }

    fn migrate_layer(&self, info: &crate::LayerInfo) -> Result<()> {
        let dir = self.layer_dir(&info.chain_id);
        let tree = File::open(dir.join("diff")).at("open", dir.join("diff"))?;
        let blobs = self.blobs();
        let blob_path = blobs.path(&info.blob);
        let blob_file = blobs.open(&info.blob)?;
        let blob_size = blob_file.metadata().at("stat", &blob_path)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, blob_file);
        let compression = sniff_compression(&mut reader).at("read", &blob_path)?;
        let bad_tar = |source| StoreError::BadTar {
            blob: info.blob.clone(),
            source,
        };
        let mut hashing = Sha256Reader::new(compression.decoder(reader).map_err(bad_tar)?);
        let recorder = Recorder::shared();
        let mut archive = tar::Archive::new(RecordingReader::new(&mut hashing, recorder.clone()));
        for entry in archive.entries().map_err(bad_tar)? {
            let mut entry = entry.map_err(bad_tar)?;
            let kind = entry.header().entry_type();
            let size = entry.size();
            if !matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous) || size == 0 {
                continue;
            }
            let path = entry.path().map_err(bad_tar)?.into_owned();
            let rel = relative(&path);
            if let Some(rel) = &rel {
                recorder.borrow_mut().file(rel, size);
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(bad_tar)?;
            let in_tree = rel
                .as_deref()
                .is_some_and(|rel| holds(&tree, rel, &content));
            if rel.is_some() && !in_tree {
                recorder.borrow_mut().keep_last_file(content);
            }
        }
        archive.into_inner().drain().map_err(bad_tar)?;
        let (diff_id, _) = hashing.finish().map_err(bad_tar)?;
        if diff_id != info.diff_id {
            return Err(StoreError::DiffIdMismatch {
                blob: info.blob.clone(),
                expected: info.diff_id.clone(),
                actual: diff_id,
            });
        }
        let record = recorder.borrow_mut().finish().map_err(bad_tar)?;
        self.install_record(info, &record, &dir)?;
        let mut updated = info.clone();
        updated.add_form(LayerForm {
            digest: info.blob.clone(),
            size: blob_size,
            media_type: compression.layer_media_type().to_string(),
            level: None,
        });
        self.write_layer_info(&updated)
    }

    /// Writes `record` beside the layer's tree once the tar rebuilt from both hashes to
    /// the diff id: temp file, fsync, rename, fsync the folder.
    fn install_record(&self, info: &crate::LayerInfo, record: &Record, dir: &Path) -> Result<()> {
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .at("create a temp file in", dir)?;
        record
            .write_to(io::BufWriter::new(temp.as_file_mut()))
            .at("write", temp.path())?;
        let mut hashing = wharf_oci::Sha256Writer::new(io::sink());
        let tree = dir.join("diff");
        if let Err(bad) = rebuild(record, &tree, &mut hashing) {
            return Err(match bad {
                Ok(bad) => StoreError::LayerFileChanged {
                    chain_id: info.chain_id.clone(),
                    file: bad.path,
                    reason: bad.reason,
                },
                Err(e) => StoreError::Io {
                    op: "rebuild the tar of layer",
                    path: tree,
                    source: e,
                },
            });
        }
        let (actual, _, _) = hashing.finish();
        if actual != info.diff_id {
            return Err(StoreError::RebuiltLayerMismatch {
                chain_id: info.chain_id.clone(),
                expected: info.diff_id.clone(),
                actual,
            });
        }
        temp.as_file_mut().flush().at("write", temp.path())?;
        temp.as_file().sync_all().at("fsync", temp.path())?;
        let target = dir.join(RECORD_FILE);
        temp.persist(&target)
            .map_err(|e| e.error)
            .at("rename into place", &target)?;
        sync_dir(dir)
    }
}

/// The entry's path in the tree as the unpacker makes it; `None` for a path it refuses.
fn relative(path: &Path) -> Option<PathBuf> {
    let mut rel = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!rel.as_os_str().is_empty()).then_some(rel)
}

/// Whether the tree's file at `rel` holds exactly `content`.
fn holds(tree: &File, rel: &Path, content: &[u8]) -> bool {
    let Ok(mut file) = open_in_tree(tree, rel) else {
        return false;
    };
    match file.metadata() {
        Ok(meta) if meta.is_file() && meta.len() == content.len() as u64 => {}
        _ => return false,
    }
    let mut held = Vec::with_capacity(content.len());
    file.read_to_end(&mut held).is_ok() && held == content
}
