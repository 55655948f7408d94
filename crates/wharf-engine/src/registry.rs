//! `pull`, `push`, `login`, `logout`: the engine moves bytes between the registry client
//! (which never writes the store) and the store (which never touches the network).
//!
//! Settings, like the registry part of Docker's `daemon.json`: the JSON file named by
//! `WHARF_REGISTRY_CONFIG` (default `/etc/wharf/registries.json`) with `registry-mirrors`
//! and `insecure-registries`, plus the comma-separated `WHARF_REGISTRY_MIRRORS` and
//! `WHARF_INSECURE_REGISTRIES`. Loopback registries may always use plain HTTP.

use std::path::PathBuf;

use serde::Deserialize;
use wharf_oci::{Digest, ImageConfig, Reference};
use wharf_registry::{
    AuthConfig, BlobDownload, BlobPushed, BlobUpload, Client, DockerConfigFile, Platform,
    RegistrySettings,
};
use wharf_store::{chain_ids, LayerToUnpack, SharedLock};

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

const DEFAULT_SETTINGS_FILE: &str = "/etc/wharf/registries.json";

/// Progress of one blob: its digest and the bytes moved so far.
pub type Progress<'a> = &'a (dyn Fn(&Digest, u64) + Sync);

#[derive(Debug)]
pub struct PullReport {
    pub reference: Reference,
    pub id: Digest,
    /// The digest the reference resolved to (the index's, for multi-platform images).
    pub digest: Digest,
    /// Nothing was downloaded: the store had this manifest already.
    pub up_to_date: bool,
    /// Blobs downloaded (config and layers).
    pub downloaded: Vec<Digest>,
}

#[derive(Debug)]
pub struct PushReport {
    pub reference: Reference,
    pub digest: Digest,
    /// Each layer blob and how it reached the registry.
    pub layers: Vec<(Digest, BlobPushed)>,
}

#[derive(Debug, Default, Deserialize)]
struct SettingsFile {
    #[serde(default, rename = "registry-mirrors")]
    mirrors: Vec<String>,
    #[serde(default, rename = "insecure-registries")]
    insecure: Vec<String>,
}

