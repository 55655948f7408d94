//! An OCI distribution client: manifests, blobs, Docker's auth, mirrors and insecure
//! registries. It moves bytes between a registry and files the caller names; it never
//! writes the image store.
//!
//! HTTP is `ureq` 3 with rustls: blocking, small, no async runtime to carry for a CLI that
//! exits after one command, and full control of the trusted roots per registry host.

mod auth;
mod blob;
mod client;
mod credentials;
mod error;
mod fetch;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hosts;
mod manifest;
mod platform;
mod tags;
mod transport;

pub use blob::{BlobDownload, BlobPushed, BlobUpload, TransferObserver, CHUNK_SIZE};
pub use client::Client;
pub use credentials::{server_key, AuthConfig, DockerConfigFile, Secret};
pub use error::{ApiError, ApiErrors, RegistryError, Result};
pub use fetch::{Fetched, Fetcher};
pub use hosts::{RegistrySettings, DOCKER_HUB};
pub use manifest::{Manifest, ResolvedImage};
pub use platform::Platform;
pub use tags::TAGS_PAGE_SIZE;
