//! Image archives: `docker save` tarballs (with `manifest.json`) and OCI image layouts (with
//! `index.json`), read by `load` and written by `save` (which writes both, as Docker 25 does,
//! so Docker of any version and OCI tools load it).

mod load;
mod save;

pub use load::{LoadReport, LoadedImage};
pub(crate) use save::write_atomically;

use serde::{Deserialize, Serialize};

/// One entry of a `docker save` archive's `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Annotations through which an OCI layout names its images.
const IMAGE_NAME_ANNOTATION: &str = "io.containerd.image.name";
const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