impl Engine {
    pub(crate) fn registry_settings(&self) -> Result<RegistrySettings> {
        let mut settings = RegistrySettings::default();
        let path = std::env::var_os("WHARF_REGISTRY_CONFIG")
            .map_or_else(|| PathBuf::from(DEFAULT_SETTINGS_FILE), PathBuf::from);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let file: SettingsFile =
                    serde_json::from_slice(&bytes).map_err(|e| EngineError::BadOption {
                        flag: "registry settings",
                        value: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                settings.mirrors.extend(file.mirrors);
                settings.insecure.extend(file.insecure);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).at("read", &path),
        }
        let list = |name: &str| {
            std::env::var(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        settings.mirrors.extend(list("WHARF_REGISTRY_MIRRORS"));
        settings.insecure.extend(list("WHARF_INSECURE_REGISTRIES"));
        settings.validate()?;
        Ok(settings)
    }

    fn registry_client(&self) -> Result<Client> {
        Ok(Client::new(
            self.registry_settings()?,
            DockerConfigFile::from_env(),
        )?)
    }

    /// Pulls `name` for `platform` (default: this host's) into the store and tags it.
    pub fn pull(
        &self,
        name: &str,
        platform: Option<&str>,
        progress: Progress,
    ) -> Result<PullReport> {
        let reference = Reference::parse_normalized(name)?;
        let platform = match platform {
            Some(text) => text.parse::<Platform>()?,
            None => Platform::host(),
        };
        let client = self.registry_client()?;
        let held = self.store.shared_lock()?;
        let result = self.pull_locked(&held, &client, reference, &platform, progress);
        self.clean_up_on_failure(held, result)
    }

    fn pull_locked(
        &self,
        held: &SharedLock,
        client: &Client,
        reference: Reference,
        platform: &Platform,
        progress: Progress,
    ) -> Result<PullReport> {
        let resolved = client.fetch_image(&reference, platform)?;
        let digest = resolved.repo_digest().clone();
        let parse = |text: &str| -> Result<Digest> {
            text.parse().map_err(|e| EngineError::BadArchive {
                archive: reference.familiar(),
                message: format!("manifest {}: {e}", resolved.manifest.digest),
            })
        };
        let config_digest = parse(resolved.image.config().digest().as_ref())?;
        let tags: Vec<Reference> = reference
            .tag()
            .map(|_| reference.clone())
            .into_iter()
            .collect();
        let index = self.store.index()?;
        if index
            .images
            .get(&config_digest)
            .is_some_and(|r| r.manifest == resolved.manifest.digest)
        {
            self.store
                .commit_image(held, &resolved.manifest.digest, &tags, false)?;
            return Ok(PullReport {
                reference,
                id: config_digest,
                digest,
                up_to_date: true,
                downloaded: Vec::new(),
            });
        }

        let blobs = self.store.blobs();
        let mut wanted = vec![(config_digest.clone(), Some(resolved.image.config().size()))];
        for layer in resolved.image.layers() {
            wanted.push((parse(layer.digest().as_ref())?, Some(layer.size())));
        }
        let downloads: Vec<BlobDownload> = wanted
            .iter()
            .filter(|(digest, _)| !blobs.exists(digest))
            .map(|(digest, size)| BlobDownload {
                digest: digest.clone(),
                size: *size,
                // A stable name, so an interrupted pull resumes where it stopped.
                path: blobs.tmp_dir().join(format!("pull-{}", digest.hex())),
            })
            .collect();
        client.download_blobs(&reference, &downloads, progress)?;
        for download in &downloads {
            blobs.adopt(&download.path, &download.digest)?;
        }
        let manifest_digest = blobs.put_bytes(&resolved.manifest.bytes)?;

        let config = ImageConfig::from_slice(&blobs.read(&config_digest)?).map_err(|e| {
            EngineError::BadArchive {
                archive: reference.familiar(),
                message: format!("image config is not valid: {e}"),
            }
        })?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() + 1 != wanted.len() {
            return Err(EngineError::BadArchive {
                archive: reference.familiar(),
                message: format!(
                    "the manifest has {} layers but the config {} diff ids",
                    wanted.len() - 1,
                    diff_ids.len()
                ),
            });
        }
        let chain = chain_ids(diff_ids);
        let layers: Vec<LayerToUnpack> = wanted[1..]
            .iter()
            .enumerate()
            .map(|(i, (blob, _))| LayerToUnpack {
                blob: blob.clone(),
                diff_id: diff_ids[i].clone(),
                chain_id: chain[i].clone(),
                parent: i.checked_sub(1).map(|p| chain[p].clone()),
            })
            .collect();
        self.store.unpack_layers(&layers)?;
        let committed = self
            .store
            .commit_image(held, &manifest_digest, &tags, false)?;
        Ok(PullReport {
            reference,
            id: committed.id,
            digest,
            up_to_date: false,
            downloaded: downloads.into_iter().map(|d| d.digest).collect(),
        })
    }

    /// Pushes the image tagged `name` to its registry.
    pub fn push(&self, name: &str, progress: Progress) -> Result<PushReport> {
        let reference = Reference::parse_normalized(name)?;
        let client = self.registry_client()?;
        let _held = self.store.shared_lock()?;
        let index = self.store.index()?;
        let id = index
            .tags
            .get(&reference.to_string())
            .cloned()
            .ok_or_else(|| EngineError::ImageNotFound(reference.familiar()))?;
        let image = self.store.image(&index, &id)?;
        let blobs = self.store.blobs();
        let upload = |digest: &Digest| -> Result<BlobUpload> {
            Ok(BlobUpload {
                digest: digest.clone(),
                size: blobs.size(digest)?,
                path: blobs.path(digest),
            })
        };
        let layer_digests: Vec<Digest> = image.layers()?.into_iter().map(|l| l.blob).collect();
        let mut uploads = layer_digests
            .iter()
            .map(upload)
            .collect::<Result<Vec<_>>>()?;
        uploads.push(upload(&id)?);
        let pushed = client.push_blobs(&reference, &uploads, None, progress)?;
        let manifest_bytes = blobs.read(&image.record.manifest)?;
        let media_type = image.manifest.media_type().as_ref().map_or_else(
            || wharf_oci::media_type::OCI_MANIFEST.to_string(),
            |m| m.to_string(),
        );
        let digest = client.push_manifest(&reference, &media_type, &manifest_bytes)?;
        Ok(PushReport {
            reference,
            digest,
            layers: layer_digests.into_iter().zip(pushed).collect(),
        })
    }

    /// Checks the credentials against the registry, then stores them in
    /// `~/.docker/config.json` (or its credential helper), as `docker login`.
    pub fn login(&self, server: Option<&str>, username: &str, password: &str) -> Result<String> {
        let domain = registry_domain(server);
        let auth = AuthConfig::basic(username, password);
        self.registry_client()?.login(&domain, auth.clone())?;
        let config = DockerConfigFile::from_env().ok_or(EngineError::NoHome)?;
        config.store(&domain, &auth)?;
        Ok(domain)
    }

    /// Forgets the credentials of `server`; false when there were none.
    pub fn logout(&self, server: Option<&str>) -> Result<(String, bool)> {
        let domain = registry_domain(server);
        let config = DockerConfigFile::from_env().ok_or(EngineError::NoHome)?;
        let erased = config.erase(&domain)?;
        Ok((domain, erased))
    }
}

/// `docker login` accepts `https://index.docker.io/v1/`, `registry.example.com`, or nothing.
fn registry_domain(server: Option<&str>) -> String {
    let Some(server) = server else {
        return wharf_registry::DOCKER_HUB.to_string();
    };
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => {
            wharf_registry::DOCKER_HUB.to_string()
        }
        other => other.to_string(),
    }
}
