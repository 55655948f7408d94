//! `cp`: files between the host and a container, running or stopped, and the first fill of
//! an empty volume from the image.
//!
//! A container path is resolved like a chroot would: in the container's root with its bind
//! mounts and volumes over it (so a copy into a volume lands in the volume, as Docker's), every
//! symlink followed inside that tree and never out of it ([`resolve_in_tree`]). Bytes move as
//! a tar stream, extracted by the build context's safe extractor, so no entry can write
//! through a symlink out of the destination either.
//!
//! Resolving and then copying by path is only safe while nothing in the container changes
//! the tree: a running container is frozen while its root is held ([`Freeze`]).

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use wharf_build::context::{extract_tar, resolve_in_tree};
use wharf_runtime::{Mount, Overlay};

use super::freeze::Freeze;
use super::lifecycle::is_mounted;
use super::record::ContainerRecord;
use super::record::Status;
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// `cp -a` and `cp -L`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// `-a`: keep the source's owners; else the destination's user owns the copy (root in a
    /// container, the user running wharf on the host), as Docker's.
    pub archive: bool,
    /// `-L`: follow a symlink given as the source.
    pub follow_link: bool,
}

/// A path in a container as `docker cp` asks of it first (Docker's `PathStat`): the path
/// itself, not what a final symlink points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub name: String,
    pub size: u64,
    /// `st_mode`: the type and permission bits.
    pub mode: u32,
    /// Seconds and nanoseconds since the epoch.
    pub mtime: (i64, u32),
    /// What a symlink points to, as written in it; empty for anything else.
    pub link_target: String,
}

impl Engine {
    /// `HEAD /containers/{id}/archive`: what `path` is in the container.
    pub fn stat_in_container(&self, container: &str, path: &str) -> Result<PathStat> {
        use std::os::unix::fs::MetadataExt;
        let root = self.container_root(container)?;
        let (host, _) = root.resolve(path, false)?;
        let meta = std::fs::symlink_metadata(&host).map_err(|_| EngineError::Copy {
            path: path.to_string(),
            message: "no such file or directory".into(),
        })?;
        let link_target = match meta.file_type().is_symlink() {
            true => std::fs::read_link(&host)
                .at("read the link", &host)?
                .display()
                .to_string(),
            false => String::new(),
        };
        Ok(PathStat {
            name: Path::new(path)
                .file_name()
                .map_or("/".into(), |n| n.to_string_lossy().into_owned()),
            size: meta.len(),
            mode: meta.mode(),
            mtime: (meta.mtime(), meta.mtime_nsec() as u32),
            link_target,
        })
    }

    /// `wharf export`: the container's whole filesystem (its image with its changes, without
    /// volumes and bind mounts) as a tar on `out`, as Docker's.
    pub fn export_container(&self, container: &str, out: impl Write) -> Result<()> {
        let root = self.container_root(container)?;
        write_tar(&root.merged, None, out)
    }

    /// `wharf export -o FILE`: as [`Engine::export_container`], into `path` once whole.
    pub fn export_container_to_file(&self, container: &str, path: &Path) -> Result<()> {
        crate::archive::write_atomically(path, |file| self.export_container(container, file))
    }

    /// `cp CONTAINER:SRC DEST`.
    pub fn copy_from_container(
        &self,
        container: &str,
        source: &str,
        dest: &Path,
        options: CopyOptions,
    ) -> Result<()> {
        let root = self.container_root(container)?;
        let (from, _) = root.resolve(source, options.follow_link)?;
        let from = Source::at(from, source)?;
        let (into, name) = place(&from, dest, &dest.display().to_string())?;
        let owner = (!options.archive).then(|| {
            (
                rustix::process::getuid().as_raw(),
                rustix::process::getgid().as_raw(),
            )
        });
        copy_through_tar(&from.path, name.as_deref(), &into, owner)
    }

    /// `cp CONTAINER:SRC -`: a tar of SRC on `out`, its entries under SRC's name.
    pub fn copy_from_container_to_tar(
        &self,
        container: &str,
        source: &str,
        out: impl Write,
        options: CopyOptions,
    ) -> Result<()> {
        let root = self.container_root(container)?;
        let (from, _) = root.resolve(source, options.follow_link)?;
        let from = Source::at(from, source)?;
        let name = (!from.contents_only).then(|| from.base_name.clone());
        write_tar(&from.path, name.as_deref(), out)
    }

    /// `cp SRC CONTAINER:DEST`.
    pub fn copy_into_container(
        &self,
        source: &Path,
        container: &str,
        dest: &str,
        options: CopyOptions,
    ) -> Result<()> {
        let from = if options.follow_link {
            std::fs::canonicalize(source).at("find", source)?
        } else {
            source.to_path_buf()
        };
        let mut from = Source::at(from, &source.display().to_string())?;
        from.base_name = base_name(source).to_os_string();
        let root = self.container_root(container)?;
        let (into, read_only) = root.resolve(dest, true)?;
        root.writable(read_only, dest)?;
        let (into, name) = place(&from, &into, dest)?;
        let owner = (!options.archive).then_some((0, 0));
        copy_through_tar(&from.path, name.as_deref(), &into, owner)
    }

