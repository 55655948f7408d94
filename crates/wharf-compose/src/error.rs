//! Errors of the compose loader. Each names the file, line and key path at fault, or the
//! flag or variable; [`ComposeError::hint`] says what the user can do.

use std::path::PathBuf;

use wharf_oci::PathIoError;

use crate::tree::{KeyPath, Position};

/// Anything that stops a project from loading.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A value in a compose file is wrong: `compose.yaml:12: services.web: unknown key 'port'`.
    #[error("{at}: {}{message}", key_prefix(path))]
    Invalid {
        at: Position,
        path: KeyPath,
        message: String,
        hint: Option<String>,
    },
    /// The file is not YAML.
    #[error("{at}: {message}")]
    Yaml { at: Position, message: String },
    #[error(transparent)]
    Io(#[from] PathIoError),
    #[error("no configuration file provided: not found")]
    NoComposeFile { directory: PathBuf },
    /// Something about the whole project: its name, its profiles, a cycle.
    #[error("{message}")]
    Project {
        message: String,
        hint: Option<String>,
    },
    /// An env file (`.env`, `--env-file`, `env_file:`) has a line that is not a variable.
    #[error("{at}: {message}")]
    EnvFile { at: Position, message: String },
}

fn key_prefix(path: &KeyPath) -> String {
    if path.parts().is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl ComposeError {
    pub(crate) fn invalid(at: &Position, path: &KeyPath, message: impl Into<String>) -> Self {
        ComposeError::Invalid {
            at: at.clone(),
            path: path.clone(),
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn project(message: impl Into<String>) -> Self {
        ComposeError::Project {
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with a hint.
    pub(crate) fn with_hint(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            ComposeError::Invalid { hint, .. } | ComposeError::Project { hint, .. } => {
                *hint = Some(text.into())
            }
            ComposeError::Yaml { .. }
            | ComposeError::Io(_)
            | ComposeError::NoComposeFile { .. }
            | ComposeError::EnvFile { .. } => {}
        }
        self
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            ComposeError::Invalid { hint, .. } | ComposeError::Project { hint, .. } => hint.clone(),
            ComposeError::NoComposeFile { directory } => Some(format!(
                "write a compose.yaml in {} or a parent directory, or name one with -f",
                directory.display()
            )),
            ComposeError::Yaml { .. } | ComposeError::Io(_) | ComposeError::EnvFile { .. } => None,
        }
    }
}

/// The closest of `known` to `unknown`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    known
        .into_iter()
        .map(|candidate| {
            (
                wharf_oci::text::edit_distance(unknown, candidate),
                candidate,
            )
        })
        .filter(|(distance, candidate)| {
            *distance <= 2.max(candidate.len() / 4) && *distance < candidate.len()
        })
        .min()
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["ports", "expose", "image", "environment"];
        assert_eq!(did_you_mean("port", keys), Some("ports"));
        assert_eq!(did_you_mean("enviroment", keys), Some("environment"));
        assert_eq!(did_you_mean("frobnicate", keys), None);
    }
}
