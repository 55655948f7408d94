//! `pull`, `push`, `login`, `logout`: the engine moves bytes between the registry client
//! (which never writes the store) and the store (which never touches the network).
//!
//! Settings, like the registry part of Docker's `daemon.json`: the JSON file named by
//! `WHARF_REGISTRY_CONFIG` (default `/etc/wharf/registries.json`) with `registry-mirrors`
//! and `insecure-registries`, plus the comma-separated `WHARF_REGISTRY_MIRRORS` and
//! `WHARF_INSECURE_REGISTRIES`. Loopback registries may always use plain HTTP.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Deserialize;
use wharf_oci::{Digest, ImageConfig, Reference};
use wharf_registry::{
    AuthConfig, BlobDownload, BlobPushed, BlobUpload, Client, DockerConfigFile, Platform,
    RegistrySettings, TransferObserver,
};
use wharf_store::{
    chain_ids, Compression, Index, LayerCompression, LayerToUnpack, SharedLock, UnpackStep,
};

use crate::error::{EngineError, IoResultExt, Result};
use crate::manifest_edit::{gzip_media_type, replace_layers, LayerBlob};
use crate::Engine;

const DEFAULT_SETTINGS_FILE: &str = "/etc/wharf/registries.json";

/// What happens to one layer of a pull or push, for the CLI to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEvent {
    /// Pull: the store has this layer; nothing moves.
    AlreadyExists,
    /// Queued behind other transfers.
    Waiting,
    /// `done` of `total` bytes went down (pull) or up (push).
    Moving {
        done: u64,
        total: u64,
    },
    /// Pull: downloaded; its digest is being checked.
    Verifying,
    /// Pull: verified, waiting to be unpacked.
    Downloaded,
    Extracting,
    /// Pull: unpacked. Push: on the registry (see [`PushReport::layers`] for how).
    Done,
}

/// Hears [`LayerEvent`]s, from several threads at once.
pub trait LayerProgress: Sync {
    fn layer(&self, layer: &Digest, event: LayerEvent);
}

/// A [`LayerProgress`] that ignores everything.
pub struct NoProgress;

impl LayerProgress for NoProgress {
    fn layer(&self, _: &Digest, _: LayerEvent) {}
}

/// Turns the registry client's blob callbacks into layer events, leaving out the config
/// blob (which Docker does not show either).
struct LayerTransfers<'a> {
    sizes: HashMap<Digest, u64>,
    progress: &'a dyn LayerProgress,
}

impl LayerTransfers<'_> {
    fn tell(&self, blob: &Digest, event: impl FnOnce(u64) -> LayerEvent) {
        if let Some(total) = self.sizes.get(blob) {
            self.progress.layer(blob, event(*total));
        }
    }
}

impl TransferObserver for LayerTransfers<'_> {
    fn moved(&self, blob: &Digest, done: u64) {
        self.tell(blob, |total| LayerEvent::Moving { done, total });
    }
    fn verifying(&self, blob: &Digest) {
        self.tell(blob, |_| LayerEvent::Verifying);
    }
    fn verified(&self, blob: &Digest) {
        self.tell(blob, |_| LayerEvent::Downloaded);
    }
}

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
    /// Each layer as pushed (compressed), in order.
    pub layers: Vec<PushedLayer>,
}

