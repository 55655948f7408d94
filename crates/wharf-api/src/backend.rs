//! What the API needs of an engine: one method per engine call, in Docker's terms. The
//! `wharf` binary implements it over `wharf_engine::Engine` (the API crate does not depend
//! on the engine: see `lib.rs`). Names are as clients give them: a name, a full id or a
//! unique id prefix.
//!
//! Implementations must not run libcontainer in this process: the server has threads, and
//! libcontainer needs a single-threaded caller. Containers start through their monitor
//! process; execs run in a process of their own.

use serde_json::Value;

use crate::error::ApiError;
use crate::types::{
    AuthConfig, BuildQuery, Commit, ContainerCreate, ContainerSummary, EventsQuery, ExecCreate,
    ExecProcess, HostConfig, ImageDeleted, ImageSummary, LogEntry, LogsQuery, NetworkConnect,
    NetworkCreate, PathStat, PullProgress, StatsSample, Top, Version, VolumeCreate, WaitCondition,
};

pub type Result<T> = std::result::Result<T, ApiError>;

pub trait Backend: Send + Sync {
    fn version(&self) -> Version;
    /// `GET /info`, in Docker's shape.
    fn info(&self) -> Result<Value>;
    /// Calls `each` with the events `query` selects, in Docker's message shape, oldest
    /// first, or with `None` when nothing is new for a moment; until `each` returns false
    /// or `query.until` has passed. A bad filter fails before `each` is called.
    fn events(
        &self,
        query: &EventsQuery,
        each: &mut dyn FnMut(Option<&Value>) -> bool,
    ) -> Result<()>;

    /// Creates the container (nothing runs) and returns its id.
    fn create_container(&self, name: Option<&str>, body: ContainerCreate) -> Result<String>;
    /// [`ApiError::NotModified`] when it already runs.
    fn start_container(&self, name: &str) -> Result<()>;
    /// [`ApiError::NotModified`] when it was not running.
    fn stop_container(&self, name: &str, signal: Option<&str>, timeout: Option<u64>) -> Result<()>;
    fn restart_container(
        &self,
        name: &str,
        signal: Option<&str>,
        timeout: Option<u64>,
    ) -> Result<()>;
    fn kill_container(&self, name: &str, signal: &str) -> Result<()>;
    /// The exit code once `condition` holds. Calls `registered` once the container is found
    /// and the wait counts from now (the reply's head goes then: `docker run` starts the
    /// container once it has it); gives up when `abandoned` says the client has gone.
    fn wait_container(
        &self,
        name: &str,
        condition: WaitCondition,
        registered: &mut dyn FnMut(),
        abandoned: &dyn Fn() -> bool,
    ) -> Result<i64>;
    fn remove_container(&self, name: &str, force: bool, volumes: bool) -> Result<()>;
    /// `docker inspect`'s object.
    fn inspect_container(&self, name: &str) -> Result<Value>;
    /// Every container, newest first; the API filters.
    fn list_containers(&self) -> Result<Vec<ContainerSummary>>;
    /// A container's writable layer's bytes, and those plus its image's.
    fn container_sizes(&self, id: &str) -> Result<(u64, u64)>;
    /// Calls `each` per line, oldest first; with `follow`, until the container has exited or
    /// `each` returns false (the client has gone).
    fn container_logs(
        &self,
        name: &str,
        query: &LogsQuery,
        each: &mut dyn FnMut(&LogEntry) -> bool,
    ) -> Result<()>;
    /// A connection to the stdin of container `name` (created with `-i`): what is written
    /// reaches its process, and shutting down the writing side ends its input (closes its
    /// stdin with `StdinOnce`). Waits while the container has not started, until
    /// `abandoned` says the client has gone; `None` when it has ended or takes no input.
    fn attach_stdin(
        &self,
        name: &str,
        abandoned: &dyn Fn() -> bool,
    ) -> Result<Option<std::os::unix::net::UnixStream>>;
    /// The container's counters now.
    fn container_stats(&self, name: &str) -> Result<StatsSample>;
    fn top_container(&self, name: &str, ps_args: &[String]) -> Result<Top>;
    /// What `path` is in the container (not following a final symlink).
    fn stat_path(&self, name: &str, path: &str) -> Result<PathStat>;
    /// Writes a tar of `path` in the container to `out` (entries under its name).
    fn get_archive(&self, name: &str, path: &str, out: &mut dyn std::io::Write) -> Result<()>;
    /// Extracts the tar `archive` into the directory `path` of the container.
    fn put_archive(&self, name: &str, path: &str, archive: &[u8]) -> Result<()>;
    /// [`ApiError::Conflict`] when the new name is taken.
    fn rename_container(&self, name: &str, new_name: &str) -> Result<()>;
    /// Changes the restart policy and the limits given in `body` (Docker's `UpdateConfig`
    /// has `HostConfig`'s names); zero or absent keeps the container's.
    fn update_container(&self, name: &str, body: HostConfig) -> Result<()>;
    /// What the container changed in its filesystem: (path, Docker's kind: 0 modified,
    /// 1 added, 2 deleted), sorted by path.
    fn container_changes(&self, name: &str) -> Result<Vec<(String, u8)>>;
    /// Writes the container's filesystem as a tar to `out`.
    fn export_container(&self, name: &str, out: &mut dyn std::io::Write) -> Result<()>;
    /// Removes every container that is not running: their ids and the bytes freed.
    fn prune_containers(&self) -> Result<(Vec<String>, u64)>;
    fn pause_container(&self, name: &str) -> Result<()>;
    fn unpause_container(&self, name: &str) -> Result<()>;

