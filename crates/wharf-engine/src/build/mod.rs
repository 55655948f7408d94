//! `wharf build`: the Dockerfile frontend plans a graph ([`plan`]), the solver of
//! `wharf-build` runs it with the store's cache and this executor ([`executor`]), and the
//! result becomes an image in the store.

mod downloads;
mod executor;
mod plan;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use wharf_build::context::{self, SourceTree};
use wharf_build::{Layer, Network, Reporter, Solver};
use wharf_oci::{Digest, Reference};
use wharf_store::LayerCompression;

use executor::StepExecutor;
pub use executor::{read_secret, Secret, BUILD_STEP_COMMAND};
use plan::{BaseImage, PlanInput};

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// Where the Dockerfile and the context come from.
pub enum BuildSource {
    /// A context folder; the Dockerfile is `-f` or `<context>/Dockerfile`.
    Dir(PathBuf),
    /// `wharf build - < context.tar`: a context tarball (plain or gzip).
    Tar(Box<dyn Read>),
    /// `wharf build - < Dockerfile`: a Dockerfile and an empty context.
    Dockerfile(String),
}

/// `wharf build` options, Docker's meaning.
pub struct BuildOptions {
    pub source: BuildSource,
    /// `-f`: the Dockerfile (relative to the current folder), or `-` for stdin text.
    pub dockerfile: Option<PathBuf>,
    /// `-f -`: the Dockerfile text read from stdin by the caller.
    pub dockerfile_text: Option<String>,
    pub tags: Vec<Reference>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    /// `--pull`: fetch base images even when the store has them.
    pub pull: bool,
    pub labels: BTreeMap<String, String>,
    /// `--secret` values, already read.
    pub secrets: Vec<Secret>,
    pub network: Network,
    pub extra_hosts: Vec<String>,
    /// Give RUN steps the host's CA bundle (`--host-ca-certs` or the setting).
    pub host_ca_certs: bool,
    /// How the layers of steps that run are compressed.
    pub compression: LayerCompression,
    /// Also recompress the image's other layers (base image, cached steps) that are
    /// compressed another way.
    pub force_compression: bool,
}

/// What a build made.
#[derive(Debug)]
pub struct BuildOutcome {
    pub id: Digest,
    pub tags: Vec<Reference>,
    /// Things the user may want to know (unused build args).
    pub warnings: Vec<String>,
}

/// The host's CA bundle, where Debian and most distributions keep it.
const HOST_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

impl Engine {
    /// Builds an image. Steps report to `reporter` as they run.
    pub fn build(&self, options: BuildOptions, reporter: &dyn Reporter) -> Result<BuildOutcome> {
        let held = self.store.shared_lock()?;
        // A context that comes as a tarball is unpacked into a temp folder first.
        let unpacked;
        let (context_dir, dockerfile_path): (PathBuf, Option<PathBuf>) = match options.source {
            BuildSource::Dir(dir) => {
                let dir = std::fs::canonicalize(&dir).map_err(|e| EngineError::BuildContext {
                    path: dir.clone(),
                    message: format!("unable to prepare context: {e}"),
                })?;
                let meta = std::fs::metadata(&dir).at("stat", &dir)?;
                if !meta.is_dir() {
                    return Err(EngineError::BuildContext {
                        path: dir,
                        message: "unable to prepare context: not a directory".into(),
                    });
                }
                let dockerfile = options
                    .dockerfile
                    .clone()
                    .filter(|f| f.as_os_str() != "-")
                    .unwrap_or_else(|| dir.join("Dockerfile"));
                (dir, Some(dockerfile))
            }
            BuildSource::Tar(reader) => {
                unpacked = self.temp_context()?;
                context::extract_context(reader, unpacked.path())?;
                let dockerfile = unpacked.path().join(
                    options
                        .dockerfile
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("Dockerfile")),
                );
                (unpacked.path().to_owned(), Some(dockerfile))
            }
            BuildSource::Dockerfile(text) => {
                unpacked = self.temp_context()?;
                let path = unpacked.path().join("Dockerfile");
                std::fs::write(&path, text).at("write", &path)?;
                (unpacked.path().to_owned(), None)
            }
        };
        // Messages name the Dockerfile as the user gave it, like BuildKit.
        let shown_name = options
            .dockerfile
            .as_ref()
            .filter(|f| f.as_os_str() != "-")
            .map_or_else(|| "Dockerfile".to_owned(), |f| f.display().to_string());
        let (dockerfile_name, source) = match (&options.dockerfile_text, &dockerfile_path) {
            (Some(text), _) => ("Dockerfile".to_owned(), text.clone()),
            (None, Some(path)) => (
                shown_name,
                std::fs::read_to_string(path).map_err(|e| EngineError::Dockerfile {
                    file: path.display().to_string(),
                    line: 0,
                    message: format!("cannot read it: {e}"),
                    hint: Some(
                        "give the Dockerfile with -f, or put one in the context folder".into(),
                    ),
                })?,
            ),
            (None, None) => {
                let path = context_dir.join("Dockerfile");
                (
                    "Dockerfile".to_owned(),
                    std::fs::read_to_string(&path).at("read", &path)?,
                )
            }
        };
        let dockerfile = wharf_dockerfile::parse(&source).map_err(|e| EngineError::Dockerfile {
            file: dockerfile_name.clone(),
            line: e.line().unwrap_or(0),
            hint: e.hint(),
            message: e.to_string(),
        })?;
        let ignore = context::load_dockerignore(&context_dir, dockerfile_path.as_deref())?
            .map(|(matcher, _)| matcher);