#[derive(Debug)]
pub struct PushedLayer {
    /// The blob as the registry has it.
    pub digest: Digest,
    pub how: BlobPushed,
    /// The repository it was mounted from, when it was.
    pub mounted_from: Option<Reference>,
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
        progress: &dyn LayerProgress,
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
        progress: &dyn LayerProgress,
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
            self.store
                .record_repo_digest(&config_digest, &reference.with_digest(digest.clone()))?;
            return Ok(PullReport {
                reference,
                id: config_digest,
                digest,
                up_to_date: true,
                downloaded: Vec::new(),
            });
        }

        let blobs = self.store.blobs();
        // The config first: its diff ids tell which layers the store has (their blobs are
        // not kept once unpacked).
        if !blobs.exists(&config_digest) {
            // Locked: another pull of the same blob waits, then finds it.
            let (path, _partial) = blobs.lock_download(&config_digest)?;
            if !blobs.exists(&config_digest) {
                let config = BlobDownload {
                    digest: config_digest.clone(),
                    size: Some(resolved.image.config().size()),
                    path,
                };
                client.download_blob(&reference, &config, &|_: &Digest, _| {})?;
                blobs.adopt(&config.path, &config.digest)?;
            }
        }
        let config = ImageConfig::from_slice(&blobs.read(&config_digest)?).map_err(|e| {
            EngineError::BadArchive {
                archive: reference.familiar(),
                message: format!("image config is not valid: {e}"),
            }
        })?;
        let mut wanted = Vec::new();
        for layer in resolved.image.layers() {
            wanted.push((parse(layer.digest().as_ref())?, layer.size()));
        }
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != wanted.len() {
            return Err(EngineError::BadArchive {
                archive: reference.familiar(),
                message: format!(
                    "the manifest has {} layers but the config {} diff ids",
                    wanted.len(),
                    diff_ids.len()
                ),
            });
        }
        let chain = chain_ids(diff_ids);
        let layers: Vec<LayerToUnpack> = wanted
            .iter()
            .enumerate()
            .map(|(i, (blob, _))| LayerToUnpack {
                blob: blob.clone(),
                diff_id: diff_ids[i].clone(),
                chain_id: chain[i].clone(),
                parent: i.checked_sub(1).map(|p| chain[p].clone()),
            })
            .collect();
        let needed = |layer: &LayerToUnpack| -> Result<bool> {
            Ok(self.store.layer_info(&layer.chain_id)?.is_none() && !blobs.exists(&layer.blob))
        };
        let mut missing: Vec<&Digest> = Vec::new();
        for layer in &layers {
            if needed(layer)? {
                missing.push(&layer.blob);
            }
        }
        missing.sort_unstable();
        missing.dedup();
        // Held until the blobs are adopted: another pull of the same blob waits meanwhile,
        // then finds it (or its layer unpacked).
        let mut partials = HashMap::new();
        for digest in missing {
            partials.insert(digest.clone(), blobs.lock_download(digest)?);
        }
        let mut downloads: Vec<BlobDownload> = Vec::new();
        for (layer, (_, size)) in layers.iter().zip(&wanted) {
            if !needed(layer)? || downloads.iter().any(|d| d.digest == layer.blob) {
                // Unpacked by the pull we waited for: its partial, made anew by the lock,
                // is no use.
                if let Some((path, _)) = partials.get(&layer.blob) {
                    let _ = std::fs::remove_file(path);
                }
                continue;
            }
            let Some((path, _)) = partials.get(&layer.blob) else {
                continue;
            };
            downloads.push(BlobDownload {
                digest: layer.blob.clone(),
                size: Some(*size),
                path: path.clone(),
            });
        }
        let layer_sizes: HashMap<Digest, u64> = wanted.iter().cloned().collect();
        for (layer, _) in &wanted {
            let event = if downloads.iter().any(|d| d.digest == *layer) {
                LayerEvent::Waiting
            } else {
                LayerEvent::AlreadyExists
            };
            progress.layer(layer, event);
        }
        let transfers = LayerTransfers {
            sizes: layer_sizes,
            progress,
        };
        client.download_blobs(&reference, &downloads, &transfers)?;
        for download in &downloads {
            blobs.adopt(&download.path, &download.digest)?;
        }
        drop(partials);
        let manifest_digest = blobs.put_bytes(&resolved.manifest.bytes)?;
        let fresh = |layer: &LayerToUnpack| downloads.iter().any(|d| d.digest == layer.blob);
        self.store.unpack_layers_observed(&layers, &|layer, step| {
            if fresh(layer) {
                let event = match step {
                    UnpackStep::Started => LayerEvent::Extracting,
                    UnpackStep::Finished => LayerEvent::Done,
                };
                progress.layer(&layer.blob, event);
            }
        })?;
        let committed = self
            .store
            .commit_image(held, &manifest_digest, &tags, false)?;
        self.store
            .record_repo_digest(&committed.id, &reference.with_digest(digest.clone()))?;
        // Unpacked, each layer's tree and record give its tar back: its blob goes.
        self.store
            .drop_layer_blobs(layers.iter().map(|layer| &layer.blob))?;
        Ok(PullReport {
            reference,
            id: committed.id,
            digest,
            up_to_date: false,
            downloaded: downloads.into_iter().map(|d| d.digest).collect(),
        })
    }

    /// Every tag of the repository `name` in its registry, for `pull --all-tags`. `name`
    /// must have neither tag nor digest, as Docker requires.
    pub fn remote_tags(&self, name: &str) -> Result<Vec<Reference>> {
        let repository = Reference::parse_normalized_name(name)?;
        if repository.tag().is_some() || repository.digest().is_some() {
            return Err(EngineError::BadOption {
                flag: "--all-tags",
                value: name.to_string(),
                message: "a tag or digest can't be used with --all-tags; give the repository alone"
                    .into(),
            });
        }
        let tags = self.registry_client()?.list_tags(&repository)?;
        Ok(tags
            .iter()
            .filter_map(|tag| repository.with_tag(tag).ok())
            .collect())
    }

    /// Pushes the image tagged `name` to its registry. Uncompressed layers go up
    /// gzip-compressed (the manifest pushed names the compressed blobs, as Docker's does);
    /// layers that the store pulled from another repository of the same registry are
    /// mounted from there instead of uploaded.
    pub fn push(&self, name: &str, progress: &dyn LayerProgress) -> Result<PushReport> {
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
        let stored = |digest: &Digest| -> Result<BlobUpload> {
            Ok(BlobUpload {
                digest: digest.clone(),
                size: blobs.size(digest)?,
                path: blobs.path(digest),
            })
        };
        // One parallel push per source repository to mount from (and one for the rest).
        let sources = self.mount_sources(&index, &reference)?;
        // The compressed copies live in temp files until the push is over.
        let mut compressed = Vec::new();
        let mut replaced = Vec::new();
        let mut uploads = Vec::new();
        let mut found = Vec::new();
        for (i, layer) in image.layers()?.iter().enumerate() {
            let compressed_blob = !is_uncompressed(&layer.media_type);
            if compressed_blob && self.store.layer_tar_from_blob(layer) {
                uploads.push(stored(&layer.blob)?);
                continue;
            }
            // A compressed form of the layer the registry has (or can mount) needs no
            // upload: the manifest's own first, then the others the layer is known as.
            let info = self.store.layer_info(&layer.chain_id)?;
            let forms = info.as_ref().map_or(&[][..], |info| &info.forms[..]);
            let mut candidates: Vec<LayerBlob> = Vec::new();
            if compressed_blob {
                candidates.push(LayerBlob {
                    media_type: layer.media_type.clone(),
                    digest: layer.blob.clone(),
                    size: layer.blob_size,
                });
            }
            for form in forms.iter().filter(|f| !is_uncompressed(&f.media_type)) {
                if form.digest != layer.blob {
                    candidates.push(LayerBlob {
                        media_type: family_media_type(&layer.media_type, &form.media_type),
                        digest: form.digest.clone(),
                        size: form.size,
                    });
                }
            }
            let mut known = None;
            for candidate in candidates {
                if let Some(how) = client.find_blob(
                    &reference,
                    &candidate.digest,
                    sources.get(&candidate.digest),
                )? {
                    known = Some((candidate, how));
                    break;
                }
            }
            if let Some((blob, how)) = known {
                progress.layer(&blob.digest, LayerEvent::Done);
                found.push((blob.digest.clone(), how));
                if blob.digest != layer.blob {
                    replaced.push((i, blob));
                }
                continue;
            }
            // None: compress the layer's tar, as wharf compressed it when it made the
            // manifest's blob (the same bytes again), else gzip at a fixed level.
            let to = forms
                .iter()
                .find(|f| f.digest == layer.blob && f.level.is_some() && compressed_blob)
                .map_or(
                    LayerCompression {
                        kind: Compression::Gzip,
                        level: Some(PUSH_GZIP_LEVEL),
                    },
                    |f| LayerCompression {
                        kind: Compression::from_media_type(&f.media_type),
                        level: f.level,
                    },
                );
            let tmp_dir = blobs.tmp_dir();
            let file = tempfile::Builder::new()
                .prefix("push-")
                .tempfile_in(&tmp_dir)
                .at("create a temp file in", &tmp_dir)?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file.as_file());
            let form = self.store.compress_layer(layer, to, &mut writer)?;
            writer
                .into_inner()
                .map_err(|e| e.into_error())
                .at("write", file.path())?;
            if form.digest != layer.blob {
                replaced.push((
                    i,
                    LayerBlob {
                        media_type: family_media_type(&layer.media_type, &form.media_type),
                        digest: form.digest.clone(),
                        size: form.size,
                    },
                ));
            }
            uploads.push(BlobUpload {
                digest: form.digest,
                size: form.size,
                path: file.path().to_path_buf(),
            });
            compressed.push(file);
        }
        let layer_count = uploads.len();
        uploads.push(stored(&id)?);
        let manifest_bytes = replace_layers(&id, blobs.read(&image.record.manifest)?, &replaced)?;

        for upload in &uploads[..layer_count] {
            progress.layer(&upload.digest, LayerEvent::Waiting);
        }
        let transfers = LayerTransfers {
            sizes: uploads[..layer_count]
                .iter()
                .map(|u| (u.digest.clone(), u.size))
                .collect(),
            progress,
        };
        let mut by_source: BTreeMap<Option<&Reference>, Vec<usize>> = BTreeMap::new();
        for (i, upload) in uploads.iter().enumerate() {
            by_source
                .entry(sources.get(&upload.digest))
                .or_default()
                .push(i);
        }
        let mut how = vec![BlobPushed::Uploaded; uploads.len()];
        for (source, members) in by_source {
            let batch: Vec<BlobUpload> = members.iter().map(|&i| uploads[i].clone()).collect();
            let pushed = client.push_blobs(&reference, &batch, source, &transfers)?;
            for (i, pushed) in members.into_iter().zip(pushed) {
                how[i] = pushed;
            }
        }
        for upload in &uploads[..layer_count] {
            progress.layer(&upload.digest, LayerEvent::Done);
        }
        let media_type = image.manifest.media_type().as_ref().map_or_else(
            || wharf_oci::media_type::OCI_MANIFEST.to_string(),
            |m| m.to_string(),
        );
        let digest = client.push_manifest(&reference, &media_type, &manifest_bytes)?;
        drop(compressed);
        self.store
            .record_repo_digest(&id, &reference.with_digest(digest.clone()))?;
        let layers = found
            .into_iter()
            .chain(
                uploads[..layer_count]
                    .iter()
                    .map(|upload| upload.digest.clone())
                    .zip(how),
            )
            .map(|(digest, how)| PushedLayer {
                mounted_from: (how == BlobPushed::Mounted)
                    .then(|| sources.get(&digest).cloned())
                    .flatten(),
                digest,
                how,
            })
            .collect();
        Ok(PushReport {
            reference,
            digest,
            layers,
        })
    }

    /// For each blob of an image the store pulled from (or pushed to) another repository
    /// of `target`'s registry: that repository, to mount the blob from.
    fn mount_sources(
        &self,
        index: &Index,
        target: &Reference,
    ) -> Result<HashMap<Digest, Reference>> {
        let mut sources = HashMap::new();
        for (id, record) in &index.images {
            let Some(source) = record
                .repo_digests
                .iter()
                .filter_map(|text| text.parse::<Reference>().ok())
                .find(|r| r.domain() == target.domain() && r.path() != target.path())
            else {
                continue;
            };
            let image = self.store.image(index, id)?;
            for blob in image
                .layers()?
                .into_iter()
                .map(|l| l.blob)
                .chain([id.clone()])
            {
                sources.entry(blob).or_insert_with(|| source.clone());
            }
        }
        Ok(sources)
    }

    /// Checks the credentials against the registry, then stores them in
    /// `~/.docker/config.json` (or its credential helper), as `docker login`.
    pub fn login(&self, server: Option<&str>, username: &str, password: &str) -> Result<String> {
        let domain = self.check_login(server, username, password)?;
        let auth = AuthConfig::basic(username, password);
        let config = DockerConfigFile::from_env().ok_or(EngineError::NoHome)?;
        config.store(&domain, &auth)?;
        Ok(domain)
    }

    /// Checks the credentials against the registry of `server` (Docker Hub without one)
    /// and returns its domain; stores nothing (the API's `/auth`: the client stores them).
    pub fn check_login(
        &self,
        server: Option<&str>,
        username: &str,
        password: &str,
    ) -> Result<String> {
        let domain = registry_domain(server);
        let auth = AuthConfig::basic(username, password);
        self.registry_client()?.login(&domain, auth)?;
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

/// The gzip media type for an uncompressed layer type; `None` for layers already compressed.
/// The gzip level of layers compressed for a push: fixed, so that the same tar makes the
/// same blob (and a second push finds it).
const PUSH_GZIP_LEVEL: i32 = 6;

fn is_uncompressed(media_type: &str) -> bool {
    matches!(
        media_type,
        wharf_oci::media_type::OCI_LAYER_TAR | wharf_oci::media_type::DOCKER_LAYER_TAR
    )
}

/// The media type of a compressed `form` (an OCI media type) in the family (Docker's or
/// OCI's) of the manifest's layer type `family_of`.
fn family_media_type(family_of: &str, form: &str) -> String {
    if form == wharf_oci::media_type::OCI_LAYER_GZIP {
        gzip_media_type(family_of).to_string()
    } else {
        form.to_string()
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
