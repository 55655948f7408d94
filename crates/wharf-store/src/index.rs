//! `images/index.json`: which images the store holds and which tags point at them. One file,
//! replaced atomically, so an image and its tags appear together or not at all.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wharf_oci::{Digest, Reference};

use crate::atomic::write_file_durably;
use crate::error::{IoResultExt, Result, StoreError};
use crate::lock::ExclusiveLock;
use crate::Store;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Index {
    /// Image id (the config digest) to what the image is.
    pub images: BTreeMap<Digest, ImageRecord>,
    /// Fully qualified reference (`docker.io/library/python:3.11-slim`) to image id.
    pub tags: BTreeMap<String, Digest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    pub manifest: Digest,
    /// When this image was added to the store (RFC 3339).
    pub added: String,
    /// When a tag was last put on it (RFC 3339), as Docker's `Metadata.LastTagTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
    /// `repository@digest` of the manifests this image was pulled as or pushed as, fully
    /// qualified and sorted (Docker's `RepoDigests`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
}

impl Index {
    /// The tags of `id`, fully qualified, sorted.
    pub fn tags_of(&self, id: &Digest) -> Vec<Reference> {
        self.tags
            .iter()
            .filter(|(_, target)| *target == id)
            .filter_map(|(name, _)| name.parse().ok())
            .collect()
    }

    /// Points `reference` at `id` and returns the image it pointed at before, if another.
    pub fn set_tag(&mut self, reference: &Reference, id: &Digest) -> Option<Digest> {
        if let Some(record) = self.images.get_mut(id) {
            record.last_tag_time = Some(crate::image::now_rfc3339());
        }
        self.tags
            .insert(reference.to_string(), id.clone())
            .filter(|previous| previous != id)
    }

    /// Remembers that `id` is `repo_digest` (`repository@sha256:...`) in a registry.
    pub fn add_repo_digest(&mut self, id: &Digest, repo_digest: &Reference) {
        if let Some(record) = self.images.get_mut(id) {
            let text = repo_digest.to_string();
            if let Err(at) = record.repo_digests.binary_search(&text) {
                record.repo_digests.insert(at, text);
            }
        }
    }

    /// Images with no tag (Docker's "dangling" images).
    pub fn is_dangling(&self, id: &Digest) -> bool {
        !self.tags.values().any(|target| target == id)
    }
}

impl Store {
    /// A snapshot of the index. Readers need no lock: the file is only ever replaced whole.
    pub fn index(&self) -> Result<Index> {
        let path = self.index_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::CorruptIndex { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e).at("read", &path),
        }
    }

    /// Reads, changes and replaces the index while holding its lock, so concurrent updates
    /// never lose each other's changes. Nothing is written when `change` fails.
    pub fn update_index<T, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Index) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        // A lock of its own, not the store lock: index updates are short and many.
        let _guard = ExclusiveLock::acquire(&self.index_lock_path())?;
        let mut index = self.index()?;
        let result = change(&mut index)?;
        let bytes = serde_json::to_vec_pretty(&index).expect("the index always serializes");
        write_file_durably(&self.index_path(), &bytes)?;
        Ok(result)
    }
}
