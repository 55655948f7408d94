//! Layers unpacked once into `layers/<chain-id>/diff`, ready to be overlayfs lower dirs.

use std::fs;
use std::io::{BufReader, ErrorKind};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wharf_oci::{Digest, Sha256Reader};

use crate::atomic::{sync_dir, write_file_durably};
use crate::blobs::sniff_compression;
use crate::error::{IoResultExt, Result, StoreError};
use crate::image::ImageLayer;
use crate::read_ahead;
use crate::tar_split::{Record, Recorder, RECORD_FILE};
use crate::Store;

/// What `layers/<chain-id>/layer.json` records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerInfo {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// The blob the layer was unpacked from.
    pub blob: Digest,
    /// Bytes of regular-file content in the layer.
    pub size: u64,
    /// The blobs the layer is known as (compressed or not), whether or not the store keeps
    /// them: a registry that has one needs no upload.
    #[serde(default)]
    pub forms: Vec<LayerForm>,
}

/// One blob a layer is known as.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerForm {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// The compression level, when wharf compressed it: the same tar at the same level
    /// makes the same blob again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<i32>,
}

impl LayerInfo {
    /// Adds `form` unless the layer is known as that blob already (then only learns the
    /// level it was made at); tells whether anything changed.
    pub fn add_form(&mut self, form: LayerForm) -> bool {
        match self
            .forms
            .iter_mut()
            .find(|known| known.digest == form.digest)
        {
            Some(known) if known.level.is_none() && form.level.is_some() => {
                known.level = form.level;
                true
            }
            Some(_) => false,
            None => {
                self.forms.push(form);
                true
            }
        }
    }
}

/// The chain ids of a stack of layers: the first is its diff id, each next one is
/// `sha256(parent_chain_id + " " + diff_id)`, as in the OCI image spec.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chain: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        chain.push(chain_id(chain.last(), diff_id));
    }
    chain
}

/// The chain id of layer `diff_id` on top of the chain `parent`, as OCI defines it.
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(parent) => Digest::of(format!("{parent} {diff_id}").as_bytes()),
    }
}

/// Where [`Store::unpack_layers_observed`] is with one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpackStep {
    Started,
    Finished,
}

/// One layer to unpack: its blob, the diff id the config promises, and its place in the chain.
#[derive(Debug, Clone)]
pub struct LayerToUnpack {
    pub blob: Digest,
    pub diff_id: Digest,
    pub chain_id: Digest,
    pub parent: Option<Digest>,
}

