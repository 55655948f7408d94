//! Path resolution confined to a root directory, and small metadata helpers that never
//! follow a symlink.

use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Timespec, Timestamps, CWD};

use super::{Error, Result};

/// Linux's limit on symlinks followed while resolving one path.
const MAX_SYMLINKS: usize = 40;

/// Resolves `path` (relative to `root`; a leading `/` means `root`) the way the kernel would
/// if `root` were `/`: every symlink is read and followed, an absolute target restarts at
/// `root`, and `..` never climbs above it. With `follow_final` false, a symlink in the last
/// component is left as is. Missing components are kept as written. Returns the result
/// relative to `root` (empty for the root itself).
pub fn resolve_in_root(root: &Path, path: &Path, follow_final: bool) -> Result<PathBuf> {
    resolve_in_tree(|rel| root.join(rel), path, follow_final)
}

/// [`resolve_in_root`] over a tree made of several host folders, such as a container's root
/// with its volumes mounted in it: `host_path` maps a path relative to the tree's root to
/// where it is on the host.
pub fn resolve_in_tree(
    host_path: impl Fn(&Path) -> PathBuf,
    path: &Path,
    follow_final: bool,
) -> Result<PathBuf> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, path);
    let mut resolved = PathBuf::new();
    let mut followed = 0;
    while let Some(name) = pending.pop() {
        if name == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&name);
        if pending.is_empty() && !follow_final {
            return Ok(candidate);
        }
        let host = host_path(&candidate);
        match fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    return Err(Error::SymlinkLoop {
                        path: path.display().to_string(),
                    });
                }
                let target = fs::read_link(&host).map_err(Error::io("read link", &host))?;
                if target.is_absolute() {
                    resolved.clear();
                }
                push_components(&mut pending, &target);
            }
            Ok(_) => resolved = candidate,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                resolved = candidate;
            }
            Err(source) => {
                return Err(Error::Io {
                    action: "stat",
                    path: host,
                    source,
                })
            }
        }
    }
    Ok(resolved)
}

/// Pushes the components of `path` in reverse, so that popping yields them in order.
fn push_components(stack: &mut Vec<OsString>, path: &Path) {
    let start = stack.len();
    for c in path.components() {
        match c {
            Component::Normal(n) => stack.push(n.to_os_string()),
            Component::ParentDir => stack.push(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    stack[start..].reverse();
}

/// `symlink_metadata` that maps "does not exist" to None.
pub(crate) fn lstat(path: &Path) -> Result<Option<Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(Error::Io {
            action: "stat",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Creates directory `rel` (relative to `root`, already resolved in scope, so no existing
/// component is a symlink) and its missing parents with mode 0755, owned by `owner`
/// (BuildKit's `MkdirAll` with the `--chown` user; root otherwise).
pub(crate) fn mkdir_all(root: &Path, rel: &Path, owner: (u32, u32)) -> Result<()> {
    let mut current = root.to_path_buf();
    for c in rel.components() {
        let Component::Normal(name) = c else { continue };
        current.push(name);
        match lstat(&current)? {
            Some(m) if m.is_dir() => continue,
            Some(_) => {
                return Err(Error::NotADirectory {
                    path: display_in_root(root, &current),
                })
            }
            None => {}
        }
        fs::create_dir(&current).map_err(Error::io("create directory", &current))?;
        fs::set_permissions(&current, fs::Permissions::from_mode(0o755))
            .map_err(Error::io("chmod", &current))?;
        std::os::unix::fs::lchown(&current, Some(owner.0), Some(owner.1))
            .map_err(Error::io("chown", &current))?;
    }
    Ok(())
}

/// Sets owner, mode (not for symlinks) and times of `path` without following a symlink.
pub(crate) fn apply_metadata(
    path: &Path,
    is_symlink: bool,
    owner: (u32, u32),
    mode: u32,
    mtime: (i64, i64),
) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(owner.0), Some(owner.1))
        .map_err(Error::io("chown", path))?;
    // After chown, which clears setuid/setgid bits.
    if !is_symlink {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(Error::io("chmod", path))?;
    }
    set_times(path, mtime)
}

/// Sets atime and mtime to `mtime` (seconds, nanoseconds) on `path` itself.
pub(crate) fn set_times(path: &Path, mtime: (i64, i64)) -> Result<()> {
    let ts = Timespec {
        tv_sec: mtime.0,
        tv_nsec: mtime.1 as _,
    };
    let times = Timestamps {
        last_access: ts,
        last_modification: ts,
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| Error::Io {
        action: "set times of",
        path: path.to_owned(),
        source: e.into(),
    })
}

pub(crate) fn mtime_of(meta: &Metadata) -> (i64, i64) {
    (meta.mtime(), meta.mtime_nsec())
}

/// `path` shown as seen inside `root` (`/etc/passwd`), for messages about image paths.
pub(crate) fn display_in_root(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    format!("/{}", rel.display())
}

/// Last component of `path` ("" for none).
pub(crate) fn base_name(path: &Path) -> &OsStr {
    path.file_name().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(root.join("a/b")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("a/b/up")).unwrap();
        symlink("/etc/passwd", root.join("evil")).unwrap();
        symlink("loop", root.join("loop")).unwrap();

        let r = |p: &str, follow| resolve_in_root(root, Path::new(p), follow).unwrap();
        assert_eq!(r("abs", true), Path::new("etc"));
        assert_eq!(r("/abs/x", true), Path::new("etc/x"));
        assert_eq!(r("a/b/up", true), Path::new(""));
        assert_eq!(r("a/b/up/etc", true), Path::new("etc"));
        assert_eq!(r("../../etc", true), Path::new("etc"));
        assert_eq!(r("evil", true), Path::new("etc/passwd"));
        assert_eq!(r("evil", false), Path::new("evil"));
        assert_eq!(r("missing/../a", true), Path::new("a"));
        assert!(matches!(
            resolve_in_root(root, Path::new("loop"), true),
            Err(Error::SymlinkLoop { .. })
        ));
    }
}
