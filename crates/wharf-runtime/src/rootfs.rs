//! The container's root: an overlay of the image layers with a per-container upper dir.

use std::ffi::CString;
use std::io;
use std::path::{Component, Path, PathBuf};

use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

/// An I/O error and the path it happened on (youki's `WrappedIoError`).
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("failed to create directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to mount overlay on {path}")]
    Mount {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to remove overlayfs' volatile mark {path} (to mount the layer again)")]
    VolatileMark {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to unmount {path}")]
    Unmount {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("overlay options for {path} are {len} bytes, over the kernel's limit of {max}")]
    OptionsTooLong {
        path: PathBuf,
        len: usize,
        max: usize,
    },
}

/// The kernel copies at most one page of mount data.
const MAX_MOUNT_DATA: usize = 4095;

/// The paths of one overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// Read-only layers, top first.
    pub lower: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub merged: PathBuf,
    /// overlayfs' `volatile`: no sync of the upper filesystem, at unmount in particular.
    /// Without it, unmounting syncs the whole filesystem holding `upper` (the host's, often),
    /// which took 20-190 ms on a busy machine. For a writable layer that is thrown away.
    pub volatile: bool,
}

impl Overlay {
    /// overlayfs' mount data. Paths are assumed free of ':' and ','
    /// ([`crate::RunConfig::validate`] refuses them).
    pub fn options(&self) -> String {
        let lower: Vec<_> = self.lower.iter().map(|p| p.to_string_lossy()).collect();
        format!(
            "lowerdir={},upperdir={},workdir={}{}",
            lower.join(":"),
            self.upper.to_string_lossy(),
            self.work.to_string_lossy(),
            if self.volatile { ",volatile" } else { "" }
        )
    }

    /// Creates upper, work and merged if missing, then mounts the overlay on merged.
    pub fn mount(&self) -> Result<(), RootfsError> {
        let options = self.options();
        if options.len() > MAX_MOUNT_DATA {
            return Err(RootfsError::OptionsTooLong {
                path: self.merged.clone(),
                len: options.len(),
                max: MAX_MOUNT_DATA,
            });
        }
        for dir in [&self.upper, &self.work, &self.merged] {
            std::fs::create_dir_all(dir).map_err(|source| RootfsError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        }
        if self.volatile {
            // A volatile mount leaves this mark, and overlayfs refuses to mount over it again
            // (the upper may have lost writes in a crash). A throwaway layer is mounted anyway.
            let mark = self.work.join("work/incompat/volatile");
            match std::fs::remove_dir_all(&mark) {
                Err(source) if source.kind() != io::ErrorKind::NotFound => {
                    return Err(RootfsError::VolatileMark { path: mark, source })
                }
                _ => {}
            }
        }
        let mount_error = |source| RootfsError::Mount {
            path: self.merged.clone(),
            source,
        };
        let data = CString::new(options)
            .map_err(|e| mount_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        rustix::mount::mount(
            "overlay",
            &self.merged,
            "overlay",
            MountFlags::empty(),
            Some(data.as_c_str()),
        )
        .map_err(|errno| mount_error(errno.into()))
    }

    /// Unmounts merged.
    pub fn unmount(&self) -> Result<(), RootfsError> {
        unmount(&self.merged)
    }
}

/// Unmounts `path`; a path that is not a mount point (EINVAL) counts as done, so cleanup can
/// be retried.
pub fn unmount(path: &Path) -> Result<(), RootfsError> {
    match rustix::mount::unmount(path, UnmountFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::INVAL) => Ok(()),
        Err(errno) => Err(RootfsError::Unmount {
            path: path.to_owned(),
            source: errno.into(),
        }),
    }
}

/// Makes the directory `path` inside the tree at `root` when missing, each component resolved
/// as a chroot would (symlinks stay inside `root`): root's, mode 0755, as Docker's daemon
/// makes a working directory. A component that is not a directory is ENOTDIR.
pub fn make_dir_in_root(root: &Path, path: &Path) -> Result<(), Errno> {
    walk_dir_in_root(root, path, true)
}

/// Whether `path` is a directory inside the tree at `root`, resolved as a chroot would
/// (`root` may be `/proc/PID/root`, a running container's).
pub fn find_dir_in_root(root: &Path, path: &Path) -> Result<(), Errno> {
    walk_dir_in_root(root, path, false)
}

/// Whether `path` inside the tree at `root` (resolved as a chroot would) is a directory;
/// `None` when it does not exist.
pub fn is_dir_in_root(root: &Path, path: &Path) -> Result<Option<bool>, Errno> {
    let root = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(
        &root,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        resolve,
    ) {
        Ok(fd) => {
            let stat = rustix::fs::fstat(fd)?;
            Ok(Some(
                FileType::from_raw_mode(stat.st_mode) == FileType::Directory,
            ))
        }
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(errno),
    }
}

/// Where `path` lands inside the tree at `root`, resolved as a chroot would (symlinks
/// followed inside `root`), as a path of that tree: the longest part that exists is resolved
/// by the kernel, the rest (`..` taken away first, as runc cleans a mount destination) is
/// added as written, so a dangling symlink stays as it is named.
pub fn resolve_in_root(root: &Path, path: &Path) -> Result<PathBuf, Errno> {
    let root_fd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let root_path = rustix::fs::readlinkat(
        CWD,
        format!("/proc/self/fd/{}", root_fd.as_raw_fd()),
        Vec::new(),
    )?;
    let root_path = PathBuf::from(std::ffi::OsString::from_vec(root_path.into_bytes()));
    let mut components: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(_) => components.push(component),
            Component::ParentDir => {
                components.pop();
            }
            _ => {}
        }
    }
    for existing in (0..=components.len()).rev() {
        let prefix: PathBuf = components[..existing].iter().collect();
        let prefix = if prefix.as_os_str().is_empty() {
            PathBuf::from("/")
        } else {
            prefix
        };
        let fd = match rustix::fs::openat2(
            &root_fd,
            &prefix,
            OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => continue,
            Err(errno) => return Err(errno),
        };
        let found =
            rustix::fs::readlinkat(CWD, format!("/proc/self/fd/{}", fd.as_raw_fd()), Vec::new())?;
        let found = PathBuf::from(std::ffi::OsString::from_vec(found.into_bytes()));
        let mut resolved =
            Path::new("/").join(found.strip_prefix(&root_path).unwrap_or(Path::new("")));
        resolved.extend(&components[existing..]);
        return Ok(resolved);
    }
    Ok(PathBuf::from("/"))
}

