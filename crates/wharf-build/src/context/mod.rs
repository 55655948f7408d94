//! The build context: a directory (or a tar turned into one) filtered by `.dockerignore`,
//! and the file semantics of COPY and ADD as Docker's BuildKit implements them.
//!
//! - [`IgnoreMatcher`] and [`load_dockerignore`]: `.dockerignore` files and `COPY --exclude`.
//! - [`SourceTree`]: the context directory or a stage's root filesystem; resolves COPY sources
//!   (wildcards, symlinks kept inside the root) and hashes them for the build cache.
//! - [`copy`]: COPY and ADD into a destination root filesystem.
//! - [`extract_context`]: a context sent as a tar on stdin.
//!
//! Paths inside a root are always resolved in the scope of that root, like Docker's
//! `FollowSymlinkInScope`: an absolute symlink target starts again at the root and `..` stops
//! at it, so neither a hostile context nor a hostile image can make us read or write outside.

mod archive;
mod copy;
mod ignore;
mod pattern;
mod resolve;
mod tree;

use std::io;
use std::path::PathBuf;

pub use archive::{extract_context, extract_tar, StdinContext};
pub use copy::{copy, CopyOptions};
pub use ignore::{load_dockerignore, IgnoreMatcher};
pub use resolve::{resolve_in_root, resolve_in_tree};
pub use tree::{EntryKind, SourceMatch, SourceTree};

/// Errors of the build context and of COPY/ADD. Messages that users know from Docker keep
/// Docker's wording.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A malformed `--exclude` or `.dockerignore` pattern (line given for the latter).
    #[error("invalid pattern {pattern:?}{}: {reason}", line.map(|l| format!(" on line {l}")).unwrap_or_default())]
    Pattern {
        pattern: String,
        line: Option<usize>,
        reason: &'static str,
    },
    #[error("invalid pattern {pattern:?} in {path} on line {line}: {reason}")]
    IgnoreFile {
        path: PathBuf,
        pattern: String,
        line: usize,
        reason: &'static str,
    },
    /// A COPY source that matches nothing (or only ignored files). BuildKit prints this after
    /// "failed to compute cache key: failed to calculate checksum of ref ...: ".
    #[error("{path:?}: not found")]
    NotFound { path: String },
    #[error("When using {instruction} with more than one source file, the destination must be a directory and end with a /")]
    MultipleSources { instruction: &'static str },
    #[error("cannot copy to non-directory: {path}")]
    NotADirectory { path: String },
    #[error("cannot replace to directory {path} with file")]
    ReplaceDirectory { path: String },
    #[error("cannot copy {path}: unsupported file type (socket)")]
    UnsupportedFileType { path: String },
    #[error("too many levels of symbolic links resolving {path}")]
    SymlinkLoop { path: String },
    #[error("archive path {name:?} is outside extraction root")]
    ArchiveEscape { name: String },
    #[error("unsupported tar entry {name:?} of type {kind}")]
    ArchiveEntry { name: String, kind: u8 },
}

impl Error {
    fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
