//! Unpacks one layer tarball into a folder in overlayfs form, refusing anything that could
//! write outside that folder.
//!
//! Safety rests on three rules: entry and hard-link paths are relative and never contain
//! `..`; no parent folder of an entry may be a symlink (checked with lstat, and this process
//! is the only writer of a fresh folder, so nothing changes between check and use); and files
//! are created with `O_EXCL | O_NOFOLLOW`, replacing whatever was at their path.
//!
//! Regular files are written by [`FileWriters`] on other threads; see there for how their
//! order stays the archive's.
//!
//! Whiteouts become what overlayfs expects: `.wh.NAME` a 0:0 character device named NAME,
//! `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its folder.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs::{self, Permissions};
use std::io::{self, ErrorKind, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, Mode, Timespec, Timestamps, XattrFlags, CWD};
use tar::EntryType;
use wharf_oci::Digest;

use crate::error::{IoResultExt, Result, StoreError};
use crate::file_writers::{self, create_file, FileMeta, FileWriters, MAX_QUEUED_FILE};
use crate::tar_split::{Recorder, RecordingReader};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";

/// Unpacks the tar stream `reader` into `root` (an existing, empty folder), with
/// `file_writers` threads writing the files' content, and tells `recorder` what it takes to
/// write the same tar again from `root` (see [`crate::tar_split`]); the stream is read to
/// its end. Returns the total size of the regular files written. `blob` names the layer
/// in errors.
pub(crate) fn unpack(
    reader: impl Read,
    root: &Path,
    blob: &Digest,
    file_writers: usize,
    recorder: &Rc<RefCell<Recorder>>,
) -> Result<u64> {
    let (sender, shared) = file_writers::channel();
    std::thread::scope(|scope| {
        let mut unpacker = Unpacker {
            root,
            blob,
            known_dirs: HashSet::new(),
            dir_times: Vec::new(),
            size: 0,
            writers: FileWriters::start(scope, sender, &shared, file_writers),
            recorder,
        };
        let mut archive = tar::Archive::new(RecordingReader::new(reader, recorder.clone()));
        let bad_tar = |source| StoreError::BadTar {
            blob: blob.clone(),
            source,
        };
        for entry in archive.entries().map_err(bad_tar)? {
            unpacker.entry(entry.map_err(bad_tar)?)?;
        }
        // The archive ends before the stream does (padding): the record covers all.
        archive.into_inner().drain().map_err(bad_tar)?;
        unpacker.writers.drain()?;
        // Folder times last: creating their children changed them.
        for (path, mtime) in unpacker.dir_times.iter().rev() {
            set_times(path, *mtime)?;
        }
        Ok(unpacker.size)
    })
}

