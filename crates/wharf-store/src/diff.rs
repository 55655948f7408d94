//! Layers made from an overlay upper dir (what a build step changed): the inverse of
//! [`crate::extract`]. Overlay whiteouts (0:0 character devices) become `.wh.NAME` entries and
//! opaque folders get a `.wh..wh..opq` entry, as the OCI image spec writes them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tar::{EntryType, Header};
use wharf_oci::{Digest, Sha256Writer};

use crate::blobs::LayerCompression;
use crate::error::{IoResultExt, Result};
use crate::layers::{write_record, LayerForm, LayerInfo, LayerToUnpack};
use crate::tar_split::{ContentReader, Recorder, RecordingWriter};
use crate::Store;

const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// A layer stored from a folder of changes.
#[derive(Debug, Clone)]
pub struct NewLayer {
    pub info: LayerInfo,
    pub media_type: &'static str,
    /// Size of the compressed blob.
    pub blob_size: u64,
}

impl Store {
    /// Stores the changes in `upper` (an overlay upper dir) as a layer on top of the
    /// chain `parent`, ready to be a lower dir: `upper` itself becomes the unpacked layer
    /// (moved, its overlayfs bookkeeping xattrs removed), so nothing is written twice.
    /// Returns `None` when `upper` is empty. `mtime_clamp` (seconds, from
    /// `SOURCE_DATE_EPOCH`) caps every entry's mtime so that the same changes make the same
    /// layer; the layer is then unpacked from its blob, so that its files carry those times.
    ///
    /// The caller holds the shared lock until an image or cache record references the layer.
    pub fn add_layer_from_dir(
        &self,
        upper: &Path,
        parent: Option<&Digest>,
        mtime_clamp: Option<u64>,
        compression: LayerCompression,
    ) -> Result<Option<NewLayer>> {
        if fs::read_dir(upper).at("list", upper)?.next().is_none() {
            return Ok(None);
        }
        // The blob is written only to be unpacked with clamped times; otherwise only its
        // digest is kept (for the manifest): the layer's tree and record give it back.
        let writer = DiffWriter::new(mtime_clamp, false, Vec::new());
        let diff = self.write_diff(upper, parent, writer, compression, mtime_clamp.is_some())?;
        let info = match diff.blob_file {
            Some(temp) => self.unpack_written(temp, &diff.layer, diff.blob_size, compression)?,
            None => {
                let tmp_root = self.layers_dir().join("tmp");
                let temp = tempfile::Builder::new()
                    .prefix("adopt-")
                    .tempdir_in(&tmp_root)
                    .at("create a temp folder in", &tmp_root)?;
                let record = diff
                    .recorder
                    .borrow_mut()
                    .finish()
                    .at("write layer of", upper)?;
                write_record(&record, temp.path())?;
                let moved = temp.path().join("diff");
                fs::rename(upper, &moved).at("move layer into place", &moved)?;
                let layer = diff.layer;
                self.install_layer(
                    temp,
                    LayerInfo {
                        chain_id: layer.chain_id,
                        diff_id: layer.diff_id,
                        parent: layer.parent,
                        blob: layer.blob.clone(),
                        size: diff.size,
                        forms: vec![layer_form(&layer.blob, diff.blob_size, compression)],
                    },
                )?
            }
        };
        Ok(Some(NewLayer {
            info,
            media_type: compression.kind.layer_media_type(),
            blob_size: diff.blob_size,
        }))
    }

    /// As [`Self::add_layer_from_dir`], for the upper dir of a container that may still
    /// run (`commit`): `upper` is only read, never moved nor changed, and the layer is
    /// unpacked from its blob. `leave_out` names empty files (relative to `upper`) that are
    /// not changes: the placeholders of the files the runtime mounts over; a folder that
    /// holds nothing else is left out too. `None` when nothing else changed.
    pub fn add_layer_from_live_dir(
        &self,
        upper: &Path,
        parent: Option<&Digest>,
        leave_out: Vec<PathBuf>,
        compression: LayerCompression,
    ) -> Result<Option<NewLayer>> {
        let writer = DiffWriter::new(None, true, leave_out);
        let empty = match fs::read_dir(upper) {
            // A container that never ran has no upper dir.
            Err(e) if e.kind() == io::ErrorKind::NotFound => true,
            Err(e) => return Err(e).at("list", upper),
            Ok(mut entries) => {
                entries.next().is_none() || writer.holds_only_left_out(upper, Path::new(""))?
            }
        };
        if empty {
            return Ok(None);
        }
        let diff = self.write_diff(upper, parent, writer, compression, true)?;
        let temp = diff.blob_file.expect("the blob was kept");
        Ok(Some(NewLayer {
            info: self.unpack_written(temp, &diff.layer, diff.blob_size, compression)?,
            media_type: compression.kind.layer_media_type(),
            blob_size: diff.blob_size,
        }))
    }