    /// Records an exec in a running container and returns its id; nothing runs yet.
    fn create_exec(&self, container: &str, body: ExecCreate) -> Result<String>;
    /// Starts exec `id` in a process of its own; `None` when detached (nobody waits).
    fn start_exec(&self, id: &str, detach: bool) -> Result<Option<ExecProcess>>;
    /// Docker's exec inspect, with the exit code once it has ended.
    fn inspect_exec(&self, id: &str) -> Result<Value>;

    /// Creates a network and returns its id.
    fn create_network(&self, body: NetworkCreate) -> Result<String>;
    /// Every network, in inspect's shape; the API filters.
    fn list_networks(&self) -> Result<Vec<Value>>;
    fn inspect_network(&self, name: &str) -> Result<Value>;
    fn remove_network(&self, name: &str) -> Result<()>;
    fn connect_network(&self, network: &str, body: NetworkConnect) -> Result<()>;
    fn disconnect_network(&self, network: &str, container: &str) -> Result<()>;
    /// Removes every user network no container uses: their names.
    fn prune_networks(&self) -> Result<Vec<String>>;

    /// Creates a volume (a missing name makes an anonymous one) and returns its inspect.
    fn create_volume(&self, body: VolumeCreate) -> Result<Value>;
    /// Every volume, in inspect's shape; the API filters.
    fn list_volumes(&self) -> Result<Vec<Value>>;
    fn inspect_volume(&self, name: &str) -> Result<Value>;
    fn remove_volume(&self, name: &str, force: bool) -> Result<()>;
    /// Removes the unused anonymous volumes (every unused one with `all`): their names and
    /// the bytes freed.
    fn prune_volumes(&self, all: bool) -> Result<(Vec<String>, u64)>;

    /// Builds the tar `context` (plain or gzip) as `query` says, telling the progress as
    /// Docker's `stream` text; returns the image id.
    fn build_image(
        &self,
        context: Vec<u8>,
        query: BuildQuery,
        progress: &mut (dyn FnMut(String) + Send),
    ) -> Result<String>;

    fn list_images(&self) -> Result<Vec<ImageSummary>>;
    fn inspect_image(&self, name: &str) -> Result<Value>;
    /// Pulls `reference`, reporting each step.
    fn pull_image(
        &self,
        reference: &str,
        progress: &mut (dyn FnMut(PullProgress) + Send),
    ) -> Result<()>;
    /// Pushes `reference` (`name[:tag]`), reporting each step; nothing is reported before
    /// the push has started, so that a missing image is a plain error.
    fn push_image(
        &self,
        reference: &str,
        progress: &mut (dyn FnMut(PullProgress) + Send),
    ) -> Result<()>;
    /// Writes `docker save`'s tar of the images `names` to `out`.
    fn save_images(&self, names: &[String], out: &mut dyn std::io::Write) -> Result<()>;
    /// Loads a `docker save` tar; Docker's `Loaded image: ...` line for each image.
    fn load_images(&self, archive: &[u8]) -> Result<Vec<String>>;
    /// `GET /images/{name}/history`: Docker's rows, newest first.
    fn image_history(&self, name: &str) -> Result<Vec<Value>>;
    /// Makes an image of a container's changes; returns its id.
    fn commit_container(&self, commit: Commit) -> Result<String>;
    /// Tags image `name` as `target` (`repo[:tag]`).
    fn tag_image(&self, name: &str, target: &str) -> Result<()>;
    fn remove_image(&self, name: &str, force: bool) -> Result<Vec<ImageDeleted>>;
    /// Removes the dangling images (every image no container uses with `all`): what went,
    /// and the bytes freed.
    fn prune_images(&self, all: bool) -> Result<(Vec<ImageDeleted>, u64)>;

    /// `GET /system/df`, in Docker's shape.
    fn disk_usage(&self) -> Result<Value>;
    /// Checks the credentials against the registry as `docker login` does; stores nothing.
    fn check_auth(&self, body: AuthConfig) -> Result<()>;
}
