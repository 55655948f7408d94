//! Flags and subcommands, named and shaped like Docker's.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about = "A daemonless, Docker-compatible container engine"
)]
pub struct Cli {
    /// State root: images, layers, containers (like Docker's /var/lib/docker)
    #[arg(long, global = true, env = "WHARF_ROOT", default_value = wharf_engine::DEFAULT_ROOT)]
    pub root: PathBuf,

    /// Runtime state: container runtime state and locks (like /run/docker)
    #[arg(long, global = true, env = "WHARF_RUN", default_value = wharf_engine::DEFAULT_RUN_ROOT)]
    pub run_root: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// List containers
    Ps(PsArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(NamesArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Pause all processes within one or more containers
    Pause(NamesArgs),
    /// Unpause all processes within one or more containers
    Unpause(NamesArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Update the restart policy and the limits of one or more containers
    Update(UpdateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(ContainerArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Get real time events from wharf's containers
    Events(EventsArgs),
    /// Build an image from a Dockerfile
    Build(BuildArgs),
    /// Check Dockerfiles and compose files (hadolint's rules, BuildKit's checks, Python advice)
    Lint(LintArgs),
    /// Write a Dockerfile, .dockerignore and compose.yaml for a Python project
    Init(InitArgs),
    /// Manage the build cache
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Runs one RUN step of a build (started by wharf itself)
    #[command(name = "__build-step", hide = true)]
    BuildStep(BuildStepArgs),
    /// The per-container monitor process (started by wharf itself)
    #[command(name = "__monitor", hide = true)]
    Monitor(MonitorArgs),
    /// Runs an exec instance created through the API (single-threaded, as libcontainer needs)
    #[command(name = "__exec", hide = true)]
    ExecInstance(ExecInstanceArgs),
    /// One healthcheck probe of a container (started by its monitor)
    #[command(name = "__healthcheck", hide = true)]
    Healthcheck(HealthcheckArgs),
    /// The DNS helper of a user network (started by wharf itself)
    #[command(name = "__dns", hide = true)]
    Dns(DnsArgs),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Define and run multi-container applications (docker compose)
    Compose(ComposeArgs),
    /// Play Kubernetes YAML locally, and take it down (Podman's `kube`)
    #[command(subcommand)]
    Kube(KubeCommand),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// Log in to a registry
    Login(LoginArgs),
    /// Log out from a registry
    Logout(LogoutArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(SaveArgs),
    /// List images
    Images(ImagesArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Return low-level information on containers and images
    Inspect(InspectArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage wharf
    #[command(subcommand)]
    System(SystemCommand),
    /// Show the wharf version information
    Version(FormatArgs),
    /// Generate the autocompletion script for the specified shell
    Completion(CompletionArgs),
    /// Display system-wide information
    Info(FormatArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag (`name:tag`); may be given several times
    #[arg(short, long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: PATH/Dockerfile; `-` reads it from stdin)
    #[arg(short, long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set a build-time variable (`NAME=VALUE`, or `NAME` to take it from the environment)
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// The stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use the cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull newer versions of the base images
    #[arg(long)]
    pub pull: bool,
    /// Set metadata for the image (`KEY=VALUE`)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// A secret for RUN --mount=type=secret: `id=ID,src=FILE` or `id=ID,env=VAR`
    #[arg(long = "secret", value_name = "id=ID,src=FILE")]
    pub secrets: Vec<String>,
    /// Network of RUN steps: default (the host's), none or host
    #[arg(long, default_value = "default")]
    pub network: String,
    /// Add a custom host-to-IP mapping to RUN steps (`host:ip`)
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_hosts: Vec<String>,
    /// Output: type=image|docker[,name=NAME][,compression=gzip|zstd|uncompressed]
    /// [,compression-level=N][,force-compression=true]
    #[arg(short, long, value_name = "SPEC")]
    pub output: Option<String>,
    /// Suppress the build output and print the image ID on success
    #[arg(short, long)]
    pub quiet: bool,
    /// Progress output: auto, plain or tty
    #[arg(long, default_value = "auto")]
    pub progress: String,
    /// Write the image ID to the file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Let RUN steps trust the host's CA certificates (for a TLS-intercepting proxy); they
    /// are mounted for each step and never written into the image
    #[arg(
        long,
        env = "WHARF_BUILD_HOST_CA_CERTS",
        value_parser = BoolishValueParser::new()
    )]
    pub host_ca_certs: bool,
    /// Run the Dockerfile checks only, without building; exit 1 on warnings or errors
    #[arg(long)]
    pub check: bool,
    /// Do not print the Dockerfile checks' warnings after the build
    #[arg(long)]
    pub no_lint: bool,
    /// The build context: a folder, or `-` for a tarball or a Dockerfile on stdin
    #[arg(value_name = "PATH")]
    pub context: String,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print the files instead of writing them
    #[arg(long)]
    pub dry_run: bool,
    /// Replace files that exist
    #[arg(long)]
    pub force: bool,
    /// The Python version of the image (e.g. 3.12), instead of the detected one
    #[arg(long, value_name = "VERSION")]
    pub python: Option<String>,
    /// The port the app listens on (default 8000)
    #[arg(long)]
    pub port: Option<u16>,
    /// The start command, instead of the detected one
    #[arg(long, value_name = "COMMAND")]
    pub cmd: Option<String>,
    /// The project folder (default: the current folder)
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Output: text (default), json, sarif, or a Go template over the findings
    #[arg(long)]
    pub format: Option<String>,
    /// Exit 1 when a finding is at least this grave: error, warning, info, style or none
    #[arg(short = 't', long, value_name = "LEVEL")]
    pub failure_threshold: Option<String>,
    /// A rule not to report (as hadolint's --ignore); may be given several times
    #[arg(long = "ignore", value_name = "RULE")]
    pub ignored: Vec<String>,
    /// A hadolint configuration file (default: .hadolint.yaml here or beside PATH)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dockerfiles, compose files, folders to search (default: the current folder), or `-`
    /// for a Dockerfile on stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct BuildStepArgs {
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    Run(RunArgs),
    Create(CreateArgs),
    Start(StartArgs),
    Stop(StopArgs),
    Kill(KillArgs),
    Restart(StopArgs),
    #[command(alias = "remove")]
    Rm(RmArgs),
    #[command(alias = "list", alias = "ps")]
    Ls(PsArgs),
    Logs(LogsArgs),
    Exec(ExecArgs),
    Wait(NamesArgs),
    Rename(RenameArgs),
    Pause(NamesArgs),
    Unpause(NamesArgs),
    Stats(StatsArgs),
    Top(TopArgs),
    Update(UpdateArgs),
    Diff(ContainerArgs),
    Export(ExportArgs),
    Commit(CommitArgs),
    Attach(AttachArgs),
    Inspect(InspectArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    Cp(CpArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the container in the background and print its id
    #[arg(short, long)]
    pub detach: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Keep STDIN open; attached, the container reads wharf's stdin
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// The binary `--init` runs (Docker's daemon `init-path`); Debian's tini package has it
    #[arg(long, env = "WHARF_INIT_PATH", default_value = "/usr/bin/tini-static")]
    pub init_path: PathBuf,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Set environment variables (`KEY=VALUE`, or `KEY` to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_files: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name
    #[arg(long)]
    pub hostname: Option<String>,
    /// Pull the image before creating: `missing` (default), `always` or `never`
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Bind mount a host path or mount a volume (`/host/path:/ctr[:ro]`, `NAME:/ctr[:ro]`,
    /// or `/ctr` for an anonymous volume)
    #[arg(short, long = "volume")]
    pub volumes: Vec<String>,
    /// Attach a filesystem mount (`type=bind|volume|tmpfs,source=...,target=...,readonly`)
    #[arg(long = "mount")]
    pub mounts: Vec<String>,
    /// Mount a tmpfs directory (`/path[:size=64m,mode=1777,exec]`)
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub resources: ResourceArgs,
    /// Size of /dev/shm (e.g. 128m)
    #[arg(long)]
    pub shm_size: Option<String>,
    /// Kernel parameters of the container's namespaces (`net.core.somaxconn=1024`)
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Ulimit options (`nofile=1024:2048`); never above the host's hard limit
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Add a host device to the container (`/dev/host[:/dev/container][:rwm]`)
    #[arg(long)]
    pub device: Vec<String>,
    /// Connect the container to a network: `bridge` (default), a network's name, `host` or `none`
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Publish a container's port to the host (`[ip:][hostPort:]containerPort[/proto]`)
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random host ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Expose a port or a range of ports (`80`, `80/udp`), beside the image's
    #[arg(long)]
    pub expose: Vec<String>,
    /// IPv4 address on a user-defined network (e.g. 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// Add a network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_aliases: Vec<String>,
    /// Add a custom host-to-IP mapping (`host:ip`, ip may be `host-gateway`)
    #[arg(long = "add-host")]
    pub add_hosts: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Add Linux capabilities
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Security options (`no-new-privileges`)
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Set metadata on the container (`KEY=VALUE`)
    #[arg(short, long = "label")]
    pub labels: Vec<String>,
    /// Signal to stop the container
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop the container
    #[arg(long)]
    pub stop_timeout: Option<u64>,
    /// Command to run to check health (run with /bin/sh -c in the container)
    #[arg(long)]
    pub health_cmd: Option<String>,
    /// Time between running the check (e.g. 30s, 1m30s)
    #[arg(long)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (e.g. 30s)
    #[arg(long)]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long)]
    pub health_retries: Option<u32>,
    /// Start period for the container to initialize before failures count (e.g. 10s)
    #[arg(long)]
    pub health_start_period: Option<String>,
    /// Time between checks during the start period (e.g. 1s)
    #[arg(long)]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long)]
    pub no_healthcheck: bool,
    /// Logging driver for the container: `json-file` (default) or `none`
    #[arg(long, default_value = "json-file")]
    pub log_driver: String,
    /// Log driver options: `max-size=10m`, `max-file=3`
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opts: Vec<String>,
    /// Restart policy when the container exits: `no`, `on-failure[:N]`, `always` or `unless-stopped`
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// The image, then the command and its arguments, taken as they are (`IMAGE -c ...`
    /// passes `-c` to the image's entrypoint, as with Docker)
    #[arg(
        value_name = "IMAGE [COMMAND] [ARG...]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub image_and_command: Vec<String>,
}

impl CreateArgs {
    pub fn image(&self) -> &str {
        &self.image_and_command[0]
    }

    pub fn command(&self) -> &[String] {
        &self.image_and_command[1..]
    }
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach the container's output and wait for it
    #[arg(short, long)]
    pub attach: bool,
    /// Attach the container's STDIN (implies --attach)
    #[arg(short, long)]
    pub interactive: bool,
    /// Start every stopped container whose restart policy brings it back at boot, as
    /// dockerd does when it starts (for contrib/systemd/wharf-restart.service)
    #[arg(long, conflicts_with_all = ["attach", "interactive", "containers"])]
    pub all_restartable: bool,
    #[arg(required_unless_present = "all_restartable")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", alias = "timeout")]
    pub time: Option<u64>,
    /// Signal to send instead of the container's stop signal
    #[arg(short, long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Display total file sizes
    #[arg(short, long)]
    pub size: bool,
    /// Filter output (`status=running|restarting|exited|created`, `health=starting|healthy|unhealthy|none`, `name=NAME`, `id=ID`, `label=KEY[=VALUE]`)
    #[arg(short, long = "filter")]
    pub filters: Vec<String>,
    /// Format output: `table`, `json`, or a Go template such as `{{.ID}} {{.Names}}`
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs (a number or `all`)
    #[arg(short = 'n', long)]
    pub tail: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs since a time: RFC 3339 (`2026-01-02T15:04:05Z`), Unix seconds, or relative (`10m`)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a time: RFC 3339, Unix seconds, or relative (`10m`)
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

/// The limits `run`/`create` set and `update` changes.
#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory plus swap limit: a size, or -1 for unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit (e.g. 32m)
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long)]
    pub cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<u64>,
    /// Tune the container's pids limit
    #[arg(long)]
    pub pids_limit: Option<u64>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Restart policy when the container exits: `no`, `on-failure[:N]`, `always` or `unless-stopped`
    #[arg(long)]
    pub restart: Option<String>,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided (container, event, image, label, type)
    #[arg(short, long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Format output: `json`, or a Go template such as `{{.Action}} {{.Actor.ID}}`
    #[arg(long)]
    pub format: Option<String>,
    /// Show the recorded events since a time: RFC 3339, Unix seconds, or relative (`10m`)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this time, then exit: RFC 3339, Unix seconds, or relative (`10m`)
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output: `table`, `json`, or a Go template such as `{{.Name}} {{.CPUPerc}}`
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ContainerArgs {
    pub container: String,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    pub container: String,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    pub container: String,
    /// Repository and tag for the new image
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the created image
    #[arg(short, long = "change")]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Pause container during commit
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub pause: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    pub container: String,
    /// Options for `ps` (default `-ef`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ps OPTIONS"
    )]
    pub ps_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: run the command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Keep STDIN open: the command reads wharf's stdin
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Set environment variables (`KEY=VALUE`, or `KEY` to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    pub container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    pub id: String,
    #[arg(long)]
    pub attach: bool,
    /// Attached, the container's stdin is the monitor's (the CLI's)
    #[arg(long, requires = "attach")]
    pub stdin: bool,
    /// Started by the previous monitor for a policy restart
    #[arg(long, conflicts_with = "attach")]
    pub restarted: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    Build(BuildArgs),
    Pull(PullArgs),
    Push(PushArgs),
    Import(ImportArgs),
    Load(LoadArgs),
    Save(SaveArgs),
    #[command(alias = "list")]
    Ls(ImagesArgs),
    Tag(TagArgs),
    #[command(alias = "remove")]
    Rm(RmiArgs),
    History(HistoryArgs),
    Inspect(InspectArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct ExecInstanceArgs {
    /// The exec instance's id
    pub id: String,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The container's id
    pub id: String,
}

#[derive(Debug, Args)]
pub struct DnsArgs {
    /// The network's id
    pub network: String,
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub container: String,
    /// `PRIVATE_PORT[/PROTO]`
    pub port: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(NetworkCreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(NetworkLsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove all unused networks
    Prune(NetworkPruneArgs),
    /// Connect a container to a network
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network
    Disconnect(NetworkDisconnectArgs),
}

#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// Driver to manage the network (only `bridge`)
    #[arg(short, long)]
    pub driver: Option<String>,
    /// Subnet in CIDR format (e.g. 172.30.0.0/16)
    #[arg(long)]
    pub subnet: Option<String>,
    /// IPv4 gateway for the subnet
    #[arg(long)]
    pub gateway: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Set metadata on a network (`KEY=VALUE`)
    #[arg(long = "label")]
    pub labels: Vec<String>,
    pub name: String,
}

#[derive(Debug, Args)]
pub struct NetworkLsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter output (`name=NAME`, `id=ID`, `driver=DRIVER`, `label=KEY[=VALUE]`, `type=custom|builtin`)
    #[arg(short, long = "filter")]
    pub filters: Vec<String>,
    /// Format output: `table`, `json`, or a Go template such as `{{.ID}} {{.Name}}`
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct NetworkRmArgs {
    /// Do not error if the network does not exist
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NetworkPruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct NetworkConnectArgs {
    /// Add a network-scoped alias for the container
    #[arg(long = "alias")]
    pub aliases: Vec<String>,
    /// IPv4 address (e.g. 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct NetworkDisconnectArgs {
    /// Force the container to disconnect from a network (accepted for Docker compatibility)
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show wharf disk usage
    Df(DfArgs),
    /// Display system-wide information
    Info(FormatArgs),
    /// Get real time events from wharf's containers
    Events(EventsArgs),
    /// Remove stopped containers, unused networks, dangling images (all unused ones and the
    /// build cache with -a) and, with --volumes, unused anonymous volumes
    Prune(SystemPruneArgs),
    /// Verify the store: every image complete, every blob intact, every tag valid
    Check(CheckArgs),
    /// Remove every container, image, volume, network and cache of the state root, with
    /// their host-side state, and what roots whose folder is gone left on the host
    Reset(ResetArgs),
    /// Serve the Docker Engine API on a unix socket (docker-py, testcontainers, the docker
    /// CLI with DOCKER_HOST); socket-activated under systemd (LISTEN_FDS)
    Service(ServiceArgs),
}

#[derive(Debug, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images, not just dangling ones, and the build cache
    #[arg(short, long)]
    pub all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    pub volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// Exit after this many seconds without a client (0: never)
    #[arg(short, long, default_value_t = 5)]
    pub time: u64,
    /// Where to listen: unix:///path (ignored when systemd passes the socket)
    #[arg(default_value = "unix:///run/wharf/docker.sock")]
    pub uri: String,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// Platform (`os/arch[/variant]`), default this host's
    #[arg(long)]
    pub platform: Option<String>,
    pub image: String,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    pub image: String,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (visible to other users of this machine: prefer --password-stdin)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// The registry (default: Docker Hub)
    pub server: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub)
    pub server: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A tarball (plain, gzip or zstd), or `-` for STDIN
    pub file: String,
    /// Repository and tag for the new image
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the created image
    #[arg(short, long = "change")]
    pub changes: Vec<String>,
    /// Set commit message for the imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file, instead of STDIN
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show only images of this repository (and tag)
    pub repository: Option<String>,
    /// Show all images (intermediate images are shown anyway: wharf has none yet)
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output (`dangling=true|false`, `reference=PATTERN`)
    #[arg(short, long = "filter")]
    pub filters: Vec<String>,
    /// Format output: `table`, `json`, or a Go template such as `{{.ID}} {{.Repository}}`
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of an image with several tags
    #[arg(short, long)]
    pub force: bool,
    /// Do not delete untagged parents (wharf has no parent images; accepted for Docker compatibility)
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub image: String,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Format output: `json` (the default) or a Go template such as `{{.Config.Cmd}}`
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(VolumeCreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused volumes (anonymous ones only, unless --all)
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct VolumeCreateArgs {
    /// Volume driver name (only `local`)
    #[arg(short, long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume (`KEY=VALUE`)
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Driver specific options (the local driver's options are not supported yet)
    #[arg(short, long = "opt")]
    pub opts: Vec<String>,
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct VolumeLsArgs {
    /// Only display volume names
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter output (`name=NAME`, `label=KEY[=VALUE]`, `dangling=true|false`, `driver=local`)
    #[arg(short, long = "filter")]
    pub filters: Vec<String>,
    /// Format output: `table`, `json`, or a Go template such as `{{.Name}}`
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct VolumeRmArgs {
    /// Do not error if a volume does not exist
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// `CONTAINER:SRC_PATH`, a local path, or `-` for a tar stream on stdin
    pub source: String,
    /// `CONTAINER:DEST_PATH`, a local path, or `-` for a tar stream on stdout
    pub dest: String,
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Format output: `json` or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Repair what can be repaired: re-unpack damaged layers, drop images whose content is
    /// lost, remove leftovers of interrupted operations
    #[arg(long)]
    pub repair: bool,
    /// Also rebuild the tar of every layer kept as its unpacked tree and tar-split record,
    /// and check it against its diff id (reads every byte, as blobs are read)
    #[arg(long)]
    pub thorough: bool,
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Format output: `json` or a Go template
    #[arg(short, long)]
    pub format: Option<String>,
}

/// Prints a flag error in the house style and exits 125 as Docker does; help and version
/// go to stdout with success.
pub fn report_parse_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(crate::EXIT_ENGINE_ERROR)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = error.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    crate::printer::Printer.error(message, Some("`wharf COMMAND --help` lists the flags"));
    ExitCode::from(crate::EXIT_ENGINE_ERROR)
}

/// `wharf compose`: docker compose's global flags, then a subcommand.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub project: ComposeProjectArgs,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

/// The flags every `compose` subcommand shares (before it; all but `-f` and `-p` after it too).
#[derive(Debug, Clone, Args)]
pub struct ComposeProjectArgs {
    /// Compose configuration files
    // Not global: `-f` after a subcommand is its own (`logs -f` follows), as in docker compose.
    #[arg(short = 'f', long = "file")]
    pub files: Vec<PathBuf>,
    /// Project name
    // Not global: `run -p` publishes a port.
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first compose file)
    #[arg(long, global = true)]
    pub project_directory: Option<PathBuf>,
    /// Specify an alternate environment file
    #[arg(long = "env-file", global = true)]
    pub env_files: Vec<PathBuf>,
    /// Specify a profile to enable
    #[arg(long = "profile", global = true)]
    pub profiles: Vec<String>,
    /// Let the RUN steps of builds trust the host's CA certificates, as `wharf build
    /// --host-ca-certs` (wharf's own flag: for a TLS-intercepting proxy)
    #[arg(
        long,
        global = true,
        env = "WHARF_BUILD_HOST_CA_CERTS",
        value_parser = BoolishValueParser::new()
    )]
    pub host_ca_certs: bool,
}

#[derive(Debug, Subcommand)]
pub enum ComposeCommand {
    /// Parse, resolve and render compose file in canonical format
    #[command(alias = "convert")]
    Config(ComposeConfigArgs),
    /// Create and start containers
    Up(ComposeUpArgs),
    /// Creates containers for a service
    Create(ComposeCreateArgs),
    /// Stop and remove containers, networks
    Down(ComposeDownArgs),
    /// List containers
    Ps(ComposePsArgs),
    /// View output from containers
    Logs(ComposeLogsArgs),
    /// Execute a command in a running container
    Exec(ComposeExecArgs),
    /// Start services
    Start(ComposeServicesArgs),
    /// Stop services
    Stop(ComposeStopArgs),
    /// Restart service containers
    Restart(ComposeStopArgs),
    /// Force stop service containers
    Kill(ComposeServicesArgs),
    /// Pause services
    Pause(ComposeServicesArgs),
    /// Unpause services
    Unpause(ComposeServicesArgs),
    /// Removes stopped service containers
    Rm(ComposeRmArgs),
    /// Show the Docker Compose version information
    Version(ComposeVersionArgs),
    /// Run a one-off command on a service
    Run(ComposeRunArgs),
    /// Build or rebuild services
    Build(ComposeBuildArgs),
    /// Pull service images
    Pull(ComposePullArgs),
    /// Push service images
    Push(ComposePushArgs),
    /// List images used by the created containers
    Images(ComposeImagesArgs),
    /// Display the running processes
    Top(ComposeServicesArgs),
    /// Print the public port for a port binding
    Port(ComposePortArgs),
    /// Copy files/folders between a service container and the local filesystem
    Cp(ComposeCpArgs),
    /// List running compose projects
    Ls(ComposeLsArgs),
    /// Block until containers of all (or specified) services stop.
    Wait(ComposeWaitArgs),
    /// Receive real time events from containers
    Events(ComposeEventsArgs),
    /// Watch build context for service and rebuild/refresh containers when files are updated
    Watch(ComposeWatchArgs),
    /// Convert compose files into another model
    #[command(subcommand)]
    Bridge(ComposeBridgeCommand),
}

#[derive(Debug, Args)]
pub struct ComposeWatchArgs {
    /// Do not build & start services before watching
    #[arg(long)]
    pub no_up: bool,
    /// Prune dangling images on rebuild
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub prune: bool,
    /// hide build output
    #[arg(long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KubeCommand {
    /// Create containers, pods and volumes based on Kubernetes YAML
    Play(KubePlayArgs),
    /// Remove containers, pods and volumes that `kube play` created from Kubernetes YAML
    Down(KubeDownArgs),
}

#[derive(Debug, Args)]
pub struct KubePlayArgs {
    /// A YAML file, a folder of them, or `-` for stdin
    pub file: PathBuf,
    /// Publish the ports of LoadBalancer and NodePort Services on the host
    #[arg(long)]
    pub publish: bool,
    /// Wait until the pods run (and are ready when they have a probe)
    #[arg(long)]
    pub wait: bool,
    /// Remove what a previous play of this YAML created instead (as `kube down`)
    #[arg(long)]
    pub down: bool,
    /// The image of each pod's infra container, which holds the pod's network (it runs `sleep`)
    #[arg(long, default_value = wharf_kube::play::DEFAULT_INFRA_IMAGE)]
    pub infra_image: String,
}

#[derive(Debug, Args)]
pub struct KubeDownArgs {
    /// A YAML file, a folder of them, or `-` for stdin
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ComposeBridgeCommand {
    /// Convert compose files to Kubernetes manifests, Helm charts, or another model
    Convert(ComposeBridgeConvertArgs),
}

/// `compose bridge convert`: docker compose's flags (`-o`, `--format`) and wharf's choices
/// for what compose leaves open in a cluster.
#[derive(Debug, Args)]
pub struct ComposeBridgeConvertArgs {
    /// The output directory for the Kubernetes resources (`-` for one stream on stdout)
    #[arg(short, long, default_value = "out")]
    pub output: PathBuf,
    /// Output format: kubernetes (plain manifests), kustomize or helm
    #[arg(long, default_value = "kubernetes", value_parser = ["kubernetes", "kustomize", "helm"])]
    pub format: String,
    /// Registry path for built images without `image:` (REGISTRY/<project>-<service>:latest)
    #[arg(long)]
    pub registry: Option<String>,
    /// Service type for published ports: loadbalancer or nodeport
    #[arg(long, default_value = "loadbalancer", value_parser = ["loadbalancer", "nodeport"])]
    pub publish_type: String,
    /// Size of each volume's claim, unless its `wharf.kube.size` label gives one
    #[arg(long, default_value = wharf_kube::convert::DEFAULT_VOLUME_SIZE)]
    pub volume_size: String,
    /// Convert binds to hostPath volumes (for a one-node cluster) instead of refusing them
    #[arg(long)]
    pub host_path: bool,
    /// Leave out what has no Kubernetes equivalent, with a warning for each, instead of failing
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Build the services that have a `build` section and push their images (to `image:`
    /// or under --registry) before writing the manifests
    #[arg(long)]
    pub push: bool,
    /// Image of the init containers that wait for healthy dependencies (needs `nc`)
    #[arg(long, default_value = wharf_kube::convert::DEFAULT_WAIT_IMAGE)]
    pub wait_image: String,
    /// Image of the init containers that wait for a Job to complete (`kubectl wait`)
    #[arg(long, default_value = wharf_kube::convert::DEFAULT_KUBECTL_IMAGE)]
    pub kubectl_image: String,
}

#[derive(Debug, Args)]
pub struct ComposeEventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeImagesArgs {
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposePortArgs {
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// tcp or udp
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp"])]
    pub protocol: String,
    pub service: String,
    #[arg(value_name = "PRIVATE_PORT")]
    pub private_port: u16,
}

#[derive(Debug, Args)]
pub struct ComposeCpArgs {
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// `wharf cp`'s flags, with `SERVICE:PATH` for a side in a container
    #[command(flatten)]
    pub cp: CpArgs,
}

#[derive(Debug, Args)]
pub struct ComposeLsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    pub all: bool,
    /// Filter output based on conditions provided (`name=NAME`: a part of the name,
    /// `^` and `$` anchor it)
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Only display project names
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ComposeWaitArgs {
    /// Drops project when the first container stops
    #[arg(long)]
    pub down_project: bool,
    #[arg(required = true)]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeBuildArgs {
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pub pull: bool,
    /// Set build-time variables for services
    #[arg(long, value_name = "KEY=VALUE")]
    pub build_arg: Vec<String>,
    /// Suppress the build output
    #[arg(short, long)]
    pub quiet: bool,
    /// Also build dependencies (transitively)
    #[arg(long)]
    pub with_dependencies: bool,
    /// Push service images
    #[arg(long)]
    pub push: bool,
    /// Set SSH authentications used when building service images (not supported: refused)
    #[arg(long)]
    pub ssh: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposePullArgs {
    /// Pull without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    /// Pull what it can and ignores images with pull failures
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Ignore images that can be built
    #[arg(long)]
    pub ignore_buildable: bool,
    /// Also pull services declared as dependencies
    #[arg(long)]
    pub include_deps: bool,
    /// Apply pull policy ("missing"|"always")
    #[arg(long, value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposePushArgs {
    /// Push without printing progress information
    #[arg(short, long)]
    pub quiet: bool,
    /// Push what it can and ignores images with push failures
    #[arg(long)]
    pub ignore_push_failures: bool,
    pub services: Vec<String>,
}

/// `compose up`'s and `compose create`'s flags that decide what gets (re)created.
#[derive(Debug, Args)]
pub struct ComposeCreateArgs {
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Don't build an image, even if it's policy
    #[arg(long)]
    pub no_build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy")]
    pub pull: String,
    /// Pull without printing progress information
    #[arg(long)]
    pub quiet_pull: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeUpArgs {
    #[command(flatten)]
    pub create: ComposeCreateArgs,
    /// Detached mode: Run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    /// Wait for services to be running|healthy. Implies detached mode
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Use this timeout in seconds for container shutdown when attached or when containers are already running
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Stops all containers if any container was stopped. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Stops all containers if any container exited with failure. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_failure: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit
    #[arg(long, value_name = "SERVICE")]
    pub exit_code_from: Option<String>,
    /// Restrict attaching to the specified services
    #[arg(long, value_name = "SERVICE")]
    pub attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services
    #[arg(long, value_name = "SERVICE")]
    pub no_attach: Vec<String>,
    /// Watch source code and rebuild/refresh containers when files are updated
    #[arg(short, long)]
    pub watch: bool,
    /// Automatically attach to log output of dependent services
    #[arg(long)]
    pub attach_dependencies: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
}

#[derive(Debug, Args)]
pub struct ComposeDownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long, value_parser = ["local", "all"])]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    pub timeout: Option<u64>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposePsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short, long)]
    pub all: bool,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]
    #[arg(long)]
    pub status: Vec<String>,
    /// Format the output. Values: [table | json]
    #[arg(long)]
    pub format: Option<String>,
    #[arg(value_name = "SERVICE")]
    pub service_names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeLogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long)]
    pub tail: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeExecArgs {
    /// Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// Detached mode: Run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run the command as this user
    #[arg(short, long)]
    pub user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeRunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Add or override a label
    #[arg(short, long = "label", alias = "labels")]
    pub labels: Vec<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-tty", alias = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open even if not attached (`--interactive=false` closes it)
    #[arg(
        short,
        long,
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        require_equals = true,
        action = clap::ArgAction::Set
    )]
    pub interactive: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Bind mount a volume
    #[arg(short, long = "volume", alias = "volumes")]
    pub volumes: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long, conflicts_with = "publish")]
    pub service_ports: bool,
    /// Use the service's network useAliases in the network(s) the container connects to
    #[arg(long)]
    pub use_aliases: bool,
    /// Add Linux capabilities
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Build image before starting container
    #[arg(long)]
    pub build: bool,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy")]
    pub pull: String,
    /// Pull without printing progress information
    #[arg(long)]
    pub quiet_pull: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Set environment variables from file
    #[arg(long, value_name = "FILE")]
    pub env_from_file: Vec<PathBuf>,
    pub service: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeServicesArgs {
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeStopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    pub timeout: Option<u64>,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeRmArgs {
    /// Don't ask to confirm removal
    #[arg(short, long)]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ComposeVersionArgs {
    /// Shows only Compose's version number
    #[arg(long)]
    pub short: bool,
}

#[derive(Debug, Args)]
pub struct ComposeConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, default_value = "yaml")]
    pub format: String,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,
    /// Don't interpolate environment variables
    #[arg(long)]
    pub no_interpolate: bool,
    /// Don't normalize compose model
    #[arg(long)]
    pub no_normalize: bool,
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line
    #[arg(long = "profiles", id = "list_profiles")]
    pub list_profiles: bool,
    /// Print the image names, one per line
    #[arg(long)]
    pub images: bool,
    /// Print the service config hash, one per line ("*" for all services)
    #[arg(long)]
    pub hash: Option<String>,
    /// Save to file (default to stdout)
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Services to show (with what they depend on)
    pub service_names: Vec<String>,
}
