//! A project's files in one input, for the targets that read folders: parts separated by
//! NUL bytes, each `path\ncontent`. Paths are made relative and stay inside the folder
//! they are written to (`..` and empty parts dropped), since the folder layout is not what
//! those targets test.

use std::fs;
use std::path::{Path, PathBuf};

/// The parts of `bytes`: (path, content); a part without a newline is a path alone.
pub fn parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    bytes
        .split(|&b| b == 0)
        .map(|part| {
            let (path, content) = match part.iter().position(|&b| b == b'\n') {
                Some(at) => (&part[..at], &part[at + 1..]),
                None => (part, &[][..]),
            };
            (String::from_utf8_lossy(path).into_owned(), content.to_vec())
        })
        .collect()
}

/// `path` below `root`: its normal parts only, or `None` when it has none.
pub fn inside(root: &Path, path: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    (!parts.is_empty()).then(|| {
        parts
            .iter()
            .fold(root.to_path_buf(), |p, part| p.join(part))
    })
}

/// Writes each part under `root` (a later part with a folder's name is skipped); returns
/// the relative paths written.
pub fn write(root: &Path, parts: &[(String, Vec<u8>)]) -> Vec<PathBuf> {
    let mut written = Vec::new();
    for (path, content) in parts {
        let Some(full) = inside(root, path) else {
            continue;
        };
        let parent = full.parent().expect("below the root");
        if fs::create_dir_all(parent).is_ok() && !full.is_dir() && fs::write(&full, content).is_ok()
        {
            written.push(full.strip_prefix(root).expect("below").to_path_buf());
        }
    }
    written
}
