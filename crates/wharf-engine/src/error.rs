use std::path::PathBuf;

use wharf_oci::ReferenceError;
use wharf_store::StoreError;

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Boxed: registry errors carry the registry's whole answer.
    #[error(transparent)]
    Registry(Box<wharf_registry::RegistryError>),
    #[error("cannot find your home folder for ~/.docker/config.json")]
    NoHome,
    /// Networks: bridges, addresses, published ports, name resolution.
    #[error(transparent)]
    Network(Box<wharf_net::NetError>),
    #[error("network {0} is pre-defined and cannot be removed")]
    PredefinedNetwork(String),
    #[error("network {network} is used by {}: {}", if containers.len() == 1 { "container" } else { "containers" }, containers.join(", "))]
    NetworkUsed {
        network: String,
        containers: Vec<String>,
    },
    #[error("no public port {port} published for container {container}")]
    NoPublicPort { port: String, container: String },
    /// A container that could not start, as its monitor reported it.
    #[error("{message}")]
    StartFailed {
        message: String,
        hint: Option<String>,
        exit_code: i32,
    },
    #[error("no such image: {0}")]
    ImageNotFound(String),
    #[error("{archive}: {message}")]
    BadArchive { archive: String, message: String },
    #[error("--change `{change}`: {message}")]
    BadChange { change: String, message: String },
    #[error(
        "unable to delete {image} (must be forced): image is referenced in multiple repositories"
    )]
    ImageHasSeveralTags { image: String },
    #[error("{flag} {value}: {message}")]
    BadOption {
        flag: &'static str,
        value: String,
        message: String,
    },
    /// A compose service key the engine cannot honor (or a value it refuses).
    #[error("{key}: {message}")]
    ComposeKey { key: String, message: String },
    #[error("no command specified: image {0} has no Cmd or Entrypoint")]
    NoCommand(String),
    /// Docker's wording: `unable to find user bob: no matching entries in passwd file`.
    #[error("unable to find {kind} {name}: no matching entries in {file} file")]
    UnknownUser {
        /// `user` or `group`.
        kind: &'static str,
        name: String,
        /// `passwd` or `group`.
        file: &'static str,
    },
    #[error("the container name \"{name}\" is already in use by container {id}")]
    NameInUse { name: String, id: String },
    /// A `cp` path that does not fit the copy, with Docker's reason.
    #[error("{path}: {message}")]
    Copy { path: String, message: String },
    #[error("no such volume: {0}")]
    VolumeNotFound(String),
    #[error("volume {volume} is in use by {}: {}", if containers.len() == 1 { "container" } else { "containers" }, containers.join(", "))]
    VolumeInUse {
        volume: String,
        containers: Vec<String>,
    },
    #[error("--init: {} is missing", path.display())]
    NoInit { path: PathBuf },
    #[error("no such container: {0}")]
    ContainerNotFound(String),
    #[error("no such exec instance: {0}")]
    ExecNotFound(String),
    #[error("container {name} is running: stop it before removing it")]
    ContainerRunning { name: String },
    #[error("container {name} is not running")]
    ContainerNotRunning { name: String },
    #[error("container {name} did not end within {seconds} s of SIGKILL: it is left as it is")]
    ContainerDidNotEnd { name: String, seconds: u64 },
    #[error("container {name} is paused")]
    ContainerPaused { name: String },
    #[error("container {name} is not paused")]
    ContainerNotPaused { name: String },
    #[error("container {name} keeps no logs: its log driver is {driver}")]
    NoLogs { name: String, driver: &'static str },
    #[error("unable to remove image {image}: it is used by container {container}")]
    ImageInUse { image: String, container: String },
    /// The container's process could not start: its command, working directory or a device.
    #[error("container {name}: {error}")]
    Start {
        name: String,
        error: wharf_runtime::StartError,
    },
    #[error("container {name}: {message}")]
    Runtime {
        name: String,
        message: String,
        exit_code: i32,
    },
    /// A Dockerfile that cannot build as written; line 0 when no line is to blame.
    #[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Dockerfile {
        file: String,
        line: usize,
        message: String,
        hint: Option<String>,
    },
    /// A build step that failed.
    #[error(transparent)]
    Build(Box<wharf_build::BuildError>),
    /// The build context, a COPY source or a .dockerignore file.
    #[error(transparent)]
    Context(#[from] wharf_build::context::Error),
    /// A build step's overlay that could not be mounted.
    #[error(transparent)]
    Rootfs(#[from] wharf_runtime::RootfsError),
    #[error("build context {path}: {message}")]
    BuildContext { path: PathBuf, message: String },
    #[error("cannot reset: {mount} is mounted inside the state root")]
    MountedInRoot { mount: PathBuf },
    #[error("failed to {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<wharf_registry::RegistryError> for EngineError {
    fn from(error: wharf_registry::RegistryError) -> Self {
        Self::Registry(Box::new(error))
    }
}

impl EngineError {
    /// The registry refused the credentials given (or asked for some).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Registry(e) if matches!(**e, wharf_registry::RegistryError::Unauthorized { .. }))
    }

    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ImageNotFound(_) => Some("`wharf images` lists the images in the store".into()),
            Self::MountedInRoot { mount } => Some(format!(
                "nothing was deleted from the folders; unmount it (`umount {}`), then run `wharf system reset` again",
                mount.display()
            )),
            Self::Network(error) => crate::network::hint(error),
            Self::PredefinedNetwork(_) => {
                Some("only networks made with `wharf network create` can be removed".into())
            }
            Self::NetworkUsed { .. } => Some(
                "remove those containers (`wharf rm`) or disconnect them (`wharf network disconnect`) first"
                    .into(),
            ),
            Self::NoPublicPort { .. } => Some("`wharf port CONTAINER` lists its published ports".into()),
            Self::StartFailed { hint, .. } => hint.clone(),
            Self::Start { error, .. } => error.hint(),
            Self::UnknownUser { kind, .. } => Some(format!(
                "give a {kind} of the container's /etc/{}, or a number",
                if *kind == "user" { "passwd" } else { "group" }
            )),
            Self::Dockerfile { hint, .. } => hint.clone(),
            Self::Registry(error) => error.hint(),
            Self::NoHome => Some("set HOME or DOCKER_CONFIG".into()),
            Self::ImageHasSeveralTags { .. } => {
                Some("remove it by tag (`wharf rmi NAME:TAG`), or force with `wharf rmi -f`".into())
            }
            Self::NameInUse { .. } => Some("choose another --name, or remove that container with `wharf rm`".into()),
            Self::NoInit { .. } => Some(
                "install Debian's tini package (`apt-get install tini`), or run without --init".into(),
            ),
            Self::ContainerNotFound(_) => Some("`wharf ps -a` lists the containers".into()),
            Self::VolumeNotFound(_) => Some("`wharf volume ls` lists the volumes".into()),
            Self::VolumeInUse { .. } => Some("remove those containers first (`wharf rm`)".into()),
            Self::ContainerRunning { .. } => Some("`wharf stop` it first, or use `wharf rm -f`".into()),
            Self::ContainerDidNotEnd { .. } => Some("the host may be overloaded: run `wharf rm -f` again".into()),
            Self::BadOption { flag: "--memory", .. } => Some("give --memory (-m) 6m or more".into()),
            Self::BadOption { flag: "--ulimit", .. } => {
                Some("give limits no higher than this host's hard limits (`ulimit -Ha` lists them)".into())
            }
            Self::ContainerPaused { name } => Some(format!("unpause it first: `wharf unpause {name}`")),
            Self::ContainerNotPaused { name } => Some(format!("`wharf pause {name}` pauses it")),
            Self::NoLogs { .. } => Some("only the json-file log driver (the default) keeps logs for `wharf logs`; create the container with --log-driver json-file".into()),
            Self::ImageInUse { .. } => Some("remove the container first (`wharf rm`)".into()),
            Self::NoCommand(_) => Some("give a command after the image name".into()),
            Self::BadChange { .. } => Some(
                "--change takes one Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR"
                    .into(),
            ),
            Self::BadArchive { .. } => {
                Some("`wharf load` reads tarballs made by `docker save`, `wharf save` or OCI image layouts".into())
            }
            Self::Store(StoreError::UnsafeEntry { .. }) => {
                Some("the archive tries to write outside its layer; it was rejected and nothing of it was kept".into())
            }
            Self::Store(StoreError::DigestMismatch { .. } | StoreError::DiffIdMismatch { .. }) => {
                Some("the archive is corrupt or was tampered with; nothing of it was kept".into())
            }
            Self::Store(StoreError::NewerLayout { .. }) => Some(
                "use the newer wharf that wrote it, or another state root (WHARF_ROOT)".into(),
            ),
            Self::Store(
                StoreError::LayerFileChanged { .. }
                | StoreError::BadLayerRecord { .. }
                | StoreError::RebuiltLayerMismatch { .. }
                | StoreError::LayerTarLost { .. },
            ) => Some(
                "the store's copy of this layer is damaged; `wharf system check` lists what is hit, then remove the image (`wharf rmi`) and pull or load it again"
                    .into(),
            ),
            _ => None,
        }
    }
}

pub(crate) trait IoResultExt<T> {
    fn at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoResultExt<T> for std::io::Result<T> {
    fn at(self, op: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| EngineError::Io {
            op,
            path: path.into(),
            source,
        })
    }
}

impl From<wharf_net::NetError> for EngineError {
    fn from(error: wharf_net::NetError) -> Self {
        Self::Network(Box::new(error))
    }
}
