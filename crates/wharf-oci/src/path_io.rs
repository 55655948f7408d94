//! The I/O error every crate shares: what was done, to which path, and why.

use std::path::{Path, PathBuf};

/// An I/O error naming what was done to which path: `read /x/compose.yaml: No such file`.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}", path.display())]
pub struct PathIoError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl PathIoError {
    pub fn new(action: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        PathIoError {
            action,
            path: path.as_ref().to_owned(),
            source,
        }
    }
}

/// `.at("read", &path)` on any I/O result.
pub trait PathIoContext<T> {
    fn at(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, PathIoError>;
}

impl<T> PathIoContext<T> for std::io::Result<T> {
    fn at(self, action: &'static str, path: impl AsRef<Path>) -> Result<T, PathIoError> {
        self.map_err(|source| PathIoError::new(action, path, source))
    }
}
