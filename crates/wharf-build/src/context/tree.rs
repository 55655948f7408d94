//! A source of COPY files: the build context (filtered by `.dockerignore`) or a stage's root
//! filesystem. Resolves sources as BuildKit does and hashes them for the build cache.

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ignore::{IgnoreMatcher, MatchState};
use super::pattern::{go_clean, has_wildcards, GoGlob};
use super::resolve::{lstat, resolve_in_root};
use super::{Error, Result};

/// Where COPY reads from.
#[derive(Debug, Clone)]
pub struct SourceTree {
    /// The directory that is `/` for COPY sources.
    pub root: PathBuf,
    /// The `.dockerignore` patterns of a build context; files they exclude do not exist.
    pub ignore: Option<IgnoreMatcher>,
    /// Whether copies keep the files' uid/gid: true for a stage or image (`COPY --from`),
    /// false for the build context, whose files Docker sends as 0:0.
    pub keep_ownership: bool,
}

/// What a matched source is, after following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A device, fifo or socket.
    Other,
}

/// One file or directory a COPY source matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMatch {
    /// Index of the source, in the list given to [`SourceTree::resolve`], that matched.
    pub source: usize,
    /// The matched path relative to the root, before its last component is followed if a
    /// symlink; its last component names the copy (`COPY link /dir/` makes `/dir/link`).
    pub path: PathBuf,
    /// `path` with every symlink followed inside the root: what gets copied.
    pub resolved: PathBuf,
    /// For `COPY --parents`: where the kept parent directories start, relative to the root
    /// (the part before a `/./` in the source, else the root).
    pub pivot: PathBuf,
    pub kind: EntryKind,
}

/// An entry found while walking a directory.
pub(crate) struct Entry {
    /// Relative to the walked directory; empty for the directory itself.
    pub(crate) rel: PathBuf,
    pub(crate) meta: Metadata,
}

/// Hash input tags, so that different fields can never produce the same byte stream.
const TAG_MATCH: u8 = b'M';
const TAG_ENTRY: u8 = b'E';

impl SourceTree {
    /// The build context at `root`, filtered by its `.dockerignore` patterns.
    pub fn context(root: impl Into<PathBuf>, ignore: Option<IgnoreMatcher>) -> Self {
        Self {
            root: root.into(),
            ignore,
            keep_ownership: false,
        }
    }

