use std::fmt;
use std::path::PathBuf;

use wharf_oci::Digest;

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// One entry of the distribution API's JSON error body (`{"errors": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The registry's JSON error entries as one line; empty when the body had none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiErrors(pub Vec<ApiError>);

impl fmt::Display for ApiErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match (error.code.is_empty(), error.message.is_empty()) {
                (false, false) => write!(f, "{}: {}", error.code, error.message)?,
                (true, _) => f.write_str(&error.message)?,
                (false, true) => f.write_str(&error.code)?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no such image: {registry}/{repository}:{reference}: manifest unknown{}", detail(.errors))]
    ManifestUnknown {
        registry: String,
        repository: String,
        reference: String,
        errors: ApiErrors,
    },
    #[error("{registry}/{repository}: blob {digest} unknown to the registry")]
    BlobUnknown {
        registry: String,
        repository: String,
        digest: Digest,
    },
    #[error("unauthorized: {}: access denied{}", place(.registry, .repository), detail(.errors))]
    Unauthorized {
        registry: String,
        repository: String,
        errors: ApiErrors,
    },
    #[error(
        "{}: too many requests{}{}",
        place(.registry, .repository),
        detail(.errors),
        .retry_after.as_ref().map(|s| format!(" (retry after {s})")).unwrap_or_default()
    )]
    RateLimited {
        registry: String,
        repository: String,
        errors: ApiErrors,
        retry_after: Option<String>,
    },
    #[error("{}: {operation}: HTTP {status}{}", place(.registry, .repository), detail(.errors))]
    Http {
        registry: String,
        repository: String,
        operation: String,
        status: u16,
        errors: ApiErrors,
    },
    #[error("TLS connection to {host} failed: {message}")]
    Tls { host: String, message: String },
    #[error("cannot reach registry {host}: {message}")]
    Connection { host: String, message: String },
    #[error("{registry}/{repository}: {object} has digest {actual}, expected {expected}")]
    DigestMismatch {
        registry: String,
        repository: String,
        object: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{registry}/{repository}:{reference}: {message}")]
    BadManifest {
        registry: String,
        repository: String,
        reference: String,
        message: String,
    },
    #[error("{registry}/{repository}: the tag list is not valid: {message}")]
    BadTagList {
        registry: String,
        repository: String,
        message: String,
    },
    #[error("{registry}/{repository}:{reference}: no matching manifest for {platform} in the manifest list entries (available: {})", .available.join(", "))]
    NoMatchingPlatform {
        registry: String,
        repository: String,
        reference: String,
        platform: String,
        available: Vec<String>,
    },
    #[error(
        "invalid platform `{0}`: expected os/arch[/variant], like linux/amd64 or linux/arm/v7"
    )]
    InvalidPlatform(String),
    #[error("invalid registry setting {setting} `{value}`: {message}")]
    InvalidSetting {
        setting: &'static str,
        value: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Certificate { path: PathBuf, message: String },
    #[error("cannot fetch {url}: {message}")]
    Download { url: String, message: String },
    #[error("{url}: content has digest {actual}, expected {expected}")]
    ChecksumMismatch {
        url: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("credential helper docker-credential-{helper} failed for {server}: {message}")]
    CredentialHelper {
        helper: String,
        server: String,
        message: String,
    },
    #[error("{path}: {message}")]
    ConfigFile { path: PathBuf, message: String },
    #[error("failed to {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `registry/repository`, or the registry alone for requests about no repository (login).
fn place(registry: &str, repository: &str) -> String {
    if repository.is_empty() {
        registry.to_string()
    } else {
        format!("{registry}/{repository}")
    }
}

fn detail(errors: &ApiErrors) -> String {
    if errors.0.is_empty() {
        String::new()
    } else {
        format!(": {errors}")
    }
}

impl RegistryError {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ManifestUnknown { registry, .. } => Some(format!(
                "check the name and tag; if the repository is private, log in with `wharf login {registry}`"
            )),
            Self::Unauthorized { registry, .. } => {
                Some(format!("log in with `wharf login {registry}`"))
            }
            Self::RateLimited { registry, .. } => Some(format!(
                "wait before retrying, or log in with `wharf login {registry}` for a higher limit"
            )),
            Self::Tls { host, .. } => Some(format!(
                "to trust a private CA, put its certificate in /etc/wharf/certs.d/{host}/ca.crt or /etc/docker/certs.d/{host}/ca.crt"
            )),
            Self::Connection { host, .. } => Some(format!(
                "check the host name and port; a registry that speaks plain HTTP must be listed as insecure ({host})"
            )),
            Self::Download { .. } => {
                Some("check the URL, and that the host answers from this machine".into())
            }
            Self::ChecksumMismatch { .. } => Some(
                "the content changed or the checksum is wrong; nothing of it was kept".into(),
            ),
            Self::DigestMismatch { .. } => Some(
                "the registry or a proxy served corrupt content; nothing of it was kept, retry the command"
                    .into(),
            ),
            Self::NoMatchingPlatform { .. } => {
                Some("pick one of the available platforms with --platform".into())
            }
            Self::CredentialHelper { helper, .. } => Some(format!(
                "check that docker-credential-{helper} is installed and works, or remove it from ~/.docker/config.json"
            )),
            _ => None,
        }
    }

    /// True for failures to talk to the host at all (refused, unreachable, TLS), where
    /// another endpoint (a mirror's upstream, plain HTTP for an insecure host) may work.
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Tls { .. } | Self::Connection { .. })
    }
}

pub(crate) trait IoResultExt<T> {
    fn at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoResultExt<T> for std::io::Result<T> {
    fn at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| RegistryError::Io {
            op,
            path: path.into(),
            source,
        })
    }
}
