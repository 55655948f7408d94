//! A stored manifest with some of its layers named by another blob of the same tar: what
//! `save` writes for layers it gives uncompressed (the store keeps no compressed copy), and
//! what `push` sends for layers it gives compressed anew. The config, so the image id and
//! diff ids, stay the same.

use wharf_oci::{media_type, Digest};

use crate::error::{EngineError, Result};

/// The blob that names a layer in a manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LayerBlob {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// The manifest `stored` (of image `image`) with layer `i` named by `blob`, for each
/// `(i, blob)` of `replaced`; `stored` itself when there is nothing to replace.
pub(crate) fn replace_layers(
    image: &Digest,
    stored: Vec<u8>,
    replaced: &[(usize, LayerBlob)],
) -> Result<Vec<u8>> {
    if replaced.is_empty() {
        return Ok(stored);
    }
    let bad = |message: &str| EngineError::BadArchive {
        archive: image.to_string(),
        message: format!("its stored manifest cannot be rewritten: {message}"),
    };
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&stored).map_err(|e| bad(&e.to_string()))?;
    for (i, blob) in replaced {
        let descriptor = manifest
            .get_mut("layers")
            .and_then(|layers| layers.get_mut(i))
            .and_then(serde_json::Value::as_object_mut)
            .ok_or_else(|| bad("a layer is not an object"))?;
        descriptor.insert("mediaType".into(), blob.media_type.clone().into());
        descriptor.insert("digest".into(), blob.digest.to_string().into());
        descriptor.insert("size".into(), blob.size.into());
    }
    Ok(serde_json::to_vec(&manifest).expect("a JSON value serializes"))
}

/// The uncompressed layer media type of the family (Docker's or OCI's) of `media_type`.
pub(crate) fn tar_media_type(media_type: &str) -> &'static str {
    if media_type.starts_with("application/vnd.docker.") {
        media_type::DOCKER_LAYER_TAR
    } else {
        media_type::OCI_LAYER_TAR
    }
}

/// The gzip layer media type of the family of `media_type`.
pub(crate) fn gzip_media_type(media_type: &str) -> &'static str {
    if media_type.starts_with("application/vnd.docker.") {
        media_type::DOCKER_LAYER_GZIP
    } else {
        media_type::OCI_LAYER_GZIP
    }
}