    /// A stage's or image's root filesystem (`COPY --from`): nothing ignored, ownership kept.
    pub fn rootfs(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            ignore: None,
            keep_ownership: true,
        }
    }

    /// Resolves COPY sources as written (relative to the root; a leading `/` is the root).
    /// Wildcards (`*`, `?`, `[...]`, Go `filepath.Match` per component) may appear in any
    /// component and match entries in lexical order; a wildcard match of a symlink is not
    /// descended into, but each match itself is followed inside the root. Ignored files do not
    /// exist. Top-level wildcard matches that `excludes` (COPY `--exclude`) matches are
    /// dropped; the patterns are relative to the wildcard's parent directory. A source that
    /// matches nothing fails with BuildKit's `"/path": not found`.
    pub fn resolve(&self, sources: &[String], excludes: &[String]) -> Result<Vec<SourceMatch>> {
        let exclude = exclude_matcher(excludes)?;
        let mut matches = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let before = matches.len();
            self.resolve_one(index, source, exclude.as_ref(), &mut matches)?;
            if matches.len() == before {
                let cleaned = go_clean(source.trim_start_matches('/'));
                let shown = if cleaned == "." {
                    String::new()
                } else {
                    cleaned
                };
                return Err(Error::NotFound {
                    path: format!("/{shown}"),
                });
            }
        }
        Ok(matches)
    }

    fn resolve_one(
        &self,
        index: usize,
        source: &str,
        exclude: Option<&IgnoreMatcher>,
        out: &mut Vec<SourceMatch>,
    ) -> Result<()> {
        let trimmed = source.trim_start_matches('/');
        let (pivot, full) = match trimmed.split_once("/./") {
            Some((before, after)) => (go_clean(before), go_clean(&format!("{before}/{after}"))),
            None => (".".to_owned(), go_clean(trimmed)),
        };
        let pivot = rel_path(&pivot);
        let components: Vec<&str> = if full == "." {
            Vec::new()
        } else {
            full.split('/').collect()
        };
        let Some(first_wild) = components.iter().position(|c| has_wildcards(c)) else {
            return self.push_match(index, rel_path(&full), &pivot, out);
        };
        let globs = components[first_wild..]
            .iter()
            .map(|c| GoGlob::new(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| Error::Pattern {
                pattern: source.to_owned(),
                line: None,
                reason,
            })?;
        let base_dir = components[..first_wild].join("/");
        let base = resolve_in_root(&self.root, Path::new(&base_dir), true)?;
        let mut candidates = Vec::new();
        self.glob_level(&base, Path::new(""), &globs, &mut candidates)?;
        for (rel, is_dir) in candidates {
            if exclude.is_some_and(|e| e.is_excluded(&rel)) {
                continue;
            }
            let path = base.join(&rel);
            if self.exists_in_context(&path, is_dir)? {
                self.push_match(index, path, &pivot, out)?;
            }
        }
        Ok(())
    }

    /// Matches `globs[0]` against the entries of `base/rel`, descending for the next globs.
    fn glob_level(
        &self,
        base: &Path,
        rel: &Path,
        globs: &[GoGlob],
        out: &mut Vec<(PathBuf, bool)>,
    ) -> Result<()> {
        let Some((glob, rest)) = globs.split_first() else {
            return Ok(());
        };
        let dir = self.root.join(base).join(rel);
        for name in sorted_names(&dir, true)? {
            let Some(name_str) = name.to_str() else {
                continue;
            };
            if !glob.matches(name_str) {
                continue;
            }
            let Some(meta) = lstat(&dir.join(&name))? else {
                continue;
            };
            let child = rel.join(&name);
            if rest.is_empty() {
                out.push((child, meta.is_dir()));
            } else if meta.is_dir() {
                self.glob_level(base, &child, rest, out)?;
            }
        }
        Ok(())
    }

    fn push_match(
        &self,
        index: usize,
        path: PathBuf,
        pivot: &Path,
        out: &mut Vec<SourceMatch>,
    ) -> Result<()> {
        // The path itself (a symlink stays one) must exist in the context, then its target.
        let unfollowed = resolve_in_root(&self.root, &path, false)?;
        let Some(meta) = lstat(&self.root.join(&unfollowed))? else {
            return Ok(());
        };
        if !self.exists_in_context(&unfollowed, meta.is_dir())? {
            return Ok(());
        }
        let resolved = if meta.file_type().is_symlink() {
            resolve_in_root(&self.root, &path, true)?
        } else {
            unfollowed
        };
        let Some(meta) = lstat(&self.root.join(&resolved))? else {
            return Ok(());
        };
        if !self.exists_in_context(&resolved, meta.is_dir())? {
            return Ok(());
        }
        out.push(SourceMatch {
            source: index,
            path,
            resolved,
            pivot: pivot.to_owned(),
            kind: kind_of(&meta),
        });
        Ok(())
    }

    /// Whether `rel` survives `.dockerignore`: it is not excluded, or it is an excluded
    /// directory that holds re-included entries (Docker sends such directories).
    fn exists_in_context(&self, rel: &Path, is_dir: bool) -> Result<bool> {
        let Some(ignore) = &self.ignore else {
            return Ok(true);
        };
        let text = rel.to_string_lossy();
        if text.is_empty() {
            return Ok(true);
        }
        let parent = text.rfind('/').map_or("", |i| &text[..i]);
        let Some((_, parent_state)) = ignore.dir_state(parent) else {
            return Ok(false);
        };
        let mut state = MatchState::new();
        if !ignore.eval(&text, &parent_state, Some(&mut state)) {
            return Ok(true);
        }
        if !is_dir || ignore.can_skip_dir(&text) {
            return Ok(false);
        }
        let mut found = Vec::new();
        self.walk_dir(rel, Path::new(""), &state, &[], None, &mut found)?;
        Ok(!found.is_empty())
    }

    /// Lists directory `dir` (relative to the root, already resolved) depth-first in
    /// lexical order, starting with `dir` itself, without following symlinks. Ignored
    /// entries and entries that `exclude` (relative to `dir`) matches are left out; an
    /// excluded directory is kept only when something below it is re-included.
    pub(crate) fn walk(&self, dir: &Path, exclude: Option<&IgnoreMatcher>) -> Result<Vec<Entry>> {
        let host = self.root.join(dir);
        let meta = fs::symlink_metadata(&host).map_err(Error::io("stat", &host))?;
        let mut out = vec![Entry {
            rel: PathBuf::new(),
            meta,
        }];
        let ignore_state = match &self.ignore {
            Some(ignore) => match ignore.dir_state(&dir.to_string_lossy()) {
                Some((_, state)) => state,
                None => return Ok(out),
            },
            None => MatchState::new(),
        };
        self.walk_dir(dir, Path::new(""), &ignore_state, &[], exclude, &mut out)?;
        Ok(out)
    }

    fn walk_dir(
        &self,
        top: &Path,
        rel: &Path,
        ignore_state: &[bool],
        exclude_state: &[bool],
        exclude: Option<&IgnoreMatcher>,
        out: &mut Vec<Entry>,
    ) -> Result<()> {
        let dir = self.root.join(top).join(rel);
        for name in sorted_names(&dir, false)? {
            let Some(meta) = lstat(&dir.join(&name))? else {
                continue;
            };
            let is_dir = meta.is_dir();
            let child = rel.join(&name);
            // Match results handed to a directory's entries; only directories fill them.
            let mut next_ignore = MatchState::new();
            let mut next_exclude = MatchState::new();
            let mut hidden = false;
            if let Some(ignore) = &self.ignore {
                let ctx_path = top.join(&child);
                let ctx_path = ctx_path.to_string_lossy();
                if ignore.eval(&ctx_path, ignore_state, is_dir.then_some(&mut next_ignore)) {
                    if !is_dir || ignore.can_skip_dir(&ctx_path) {
                        continue;
                    }
                    hidden = true;
                }
            }
            if let Some(exclude) = exclude {
                let text = child.to_string_lossy();
                if exclude.eval(&text, exclude_state, is_dir.then_some(&mut next_exclude)) {
                    if !is_dir || exclude.can_skip_dir(&text) {
                        continue;
                    }
                    hidden = true;
                }
            }
            let mark = out.len();
            if is_dir {
                out.push(Entry {
                    rel: child.clone(),
                    meta,
                });
                self.walk_dir(top, &child, &next_ignore, &next_exclude, exclude, out)?;
                // An excluded directory counts only with re-included entries inside.
                if hidden && out.len() == mark + 1 {
                    out.pop();
                }
            } else {
                out.push(Entry { rel: child, meta });
            }
        }
        Ok(())
    }

    /// A content hash of what `matches` would copy, for the build cache key: relative paths,
    /// file types, permission bits (with setuid/setgid/sticky), file contents, symlink targets
    /// and device numbers, plus uid/gid when [`keep_ownership`](Self::keep_ownership) is set.
    /// Not mtimes, not xattrs. `excludes` are the COPY `--exclude` patterns. Returns
    /// `sha256:<hex>`.
    pub fn digest(&self, matches: &[SourceMatch], excludes: &[String]) -> Result<String> {
        let exclude = exclude_matcher(excludes)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        for m in matches {
            hasher.update([TAG_MATCH]);
            field(&mut hasher, m.path.as_os_str().as_bytes());
            field(&mut hasher, m.pivot.as_os_str().as_bytes());
            // COPY --parents copies a symlink match as a symlink: its text counts too.
            if m.path != m.resolved {
                let link = self.root.join(resolve_in_root(&self.root, &m.path, false)?);
                if let Ok(target) = fs::read_link(&link) {
                    field(&mut hasher, target.as_os_str().as_bytes());
                }
            }
            let entries = if m.kind == EntryKind::Dir {
                self.walk(&m.resolved, exclude.as_ref())?
            } else {
                let host = self.root.join(&m.resolved);
                let meta = fs::symlink_metadata(&host).map_err(Error::io("stat", &host))?;
                vec![Entry {
                    rel: PathBuf::new(),
                    meta,
                }]
            };
            for entry in &entries {
                self.hash_entry(&mut hasher, &m.resolved, entry, &mut buf)?;
            }
        }
        Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
    }

    fn hash_entry(&self, h: &mut Sha256, top: &Path, entry: &Entry, buf: &mut [u8]) -> Result<()> {
        let meta = &entry.meta;
        let kind = kind_of(meta);
        h.update([TAG_ENTRY, kind as u8]);
        field(h, entry.rel.as_os_str().as_bytes());
        h.update((meta.mode() & 0o7777).to_le_bytes());
        if self.keep_ownership {
            h.update(meta.uid().to_le_bytes());
            h.update(meta.gid().to_le_bytes());
        }
        // `join("")` would add a trailing slash, which a file's path must not have.
        let mut host = self.root.join(top);
        if !entry.rel.as_os_str().is_empty() {
            host.push(&entry.rel);
        }
        match kind {
            EntryKind::File => {
                h.update(meta.len().to_le_bytes());
                let mut file = File::options()
                    .read(true)
                    .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                    .open(&host)
                    .map_err(Error::io("open", &host))?;
                loop {
                    let n = file.read(buf).map_err(Error::io("read", &host))?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
            }
            EntryKind::Symlink => {
                let target = fs::read_link(&host).map_err(Error::io("read link", &host))?;
                field(h, target.as_os_str().as_bytes());
            }
            EntryKind::Other => h.update(meta.rdev().to_le_bytes()),
            EntryKind::Dir => {}
        }
        Ok(())
    }
}

fn exclude_matcher(excludes: &[String]) -> Result<Option<IgnoreMatcher>> {
    if excludes.is_empty() {
        return Ok(None);
    }
    IgnoreMatcher::from_patterns(excludes).map(Some)
}

/// A length-prefixed field of the hash input.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

pub(crate) fn kind_of(meta: &Metadata) -> EntryKind {
    let ft = meta.file_type();
    if ft.is_file() {
        EntryKind::File
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else {
        EntryKind::Other
    }
}

/// Whether a file type can be copied (BuildKit rejects sockets).
pub(crate) fn is_socket(meta: &Metadata) -> bool {
    meta.file_type().is_socket()
}

/// Names in `dir`, sorted bytewise like Go's `os.ReadDir`. A missing directory (or a
/// non-directory, when `missing_ok`) lists as empty.
fn sorted_names(dir: &Path, missing_ok: bool) -> Result<Vec<OsString>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e)
            if missing_ok
                && matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
        {
            return Ok(Vec::new())
        }
        Err(source) => {
            return Err(Error::Io {
                action: "read directory",
                path: dir.to_owned(),
                source,
            })
        }
    };
    let mut names = entries
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::io("read directory", dir))?;
    names.sort();
    Ok(names)
}

