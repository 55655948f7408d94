//! Errors of the lint configuration; findings are not errors.

/// A `.hadolint.yaml` that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LintError {
    #[error("{file}: not valid YAML: {reason}")]
    Yaml { file: String, reason: String },
    #[error("{file}: `{key}`: {reason}")]
    Key {
        file: String,
        key: String,
        reason: String,
    },
}

impl LintError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Yaml { .. } => Some("fix the YAML syntax, or remove the file".to_owned()),
            Self::Key { .. } => Some(
                "hadolint's keys: ignored, override (error/warning/info/style), trustedRegistries, failure-threshold"
                    .to_owned(),
            ),
        }
    }
}