struct Unpacker<'a> {
    root: &'a Path,
    blob: &'a Digest,
    /// Folders (relative) already known to be real folders, not symlinks.
    known_dirs: HashSet<PathBuf>,
    dir_times: Vec<(PathBuf, SystemTime)>,
    size: u64,
    writers: FileWriters<'a>,
    recorder: &'a Rc<RefCell<Recorder>>,
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<()> {
        let raw_path = entry.path().map_err(|e| self.bad_tar(e))?.into_owned();
        let rel = self.relative(&raw_path)?;
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            return Ok(());
        }
        if let Some(name) = rel.file_name().and_then(|n| n.to_str()) {
            if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
                return self.whiteout(&rel, name, hidden);
            }
        }
        let header = entry.header();
        let mode = header.mode().map_err(|e| self.bad_tar(e))? & 0o7777;
        let uid = header.uid().map_err(|e| self.bad_tar(e))? as u32;
        let gid = header.gid().map_err(|e| self.bad_tar(e))? as u32;
        // A base-256 mtime can exceed what a SystemTime holds (Go's archive/tar refuses it).
        let mtime = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(header.mtime().unwrap_or(0)))
            .ok_or_else(|| self.unsafe_entry(&raw_path, "its modification time is out of range"))?;
        let xattrs = self.xattrs(&mut entry)?;
        let full = self.root.join(&rel);

        if rel.as_os_str().is_empty() {
            // The archive's `./`: it carries the metadata of the layer's root folder.
            if kind != EntryType::Directory {
                return Err(self.unsafe_entry(&raw_path, "the archive root must be a folder"));
            }
            return self.finish_dir(&full, uid, gid, mode, mtime, &xattrs);
        }
        self.ensure_parents(&rel, &raw_path)?;

        match kind {
            EntryType::Directory => {
                let existing = fs::symlink_metadata(&full);
                if !matches!(&existing, Ok(meta) if meta.is_dir()) {
                    self.remove_existing(&rel)?;
                    fs::create_dir(&full).at("create directory", &full)?;
                }
                self.known_dirs.insert(rel.clone());
                self.finish_dir(&full, uid, gid, mode, mtime, &xattrs)
            }
            EntryType::Regular | EntryType::Continuous => {
                self.remove_existing(&rel)?;
                let meta = FileMeta {
                    uid,
                    gid,
                    mode,
                    mtime,
                    xattrs,
                };
                let declared = entry.size();
                self.recorder.borrow_mut().file(&rel, declared);
                if declared > MAX_QUEUED_FILE {
                    self.size += create_file(&full, &mut entry, &meta)?;
                    return Ok(());
                }
                let mut content = Vec::with_capacity(declared as usize);
                entry
                    .read_to_end(&mut content)
                    .map_err(|e| self.bad_tar(e))?;
                self.size += content.len() as u64;
                self.writers.queue(&rel, full, content, meta)
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| self.bad_tar(e))?
                    .ok_or_else(|| self.unsafe_entry(&raw_path, "symlink without a target"))?
                    .into_owned();
                self.remove_existing(&rel)?;
                std::os::unix::fs::symlink(&target, &full).at("create symlink", &full)?;
                self.finish_nofollow(&full, uid, gid, mtime, &xattrs)
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|e| self.bad_tar(e))?
                    .ok_or_else(|| self.unsafe_entry(&raw_path, "hard link without a target"))?
                    .into_owned();
                let target_rel = self.relative(&target)?;
                if self.writers.is_queued(&target_rel) {
                    self.writers.drain()?;
                }
                self.check_parents_exist(&target_rel, &raw_path)?;
                let target_full = self.root.join(&target_rel);
                match fs::symlink_metadata(&target_full) {
                    Ok(meta) if !meta.is_dir() => {}
                    _ => {
                        return Err(self.unsafe_entry(
                            &raw_path,
                            "hard link target is not a file earlier in the same layer",
                        ))
                    }
                }
                if target_rel == rel {
                    return Ok(());
                }
                self.remove_existing(&rel)?;
                // linkat without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink.
                fs::hard_link(&target_full, &full).at("create hard link", &full)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let file_type = match kind {
                    EntryType::Char => FileType::CharacterDevice,
                    EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let major = entry.header().device_major().ok().flatten().unwrap_or(0);
                let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
                self.remove_existing(&rel)?;
                make_node(&full, file_type, mode, major, minor)?;
                self.finish_nofollow(&full, uid, gid, mtime, &xattrs)?;
                fs::set_permissions(&full, Permissions::from_mode(mode)).at("chmod", &full)
            }
            other => Err(self.unsafe_entry(&raw_path, unsupported(other))),
        }
    }

    fn whiteout(&mut self, rel: &Path, name: &str, hidden: &str) -> Result<()> {
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        self.ensure_parents(rel, rel)?;
        if name == OPAQUE_WHITEOUT {
            let dir = self.root.join(&parent);
            return rustix::fs::lsetxattr(&dir, OVERLAY_OPAQUE_XATTR, b"y", XattrFlags::empty())
                .map_err(io::Error::from)
                .at("mark opaque", &dir);
        }
        if hidden.starts_with(WHITEOUT_PREFIX) {
            // Other `.wh..wh.` names are aufs bookkeeping with no meaning in an image.
            return Ok(());
        }
        if hidden.is_empty() || hidden == "." || hidden == ".." {
            return Err(self.unsafe_entry(rel, "whiteout without a file name"));
        }
        let target = parent.join(hidden);
        self.remove_existing(&target)?;
        make_node(&self.root.join(&target), FileType::CharacterDevice, 0, 0, 0)
    }

    /// The entry's path relative to the layer root; absolute paths and `..` are refused.
    fn relative(&self, path: &Path) -> Result<PathBuf> {
        let mut rel = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Normal(part) => rel.push(part),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.unsafe_entry(path, "absolute path"));
                }
                Component::ParentDir => return Err(self.unsafe_entry(path, "path contains `..`")),
            }
        }
        Ok(rel)
    }

    /// Creates missing parent folders of `rel`; refuses a parent that is a symlink or a file.
    fn ensure_parents(&mut self, rel: &Path, shown: &Path) -> Result<()> {
        let mut current = PathBuf::new();
        let Some(parent) = rel.parent() else {
            return Ok(());
        };
        for component in parent.components() {
            current.push(component);
            if self.known_dirs.contains(&current) {
                continue;
            }
            if self.writers.is_queued(&current) {
                self.writers.drain()?;
            }
            let full = self.root.join(&current);
            match fs::symlink_metadata(&full) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.unsafe_entry(shown, "a parent folder is a symlink"));
                }
                Ok(meta) if !meta.is_dir() => {
                    return Err(self.unsafe_entry(shown, "a parent folder is not a folder"));
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    fs::create_dir(&full).at("create directory", &full)?;
                    fs::set_permissions(&full, Permissions::from_mode(0o755)).at("chmod", &full)?;
                }
                Err(e) => return Err(e).at("stat", &full),
            }
            self.known_dirs.insert(current.clone());
        }
        Ok(())
    }

    /// Like [`Self::ensure_parents`] but creates nothing: for hard-link targets.
    fn check_parents_exist(&self, rel: &Path, shown: &Path) -> Result<()> {
        let mut current = PathBuf::new();
        for component in rel.parent().into_iter().flat_map(Path::components) {
            current.push(component);
            if self.known_dirs.contains(&current) {
                continue;
            }
            match fs::symlink_metadata(self.root.join(&current)) {
                Ok(meta) if meta.is_dir() => {}
                _ => {
                    return Err(self
                        .unsafe_entry(shown, "hard link target's folder is a symlink or missing"))
                }
            }
        }
        Ok(())
    }

    /// Removes whatever is at `rel` (never following a symlink) so a new entry can take it.
    fn remove_existing(&mut self, rel: &Path) -> Result<()> {
        if self.writers.is_queued(rel) {
            self.writers.drain()?;
        }
        let full = self.root.join(rel);
        match fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => {
                // Files queued inside it must be written before it goes.
                if self.writers.any_queued() {
                    self.writers.drain()?;
                }
                self.displace(rel)?;
                fs::remove_dir_all(&full).at("replace directory", &full)?;
                self.known_dirs.retain(|dir| !dir.starts_with(rel));
                Ok(())
            }
            Ok(_) => {
                self.displace(rel)?;
                fs::remove_file(&full).at("replace file", &full)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).at("stat", &full),
        }
    }

    /// Content recorded as held at `rel` (or below) goes into the record before it goes.
    fn displace(&mut self, rel: &Path) -> Result<()> {
        let full = self.root.join(rel);
        self.recorder
            .borrow_mut()
            .displace(self.root, rel)
            .at("keep the content of replaced", &full)
    }

    fn finish_dir(
        &mut self,
        full: &Path,
        uid: u32,
        gid: u32,
        mode: u32,
        mtime: SystemTime,
        xattrs: &[(String, Vec<u8>)],
    ) -> Result<()> {
        std::os::unix::fs::lchown(full, Some(uid), Some(gid)).at("chown", full)?;
        fs::set_permissions(full, Permissions::from_mode(mode)).at("chmod", full)?;
        set_xattrs(full, xattrs)?;
        self.dir_times.push((full.to_path_buf(), mtime));
        Ok(())
    }

    fn finish_nofollow(
        &self,
        full: &Path,
        uid: u32,
        gid: u32,
        mtime: SystemTime,
        xattrs: &[(String, Vec<u8>)],
    ) -> Result<()> {
        std::os::unix::fs::lchown(full, Some(uid), Some(gid)).at("chown", full)?;
        set_xattrs(full, xattrs)?;
        set_times(full, mtime)
    }

    fn xattrs<R: Read>(&self, entry: &mut tar::Entry<'_, R>) -> Result<Vec<(String, Vec<u8>)>> {
        let mut xattrs = Vec::new();
        let Some(extensions) = entry.pax_extensions().map_err(|e| self.bad_tar(e))? else {
            return Ok(xattrs);
        };
        for extension in extensions {
            let extension = extension.map_err(|e| self.bad_tar(e))?;
            let Ok(key) = extension.key() else { continue };
            if let Some(name) = key.strip_prefix(PAX_XATTR_PREFIX) {
                // An image must not forge overlayfs metadata (redirects, opaque markers).
                if !name.starts_with("trusted.overlay.") {
                    xattrs.push((name.to_string(), extension.value_bytes().to_vec()));
                }
            }
        }
        Ok(xattrs)
    }

    fn unsafe_entry(&self, entry: &Path, reason: &'static str) -> StoreError {
        StoreError::UnsafeEntry {
            blob: self.blob.clone(),
            entry: entry.display().to_string(),
            reason,
        }
    }

    fn bad_tar(&self, source: io::Error) -> StoreError {
        StoreError::BadTar {
            blob: self.blob.clone(),
            source,
        }
    }
}

