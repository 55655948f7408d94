//! The build graph: what the frontend asks the solver to build, in terms of filesystem
//! operations only. Instructions that change nothing on disk (ENV, LABEL, CMD...) never get
//! here: the frontend folds them into the image config itself.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;

/// The stages a build needs, and which of them is the result.
#[derive(Debug, Clone)]
pub struct BuildGraph {
    pub stages: Vec<StageGraph>,
    /// Index in `stages` of the stage whose filesystem is the built image.
    pub target: usize,
}

/// One stage: a base filesystem and the steps that change it.
#[derive(Debug, Clone)]
pub struct StageGraph {
    /// For progress lines: the stage's name, or its index.
    pub name: String,
    pub base: Base,
    pub steps: Vec<Step>,
}

/// What a stage starts from.
#[derive(Debug, Clone)]
pub enum Base {
    /// `FROM scratch`: no layers.
    Scratch,
    /// An image of the store.
    Image { id: Digest, layers: Vec<Layer> },
    /// The result of another stage of the graph (by index in [`BuildGraph::stages`]).
    Stage(usize),
}

/// One layer as the store keeps it: enough to stack it and to write a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub diff_id: Digest,
    pub blob: Digest,
    pub media_type: String,
    /// Size of the blob in bytes.
    pub size: u64,
    /// The layer's chain id: it names the layer stacked on the layers below it.
    pub chain_id: Digest,
}

/// One step of a stage.
#[derive(Debug, Clone)]
pub struct Step {
    /// What progress output shows, e.g. `RUN pip install -r requirements.txt`.
    pub label: String,
    /// Where the step comes from, for error messages (e.g. `Dockerfile:4`).
    pub origin: String,
    pub op: Op,
}

/// A filesystem operation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Exec(ExecOp),
    Copy(CopyOp),
    Mkdir(MkdirOp),
}

/// Runs a command in a container whose root is the stage's filesystem.
#[derive(Debug, Clone, Serialize)]
pub struct ExecOp {
    pub args: Vec<String>,
    /// `KEY=value`, everything in effect: image env, ENV, ARGs in scope.
    pub env: Vec<String>,
    pub cwd: String,
    /// `user[:group]` as written in USER, resolved in the stage's filesystem.
    pub user: String,
    pub network: Network,
    pub mounts: Vec<ExecMount>,
    /// Hosts added with `--add-host`, as `name:address`.
    pub extra_hosts: Vec<String>,
    /// Make the host's CA certificates available to the step (never part of the layer).
    pub host_ca_certs: bool,
}

/// The network of a RUN step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// The host's network: RUN steps reach what the host reaches.
    Default,
    None,
    Host,
}

/// A `RUN --mount`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecMount {
    /// A persistent cache directory shared by builds.
    Cache {
        target: String,
        id: String,
        sharing: CacheSharing,
        read_only: bool,
        mode: u32,
        uid: u32,
        gid: u32,
        /// `from=`: a new cache starts as a copy of this stage or image's `source` path.
        from: Option<FileSource>,
        source: String,
    },
    /// A path of the context or of another stage's filesystem.
    Bind {
        target: String,
        from: FileSource,
        source: String,
        read_write: bool,
    },
    /// A secret given to the build, as a file or an environment variable. Its value is never
    /// part of a cache key or a layer.
    Secret {
        id: String,
        /// The file path, unless only `env` is asked for.
        target: Option<String>,
        env: Option<String>,
        required: bool,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Tmpfs {
        target: String,
        size: Option<u64>,
    },
}

impl ExecMount {
    /// The stage, image or context whose files the mount shows, with the path in it.
    pub fn from(&self) -> Option<&FileSource> {
        match self {
            ExecMount::Bind { from, .. } => Some(from),
            ExecMount::Cache { from, .. } => from.as_ref(),
            ExecMount::Secret { .. } | ExecMount::Tmpfs { .. } => None,
        }
    }

    /// Where the mount appears in the container, if it is a file system mount.
    pub fn target(&self) -> Option<&str> {
        match self {
            ExecMount::Cache { target, .. }
            | ExecMount::Bind { target, .. }
            | ExecMount::Tmpfs { target, .. } => Some(target),
            ExecMount::Secret { target, .. } => target.as_deref(),
        }
    }
}