/// A cleaned relative path ("." becomes empty).
fn rel_path(cleaned: &str) -> PathBuf {
    if cleaned == "." {
        PathBuf::new()
    } else {
        PathBuf::from(cleaned.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn write(root: &Path, rel: &str, content: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn sources(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn paths(matches: &[SourceMatch]) -> Vec<String> {
        matches
            .iter()
            .map(|m| m.path.display().to_string())
            .collect()
    }

    fn context(patterns: &[&str]) -> (tempfile::TempDir, SourceTree) {
        let dir = tempfile::tempdir().unwrap();
        let ignore =
            (!patterns.is_empty()).then(|| IgnoreMatcher::from_patterns(patterns).unwrap());
        let tree = SourceTree::context(dir.path(), ignore);
        (dir, tree)
    }

    #[test]
    fn literal_sources_and_not_found_wording() {
        let (dir, tree) = context(&[]);
        write(dir.path(), "a.txt", "a");
        write(dir.path(), "src/main.rs", "fn main() {}");
        let m = tree
            .resolve(&sources(&["a.txt", "/src/", "."]), &[])
            .unwrap();
        assert_eq!(paths(&m), ["a.txt", "src", ""]);
        assert_eq!(m[0].kind, EntryKind::File);
        assert_eq!(m[1].kind, EntryKind::Dir);
        assert_eq!(m[2].source, 2);
        let err = tree
            .resolve(&sources(&["a.txt", "./missing.txt"]), &[])
            .unwrap_err();
        assert_eq!(err.to_string(), "\"/missing.txt\": not found");
    }

    #[test]
    fn wildcards_in_any_component_in_lexical_order() {
        let (dir, tree) = context(&[]);
        for f in [
            "b.txt",
            "a.txt",
            "c.md",
            "pkg/x/go.mod",
            "pkg/y/go.mod",
            "pkg/z/other",
        ] {
            write(dir.path(), f, f);
        }
        let m = tree
            .resolve(&sources(&["*.txt", "pkg/*/go.mod", "?.md"]), &[])
            .unwrap();
        assert_eq!(
            paths(&m),
            ["a.txt", "b.txt", "pkg/x/go.mod", "pkg/y/go.mod", "c.md"]
        );
        assert_eq!(m[3].source, 1);
        let err = tree.resolve(&sources(&["target/*.jar"]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "\"/target/*.jar\": not found");
        let m = tree
            .resolve(&sources(&["*"]), &sources(&["*.txt"]))
            .unwrap();
        assert_eq!(paths(&m), ["c.md", "pkg"]);
    }

    #[test]
    fn ignored_files_do_not_exist() {
        let (dir, tree) = context(&["secret*", "build", "!build/keep", "*.log"]);
        write(dir.path(), "secret.key", "x");
        write(dir.path(), "app.log", "x");
        write(dir.path(), "build/out.o", "x");
        write(dir.path(), "build/keep", "x");
        write(dir.path(), "main.c", "x");
        let err = tree.resolve(&sources(&["secret.key"]), &[]).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }));
        assert!(tree.resolve(&sources(&["*.log"]), &[]).is_err());
        assert!(tree.resolve(&sources(&["build/out.o"]), &[]).is_err());
        let m = tree.resolve(&sources(&["*"]), &[]).unwrap();
        assert_eq!(paths(&m), ["build", "main.c"]);
        // The excluded directory is sent only with its re-included file.
        let entries = tree.walk(Path::new(""), None).unwrap();
        let rels: Vec<_> = entries
            .iter()
            .map(|e| e.rel.display().to_string())
            .collect();
        assert_eq!(rels, ["", "build", "build/keep", "main.c"]);
    }

    #[test]
    fn hostile_symlinks_resolve_inside_the_root() {
        let (dir, tree) = context(&[]);
        let root = dir.path();
        symlink("/etc/passwd", root.join("evil")).unwrap();
        symlink("../../../../..", root.join("up")).unwrap();
        // Nothing at <root>/etc/passwd: the host's file must not be found.
        let err = tree.resolve(&sources(&["evil"]), &[]).unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        write(root, "etc/passwd", "inside");
        let m = tree
            .resolve(&sources(&["evil", "up/etc/passwd"]), &[])
            .unwrap();
        assert_eq!(m[0].path, Path::new("evil"));
        assert_eq!(m[0].resolved, Path::new("etc/passwd"));
        assert_eq!(m[1].resolved, Path::new("etc/passwd"));
        let m = tree.resolve(&sources(&["up"]), &[]).unwrap();
        assert_eq!(m[0].resolved, Path::new(""));
    }

    #[test]
    fn parents_pivot() {
        let (dir, tree) = context(&[]);
        write(dir.path(), "a/b/c.txt", "x");
        let m = tree
            .resolve(&sources(&["a/./b/c.txt", "a/b/*.txt"]), &[])
            .unwrap();
        assert_eq!(m[0].pivot, Path::new("a"));
        assert_eq!(m[0].path, Path::new("a/b/c.txt"));
        assert_eq!(m[1].pivot, Path::new(""));
    }

    fn digest_of(tree: &SourceTree, srcs: &[&str]) -> String {
        let m = tree.resolve(&sources(srcs), &[]).unwrap();
        tree.digest(&m, &[]).unwrap()
    }

    #[test]
    fn digest_of_a_single_file_reads_its_content() {
        let (dir, tree) = context(&[]);
        write(dir.path(), "requirements.txt", "flask");
        let first = digest_of(&tree, &["requirements.txt"]);
        write(dir.path(), "requirements.txt", "django");
        assert_ne!(digest_of(&tree, &["requirements.txt"]), first);
    }

    #[test]
    fn digest_tracks_content_mode_and_names_only() {
        let (dir, tree) = context(&["**/*.tmp"]);
        let root = dir.path();
        write(root, "app/main.py", "print(1)");
        write(root, "app/lib/util.py", "x = 1");
        symlink("lib/util.py", root.join("app/link")).unwrap();
        let base = digest_of(&tree, &["app"]);
        assert!(base.starts_with("sha256:") && base.len() == 71);
        assert_eq!(digest_of(&tree, &["app"]), base, "deterministic");

        // mtime only: unchanged.
        let f = File::options()
            .write(true)
            .open(root.join("app/main.py"))
            .unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(digest_of(&tree, &["app"]), base);
        // An ignored file: unchanged.
        write(root, "app/scratch.tmp", "junk");
        assert_eq!(digest_of(&tree, &["app"]), base);
        // Context ownership is not part of the key.
        std::os::unix::fs::lchown(root.join("app/main.py"), Some(1000), Some(1000)).unwrap();
        assert_eq!(digest_of(&tree, &["app"]), base);

        write(root, "app/main.py", "print(2)");
        let content = digest_of(&tree, &["app"]);
        assert_ne!(content, base);
        fs::set_permissions(root.join("app/main.py"), fs::Permissions::from_mode(0o4755)).unwrap();
        let mode = digest_of(&tree, &["app"]);
        assert_ne!(mode, content);
        fs::rename(root.join("app/main.py"), root.join("app/main2.py")).unwrap();
        let renamed = digest_of(&tree, &["app"]);
        assert_ne!(renamed, mode);
        fs::remove_file(root.join("app/link")).unwrap();
        symlink("lib", root.join("app/link")).unwrap();
        assert_ne!(digest_of(&tree, &["app"]), renamed);
        // Excludes change what is copied, so the digest.
        let m = tree.resolve(&sources(&["app"]), &[]).unwrap();
        assert_ne!(
            tree.digest(&m, &sources(&["lib"])).unwrap(),
            digest_of(&tree, &["app"])
        );
    }

    #[test]
    fn digest_of_a_stage_includes_ownership() {
        let dir = tempfile::tempdir().unwrap();
        let tree = SourceTree::rootfs(dir.path());
        write(dir.path(), "usr/bin/tool", "bin");
        let before = digest_of(&tree, &["/usr"]);
        std::os::unix::fs::lchown(dir.path().join("usr/bin/tool"), Some(1), Some(1)).unwrap();
        assert_ne!(digest_of(&tree, &["/usr"]), before);
    }
}
