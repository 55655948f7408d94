//! Pure types shared by every wharf crate: image references with Docker's normalization,
//! content digests, media types and the Docker-compatible image configuration.
//! Nothing here does I/O.

pub mod config;
pub mod digest;
pub mod media_type;
pub mod path_io;
pub mod reference;
pub mod text;

pub use config::{ContainerConfig, HistoryEntry, ImageConfig, RootFs};
pub use digest::{Digest, DigestError, Sha256Reader, Sha256Writer};
pub use path_io::{PathIoContext, PathIoError};
pub use reference::{Reference, ReferenceError};

/// An error and its causes, `: `-separated, skipping causes its message already shows: how
/// every crate turns a chain of errors into one user-facing line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// The OCI image-spec types (manifests, indexes, descriptors), re-exported so that every crate
/// uses the same version.
pub use oci_spec::image as spec;