    /// Writes the layer of `upper` as a tar (recorded for its tar-split record), its blob
    /// into a temp file if `keep_blob`, else only hashed.
    fn write_diff(
        &self,
        upper: &Path,
        parent: Option<&Digest>,
        mut writer: DiffWriter,
        compression: LayerCompression,
        keep_blob: bool,
    ) -> Result<WrittenDiff> {
        let tmp_dir = self.blobs().tmp_dir();
        let temp = match keep_blob {
            true => Some(
                tempfile::Builder::new()
                    .prefix("layer-")
                    .tempfile_in(&tmp_dir)
                    .at("create a temp file in", &tmp_dir)?,
            ),
            false => None,
        };
        let blob_out: Box<dyn Write> = match &temp {
            Some(temp) => Box::new(temp.as_file()),
            None => Box::new(io::sink()),
        };
        let blob_writer = Sha256Writer::new(BufWriter::with_capacity(1 << 20, blob_out));
        let encoder = compression
            .encoder(blob_writer)
            .at("compress layer of", upper)?;
        let recorder = writer.recorder.clone();
        let mut tar = tar::Builder::new(RecordingWriter::new(
            Sha256Writer::new(encoder),
            recorder.clone(),
        ));
        writer.dir(&mut tar, upper, Path::new(""))?;
        let (diff_id, _, encoder) = tar
            .into_inner()
            .at("write layer of", upper)?
            .into_inner()
            .finish();
        let (blob, blob_size, buffered) = encoder.finish().at("compress layer of", upper)?.finish();
        buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .at("write layer of", upper)?;
        let chain_id = crate::layers::chain_id(parent, &diff_id);
        Ok(WrittenDiff {
            layer: LayerToUnpack {
                blob,
                diff_id,
                chain_id,
                parent: parent.cloned(),
            },
            blob_size,
            size: writer.size,
            blob_file: temp,
            recorder,
        })
    }

    /// Unpacks a layer from its blob just written (for times clamped as in the tar, or a
    /// live folder left as it is), then drops the blob: tree and record give it back.
    fn unpack_written(
        &self,
        temp: tempfile::NamedTempFile,
        layer: &LayerToUnpack,
        blob_size: u64,
        compression: LayerCompression,
    ) -> Result<LayerInfo> {
        self.blobs().adopt_written(temp, &layer.blob)?;
        self.unpack_layer(layer)?;
        self.record_layer_form(
            &layer.chain_id,
            layer_form(&layer.blob, blob_size, compression),
        )?;
        self.drop_layer_blobs([&layer.blob])?;
        Ok(self
            .layer_info(&layer.chain_id)?
            .expect("the layer was just unpacked"))
    }
}

/// What [`Store::write_diff`] wrote.
struct WrittenDiff {
    layer: LayerToUnpack,
    blob_size: u64,
    /// Bytes of regular-file content in it.
    size: u64,
    blob_file: Option<tempfile::NamedTempFile>,
    recorder: Rc<RefCell<Recorder>>,
}

fn layer_form(blob: &Digest, size: u64, compression: LayerCompression) -> LayerForm {
    LayerForm {
        digest: blob.clone(),
        size,
        media_type: compression.kind.layer_media_type().to_string(),
        level: Some(compression.effective_level()),
    }
}

struct DiffWriter {
    mtime_clamp: Option<u64>,
    /// The folder is a live container's: its overlayfs xattrs stay.
    read_only: bool,
    /// Empty files not to write, relative to the layer's root.
    leave_out: Vec<PathBuf>,
    /// Files with several links already written: (device, inode) -> path in the layer.
    links: HashMap<(u64, u64), PathBuf>,
    /// Bytes of regular-file content written.
    size: u64,
    /// Told where each file's content is, for the layer's tar-split record.
    recorder: Rc<RefCell<Recorder>>,
}

impl DiffWriter {
    fn new(mtime_clamp: Option<u64>, read_only: bool, leave_out: Vec<PathBuf>) -> Self {
        Self {
            mtime_clamp,
            read_only,
            leave_out,
            links: HashMap::new(),
            size: 0,
            recorder: Recorder::shared(),
        }
    }

    /// Whether `full` (at `rel` in the layer) is an empty file of `leave_out`.
    fn left_out(&self, rel: &Path, meta: &fs::Metadata) -> bool {
        meta.is_file() && meta.len() == 0 && self.leave_out.iter().any(|p| p == rel)
    }