    /// `cp - CONTAINER:DEST`: extracts the tar on `input` into the directory DEST, entries
    /// keeping the owners they have in the tar.
    pub fn copy_tar_into_container(
        &self,
        input: impl Read,
        container: &str,
        dest: &str,
    ) -> Result<()> {
        let root = self.container_root(container)?;
        let (into, read_only) = root.resolve(dest, true)?;
        root.writable(read_only, dest)?;
        if !into.is_dir() {
            return Err(EngineError::Copy {
                path: dest.to_string(),
                message: "the destination of a tar stream must be an existing directory".into(),
            });
        }
        extract_tar(input, Path::new("stdin"), &into, None)?;
        Ok(())
    }

    /// The container's files as `cp` sees them; a stopped container's root is mounted, and a
    /// running one frozen, until the returned value is dropped.
    pub(super) fn container_root(&self, container: &str) -> Result<ContainerRoot> {
        let held = self.store.shared_lock()?;
        let info = self.find_container(container)?;
        let run = &info.record.run;
        let merged = run.merged_dir();
        let frozen = match info.state.status == Status::Running {
            true => Some(Freeze::hold(self, &info)?),
            false => None,
        };
        let overlay = if is_mounted(&merged) {
            None
        } else {
            let overlay = run.overlay();
            overlay.mount()?;
            Some(overlay)
        };
        Ok(ContainerRoot::new(&info.record, overlay, frozen, held))
    }

    /// Fills each new or empty volume of `record` from the image's content at its
    /// destination (owners, modes and symlinks kept), unless its request says `no_copy`.
    pub(crate) fn fill_volumes(
        &self,
        record: &ContainerRecord,
        skip: impl Fn(&Path) -> bool,
    ) -> Result<()> {
        let empty: Vec<_> = record
            .volumes
            .iter()
            .filter(|v| !skip(&v.destination) && is_empty_dir(&self.volume_data_dir(&v.name)))
            .collect();
        if empty.is_empty() {
            return Ok(());
        }
        let run = &record.run;
        let overlay = run.overlay();
        overlay.mount()?;
        let image = |rel: &Path| overlay.merged.join(rel);
        let result = empty.iter().try_for_each(|volume| {
            let rel = resolve_in_tree(image, &volume.destination, true)?;
            let source = image(&rel);
            match std::fs::symlink_metadata(&source) {
                Ok(meta) if meta.is_dir() => self.fill_empty_volume(&volume.name, |into| {
                    copy_through_tar(&source, None, into, None)?;
                    copy_owner_and_mode(&meta, into)
                }),
                _ => Ok(()),
            }
        });
        let unmounted = overlay.unmount();
        result?;
        Ok(unmounted?)
    }
}

/// The container's root and what is mounted in it, as host folders.
pub(super) struct ContainerRoot {
    merged: PathBuf,
    /// (destination relative to the root, host source, read-only), deepest first.
    mounts: Vec<(PathBuf, PathBuf, bool)>,
    read_only_rootfs: bool,
    /// Mounted by us: unmounted on drop.
    overlay: Option<Overlay>,
    /// A running container's freeze, held until drop.
    _frozen: Option<Freeze>,
    /// Held while the root is in use: `system check --repair` (exclusive) takes a root
    /// mounted with no copy at work for a leftover of a killed one.
    _held: wharf_store::SharedLock,
}

impl ContainerRoot {
    fn new(
        record: &ContainerRecord,
        overlay: Option<Overlay>,
        frozen: Option<Freeze>,
        held: wharf_store::SharedLock,
    ) -> Self {
        let run = &record.run;
        let relative = |p: &Path| p.strip_prefix("/").unwrap_or(p).to_path_buf();
        let mut mounts: Vec<(PathBuf, PathBuf, bool)> = run
            .mounts
            .iter()
            .filter_map(|m| match m {
                Mount::Bind {
                    source,
                    destination,
                    read_only,
                    ..
                } => Some((relative(destination), source.clone(), *read_only)),
                // A tmpfs lives only in the container's mount namespace.
                Mount::Tmpfs { .. } => None,
            })
            .collect();
        for (destination, source) in [
            ("etc/hostname", run.hostname_path()),
            ("etc/hosts", run.hosts_path()),
            ("etc/resolv.conf", run.resolv_conf_path()),
        ] {
            if !mounts.iter().any(|(d, _, _)| d == Path::new(destination)) {
                mounts.push((destination.into(), source, run.read_only_rootfs));
            }
        }
        mounts.sort_by_key(|(d, _, _)| std::cmp::Reverse(d.components().count()));
        Self {
            merged: run.merged_dir(),
            mounts,
            read_only_rootfs: run.read_only_rootfs,
            overlay,
            _frozen: frozen,
            _held: held,
        }
    }

