//! Manifests: GET by tag or digest (verified when by digest), index resolution to one
//! platform, and PUT for push.

use ureq::http::Method;
use wharf_oci::spec::{ImageIndex, ImageManifest};
use wharf_oci::{media_type, Digest, Reference};

use crate::auth::repository_scope;
use crate::client::{Client, Endpoint, Object, Target};
use crate::error::{RegistryError, Result};
use crate::platform::{self, Platform};
use crate::transport::{transport_error, Payload, Request};

/// Every manifest type wharf reads, as Docker asks for them.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";
/// The distribution server's own limit on manifest size.
const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// A manifest or index exactly as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The sha256 of `bytes`, always computed here.
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// An image manifest for one platform, and the index it was picked from, if any.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    pub index: Option<Manifest>,
    pub manifest: Manifest,
    /// `manifest` parsed (Docker schema2 and OCI manifests share this shape).
    pub image: ImageManifest,
}

impl ResolvedImage {
    /// The digest the reference points to (the index's, when there is one): Docker's
    /// repo digest.
    pub fn repo_digest(&self) -> &Digest {
        &self.index.as_ref().unwrap_or(&self.manifest).digest
    }
}

impl Client {
    /// The manifest or index `reference` names, by its digest if it has one, else by tag.
    pub fn fetch_manifest(&self, reference: &Reference) -> Result<Manifest> {
        let (object, expected) = object_of(reference);
        self.on_pull_endpoints(reference.domain(), |endpoint| {
            self.fetch_manifest_from(endpoint, reference.path(), &object, expected)
        })
    }

    /// The image manifest for `platform`: `reference`'s manifest, or the matching entry of
    /// its index.
    pub fn fetch_image(&self, reference: &Reference, platform: &Platform) -> Result<ResolvedImage> {
        let (object, expected) = object_of(reference);
        self.on_pull_endpoints(reference.domain(), |endpoint| {
            let target = Target {
                endpoint,
                repository: reference.path(),
            };
            let top = self.fetch_manifest_from(endpoint, reference.path(), &object, expected)?;
            if media_type::is_manifest(&top.media_type) {
                let image = parse_image(&target, &object, &top)?;
                return Ok(ResolvedImage {
                    index: None,
                    manifest: top,
                    image,
                });
            }
            let index: ImageIndex = serde_json::from_slice(&top.bytes)
                .map_err(|e| bad_manifest(&target, &object, format!("invalid index: {e}")))?;
            let entry = platform::select(&index, platform).map_err(|available| {
                RegistryError::NoMatchingPlatform {
                    registry: target.registry(),
                    repository: reference.path().to_string(),
                    reference: object.clone(),
                    platform: platform.to_string(),
                    available,
                }
            })?;
            let digest: Digest = entry
                .digest()
                .to_string()
                .parse()
                .map_err(|e| bad_manifest(&target, &object, format!("index entry: {e}")))?;
            let child = digest.to_string();
            let manifest =
                self.fetch_manifest_from(endpoint, reference.path(), &child, Some(&digest))?;
            if !media_type::is_manifest(&manifest.media_type) {
                return Err(bad_manifest(
                    &target,
                    &child,
                    format!(
                        "index entry is a {}, not an image manifest",
                        manifest.media_type
                    ),
                ));
            }
            let image = parse_image(&target, &child, &manifest)?;
            Ok(ResolvedImage {
                index: Some(top),
                manifest,
                image,
            })
        })
    }