fn unsupported(kind: EntryType) -> &'static str {
    match kind {
        EntryType::GNUSparse => "sparse files are not supported",
        _ => "unsupported tar entry type",
    }
}

fn make_node(path: &Path, file_type: FileType, mode: u32, major: u32, minor: u32) -> Result<()> {
    let device = rustix::fs::makedev(major, minor);
    rustix::fs::mknodat(CWD, path, file_type, Mode::from_raw_mode(mode), device)
        .map_err(io::Error::from)
        .at("create device node", path)
}

fn set_xattrs(path: &Path, xattrs: &[(String, Vec<u8>)]) -> Result<()> {
    for (name, value) in xattrs {
        rustix::fs::lsetxattr(path, name.as_str(), value, XattrFlags::empty())
            .map_err(io::Error::from)
            .at("set xattr on", path)?;
    }
    Ok(())
}

fn set_times(path: &Path, mtime: SystemTime) -> Result<()> {
    let since_epoch = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let time = Timespec {
        tv_sec: since_epoch.as_secs() as i64,
        tv_nsec: since_epoch.subsec_nanos() as _,
    };
    let times = Timestamps {
        last_access: time,
        last_modification: time,
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(io::Error::from)
        .at("set times on", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the layer_unpack fuzz target: an mtime past `SystemTime`'s range panicked.
    #[test]
    fn an_mtime_out_of_range_is_refused_not_a_panic() {
        let mut header = tar::Header::new_gnu();
        header.set_path("file").unwrap();
        header.set_entry_type(EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(2);
        header.set_mtime(u64::MAX);
        header.set_cksum();
        let mut tar = tar::Builder::new(Vec::new());
        tar.append(&header, &b"hi"[..]).unwrap();
        let tar = tar.into_inner().unwrap();
        let root = tempfile::tempdir().unwrap();
        let blob = Digest::of(&tar);
        match unpack(&tar[..], root.path(), &blob, 1, &Recorder::shared()) {
            Err(StoreError::UnsafeEntry { entry, reason, .. }) => {
                assert_eq!(entry, "file");
                assert!(reason.contains("modification time"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!root.path().join("file").exists());
    }
}