    /// Whether folder `full` (at `rel` in the layer) holds something, and only files left
    /// out or folders holding only those.
    fn holds_only_left_out(&self, full: &Path, rel: &Path) -> Result<bool> {
        if self.leave_out.is_empty() || is_opaque(full) {
            return Ok(false);
        }
        let mut any = false;
        for entry in fs::read_dir(full).at("list", full)? {
            let entry = entry.at("list", full)?;
            let path = entry.path();
            let entry_rel = rel.join(entry.file_name());
            let meta = fs::symlink_metadata(&path).at("stat", &path)?;
            let only = self.left_out(&entry_rel, &meta)
                || (meta.is_dir() && self.holds_only_left_out(&path, &entry_rel)?);
            if !only {
                return Ok(false);
            }
            any = true;
        }
        Ok(any)
    }

    /// Writes the entries of folder `full` (at `rel` in the layer), sorted by name so that the
    /// same changes make the same tar.
    fn dir<W: Write>(&mut self, tar: &mut tar::Builder<W>, full: &Path, rel: &Path) -> Result<()> {
        let mut names: Vec<_> = fs::read_dir(full)
            .at("list", full)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<_>>()
            .at("list", full)?;
        names.sort();
        for name in names {
            let path = full.join(&name);
            let entry_rel = rel.join(&name);
            let meta = fs::symlink_metadata(&path).at("stat", &path)?;
            let file_type = meta.file_type();
            if self.left_out(&entry_rel, &meta)
                || (file_type.is_dir() && self.holds_only_left_out(&path, &entry_rel)?)
            {
                continue;
            }
            if file_type.is_char_device() && meta.rdev() == 0 {
                let whiteout = rel.join(format!(".wh.{}", name.to_string_lossy()));
                self.empty_entry(tar, &whiteout, &meta, EntryType::Regular, &path)?;
                continue;
            }
            self.xattrs(tar, &path)?;
            if file_type.is_dir() {
                self.empty_entry(tar, &entry_rel, &meta, EntryType::Directory, &path)?;
                if is_opaque(&path) {
                    let opaque = entry_rel.join(".wh..wh..opq");
                    self.empty_entry(tar, &opaque, &meta, EntryType::Regular, &path)?;
                }
                self.dir(tar, &path, &entry_rel)?;
            } else if file_type.is_symlink() {
                let target = fs::read_link(&path).at("read link", &path)?;
                let mut header = self.header(&meta, EntryType::Symlink, 0);
                tar.append_link(&mut header, &entry_rel, &target)
                    .at("write layer entry for", &path)?;
            } else if file_type.is_file() {
                if meta.nlink() > 1 {
                    let key = (meta.dev(), meta.ino());
                    if let Some(first) = self.links.get(&key) {
                        let mut header = self.header(&meta, EntryType::Link, 0);
                        tar.append_link(&mut header, &entry_rel, first)
                            .at("write layer entry for", &path)?;
                        continue;
                    }
                    self.links.insert(key, entry_rel.clone());
                }
                self.size += meta.len();
                let mut header = self.header(&meta, EntryType::Regular, meta.len());
                let file = File::open(&path).at("open", &path)?;
                let content =
                    ContentReader::new(file, self.recorder.clone(), entry_rel.clone(), meta.len());
                tar.append_data(&mut header, &entry_rel, content)
                    .at("write layer entry for", &path)?;
            } else {
                let kind = if file_type.is_char_device() {
                    EntryType::Char
                } else if file_type.is_block_device() {
                    EntryType::Block
                } else if file_type.is_fifo() {
                    EntryType::Fifo
                } else {
                    // Sockets cannot be in a tar; Docker skips them too.
                    continue;
                };
                let mut header = self.header(&meta, kind, 0);
                let rdev = meta.rdev();
                header
                    .set_device_major(rustix::fs::major(rdev))
                    .at("write layer entry for", &path)?;
                header
                    .set_device_minor(rustix::fs::minor(rdev))
                    .at("write layer entry for", &path)?;
                tar.append_data(&mut header, &entry_rel, io::empty())
                    .at("write layer entry for", &path)?;
            }
        }
        Ok(())
    }