        let mut build_args = options.build_args.clone();
        let epoch = build_args
            .get("SOURCE_DATE_EPOCH")
            .cloned()
            .or_else(|| std::env::var("SOURCE_DATE_EPOCH").ok())
            .map(|text| {
                text.parse::<u64>().map_err(|_| EngineError::BadOption {
                    flag: "SOURCE_DATE_EPOCH",
                    value: text.clone(),
                    message: "expected seconds since 1970".into(),
                })
            })
            .transpose()?;
        if let Some(epoch) = epoch {
            build_args.insert("SOURCE_DATE_EPOCH".into(), epoch.to_string());
        }
        let secret_ids: Vec<String> = options.secrets.iter().map(|s| s.id.clone()).collect();
        let resolve_image = |name: &str| self.base_image(name, options.pull);
        let plan = plan::plan(&PlanInput {
            dockerfile: &dockerfile,
            dockerfile_name: &dockerfile_name,
            source: &source,
            build_args: &build_args,
            target: options.target.as_deref(),
            network: options.network,
            extra_hosts: &options.extra_hosts,
            host_ca_certs: options.host_ca_certs,
            secret_ids: &secret_ids,
            resolve_image: &resolve_image,
        })?;

        let executor = StepExecutor {
            engine: self,
            downloads: downloads::Downloads::default(),
            context: SourceTree::context(&context_dir, ignore),
            secrets: &options.secrets,
            epoch,
            compression: options.compression,
            host_ca_bundle: options
                .host_ca_certs
                .then(|| {
                    HOST_CA_BUNDLES
                        .iter()
                        .map(PathBuf::from)
                        .find(|p| p.is_file())
                })
                .flatten(),
        };
        let epoch_text = epoch.map(rfc3339_of);
        let now = || epoch_text.clone().unwrap_or_else(crate::now_rfc3339);
        reporter.planned(&plan.lines);
        let results = Solver {
            executor: &executor,
            cache: &executor,
            reporter,
            no_cache: options.no_cache,
            now: &now,
        }
        .solve(&plan.graph)
        .map_err(|e| EngineError::Build(Box::new(e)))?;

