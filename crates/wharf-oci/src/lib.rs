//! Pure types shared by every wharf crate: image references with Docker's normalization,
//! content digests, media types and the Docker-compatible image configuration.
//! Nothing here does I/O.

pub mod config;
pub mod digest;
pub mod media_type;
pub mod reference;

pub use config::{ContainerConfig, HistoryEntry, ImageConfig, RootFs};
pub use digest::{Digest, DigestError, Sha256Reader, Sha256Writer};
pub use reference::{Reference, ReferenceError};

/// The OCI image-spec types (manifests, indexes, descriptors), re-exported so that every crate
/// uses the same version.
pub use oci_spec::image as spec;
