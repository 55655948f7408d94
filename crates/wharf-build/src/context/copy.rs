//! COPY and ADD into a destination root filesystem, with the semantics of BuildKit's file
//! operation (tonistiigi/fsutil `copy`).

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, CWD};

use super::archive;
use super::ignore::IgnoreMatcher;
use super::pattern::go_clean;
use super::resolve::{
    apply_metadata, base_name, display_in_root, lstat, mkdir_all, mtime_of, resolve_in_root,
    set_times,
};
use super::tree::{is_socket, kind_of, Entry, EntryKind, SourceMatch, SourceTree};
use super::{Error, Result};

/// Options of one COPY or ADD.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// `--chown` as numeric ids: owner of every copied entry and of every directory the copy
    /// creates. Without it, context files become 0:0 and stage files keep their owner.
    pub chown: Option<(u32, u32)>,
    /// `--chmod` as a number: replaces the 0777 bits of copied files *and* directories
    /// (setuid/setgid/sticky come from the source), as BuildKit does.
    pub chmod: Option<u32>,
    /// `--exclude` patterns, relative to each copied directory.
    pub excludes: Vec<String>,
    /// `--parents`: keep each match's path below its pivot (the part of the source before
    /// `/./`, else the root), creating the parent directories with their source metadata.
    pub parents: bool,
    /// ADD: a local file that is a tar archive (plain, gzip or zstd; found by content, not
    /// name) is extracted into `dest` instead of copied. Extracted entries keep the owner
    /// recorded in the archive unless `chown` is set (current BuildKit applies `--chown`).
    pub extract_archives: bool,
}

/// Copies `matches` (from [`SourceTree::resolve`]) to `dest` inside the root filesystem at
/// `dest_root`, as Docker's BuildKit does:
///
/// - `dest` is relative to `workdir` unless absolute, and is resolved inside `dest_root`
///   (an image symlink to `/etc` leads to `<dest_root>/etc`). Missing parents are created
///   0755, owned by the `--chown` user or root.
/// - A directory source copies its contents (merged into an existing directory; created if
///   missing). A file goes to `dest/<name>` when `dest` ends in `/` or is an existing
///   directory, else to `dest` itself, replacing an existing file.
/// - More than one match needs `dest` to end in `/` or to be an existing directory, or the
///   copy fails with Docker's message.
/// - Symlinks inside a copied directory are copied as symlinks; mtimes are kept; files
///   linked to each other stay linked in the copy; xattrs are not copied.
pub fn copy(
    tree: &SourceTree,
    matches: &[SourceMatch],
    dest_root: &Path,
    dest: &str,
    workdir: &str,
    options: &CopyOptions,
) -> Result<()> {
    let joined = if dest.starts_with('/') {
        dest.to_owned()
    } else {
        format!("{workdir}/{dest}")
    };
    let dir_syntax = dest.ends_with('/') || dest.ends_with("/.") || options.parents;
    let dest_rel = resolve_in_root(dest_root, Path::new(&go_clean(&joined)), true)?;
    let dest_host = dest_root.join(&dest_rel);
    let created_owner = options.chown.unwrap_or((0, 0));
    if dir_syntax {
        mkdir_all(dest_root, &dest_rel, created_owner)?;
    } else if let Some(parent) = dest_rel.parent() {
        mkdir_all(dest_root, parent, created_owner)?;
    }
    let dest_is_dir = lstat(&dest_host)?.is_some_and(|m| m.is_dir());
    if matches.len() > 1 && !dir_syntax && !dest_is_dir {
        return Err(Error::MultipleSources {
            instruction: if options.extract_archives {
                "ADD"
            } else {
                "COPY"
            },
        });
    }
    let exclude = if options.excludes.is_empty() {
        None
    } else {
        Some(IgnoreMatcher::from_patterns(&options.excludes)?)
    };
    let mut copier = Copier {
        tree,
        dest_root,
        options,
        exclude,
        dir_times: Vec::new(),
        links: HashMap::new(),
    };
    for m in matches {
        let src = tree.root.join(&m.resolved);
        if options.extract_archives && m.kind == EntryKind::File {
            if let Some(reader) = archive::open_archive(&src)? {
                mkdir_all(dest_root, &dest_rel, created_owner)?;
                archive::extract_tar(reader, &src, &dest_host, options.chown)?;
                continue;
            }
        }
        if options.parents {
            copier.copy_with_parents(m, &dest_host)?;
        } else {
            copier.copy_match(m, &dest_host)?;
        }
    }
    copier.finish()
}

