use std::io;
use std::path::{Path, PathBuf};

use wharf_oci::Digest;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Every I/O error names what was being done and to which path.
    #[error("failed to {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("blob content does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error(
        "layer {blob}: its uncompressed content is {actual}, but the image config says {expected}"
    )]
    DiffIdMismatch {
        blob: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error("layer {blob}: refusing unsafe entry `{entry}`: {reason}")]
    UnsafeEntry {
        blob: Digest,
        entry: String,
        reason: &'static str,
    },
    #[error("layer {blob}: not a valid tar archive: {source}")]
    BadTar { blob: Digest, source: io::Error },
    #[error("blob {0} is not in the store")]
    BlobNotFound(Digest),
    #[error("image {0} is not in the store")]
    ImageNotFound(Digest),
    #[error("{what} {digest} is not valid JSON of its kind: {source}")]
    BadJson {
        what: &'static str,
        digest: Digest,
        source: serde_json::Error,
    },
    #[error("image index {path} is unreadable: {source}")]
    CorruptIndex {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("image {image}: {message}")]
    BadImage { image: Digest, message: String },
    #[error("layer {chain_id}: file {file} of its unpacked tree {reason}")]
    LayerFileChanged {
        chain_id: Digest,
        file: PathBuf,
        reason: String,
    },
    #[error("layer {chain_id}: its tar-split record {path} is unusable: {reason}")]
    BadLayerRecord {
        chain_id: Digest,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "layer {chain_id}: the tar rebuilt from its tree is {actual}, but its diff id is {expected}"
    )]
    RebuiltLayerMismatch {
        chain_id: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error("layer {chain_id} has neither its blob nor a tar-split record: its tar can't be made")]
    LayerTarLost { chain_id: Digest },
    #[error("the store at {root} has layout version {version}, newer than this wharf knows ({known})", known = crate::migrate::LAYOUT_VERSION)]
    NewerLayout { root: PathBuf, version: u32 },
}

/// Attaches the operation and path to an I/O error.
pub trait IoResultExt<T> {
    fn at(self, op: &'static str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoResultExt<T> for io::Result<T> {
    fn at(self, op: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|source| StoreError::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        })
    }
}