    /// Extended attributes other than overlayfs' own, as PAX records before the entry.
    /// overlayfs' bookkeeping (origin, impure...) is removed on the way, as the folder
    /// becomes a lower dir (unless it is a live container's); only the opaque marker means
    /// something there.
    fn xattrs<W: Write>(&self, tar: &mut tar::Builder<W>, path: &Path) -> Result<()> {
        let names = list_xattrs(path).at("list xattrs of", path)?;
        let mut records = Vec::new();
        for name in names {
            if name.starts_with(OVERLAY_XATTR_PREFIX) {
                if name != OVERLAY_OPAQUE_XATTR && !self.read_only {
                    rustix::fs::lremovexattr(path, name.as_str())
                        .map_err(io::Error::from)
                        .at("remove xattr from", path)?;
                }
                continue;
            }
            let value = get_xattr(path, &name).at("read xattr of", path)?;
            records.push((format!("SCHILY.xattr.{name}"), value));
        }
        if !records.is_empty() {
            tar.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .at("write layer entry for", path)?;
        }
        Ok(())
    }

    /// A folder, or an empty file such as a whiteout.
    fn empty_entry<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        rel: &Path,
        meta: &fs::Metadata,
        kind: EntryType,
        full: &Path,
    ) -> Result<()> {
        let mut header = self.header(meta, kind, 0);
        if kind == EntryType::Regular {
            header.set_mode(0o644);
        }
        tar.append_data(&mut header, rel, io::empty())
            .at("write layer entry for", full)
    }

    fn header(&self, meta: &fs::Metadata, kind: EntryType, size: u64) -> Header {
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mode(meta.mode() & 0o7777);
        header.set_uid(meta.uid().into());
        header.set_gid(meta.gid().into());
        let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
        header.set_mtime(self.mtime_clamp.map_or(mtime, |clamp| mtime.min(clamp)));
        header
    }
}

fn is_opaque(path: &Path) -> bool {
    get_xattr(path, OVERLAY_OPAQUE_XATTR).is_ok_and(|v| v == b"y")
}

fn list_xattrs(path: &Path) -> io::Result<Vec<String>> {
    let mut buf = vec![0u8; 1024];
    loop {
        match rustix::fs::llistxattr(path, &mut buf) {
            Ok(len) => {
                return Ok(buf[..len]
                    .split(|b| *b == 0)
                    .filter(|n| !n.is_empty())
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect())
            }
            Err(rustix::io::Errno::RANGE) => buf.resize(buf.len() * 4, 0),
            Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
            Err(errno) => return Err(errno.into()),
        }
    }
}