struct Copier<'a> {
    tree: &'a SourceTree,
    dest_root: &'a Path,
    options: &'a CopyOptions,
    exclude: Option<IgnoreMatcher>,
    /// Directories whose mtime is set last, innermost first, since copying into a
    /// directory changes it.
    dir_times: Vec<(PathBuf, (i64, i64))>,
    /// Files with several links copied so far, by (device, inode): their copy, which the
    /// other links of the same file link to, as BuildKit keeps hard links.
    links: HashMap<(u64, u64), PathBuf>,
}

impl Copier<'_> {
    fn copy_match(&mut self, m: &SourceMatch, dest: &Path) -> Result<()> {
        let existing = lstat(dest)?;
        if m.kind == EntryKind::Dir {
            match existing {
                None => {
                    let rel = dest.strip_prefix(self.dest_root).unwrap_or(Path::new(""));
                    mkdir_all(self.dest_root, rel, self.options.chown.unwrap_or((0, 0)))?
                }
                Some(e) if e.is_dir() => {}
                Some(_) => return Err(self.not_a_dir(dest)),
            }
            let entries = self.tree.walk(&m.resolved, self.exclude.as_ref())?;
            let src_top = self.tree.root.join(&m.resolved);
            // The first entry is the directory itself, whose metadata BuildKit does not copy.
            for entry in entries.iter().skip(1) {
                self.copy_entry(
                    &src_top.join(&entry.rel),
                    &entry.meta,
                    &dest.join(&entry.rel),
                )?;
            }
            return Ok(());
        }
        let target = match existing {
            Some(e) if e.is_dir() => dest.join(base_name(&m.path)),
            _ => dest.to_owned(),
        };
        let src = self.tree.root.join(&m.resolved);
        let meta = fs::symlink_metadata(&src).map_err(Error::io("stat", &src))?;
        self.copy_entry(&src, &meta, &target)
    }

    fn copy_with_parents(&mut self, m: &SourceMatch, dest: &Path) -> Result<()> {
        let rel = m
            .path
            .strip_prefix(&m.pivot)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(base_name(&m.path)));
        let mut src_dir = m.pivot.clone();
        let mut target = dest.to_path_buf();
        for component in rel.parent().into_iter().flat_map(Path::components) {
            src_dir.push(component);
            target.push(component);
            if lstat(&target)?.is_some() {
                continue;
            }
            let src = self
                .tree
                .root
                .join(resolve_in_root(&self.tree.root, &src_dir, true)?);
            let meta = fs::symlink_metadata(&src).map_err(Error::io("stat", &src))?;
            self.copy_entry(&src, &meta, &target)?;
        }
        // The match itself is not followed: a symlink stays a symlink.
        let src = self
            .tree
            .root
            .join(resolve_in_root(&self.tree.root, &m.path, false)?);
        let meta = fs::symlink_metadata(&src).map_err(Error::io("stat", &src))?;
        let target = dest.join(&rel);
        if !meta.is_dir() {
            return self.copy_entry(&src, &meta, &target);
        }
        let entries: Vec<Entry> = self.tree.walk(&m.resolved, self.exclude.as_ref())?;
        for entry in &entries {
            self.copy_entry(&src.join(&entry.rel), &entry.meta, &target.join(&entry.rel))?;
        }
        Ok(())
    }

    /// Copies one entry (a directory without its contents) to `target`, whose parent exists
    /// and was checked not to be a symlink.
    fn copy_entry(&mut self, src: &Path, meta: &Metadata, target: &Path) -> Result<()> {
        let owner = match self.options.chown {
            Some(owner) => owner,
            None if self.tree.keep_ownership => (meta.uid(), meta.gid()),
            None => (0, 0),
        };
        let mut mode = meta.mode() & 0o7777;
        if let Some(chmod) = self.options.chmod {
            mode = (mode & !0o777) | (chmod & 0o777);
        }
        let existing = lstat(target)?;
        let kind = kind_of(meta);
        if kind == EntryKind::Dir {
            match existing {
                Some(e) if e.is_dir() => {}
                Some(_) => return Err(self.not_a_dir(target)),
                None => fs::create_dir(target).map_err(Error::io("create directory", target))?,
            }
            std::os::unix::fs::lchown(target, Some(owner.0), Some(owner.1))
                .map_err(Error::io("chown", target))?;
            fs::set_permissions(target, fs::Permissions::from_mode(mode))
                .map_err(Error::io("chmod", target))?;
            self.dir_times.push((target.to_owned(), mtime_of(meta)));
            return Ok(());
        }
        if let Some(e) = existing {
            if e.is_dir() {
                return Err(Error::ReplaceDirectory {
                    path: display_in_root(self.dest_root, target),
                });
            }
            fs::remove_file(target).map_err(Error::io("remove", target))?;
        }
        let inode = (meta.dev(), meta.ino());
        if kind == EntryKind::File && meta.nlink() > 1 {
            if let Some(first) = self.links.get(&inode) {
                return fs::hard_link(first, target).map_err(Error::io("link", target));
            }
            self.links.insert(inode, target.to_owned());
        }
        match kind {
            EntryKind::File => copy_file(src, target, owner, mode)?,
            EntryKind::Symlink => {
                let link = fs::read_link(src).map_err(Error::io("read link", src))?;
                std::os::unix::fs::symlink(&link, target)
                    .map_err(Error::io("create symlink", target))?;
            }
            EntryKind::Other if is_socket(meta) => {
                return Err(Error::UnsupportedFileType {
                    path: src.display().to_string(),
                })
            }
            EntryKind::Other => {
                let file_type = FileType::from_raw_mode(meta.mode());
                rustix::fs::mknodat(
                    CWD,
                    target,
                    file_type,
                    Mode::from_raw_mode(mode),
                    meta.rdev(),
                )
                .map_err(|e| Error::Io {
                    action: "create device",
                    path: target.to_owned(),
                    source: e.into(),
                })?;
            }
            EntryKind::Dir => unreachable!("handled above"),
        }
        apply_metadata(
            target,
            kind == EntryKind::Symlink,
            owner,
            mode,
            mtime_of(meta),
        )
    }

    fn not_a_dir(&self, path: &Path) -> Error {
        Error::NotADirectory {
            path: display_in_root(self.dest_root, path),
        }
    }

    fn finish(self) -> Result<()> {
        for (dir, mtime) in self.dir_times.iter().rev() {
            set_times(dir, *mtime)?;
        }
        Ok(())
    }
}