impl Store {
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layers_dir().join(chain_id.hex())
    }

    /// The unpacked content of a layer: what an overlay mount uses as a lower dir.
    pub fn layer_diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layer_dir(chain_id).join("diff")
    }

    /// The layer's record, or `None` when it is not unpacked.
    pub fn layer_info(&self, chain_id: &Digest) -> Result<Option<LayerInfo>> {
        let path = self.layer_dir(chain_id).join("layer.json");
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StoreError::BadJson {
                        what: "layer record",
                        digest: chain_id.clone(),
                        source,
                    })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at("read", &path),
        }
    }

    /// Every unpacked layer's chain id.
    pub fn list_layers(&self) -> Result<Vec<Digest>> {
        let dir = self.layers_dir();
        let mut layers = Vec::new();
        for entry in fs::read_dir(&dir).at("list", &dir)? {
            let entry = entry.at("list", &dir)?;
            if let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                layers.push(digest);
            }
        }
        Ok(layers)
    }

    /// Replaces the layer's `layer.json` atomically.
    pub(crate) fn write_layer_info(&self, info: &LayerInfo) -> Result<()> {
        write_file_durably(
            &self.layer_dir(&info.chain_id).join("layer.json"),
            &serde_json::to_vec_pretty(info).expect("layer records serialize"),
        )
    }

    /// Unpacks `layer` (unless it is) from the same tar as the unpacked layer `same_as`
    /// (the same diff id on another parent): from its blob while the store keeps it, else
    /// from the tar rebuilt from `same_as`.
    pub fn unpack_layer_like(&self, layer: &LayerToUnpack, same_as: &Digest) -> Result<LayerInfo> {
        if let Some(info) = self.layer_info(&layer.chain_id)? {
            return Ok(info);
        }
        let blobs = self.blobs();
        if blobs.exists(&layer.blob) {
            return self.unpack_layer(layer);
        }
        let source = self
            .layer_info(same_as)?
            .ok_or_else(|| StoreError::LayerTarLost {
                chain_id: same_as.clone(),
            })?;
        let tmp_dir = blobs.tmp_dir();
        let temp = tempfile::Builder::new()
            .prefix("layer-")
            .tempfile_in(&tmp_dir)
            .at("create a temp file in", &tmp_dir)?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, temp.as_file());
        self.write_layer_tar(
            &ImageLayer {
                blob: source.blob.clone(),
                media_type: String::new(),
                blob_size: 0,
                diff_id: layer.diff_id.clone(),
                chain_id: same_as.clone(),
            },
            &mut writer,
        )?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())
            .at("write", temp.path())?;
        // The tar hashed to the diff id on its way: it is the uncompressed blob.
        blobs.adopt_written(temp, &layer.diff_id)?;
        let mut info = self.unpack_layer(&LayerToUnpack {
            blob: layer.diff_id.clone(),
            ..layer.clone()
        })?;
        for form in source.forms {
            info.add_form(form);
        }
        self.write_layer_info(&info)?;
        self.drop_layer_blobs([&layer.diff_id])?;
        Ok(info)
    }

    pub(crate) fn remove_layer(&self, chain_id: &Digest) -> Result<()> {
        let dir = self.layer_dir(chain_id);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e).at("remove layer", &dir),
            _ => Ok(()),
        }
    }

    /// Unpacks every layer not unpacked yet, several at once (each is independent), and
    /// flushes them to disk before they take their names (see [`Self::install_layers`]).
    pub fn unpack_layers(&self, layers: &[LayerToUnpack]) -> Result<Vec<LayerInfo>> {
        self.unpack_layers_observed(layers, &|_, _| {})
    }

    /// [`Self::unpack_layers`], telling `observe` when each layer starts and ends.
    pub fn unpack_layers_observed(
        &self,
        layers: &[LayerToUnpack],
        observe: &(dyn Fn(&LayerToUnpack, UnpackStep) + Sync),
    ) -> Result<Vec<LayerInfo>> {
        let workers = cores().min(layers.len().max(1));
        // One budget of threads: the layers unpacked at once share the file writers.
        let file_writers = (cores() / workers).max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Result<Vec<(usize, Unpacked)>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(layer) = layers.get(i) else {
                                return Ok(done);
                            };
                            observe(layer, UnpackStep::Started);
                            done.push((i, self.unpack_to_temp(layer, file_writers)?));
                            observe(layer, UnpackStep::Finished);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("unpack worker panicked"))
                .collect()
        });
        // Every temp folder is dropped (removed) on the first error.
        let mut unpacked: Vec<Option<Unpacked>> = (0..layers.len()).map(|_| None).collect();
        for result in results {
            for (i, layer) in result? {
                unpacked[i] = Some(layer);
            }
        }
        let mut infos: Vec<Option<LayerInfo>> = vec![None; layers.len()];
        let mut fresh = Vec::new();
        for (i, layer) in unpacked.into_iter().enumerate() {
            match layer.expect("every layer was unpacked") {
                Unpacked::Existing(info) => infos[i] = Some(info),
                Unpacked::Fresh(temp, info) => fresh.push((i, temp, info)),
            }
        }
        let indexes: Vec<usize> = fresh.iter().map(|(i, _, _)| *i).collect();
        let installed =
            self.install_layers(fresh.into_iter().map(|(_, temp, info)| (temp, info)))?;
        for (i, info) in indexes.into_iter().zip(installed) {
            infos[i] = Some(info);
        }
        Ok(infos
            .into_iter()
            .map(|info| info.expect("every layer has its record"))
            .collect())
    }

    /// Unpacks one layer unless it already is. The layer appears under its final name only
    /// when complete, verified and on disk; on any failure nothing of it remains.
    pub fn unpack_layer(&self, layer: &LayerToUnpack) -> Result<LayerInfo> {
        match self.unpack_to_temp(layer, cores())? {
            Unpacked::Existing(info) => Ok(info),
            Unpacked::Fresh(temp, info) => self.install_layer(temp, info),
        }
    }

    /// The layer's record if it is unpacked already, else the layer unpacked and verified in
    /// a temp folder of `layers/tmp` (removed when dropped), its files written by
    /// `file_writers` threads.
    fn unpack_to_temp(&self, layer: &LayerToUnpack, file_writers: usize) -> Result<Unpacked> {
        if let Some(info) = self.layer_info(&layer.chain_id)? {
            return Ok(Unpacked::Existing(info));
        }
        let tmp_root = self.layers_dir().join("tmp");
        let temp = tempfile::Builder::new()
            .prefix("unpack-")
            .tempdir_in(&tmp_root)
            .at("create a temp folder in", &tmp_root)?;
        let diff = temp.path().join("diff");
        fs::create_dir(&diff).at("create directory", &diff)?;

        let blobs = self.blobs();
        let blob_path = blobs.path(&layer.blob);
        let blob_file = match blobs.open(&layer.blob) {
            // Another process installed the layer and dropped its blob meanwhile.
            Err(StoreError::BlobNotFound(_)) if self.layer_info(&layer.chain_id)?.is_some() => {
                let info = self.layer_info(&layer.chain_id)?.expect("just seen");
                return Ok(Unpacked::Existing(info));
            }
            opened => opened?,
        };
        let blob_size = blob_file.metadata().at("stat", &blob_path)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, blob_file);
        let compression = sniff_compression(&mut reader).at("read", &blob_path)?;
        let bad_tar = |source| StoreError::BadTar {
            blob: layer.blob.clone(),
            source,
        };
        // Decompressing runs on a thread of its own, ahead of the unpacker (which hashes what
        // it reads: the two take about as long).
        let (chunks, tar) = read_ahead::channel();
        let mut hashing = Sha256Reader::new(tar);
        let recorder = Recorder::shared();
        let (size, diff_id) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || chunks.send_all(compression.decoder(reader)?));
            let unpacked =
                crate::extract::unpack(&mut hashing, &diff, &layer.blob, file_writers, &recorder)
                    .and_then(|size| Ok((size, hashing.finish().map_err(bad_tar)?.0)));
            // After a failure the reader is gone with `hashing`, which stops the producer.
            let produced = producer.join().expect("the layer reader panicked");
            let (size, diff_id) = unpacked?;
            produced.map_err(bad_tar)?;
            Ok::<_, StoreError>((size, diff_id))
        })?;
        if diff_id != layer.diff_id {
            return Err(StoreError::DiffIdMismatch {
                blob: layer.blob.clone(),
                expected: layer.diff_id.clone(),
                actual: diff_id,
            });
        }
        let record = recorder.borrow_mut().finish().map_err(bad_tar)?;
        write_record(&record, temp.path())?;
        let info = LayerInfo {
            chain_id: layer.chain_id.clone(),
            diff_id,
            parent: layer.parent.clone(),
            blob: layer.blob.clone(),
            size,
            forms: vec![LayerForm {
                digest: layer.blob.clone(),
                size: blob_size,
                media_type: compression.layer_media_type().to_string(),
                level: None,
            }],
        };
        Ok(Unpacked::Fresh(temp, info))
    }

    /// A temp folder of `layers/tmp` with a complete `diff/`: see [`Self::install_layers`].
    pub(crate) fn install_layer(
        &self,
        temp: tempfile::TempDir,
        info: LayerInfo,
    ) -> Result<LayerInfo> {
        let mut installed = self.install_layers([(temp, info)])?;
        Ok(installed.pop().expect("one layer in, one out"))
    }

    /// Temp folders of `layers/tmp`, each with a complete `diff/`: records each layer, flushes
    /// the filesystem once, then moves each into place under its chain id in one rename and
    /// makes the renames durable. A crash at any point leaves no layer folder whose content
    /// is not on disk (one that looks complete is never unpacked again).
    pub(crate) fn install_layers(
        &self,
        layers: impl IntoIterator<Item = (tempfile::TempDir, LayerInfo)>,
    ) -> Result<Vec<LayerInfo>> {
        let layers: Vec<_> = layers.into_iter().collect();
        if layers.is_empty() {
            return Ok(Vec::new());
        }
        for (temp, info) in &layers {
            write_file_durably(
                &temp.path().join("layer.json"),
                &serde_json::to_vec_pretty(info).expect("layer records serialize"),
            )?;
        }
        let layers_dir = self.layers_dir();
        fs::File::open(&layers_dir)
            .and_then(|dir| rustix::fs::syncfs(&dir).map_err(Into::into))
            .at("flush layers in", &layers_dir)?;
        let mut installed = Vec::with_capacity(layers.len());
        for (temp, info) in layers {
            let target = self.layer_dir(&info.chain_id);
            match fs::rename(temp.path(), &target) {
                // The folder is in place: keep it from the temp guard's cleanup.
                Ok(()) => drop(temp.keep()),
                // Another process unpacked the same layer meanwhile; ours is dropped.
                Err(e)
                    if matches!(
                        rustix::io::Errno::from_io_error(&e),
                        Some(rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST)
                    ) => {}
                Err(e) => return Err(e).at("move layer into place", &target),
            }
            installed.push(info);
        }
        sync_dir(&layers_dir)?;
        Ok(installed)
    }
}

/// Writes a layer's tar-split record into its folder `dir` (a temp folder not yet in place:
/// [`Store::install_layers`] flushes it with the rest).
pub(crate) fn write_record(record: &Record, dir: &std::path::Path) -> Result<()> {
    let path = dir.join(RECORD_FILE);
    let file = fs::File::create(&path).at("create", &path)?;
    record
        .write_to(std::io::BufWriter::new(file))
        .at("write", &path)
}

/// A layer that [`Store::unpack_to_temp`] found unpacked, or unpacked.
enum Unpacked {
    Existing(LayerInfo),
    Fresh(tempfile::TempDir, LayerInfo),
}

/// The threads the machine runs at once.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_oci_rule() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let chain = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], Digest::of(format!("{a} {b}").as_bytes()));
    }
}
