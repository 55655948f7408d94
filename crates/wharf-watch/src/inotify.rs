//! The changed paths under the watched roots, read from inotify: one watch per folder
//! (a project of 10,000 files in 500 folders costs 500 watches in the kernel and a map of
//! their paths here; nothing runs while nothing changes). A folder that appears is watched
//! at once and everything already in it is reported, since its first files may have come
//! before the watch did. Folders that no rule takes (`.git`, ignored trees) are not
//! watched. Symlinks are reported, never followed.

use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;

use crate::error::WatchError;

/// Decides whether a folder is worth watching (some rule may take what is in it).
pub type Wanted = dyn Fn(&Path) -> bool;

/// A recursive inotify watch over some roots.
pub struct Watcher {
    fd: OwnedFd,
    folders: HashMap<i32, PathBuf>,
    roots: Vec<PathBuf>,
    wanted: Box<Wanted>,
    buffer: Vec<MaybeUninit<u8>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("roots", &self.roots)
            .field("folders", &self.folders.len())
            .finish()
    }
}

fn mask() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MODIFY
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::ATTRIB
        | WatchFlags::DONT_FOLLOW
        | WatchFlags::ONLYDIR
}

impl Watcher {
    /// Watches each root: a folder with everything below it that `wanted` keeps, a file
    /// through its parent folder (whose other entries the rules then leave out).
    pub fn new(roots: &[PathBuf], wanted: Box<Wanted>) -> Result<Self, WatchError> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| WatchError::io("start inotify for", "/", e.into()))?;
        let mut watcher = Self {
            fd,
            folders: HashMap::new(),
            roots: roots.to_vec(),
            wanted,
            buffer: vec![MaybeUninit::uninit(); 64 * 1024],
        };
        for root in roots {
            if root.is_dir() {
                watcher.watch_tree(root, &mut Vec::new())?;
            } else if let Some(parent) = root.parent() {
                watcher.watch_folder(parent)?;
            }
        }
        Ok(watcher)
    }

    /// How many folders are watched.
    pub fn folders(&self) -> usize {
        self.folders.len()
    }

    fn watch_folder(&mut self, folder: &Path) -> Result<(), WatchError> {
        match inotify::add_watch(&self.fd, folder, mask()) {
            Ok(wd) => {
                self.folders.insert(wd, folder.to_path_buf());
                Ok(())
            }
            // Gone, or replaced by a file, since it was seen: its events say so.
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(()),
            Err(Errno::NOSPC) => Err(WatchError::TooManyFolders {
                path: folder.to_path_buf(),
            }),
            Err(e) => Err(WatchError::io("watch", folder, e.into())),
        }
    }

    /// Watches `folder` and the folders below it; pushes every path below it on `found`.
    fn watch_tree(&mut self, folder: &Path, found: &mut Vec<PathBuf>) -> Result<(), WatchError> {
        self.watch_folder(folder)?;
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(WatchError::io("read", folder, e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && !(self.wanted)(&path) {
                continue;
            }
            found.push(path.clone());
            if is_dir {
                self.watch_tree(&path, found)?;
            }
        }
        Ok(())
    }

    /// Every path below the roots now (for a first sync, or after the kernel's queue
    /// overflowed).
    pub fn everything(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for root in &self.roots {
            walk(root, &*self.wanted, &mut found);
        }
        found
    }

    /// The paths changed since the last call, without waiting (none when nothing did).
    pub fn read(&mut self) -> Result<Vec<PathBuf>, WatchError> {
        let mut changed = Vec::new();
        let mut new_folders = Vec::new();
        let mut overflow = false;
        let mut failed = None;
        let mut buffer = std::mem::take(&mut self.buffer);
        {
            let mut reader = inotify::Reader::new(&self.fd, &mut buffer);
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::AGAIN | Errno::INTR) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                let flags = event.events();
                if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                    overflow = true;
                    continue;
                }
                if flags.contains(ReadFlags::IGNORED) {
                    self.folders.remove(&event.wd());
                    continue;
                }
                let (Some(folder), Some(name)) = (self.folders.get(&event.wd()), event.file_name())
                else {
                    continue;
                };
                let path = folder.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
                let appeared = flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO);
                if flags.contains(ReadFlags::ISDIR) && appeared && (self.wanted)(&path) {
                    new_folders.push(path.clone());
                }
                changed.push(path);
            }
        }
        self.buffer = buffer;
        if let Some(e) = failed {
            return Err(WatchError::io("read inotify events of", "/", e.into()));
        }
        for folder in new_folders {
            self.watch_tree(&folder, &mut changed)?;
        }
        if overflow {
            changed.extend(self.everything());
        }
        Ok(changed)
    }
}

impl AsFd for Watcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Pushes `root` (when a file) or every path below it, not following symlinks, skipping
/// folders that `wanted` leaves out.
pub fn walk(root: &Path, wanted: &Wanted, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        if root.symlink_metadata().is_ok() {
            found.push(root.to_path_buf());
        }
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !wanted(&path) {
            continue;
        }
        found.push(path.clone());
        if is_dir {
            walk(&path, wanted, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settle(watcher: &mut Watcher) -> Vec<PathBuf> {
        let mut all = watcher.read().unwrap();
        all.sort();
        all.dedup();
        all
    }

    #[test]
    fn reports_edits_deletions_and_new_folders_with_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("a.py"), "1").unwrap();
        let wanted = |p: &Path| p.file_name().is_none_or(|n| n != ".git");
        let mut watcher = Watcher::new(std::slice::from_ref(&root), Box::new(wanted)).unwrap();
        assert_eq!(watcher.folders(), 1, "{watcher:?}");
        assert!(settle(&mut watcher).is_empty());

        std::fs::write(root.join("a.py"), "2").unwrap();
        assert_eq!(settle(&mut watcher), [root.join("a.py")]);

        // A folder made with its content before the watch could see it.
        let staged = dir.path().join("staged");
        std::fs::create_dir_all(staged.join("deep")).unwrap();
        std::fs::write(staged.join("deep/b.py"), "b").unwrap();
        std::fs::rename(&staged, root.join("pkg")).unwrap();
        assert_eq!(
            settle(&mut watcher),
            [
                root.join("pkg"),
                root.join("pkg/deep"),
                root.join("pkg/deep/b.py")
            ]
        );
        std::fs::write(root.join("pkg/deep/c.py"), "c").unwrap();
        assert_eq!(settle(&mut watcher), [root.join("pkg/deep/c.py")]);

        std::fs::remove_file(root.join("a.py")).unwrap();
        assert_eq!(settle(&mut watcher), [root.join("a.py")]);
    }

    #[test]
    fn a_watched_file_is_seen_through_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("requirements.txt");
        std::fs::write(&file, "flask").unwrap();
        let mut watcher = Watcher::new(std::slice::from_ref(&file), Box::new(|_| true)).unwrap();
        std::fs::write(&file, "flask\nrequests").unwrap();
        assert_eq!(settle(&mut watcher), [file]);
    }
}
