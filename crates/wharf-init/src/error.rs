//! Why a project cannot be set up.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--python {value}: not a Python version")]
    PythonVersion { value: String },
    #[error("--port 0: not a port the app can listen on and compose can publish")]
    Port,
    #[error("{dir}: no Python project found (no requirements.txt, pyproject.toml, Pipfile, setup.py or .py file)")]
    NotAProject { dir: PathBuf },
}

impl InitError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Io { .. } => None,
            Self::PythonVersion { .. } => Some("give a version such as 3.12 or 3.12.4".to_owned()),
            Self::Port => Some("give a port from 1 to 65535, such as 8000".to_owned()),
            Self::NotAProject { .. } => Some(
                "run wharf init in the project's folder, or name it: wharf init DIR".to_owned(),
            ),
        }
    }

    /// The error of doing `action` to `path`, for `map_err`.
    pub(crate) fn at(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
