//! `compose watch`'s sync: host files copied into a container, running or stopped, each
//! made whole under a temporary name in its folder and renamed over the old one, so a
//! reloader in the container never reads half a file; gone files are removed in the
//! container, never on the host. Container paths resolve as `cp`'s do (mounts, symlinks
//! followed inside the container's tree only). Symlinks are copied as links.
//!
//! Not through a tar stream like `cp`: a tar header keeps whole seconds, so two saves in
//! one second would leave the same mtime and a reloader that polls mtimes (Django's,
//! Flask's stat reloader) would miss the second. Here the copy keeps the host's
//! nanoseconds. The copy is owned by the container's user, as docker compose's.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{Timespec, Timestamps};
use wharf_watch::Change;

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

impl Engine {
    /// Applies `changes` (in order: a folder before its content) to the container's files.
    pub fn sync_into_container(&self, container: &str, changes: &[Change]) -> Result<()> {
        let user = self.find_container(container)?.record.run.process.user;
        let owner = (user.uid, user.gid);
        let root = self.container_root(container)?;
        for change in changes {
            match change {
                Change::Copy { host, target } => {
                    let Ok(meta) = fs::symlink_metadata(host) else {
                        // Gone since the plan: the next batch deletes it.
                        continue;
                    };
                    let (parent, name) = split(target)?;
                    let (folder, read_only) = root.resolve(parent, true)?;
                    root.writable(read_only, target)?;
                    make_folders(&folder, owner)?;
                    copy_one(host, &meta, &folder.join(name), owner)?;
                }
                Change::Delete { target } => {
                    let (parent, name) = split(target)?;
                    let (folder, read_only) = root.resolve(parent, true)?;
                    root.writable(read_only, target)?;
                    remove(&folder.join(name))?;
                }
            }
        }
        Ok(())
    }
}

/// The parent folder and the name of a container path that is not the root.
fn split(target: &str) -> Result<(&str, &str)> {
    let trimmed = target.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((parent, name)) if !name.is_empty() && name != ".." && name != "." => {
            Ok((if parent.is_empty() { "/" } else { parent }, name))
        }
        _ => Err(EngineError::Copy {
            path: target.to_owned(),
            message: "a sync target must be a path below the container's root".into(),
        }),
    }
}

/// Creates `folder` and its missing parents (already resolved in the container's tree),
/// owned by the container's user.
fn make_folders(folder: &Path, owner: (u32, u32)) -> Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent() {
        make_folders(parent, owner)?;
    }
    match fs::create_dir(folder) {
        Ok(()) => {
            std::os::unix::fs::lchown(folder, Some(owner.0), Some(owner.1)).at("chown", folder)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).at("create directory", folder),
    }
}

/// Copies one host entry to `dest`: a folder is made (its content comes as changes of its
/// own), a file or symlink is made whole under a temporary name, then renamed over `dest`.
fn copy_one(host: &Path, meta: &fs::Metadata, dest: &Path, owner: (u32, u32)) -> Result<()> {
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        if fs::symlink_metadata(dest).is_ok_and(|m| !m.is_dir()) {
            fs::remove_file(dest).at("remove", dest)?;
        }
        if !dest.is_dir() {
            fs::create_dir(dest).at("create directory", dest)?;
            std::os::unix::fs::lchown(dest, Some(owner.0), Some(owner.1)).at("chown", dest)?;
            fs::set_permissions(dest, fs::Permissions::from_mode(mode)).at("chmod", dest)?;
        }
        return Ok(());
    }
    let temporary = temporary_name(dest);
    let made = if meta.file_type().is_symlink() {
        let link = fs::read_link(host).at("read link", host)?;
        std::os::unix::fs::symlink(&link, &temporary).at("create symlink", &temporary)
    } else if meta.is_file() {
        write_file(host, &temporary)
    } else {
        // Sockets, fifos, devices: nothing a dev server reads.
        return Ok(());
    };
    let finished = made
        .and_then(|()| {
            std::os::unix::fs::lchown(&temporary, Some(owner.0), Some(owner.1))
                .at("chown", &temporary)
        })
        // After chown, which clears setuid and setgid bits.
        .and_then(|()| match meta.file_type().is_symlink() {
            true => Ok(()),
            false => fs::set_permissions(&temporary, fs::Permissions::from_mode(mode))
                .at("chmod", &temporary),
        })
        .and_then(|()| set_mtime(&temporary, meta))
        .and_then(|()| {
            if dest.is_dir() && !dest.is_symlink() {
                fs::remove_dir_all(dest).at("remove", dest)?;
            }
            fs::rename(&temporary, dest).at("rename", dest)
        });
    if finished.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    finished
}

fn write_file(host: &Path, temporary: &Path) -> Result<()> {
    let mut from = File::open(host).at("open", host)?;
    let mut to = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(temporary)
        .at("create", temporary)?;
    io::copy(&mut from, &mut to)
        .map(drop)
        .at("write", temporary)
}

/// The host's mtime, to the nanosecond, on the copy (not following a symlink).
fn set_mtime(path: &Path, meta: &fs::Metadata) -> Result<()> {
    let time = Timespec {
        tv_sec: meta.mtime(),
        tv_nsec: meta.mtime_nsec() as _,
    };
    let times = Timestamps {
        last_access: time,
        last_modification: time,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &times,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)
    .at("set the times of", path)
}

/// A name beside `dest` that no reloader watching `*.py` or `*.html` takes for a source.
fn temporary_name(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    dest.with_file_name(format!(".{name}.wharf-sync-{}", std::process::id()))
}

/// Removes `path` in the container (a folder with its content); gone already is fine.
fn remove(path: &Path) -> Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).at("remove", path),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_below_the_root_only() {
        assert_eq!(split("/app/a.py").unwrap(), ("/app", "a.py"));
        assert_eq!(split("/app/").unwrap(), ("/", "app"));
        assert!(split("/").is_err());
        assert!(split("/app/..").is_err());
    }

    #[test]
    fn a_copy_replaces_the_old_file_whole_and_keeps_the_host_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("host.py");
        fs::write(&host, "new").unwrap();
        let dest = dir.path().join("in/app.py");
        make_folders(dest.parent().unwrap(), (0, 0)).unwrap();
        fs::write(&dest, "old").unwrap();
        let meta = fs::symlink_metadata(&host).unwrap();
        copy_one(&host, &meta, &dest, (0, 0)).unwrap();
        assert_eq!(fs::read_to_string(&dest).unwrap(), "new");
        let copied = fs::metadata(&dest).unwrap();
        assert_eq!(copied.mtime_nsec(), meta.mtime_nsec());
        assert_eq!(fs::read_dir(dest.parent().unwrap()).unwrap().count(), 1);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        let meta = fs::symlink_metadata(&link).unwrap();
        copy_one(&link, &meta, &dest, (0, 0)).unwrap();
        assert_eq!(fs::read_link(&dest).unwrap(), Path::new("/etc/passwd"));
        remove(&dest).unwrap();
        remove(&dest).unwrap();
        assert!(fs::symlink_metadata(&dest).is_err());
        assert!(host.exists(), "the host file stays");
    }
}
