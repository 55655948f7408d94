//! Errors of conversion and of reading Kubernetes YAML: each names the service and key, or
//! the manifest document and field, at fault.

/// One thing that does not map: `services.<service>.<key>` (or a top-level key) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `services.web.build`, `volumes.data`, ...
    pub key: String,
    pub reason: String,
}

impl Refusal {
    pub fn service(service: &str, key: &str, reason: impl Into<String>) -> Self {
        Refusal {
            key: format!("services.{service}.{key}"),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// Keys of the compose project with no Kubernetes equivalent, all of them at once.
    #[error("cannot convert to Kubernetes: {}", list(.0))]
    Unconvertible(Vec<Refusal>),
    /// A manifest `kube play` cannot read: `document` counts from 1 in its file.
    #[error("{file}: document {document}: {message}")]
    Manifest {
        file: String,
        document: usize,
        message: String,
    },
    /// A kind or field `kube play` cannot run, named by its path in the manifest.
    #[error("{file}: {kind} {name}: {field}: {message}")]
    Unsupported {
        file: String,
        kind: String,
        name: String,
        field: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

fn list(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl KubeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            KubeError::Unconvertible(refusals) => Some(
                if refusals.iter().any(|r| r.key.ends_with(".build")) {
                    "give built services an `image:` or pass --registry HOST/PATH; override other keys in a compose file for Kubernetes (-f compose.yaml -f compose.k8s.yaml), or pass --skip-unsupported to leave them out with a warning"
                } else {
                    "override these keys in a compose file for Kubernetes (-f compose.yaml -f compose.k8s.yaml), or pass --skip-unsupported to leave them out with a warning"
                }
                .to_owned(),
            ),
            KubeError::Manifest { .. } => {
                Some("`wharf kube play` reads Kubernetes YAML documents separated by ---".into())
            }
            KubeError::Unsupported { .. } => Some(
                "remove the field, or run the manifest on a Kubernetes cluster".into(),
            ),
            KubeError::Invalid(_) => None,
        }
    }
}