        let target = plan.graph.target;
        let mut config =
            plan.stages[target].image_config(&plan.stages, &results, target, epoch_text.as_deref());
        if !options.labels.is_empty() {
            config
                .config
                .labels
                .get_or_insert_with(BTreeMap::new)
                .extend(options.labels.clone());
        }
        let mut layers = results[target].layers.clone();
        if options.force_compression {
            let media_type = options.compression.kind.layer_media_type();
            for layer in layers.iter_mut().filter(|l| l.media_type != media_type) {
                // Only the digest is kept: the layer records the form, and a push makes
                // the same bytes again from its tar.
                let form = self.store.compress_layer(
                    &wharf_store::ImageLayer {
                        blob: layer.blob.clone(),
                        media_type: layer.media_type.clone(),
                        blob_size: layer.size,
                        diff_id: layer.diff_id.clone(),
                        chain_id: layer.chain_id.clone(),
                    },
                    options.compression,
                    std::io::sink(),
                )?;
                layer.blob = form.digest;
                layer.size = form.size;
                layer.media_type = media_type.into();
            }
        }
        let id = self.write_image(
            &held,
            &config,
            &layers,
            &options.tags,
            options.force_compression,
        )?;
        Ok(BuildOutcome {
            id,
            tags: options.tags,
            warnings: plan
                .unused_args
                .iter()
                .map(|name| format!("build argument {name} was given but no stage uses it"))
                .collect(),
        })
    }

    /// An image named in the Dockerfile: from the store, pulled when missing or `--pull`.
    fn base_image(&self, name: &str, pull: bool) -> Result<BaseImage> {
        let mut index = self.store.index()?;
        let id = match index.resolve(name) {
            Some(id) if !pull => id,
            _ => {
                let id = self.pull(name, None, &crate::NoProgress)?.id;
                index = self.store.index()?;
                id
            }
        };
        let image = self.store.image(&index, &id)?;
        let layers = solver_layers(&image)?;
        Ok(BaseImage {
            id,
            layers,
            config: image.config,
        })
    }

    fn temp_context(&self) -> Result<tempfile::TempDir> {
        let parent = self.store.build_steps_dir();
        std::fs::create_dir_all(&parent).at("create directory", &parent)?;
        tempfile::Builder::new()
            .prefix("context-")
            .tempdir_in(&parent)
            .at("create a temp folder in", &parent)
    }

    /// `wharf builder prune -a`: forgets cached steps and cache mounts, then collects what
    /// only they kept. Returns the records removed and the bytes reclaimed (as `du` counts
    /// them: the records, mounts and layers).
    pub fn prune_build_cache(&self) -> Result<(usize, u64)> {
        let exclusive = self.store.exclusive_lock()?;
        let folder = wharf_store::disk_bytes(&self.store.build_cache_dir());
        let records = self.store.clear_build_cache()?;
        let report = self.store.gc(&exclusive)?;
        Ok((records, folder + report.reclaimed_bytes))
    }

    /// `wharf builder prune`: forgets the cached steps whose layer no image holds (Docker's
    /// dangling cache: what removing frees bytes), keeping cache mounts and the steps under
    /// images, then collects what only they kept.
    pub fn prune_dangling_build_cache(&self) -> Result<(usize, u64)> {
        let exclusive = self.store.exclusive_lock()?;
        let index = self.store.index()?;
        let mut in_images = std::collections::HashSet::new();
        for id in index.images.keys() {
            if let Ok(image) = self.store.image(&index, id) {
                in_images.extend(
                    image
                        .layers()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| l.chain_id),
                );
            }
        }
        let dangling: Vec<String> = self
            .store
            .keyed_build_records()?
            .into_iter()
            .filter(|(_, record)| {
                record
                    .layer
                    .as_ref()
                    .is_some_and(|layer| !in_images.contains(&layer.chain_id))
            })
            .map(|(key, _)| key)
            .collect();
        let records = self.store.forget_build_records(&dangling)?;
        let report = self.store.gc(&exclusive)?;
        Ok((dangling.len(), records + report.reclaimed_bytes))
    }
}

/// An image's layers as the build solver stacks them.
pub(crate) fn solver_layers(image: &wharf_store::Image) -> Result<Vec<Layer>> {
    Ok(image
        .layers()?
        .into_iter()
        .map(|l| Layer {
            diff_id: l.diff_id,
            blob: l.blob,
            media_type: l.media_type,
            size: l.blob_size,
            chain_id: l.chain_id,
        })
        .collect())
}

fn rfc3339_of(seconds: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("times format")
}