/// Opens the regular file `path` inside the tree at `root` for reading, resolved as a chroot
/// would (a symlink in the image to the host's `/etc/passwd` stays in the image); `None`
/// when it does not exist there or is not a regular file.
pub fn open_file_in_root(root: &Path, path: &Path) -> Result<Option<std::fs::File>, Errno> {
    let root = match rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(root) => root,
        Err(Errno::NOENT) => return Ok(None),
        Err(errno) => return Err(errno),
    };
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    match rustix::fs::openat2(&root, path, flags, Mode::empty(), resolve) {
        Ok(fd) => {
            let stat = rustix::fs::fstat(&fd)?;
            Ok(
                (FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile)
                    .then(|| std::fs::File::from(fd)),
            )
        }
        Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => Ok(None),
        Err(errno) => Err(errno),
    }
}

fn walk_dir_in_root(root: &Path, path: &Path, create: bool) -> Result<(), Errno> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let root = rustix::fs::open(root, flags, Mode::empty())?;
    let open = |dir: &Path| {
        rustix::fs::openat2(
            &root,
            dir,
            flags,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
    };
    let mut dir = PathBuf::from("/");
    for component in path.components() {
        let name = match component {
            Component::Normal(name) => name,
            Component::ParentDir => {
                dir.push("..");
                continue;
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => continue,
        };
        let parent = dir.clone();
        dir.push(name);
        match open(&dir) {
            Ok(_) => {}
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(open(&parent)?, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(errno) => return Err(errno),
                }
                // A dangling symlink stays one: say what opening it says.
                open(&dir)?;
            }
            Err(errno) => return Err(errno),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_and_files_open_inside_the_root_only() {
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("passwd"), b"host").unwrap();
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::os::unix::fs::symlink("/proc", root.join("p")).unwrap();
        std::os::unix::fs::symlink("../../../..", root.join("up")).unwrap();
        // The host folder's own path: it must name the root's folder of that name.
        std::os::unix::fs::symlink(host.path(), root.join("etc")).unwrap();

        let resolved = |p: &str| resolve_in_root(root, Path::new(p)).unwrap();
        assert_eq!(resolved("/p"), Path::new("/proc"));
        assert_eq!(resolved("/up/p/self"), Path::new("/proc/self"));
        assert_eq!(resolved("/missing/../p/x"), Path::new("/proc/x"));
        // A symlink to what the root does not have ends the part the kernel resolves.
        assert_eq!(resolved("/etc/passwd"), Path::new("/etc/passwd"));
        assert!(open_file_in_root(root, Path::new("/etc/passwd"))
            .unwrap()
            .is_none());
        assert!(open_file_in_root(root, Path::new("/proc"))
            .unwrap()
            .is_none());
        std::fs::create_dir_all(root.join(host.path().strip_prefix("/").unwrap())).unwrap();
        std::fs::write(
            root.join(host.path().strip_prefix("/").unwrap())
                .join("passwd"),
            b"image",
        )
        .unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut open_file_in_root(root, Path::new("/etc/passwd"))
                .unwrap()
                .unwrap(),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "image");
    }

    #[test]
    fn dirs_are_made_inside_the_root_only() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        std::fs::create_dir(root.join("etc")).unwrap();
        std::fs::write(root.join("file"), b"").unwrap();
        // Absolute, as in an image: it points at the root's /etc, never the host's.
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();

        make_dir_in_root(root, Path::new("/a/b")).unwrap();
        assert!(root.join("a/b").is_dir());
        make_dir_in_root(root, Path::new("/link/made-by-a-test")).unwrap();
        assert!(root.join("etc/made-by-a-test").is_dir());
        assert!(!Path::new("/etc/made-by-a-test").exists());
        make_dir_in_root(root, Path::new("/../../a/b")).unwrap();
        assert_eq!(
            make_dir_in_root(root, Path::new("/file/x")),
            Err(Errno::NOTDIR)
        );
        assert_eq!(
            make_dir_in_root(root, Path::new("/file")),
            Err(Errno::NOTDIR)
        );

        assert_eq!(is_dir_in_root(root, Path::new("/link")), Ok(Some(true)));
        assert_eq!(is_dir_in_root(root, Path::new("/file")), Ok(Some(false)));
        assert_eq!(is_dir_in_root(root, Path::new("/nope")), Ok(None));
        assert_eq!(find_dir_in_root(root, Path::new("/a/b")), Ok(()));
        assert_eq!(
            find_dir_in_root(root, Path::new("/nope")),
            Err(Errno::NOENT)
        );
        assert!(!root.join("nope").exists());
    }

    #[test]
    fn options_list_lower_dirs_top_first() {
        let overlay = Overlay {
            lower: vec![PathBuf::from("/l/top"), PathBuf::from("/l/base")],
            upper: PathBuf::from("/c/upper"),
            work: PathBuf::from("/c/work"),
            merged: PathBuf::from("/c/merged"),
            volatile: false,
        };
        assert_eq!(
            overlay.options(),
            "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work"
        );
    }

    #[test]
    fn too_many_layers_is_a_named_error() {
        let overlay = Overlay {
            lower: (0..200)
                .map(|i| PathBuf::from(format!("/var/lib/wharf/layers/{i:064}")))
                .collect(),
            upper: PathBuf::from("/nonexistent-wharf-test/upper"),
            work: PathBuf::from("/nonexistent-wharf-test/work"),
            merged: PathBuf::from("/nonexistent-wharf-test/merged"),
            volatile: false,
        };
        // Refused before anything is created, so the paths need not exist.
        assert!(matches!(
            overlay.mount(),
            Err(RootfsError::OptionsTooLong {
                max: MAX_MOUNT_DATA,
                ..
            })
        ));
        assert!(!Path::new("/nonexistent-wharf-test").exists());
    }

    #[test]
    fn volatile_layers_mount_again() {
        let dir = tempfile::tempdir().unwrap();
        let lower = dir.path().join("lower");
        std::fs::create_dir(&lower).unwrap();
        let overlay = Overlay {
            lower: vec![lower],
            upper: dir.path().join("upper"),
            work: dir.path().join("work"),
            merged: dir.path().join("merged"),
            volatile: true,
        };
        assert!(overlay.options().ends_with(",volatile"));
        for round in 0..2 {
            overlay
                .mount()
                .unwrap_or_else(|e| panic!("mount {round}: {e:?}"));
            let file = overlay.merged.join("kept");
            if round == 0 {
                std::fs::write(&file, "x").unwrap();
            }
            let read = std::fs::read_to_string(&file);
            overlay.unmount().unwrap();
            assert_eq!(read.unwrap(), "x");
        }
    }
}