    /// Uploads a manifest or index under `reference`'s tag (or digest), after its blobs.
    /// Returns its digest.
    pub fn push_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let endpoint = self.push_endpoint(reference.domain())?;
        let target = Target {
            endpoint: &endpoint,
            repository: reference.path(),
        };
        let digest = Digest::of(bytes);
        let (object, expected) = object_of(reference);
        if let Some(expected) = expected.filter(|e| **e != digest) {
            return Err(RegistryError::DigestMismatch {
                registry: target.registry(),
                repository: reference.path().to_string(),
                object: "manifest to push".into(),
                expected: expected.clone(),
                actual: digest,
            });
        }
        let request = Request::new(Method::PUT, target.url(&format!("manifests/{object}")))
            .header("Content-Type", media_type)
            .body(Payload::Bytes(bytes));
        let scopes = [repository_scope(reference.path(), "pull,push")];
        let response = self.send(&target, &scopes, &request)?;
        if !response.status().is_success() {
            return Err(target.error_from(
                response,
                "push manifest",
                Some(Object::Manifest(&object)),
            ));
        }
        Ok(digest)
    }

    fn fetch_manifest_from(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        object: &str,
        expected: Option<&Digest>,
    ) -> Result<Manifest> {
        let target = Target {
            endpoint,
            repository,
        };
        let request = Request::new(Method::GET, target.url(&format!("manifests/{object}")))
            .header("Accept", ACCEPT);
        let response = self.send(&target, &[repository_scope(repository, "pull")], &request)?;
        if !response.status().is_success() {
            return Err(target.error_from(
                response,
                "get manifest",
                Some(Object::Manifest(object)),
            ));
        }
        let content_type = response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let bytes = response
            .into_body()
            .with_config()
            .limit(MAX_MANIFEST_SIZE)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    bad_manifest(&target, object, "larger than 4 MiB".into())
                }
                e => transport_error(&endpoint.host.authority, e),
            })?;
        let digest = Digest::of(&bytes);
        if let Some(expected) = expected.filter(|e| **e != digest) {
            return Err(RegistryError::DigestMismatch {
                registry: target.registry(),
                repository: repository.to_string(),
                object: format!("manifest {object}"),
                expected: expected.clone(),
                actual: digest,
            });
        }
        let media_type = manifest_media_type(content_type.as_deref(), &bytes)
            .map_err(|message| bad_manifest(&target, object, message))?;
        Ok(Manifest {
            digest,
            media_type,
            bytes,
        })
    }
}

/// What to ask the registry for: the digest when the reference pins one, else the tag.
fn object_of(reference: &Reference) -> (String, Option<&Digest>) {
    match reference.digest() {
        Some(digest) => (digest.to_string(), Some(digest)),
        None => (
            reference
                .tag()
                .unwrap_or(wharf_oci::reference::DEFAULT_TAG)
                .to_string(),
            None,
        ),
    }
}

/// The media type from the `Content-Type` header, else from the document itself (OCI
/// manifests may leave `mediaType` out).
fn manifest_media_type(content_type: Option<&str>, bytes: &[u8]) -> Result<String, String> {
    if let Some(known) =
        content_type.filter(|t| media_type::is_manifest(t) || media_type::is_index(t))
    {
        return Ok(known.to_string());
    }
    let document: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("manifest is not JSON: {e}"))?;
    if document.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err("Docker schema 1 manifests are not supported: push the image again with a current client".into());
    }
    let declared = document.get("mediaType").and_then(|v| v.as_str());
    match declared {
        Some(t) if media_type::is_manifest(t) || media_type::is_index(t) => Ok(t.to_string()),
        Some(t) => Err(format!("unsupported manifest media type {t}")),
        None if document.get("manifests").is_some() => Ok(media_type::OCI_INDEX.to_string()),
        None if document.get("layers").is_some() => Ok(media_type::OCI_MANIFEST.to_string()),
        None => Err("the document is neither an image manifest nor an index".into()),
    }
}

fn parse_image(target: &Target, object: &str, manifest: &Manifest) -> Result<ImageManifest> {
    serde_json::from_slice(&manifest.bytes)
        .map_err(|e| bad_manifest(target, object, format!("invalid image manifest: {e}")))
}

fn bad_manifest(target: &Target, object: &str, message: String) -> RegistryError {
    RegistryError::BadManifest {
        registry: target.registry(),
        repository: target.repository.to_string(),
        reference: object.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_comes_from_header_or_document() {
        let oci = br#"{"schemaVersion":2,"config":{},"layers":[]}"#;
        assert_eq!(
            manifest_media_type(Some(media_type::DOCKER_MANIFEST), oci).unwrap(),
            media_type::DOCKER_MANIFEST
        );
        assert_eq!(
            manifest_media_type(Some("application/json"), oci).unwrap(),
            media_type::OCI_MANIFEST
        );
        assert_eq!(
            manifest_media_type(None, br#"{"schemaVersion":2,"manifests":[]}"#).unwrap(),
            media_type::OCI_INDEX
        );
        assert!(
            manifest_media_type(None, br#"{"schemaVersion":1,"fsLayers":[]}"#)
                .unwrap_err()
                .contains("schema 1")
        );
        assert!(manifest_media_type(None, b"<html>").is_err());
    }
}