/// How steps running at the same time use one cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheSharing {
    /// All at once.
    Shared,
    /// A step that finds the cache in use gets another instance of it.
    Private,
    /// One step at a time; the others wait.
    Locked,
}

/// Where COPY and bind mounts take files from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileSource {
    /// The build context, filtered by `.dockerignore`.
    Context,
    /// Another stage's filesystem (index in [`BuildGraph::stages`]).
    Stage(usize),
    /// An image of the store that is not a stage.
    Image { id: Digest, layers: Vec<Layer> },
}

/// COPY and ADD.
#[derive(Debug, Clone, Serialize)]
pub struct CopyOp {
    pub from: FileSource,
    /// Source paths, patterns allowed.
    pub sources: Vec<String>,
    /// Heredoc sources: a file name and its content.
    pub inline: Vec<(String, String)>,
    pub destination: String,
    /// The working directory that a relative destination is taken from.
    pub workdir: String,
    /// `--chown` as written, resolved in the stage's filesystem.
    pub chown: Option<String>,
    pub chmod: Option<u32>,
    pub exclude: Vec<String>,
    /// ADD: local archives are extracted.
    pub extract_archives: bool,
    /// ADD: files downloaded from URLs, copied like sources (never extracted).
    pub remote: Vec<RemoteSource>,
    /// `--link`: the files are copied onto an empty filesystem, and that layer is put on top
    /// of the stage's layers; its cache entry does not depend on the layers below.
    pub link: bool,
}

/// `ADD <url>`: a file fetched over HTTP(S).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteSource {
    pub url: String,
    /// `--checksum`: the content must have this digest; it also stands in for the content
    /// in the cache key, so a cached step downloads nothing.
    pub checksum: Option<Digest>,
}

impl RemoteSource {
    /// The name the file gets in a destination folder, as BuildKit names it: the last
    /// non-empty segment of the URL's path.
    pub fn file_name(&self) -> String {
        let path = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.split_once('/').map_or("", |(_, path)| path);
        // Go's path.Base, which BuildKit uses, ignores trailing slashes.
        match path.trim_end_matches('/').rsplit('/').next() {
            Some(name) if !name.is_empty() && name != "." && name != ".." => name.to_string(),
            _ => "__unnamed__".to_string(),
        }
    }
}

/// WORKDIR: creates the directory, owned by the stage's user, when it does not exist.
#[derive(Debug, Clone, Serialize)]
pub struct MkdirOp {
    pub path: String,
    pub user: String,
}

impl BuildGraph {
    /// The stages `stage` needs before it can run, directly.
    pub fn dependencies(&self, stage: usize) -> BTreeSet<usize> {
        let graph = &self.stages[stage];
        let mut needs = BTreeSet::new();
        if let Base::Stage(base) = graph.base {
            needs.insert(base);
        }
        for step in &graph.steps {
            match &step.op {
                Op::Copy(copy) => {
                    if let FileSource::Stage(from) = copy.from {
                        needs.insert(from);
                    }
                }
                Op::Exec(exec) => {
                    for mount in &exec.mounts {
                        if let Some(FileSource::Stage(from)) = mount.from() {
                            needs.insert(*from);
                        }
                    }
                }
                Op::Mkdir(_) => {}
            }
        }
        needs
    }

    /// Groups of stages that can build at the same time, each group after the ones before
    /// it. The frontend only adds stages that the target needs, without cycles.
    pub fn waves(&self) -> Vec<Vec<usize>> {
        let mut done = vec![false; self.stages.len()];
        let mut waves = Vec::new();
        while done.iter().any(|d| !d) {
            let wave: Vec<usize> = (0..self.stages.len())
                .filter(|&i| !done[i] && self.dependencies(i).iter().all(|&d| done[d]))
                .collect();
            assert!(!wave.is_empty(), "the build graph has a cycle");
            for &i in &wave {
                done[i] = true;
            }
            waves.push(wave);
        }
        waves
    }
}