/// Copies a regular file's content into a new file (never through a symlink at `target`).
fn copy_file(src: &Path, target: &Path, owner: (u32, u32), mode: u32) -> Result<()> {
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    let mut from = File::options()
        .read(true)
        .custom_flags(nofollow)
        .open(src)
        .map_err(Error::io("open", src))?;
    let mut to = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nofollow)
        .open(target)
        .map_err(Error::io("create", target))?;
    io::copy(&mut from, &mut to).map_err(Error::io("write", target))?;
    // Owner before mode: chown clears setuid/setgid.
    std::os::unix::fs::fchown(&to, Some(owner.0), Some(owner.1))
        .map_err(Error::io("chown", target))?;
    to.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(Error::io("chmod", target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Fixture {
        _dirs: (tempfile::TempDir, tempfile::TempDir),
        src: PathBuf,
        dest: PathBuf,
    }

    fn fixture() -> Fixture {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (src, dest) = (a.path().to_owned(), b.path().to_owned());
        Fixture {
            _dirs: (a, b),
            src,
            dest,
        }
    }

    fn write(root: &Path, rel: &str, content: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn run(
        tree: &SourceTree,
        srcs: &[&str],
        dest_root: &Path,
        dest: &str,
        o: &CopyOptions,
    ) -> Result<()> {
        let srcs: Vec<String> = srcs.iter().map(|s| s.to_string()).collect();
        let matches = tree.resolve(&srcs, &o.excludes)?;
        copy(tree, &matches, dest_root, dest, "/app", o)
    }

    fn read(path: PathBuf) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn mode(path: PathBuf) -> u32 {
        fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    fn owner(path: PathBuf) -> (u32, u32) {
        let m = fs::symlink_metadata(path).unwrap();
        (m.uid(), m.gid())
    }

    #[test]
    fn a_file_to_the_workdir_as_dot() {
        let f = fixture();
        write(&f.src, "requirements.txt", "flask\n");
        fs::create_dir_all(f.dest.join("app")).unwrap();
        let tree = SourceTree::context(&f.src, None);
        run(
            &tree,
            &["requirements.txt"],
            &f.dest,
            ".",
            &CopyOptions::default(),
        )
        .unwrap();
        assert_eq!(read(f.dest.join("app/requirements.txt")), "flask\n");
        run(
            &tree,
            &["requirements.txt"],
            &f.dest,
            "./",
            &CopyOptions::default(),
        )
        .unwrap();
    }

    #[test]
    fn hard_links_stay_linked() {
        let f = fixture();
        write(&f.src, "dir/a", "same");
        fs::hard_link(f.src.join("dir/a"), f.src.join("dir/b")).unwrap();
        write(&f.src, "dir/c", "other");
        let tree = SourceTree::context(&f.src, None);
        run(&tree, &["dir"], &f.dest, "/out/", &CopyOptions::default()).unwrap();
        let inode = |name: &str| fs::metadata(f.dest.join("out").join(name)).unwrap().ino();
        assert_eq!(inode("a"), inode("b"));
        assert_ne!(inode("a"), inode("c"));
        assert_eq!(read(f.dest.join("out/b")), "same");
    }

    #[test]
    fn file_destinations() {
        let f = fixture();
        let tree = SourceTree::context(&f.src, None);
        write(&f.src, "a.txt", "A");
        let o = CopyOptions::default();
        run(&tree, &["a.txt"], &f.dest, "/x/y/", &o).unwrap();
        assert_eq!(read(f.dest.join("x/y/a.txt")), "A");
        assert_eq!(mode(f.dest.join("x")), 0o755);
        run(&tree, &["a.txt"], &f.dest, "renamed.txt", &o).unwrap();
        assert_eq!(read(f.dest.join("app/renamed.txt")), "A");
        run(&tree, &["a.txt"], &f.dest, "/", &o).unwrap();
        assert_eq!(read(f.dest.join("a.txt")), "A");
        // An existing directory receives the file by name; an existing file is replaced.
        run(&tree, &["a.txt"], &f.dest, "/x", &o).unwrap();
        assert_eq!(read(f.dest.join("x/a.txt")), "A");
        write(&f.src, "a.txt", "B");
        run(&tree, &["a.txt"], &f.dest, "renamed.txt", &o).unwrap();
        assert_eq!(read(f.dest.join("app/renamed.txt")), "B");
    }

    #[test]
    fn directories_copy_their_contents_and_merge() {
        let f = fixture();
        let tree = SourceTree::context(&f.src, None);
        write(&f.src, "dir/one", "1");
        write(&f.src, "dir/sub/two", "2");
        write(&f.dest, "app/existing", "e");
        write(&f.dest, "app/sub/old", "o");
        run(&tree, &["dir"], &f.dest, ".", &CopyOptions::default()).unwrap();
        assert_eq!(read(f.dest.join("app/one")), "1");
        assert_eq!(read(f.dest.join("app/sub/two")), "2");
        assert_eq!(read(f.dest.join("app/sub/old")), "o");
        assert_eq!(read(f.dest.join("app/existing")), "e");
        assert!(!f.dest.join("app/dir").exists());
        write(&f.dest, "file", "f");
        let err = run(&tree, &["dir"], &f.dest, "/file", &CopyOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "cannot copy to non-directory: /file");
    }

    #[test]
    fn several_sources_need_a_directory_destination() {
        let f = fixture();
        let tree = SourceTree::context(&f.src, None);
        write(&f.src, "a.txt", "a");
        write(&f.src, "b.txt", "b");
        let o = CopyOptions::default();
        let err = run(&tree, &["a.txt", "b.txt"], &f.dest, "/out", &o).unwrap_err();
        assert_eq!(
            err.to_string(),
            "When using COPY with more than one source file, the destination must be a directory and end with a /"
        );
        assert!(run(&tree, &["*.txt"], &f.dest, "/out", &o).is_err());
        run(&tree, &["*.txt"], &f.dest, "/out/", &o).unwrap();
        assert_eq!(read(f.dest.join("out/b.txt")), "b");
        // An existing directory (the usual `COPY *.json .`) is accepted, as BuildKit does.
        run(&tree, &["a.txt", "b.txt"], &f.dest, "/out", &o).unwrap();
    }

    #[test]
    fn symlinks_are_copied_not_followed() {
        let f = fixture();
        let tree = SourceTree::context(&f.src, None);
        write(&f.src, "dir/real", "r");
        symlink("/etc/passwd", f.src.join("dir/evil")).unwrap();
        symlink("../../..", f.src.join("dir/up")).unwrap();
        run(&tree, &["dir"], &f.dest, "/d", &CopyOptions::default()).unwrap();
        assert_eq!(
            fs::read_link(f.dest.join("d/evil")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(
            fs::read_link(f.dest.join("d/up")).unwrap(),
            Path::new("../../..")
        );
        // A source that is a symlink is followed, inside the root, and named after the link.
        symlink("dir/real", f.src.join("link")).unwrap();
        run(&tree, &["link"], &f.dest, "/l/", &CopyOptions::default()).unwrap();
        assert_eq!(read(f.dest.join("l/link")), "r");
        assert!(!fs::symlink_metadata(f.dest.join("l/link"))
            .unwrap()
            .is_symlink());
    }

    #[test]
    fn destination_symlinks_stay_inside_dest_root() {
        let f = fixture();
        let outside = tempfile::tempdir().unwrap();
        let tree = SourceTree::context(&f.src, None);
        write(&f.src, "conf", "c");
        fs::create_dir_all(f.dest.join("etc")).unwrap();
        symlink("/etc", f.dest.join("cfg")).unwrap();
        symlink(outside.path(), f.dest.join("out")).unwrap();
        symlink("../../../../../..", f.dest.join("app")).unwrap();
        let o = CopyOptions::default();
        run(&tree, &["conf"], &f.dest, "/cfg/", &o).unwrap();
        assert_eq!(read(f.dest.join("etc/conf")), "c");
        run(&tree, &["conf"], &f.dest, "/out/x", &o).unwrap();
        assert!(!outside.path().join("x").exists());
        assert!(f
            .dest
            .join(outside.path().strip_prefix("/").unwrap())
            .join("x")
            .exists());
        run(&tree, &["conf"], &f.dest, "rel", &o).unwrap();
        assert_eq!(read(f.dest.join("rel")), "c");
        // A destination naming a symlink follows it, inside the root, as BuildKit does.
        symlink("/wharf-test-target", f.dest.join("etc/name")).unwrap();
        run(&tree, &["conf"], &f.dest, "/etc/name", &o).unwrap();
        assert_eq!(read(f.dest.join("wharf-test-target")), "c");
        assert!(!Path::new("/wharf-test-target").exists());
        // Inside a copied directory, a symlink in the way is replaced, never written through.
        write(&f.src, "dir/passwd", "p");
        fs::create_dir(f.dest.join("d")).unwrap();
        symlink(outside.path().join("passwd"), f.dest.join("d/passwd")).unwrap();
        run(&tree, &["dir"], &f.dest, "/d", &o).unwrap();
        assert_eq!(read(f.dest.join("d/passwd")), "p");
        assert!(!outside.path().join("passwd").exists());
    }

    #[test]
    fn ownership_chown_and_chmod() {
        let f = fixture();
        write(&f.src, "d/f", "x");
        std::os::unix::fs::lchown(f.src.join("d/f"), Some(7), Some(8)).unwrap();
        fs::set_permissions(f.src.join("d/f"), fs::Permissions::from_mode(0o4750)).unwrap();
        let context = SourceTree::context(&f.src, None);
        run(&context, &["d"], &f.dest, "/ctx/", &CopyOptions::default()).unwrap();
        assert_eq!(owner(f.dest.join("ctx/f")), (0, 0));
        assert_eq!(mode(f.dest.join("ctx/f")), 0o4750);
        let stage = SourceTree::rootfs(&f.src);
        run(&stage, &["d"], &f.dest, "/stage/", &CopyOptions::default()).unwrap();
        assert_eq!(owner(f.dest.join("stage/f")), (7, 8));

        let o = CopyOptions {
            chown: Some((1000, 1001)),
            chmod: Some(0o640),
            ..Default::default()
        };
        fs::create_dir(f.src.join("d/sub")).unwrap();
        run(&stage, &["d"], &f.dest, "/new/parent/", &o).unwrap();
        assert_eq!(owner(f.dest.join("new")), (1000, 1001));
        assert_eq!(mode(f.dest.join("new")), 0o755);
        assert_eq!(owner(f.dest.join("new/parent/f")), (1000, 1001));
        assert_eq!(mode(f.dest.join("new/parent/f")), 0o4640);
        assert_eq!(mode(f.dest.join("new/parent/sub")), 0o640);
    }

    #[test]
    fn mtimes_are_preserved() {
        let f = fixture();
        write(&f.src, "d/sub/f", "x");
        let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for p in ["d/sub/f", "d/sub"] {
            File::open(f.src.join(p))
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        run(
            &SourceTree::context(&f.src, None),
            &["d"],
            &f.dest,
            "/o",
            &CopyOptions::default(),
        )
        .unwrap();
        for p in ["o/sub/f", "o/sub"] {
            assert_eq!(
                fs::metadata(f.dest.join(p)).unwrap().modified().unwrap(),
                when,
                "{p}"
            );
        }
    }

    #[test]
    fn excludes_and_ignore_inside_directories() {
        let f = fixture();
        let ignore = IgnoreMatcher::from_patterns(&["d/secret"]).unwrap();
        let tree = SourceTree::context(&f.src, Some(ignore));
        write(&f.src, "d/keep.rs", "k");
        write(&f.src, "d/notes.md", "n");
        write(&f.src, "d/secret", "s");
        let o = CopyOptions {
            excludes: vec!["*.md".into()],
            ..Default::default()
        };
        run(&tree, &["d"], &f.dest, "/o", &o).unwrap();
        assert!(f.dest.join("o/keep.rs").exists());
        assert!(!f.dest.join("o/notes.md").exists());
        assert!(!f.dest.join("o/secret").exists());
    }

    #[test]
    fn parents_keep_paths_below_the_pivot() {
        let f = fixture();
        write(&f.src, "x/a/file.txt", "1");
        write(&f.src, "y/b/file.txt", "2");
        fs::set_permissions(f.src.join("x"), fs::Permissions::from_mode(0o750)).unwrap();
        let tree = SourceTree::context(&f.src, None);
        let o = CopyOptions {
            parents: true,
            ..Default::default()
        };
        run(
            &tree,
            &["*/a/file.txt", "y/./b/file.txt"],
            &f.dest,
            "/p",
            &o,
        )
        .unwrap();
        assert_eq!(read(f.dest.join("p/x/a/file.txt")), "1");
        assert_eq!(mode(f.dest.join("p/x")), 0o750);
        assert_eq!(read(f.dest.join("p/b/file.txt")), "2");
    }

    fn tar_gz(entries: &[(&str, &str, u64)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, content, uid) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_uid(*uid);
            header.set_gid(*uid);
            header.set_mtime(1000);
            builder
                .append_data(&mut header, name, content.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn add_extracts_archives_by_content() {
        let f = fixture();
        let tree = SourceTree::context(&f.src, None);
        fs::write(
            f.src.join("bundle.bin"),
            tar_gz(&[("top/file", "data", 33)]),
        )
        .unwrap();
        write(&f.src, "plain.tar.gz", "not really an archive");
        let add = CopyOptions {
            extract_archives: true,
            ..Default::default()
        };
        run(
            &tree,
            &["bundle.bin", "plain.tar.gz"],
            &f.dest,
            "/opt/",
            &add,
        )
        .unwrap();
        assert_eq!(read(f.dest.join("opt/top/file")), "data");
        assert_eq!(owner(f.dest.join("opt/top/file")), (33, 33));
        assert_eq!(
            read(f.dest.join("opt/plain.tar.gz")),
            "not really an archive"
        );
        // COPY never extracts; --chown overrides archive owners.
        run(
            &tree,
            &["bundle.bin"],
            &f.dest,
            "/c/",
            &CopyOptions::default(),
        )
        .unwrap();
        assert!(f.dest.join("c/bundle.bin").is_file());
        let chown = CopyOptions {
            chown: Some((5, 6)),
            ..add
        };
        run(&tree, &["bundle.bin"], &f.dest, "/ch", &chown).unwrap();
        assert_eq!(owner(f.dest.join("ch/top/file")), (5, 6));
    }
}