fn get_xattr(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        match rustix::fs::lgetxattr(path, name, &mut buf) {
            Ok(len) => {
                buf.truncate(len);
                return Ok(buf);
            }
            Err(rustix::io::Errno::RANGE) => buf.resize(buf.len() * 4, 0),
            Err(errno) => return Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::symlink;

    use rustix::fs::{FileType, Mode, XattrFlags, CWD};

    use super::*;

    /// Entries of a layer's tar (the store keeps no blob: it is rebuilt from tree and
    /// record, checked against the diff id): (path, type, link target).
    fn entries(store: &Store, info: &LayerInfo) -> Vec<(String, EntryType, Option<String>)> {
        assert!(!store.blobs().exists(&info.blob), "no blob kept");
        let mut tar = Vec::new();
        let layer = crate::ImageLayer {
            blob: info.blob.clone(),
            media_type: String::new(),
            blob_size: 0,
            diff_id: info.diff_id.clone(),
            chain_id: info.chain_id.clone(),
        };
        store.write_layer_tar(&layer, &mut tar).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut sink = Vec::new();
                e.read_to_end(&mut sink).unwrap();
                let link = e
                    .link_name()
                    .unwrap()
                    .map(|l| l.to_string_lossy().into_owned());
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type(),
                    link,
                )
            })
            .collect()
    }

    #[test]
    fn an_upper_dir_becomes_an_oci_layer_and_unpacks_back_to_overlay_form() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path().join("store")).unwrap();
        let upper = root.path().join("upper");
        fs::create_dir_all(upper.join("app/opaque")).unwrap();
        fs::write(upper.join("app/main.py"), "print(42)\n").unwrap();
        fs::hard_link(upper.join("app/main.py"), upper.join("app/link.py")).unwrap();
        symlink("/etc/passwd", upper.join("app/passwd")).unwrap();
        rustix::fs::mknodat(
            CWD,
            upper.join("app/deleted"),
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .unwrap();
        rustix::fs::lsetxattr(
            upper.join("app/opaque"),
            OVERLAY_OPAQUE_XATTR,
            b"y",
            XattrFlags::empty(),
        )
        .unwrap();

        let layer = store
            .add_layer_from_dir(&upper, None, Some(0), LayerCompression::default())
            .unwrap()
            .expect("changes make a layer");
        let got = entries(&store, &layer.info);
        let names: Vec<&str> = got.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "app",
                "app/.wh.deleted",
                "app/link.py",
                "app/main.py",
                "app/opaque",
                "app/opaque/.wh..wh..opq",
                "app/passwd"
            ]
        );
        assert_eq!(got[3].1, EntryType::Link);
        assert_eq!(got[3].2.as_deref(), Some("app/link.py"));
        assert_eq!(got[6].2.as_deref(), Some("/etc/passwd"));

        // Unpacked again, the whiteouts are overlay whiteouts.
        let diff = store.layer_diff_dir(&layer.info.chain_id);
        let deleted = fs::symlink_metadata(diff.join("app/deleted")).unwrap();
        assert!(deleted.file_type().is_char_device() && deleted.rdev() == 0);
        assert!(is_opaque(&diff.join("app/opaque")));
        assert_eq!(fs::read(diff.join("app/main.py")).unwrap(), b"print(42)\n");

        // The same changes with clamped times make the same layer.
        let again = store
            .add_layer_from_dir(&upper, None, Some(0), LayerCompression::default())
            .unwrap()
            .unwrap();
        assert_eq!(again.info.diff_id, layer.info.diff_id);
    }

    #[test]
    fn without_a_clamp_the_upper_dir_itself_becomes_the_layer() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path().join("store")).unwrap();
        let upper = root.path().join("upper");
        fs::create_dir_all(upper.join("srv")).unwrap();
        fs::write(upper.join("srv/app.py"), "print(1)\n").unwrap();
        rustix::fs::lsetxattr(
            upper.join("srv"),
            "trusted.overlay.impure",
            b"y",
            XattrFlags::empty(),
        )
        .unwrap();
        let layer = store
            .add_layer_from_dir(&upper, None, None, LayerCompression::default())
            .unwrap()
            .unwrap();
        assert!(!upper.exists(), "moved, not copied");
        let diff = store.layer_diff_dir(&layer.info.chain_id);
        assert_eq!(fs::read(diff.join("srv/app.py")).unwrap(), b"print(1)\n");
        assert!(get_xattr(&diff.join("srv"), "trusted.overlay.impure").is_err());
        assert_eq!(layer.info.size, 9);
        assert_eq!(
            store.layer_info(&layer.info.chain_id).unwrap().unwrap(),
            layer.info
        );
        // The tar rebuilt from the moved folder and its record has the layer's diff id.
        let names: Vec<String> = entries(&store, &layer.info)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, ["srv", "srv/app.py"]);
    }

    #[test]
    fn an_empty_upper_dir_makes_no_layer() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path().join("store")).unwrap();
        let upper = root.path().join("upper");
        fs::create_dir(&upper).unwrap();
        assert!(store
            .add_layer_from_dir(&upper, None, None, LayerCompression::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_live_upper_dir_is_read_but_left_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::open(root.path().join("store")).unwrap();
        let upper = root.path().join("upper");
        fs::create_dir_all(upper.join("etc")).unwrap();
        fs::create_dir_all(upper.join("srv/opaque")).unwrap();
        fs::write(upper.join("etc/hostname"), "").unwrap();
        fs::write(upper.join("srv/app.py"), "print(1)\n").unwrap();
        rustix::fs::mknodat(
            CWD,
            upper.join("srv/gone"),
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .unwrap();
        for (path, name) in [
            ("srv", "trusted.overlay.impure"),
            ("srv/opaque", OVERLAY_OPAQUE_XATTR),
        ] {
            rustix::fs::lsetxattr(upper.join(path), name, b"y", XattrFlags::empty()).unwrap();
        }
        let leave_out = vec![PathBuf::from("etc/hostname")];
        let layer = store
            .add_layer_from_live_dir(&upper, None, leave_out.clone(), LayerCompression::default())
            .unwrap()
            .unwrap();
        let names: Vec<String> = entries(&store, &layer.info)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            names,
            [
                "srv",
                "srv/app.py",
                "srv/.wh.gone",
                "srv/opaque",
                "srv/opaque/.wh..wh..opq"
            ]
        );
        // Nothing of the container's changed.
        assert_eq!(
            get_xattr(&upper.join("srv"), "trusted.overlay.impure").unwrap(),
            b"y"
        );
        assert!(upper.join("etc/hostname").exists());
        let diff = store.layer_diff_dir(&layer.info.chain_id);
        assert!(is_opaque(&diff.join("srv/opaque")));
        assert!(!diff.join("etc").exists());

        // Only placeholders: no layer.
        fs::remove_dir_all(upper.join("srv")).unwrap();
        assert!(store
            .add_layer_from_live_dir(&upper, None, leave_out, LayerCompression::default())
            .unwrap()
            .is_none());
    }
}