    /// Where `rel` (relative to the container's root) is on the host, and whether it is
    /// read-only there.
    fn host_path(&self, rel: &Path) -> (PathBuf, bool) {
        for (destination, source, read_only) in &self.mounts {
            if let Ok(rest) = rel.strip_prefix(destination) {
                // `join("")` would add a slash, which a mounted file does not take.
                let path = match rest.as_os_str().is_empty() {
                    true => source.clone(),
                    false => source.join(rest),
                };
                return (path, *read_only);
            }
        }
        (self.merged.join(rel), self.read_only_rootfs)
    }

    /// Resolves the container path `path` inside the container, as a chroot would.
    pub(super) fn resolve(&self, path: &str, follow_final: bool) -> Result<(PathBuf, bool)> {
        let rel = resolve_in_tree(|rel| self.host_path(rel).0, Path::new(path), follow_final)?;
        Ok(self.host_path(&rel))
    }

    pub(super) fn writable(&self, read_only: bool, dest: &str) -> Result<()> {
        if read_only {
            return Err(EngineError::Copy {
                path: dest.to_string(),
                message: "the destination is on a read-only mount or root filesystem".into(),
            });
        }
        Ok(())
    }
}

impl Drop for ContainerRoot {
    fn drop(&mut self) {
        if let Some(overlay) = &self.overlay {
            let _ = overlay.unmount();
        }
    }
}

/// A copy's source on the host (possibly inside a container's root).
struct Source {
    path: PathBuf,
    is_dir: bool,
    /// `SRC/.`: the contents of the directory, not the directory itself.
    contents_only: bool,
    base_name: OsString,
}

impl Source {
    fn at(path: PathBuf, as_given: &str) -> Result<Self> {
        let meta = std::fs::symlink_metadata(&path).map_err(|_| EngineError::Copy {
            path: as_given.to_string(),
            message: "no such file or directory".into(),
        })?;
        let is_dir = meta.is_dir();
        if as_given.ends_with('/') && !is_dir {
            return Err(EngineError::Copy {
                path: as_given.to_string(),
                message: "not a directory".into(),
            });
        }
        Ok(Self {
            base_name: base_name(&path).to_os_string(),
            contents_only: is_dir && as_given.ends_with("/."),
            is_dir,
            path,
        })
    }
}

/// Docker's destination rules: returns the existing directory to extract into and the name
/// the source takes there (`None`: its contents go straight in).
fn place(source: &Source, dest: &Path, dest_text: &str) -> Result<(PathBuf, Option<OsString>)> {
    let error = |message: &str| EngineError::Copy {
        path: dest_text.to_string(),
        message: message.into(),
    };
    let dir_syntax = dest_text.ends_with('/') || dest_text.ends_with("/.");
    let clean: PathBuf = dest.components().collect();
    match std::fs::metadata(&clean) {
        Ok(meta) if meta.is_dir() => {
            let name = (!source.contents_only).then(|| source.base_name.clone());
            Ok((clean, name))
        }
        Ok(_) if source.is_dir => Err(error("cannot copy a directory to a file")),
        Ok(_) if dir_syntax => Err(error("not a directory")),
        Err(_) if dir_syntax && !source.is_dir => {
            Err(error("the destination directory does not exist"))
        }
        _ => {
            let parent = match clean.parent() {
                Some(parent) if parent.as_os_str().is_empty() => Path::new("."),
                Some(parent) => parent,
                None => Path::new("/"),
            };
            if !parent.is_dir() {
                return Err(error("its parent directory does not exist"));
            }
            Ok((parent.to_path_buf(), Some(base_name(&clean).to_os_string())))
        }
    }
}

fn base_name(path: &Path) -> &OsStr {
    path.file_name().unwrap_or(OsStr::new("."))
}

/// Writes `source` as a tar: under `name`, or (for a directory, with `None`) its contents.
/// Symlinks are archived as symlinks, never followed.
fn write_tar(source: &Path, name: Option<&OsStr>, out: impl Write) -> Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let name = Path::new(name.unwrap_or_default());
    let is_dir = std::fs::symlink_metadata(source)
        .at("read", source)?
        .is_dir();
    if is_dir {
        builder.append_dir_all(name, source)
    } else {
        builder.append_path_with_name(source, name)
    }
    .and_then(|()| builder.finish())
    .at("archive", source)
}

/// Copies `source` into the existing directory `dest` (as `name`, or its contents) through a
/// tar stream, the extraction confined to `dest`. `owner` replaces the entries' owners.
fn copy_through_tar(
    source: &Path,
    name: Option<&OsStr>,
    dest: &Path,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let (reader, writer) = std::io::pipe().at("create a pipe for", source)?;
    std::thread::scope(|scope| {
        let archiver = scope.spawn(move || write_tar(source, name, writer));
        let extracted = extract_tar(reader, source, dest, owner);
        let archived = archiver.join().expect("the archiver does not panic");
        // The archiver's error first: an extractor fails too when its input breaks off.
        archived?;
        Ok(extracted?)
    })
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// A volume takes the owner and mode of the image folder it is filled from, as Docker's.
fn copy_owner_and_mode(meta: &std::fs::Metadata, data: &Path) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::os::unix::fs::lchown(data, Some(meta.uid()), Some(meta.gid())).at("chown", data)?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
        .at("chmod", data)
}
