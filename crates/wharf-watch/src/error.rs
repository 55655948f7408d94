//! Errors of the watcher; each names the path or rule at fault.

use std::path::PathBuf;

use wharf_oci::PathIoError;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// A pattern of a rule does not compile.
    #[error("develop.watch rule {path}: {what} pattern: {source}")]
    Pattern {
        path: String,
        what: &'static str,
        #[source]
        source: wharf_build::context::Error,
    },
    /// The service's `.dockerignore` does not parse.
    #[error("service {service}: {source}")]
    Dockerignore {
        service: String,
        #[source]
        source: wharf_build::context::Error,
    },
    /// The kernel's limit of inotify watches is reached.
    #[error("cannot watch {}: no inotify watches left", path.display())]
    TooManyFolders { path: PathBuf },
}

impl WatchError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        WatchError::Io(PathIoError::new(action, path.into(), e))
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            WatchError::TooManyFolders { .. } => Some(
                "raise fs.inotify.max_user_watches (sysctl), or ignore large folders such as node_modules/",
            ),
            WatchError::Pattern { .. } | WatchError::Dockerignore { .. } => {
                Some("patterns have .dockerignore's syntax")
            }
            WatchError::Io(_) => None,
        }
    }
}
