use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use wharf_engine::{
    Attach, ContainerInfo, CreateOptions, Engine, EngineError, ExecOptions, HealthOptions,
    LogConfig, LogOptionError, LogsOptions, Status, VolumeRequest,
};
use wharf_runtime::{CapabilityChanges, CapabilityName, MemorySwap, Mount, Propagation, Resources};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{
    CreateArgs, ExecArgs, ExecInstanceArgs, HealthcheckArgs, KillArgs, LogsArgs, MonitorArgs,
    NamesArgs, PruneArgs, PsArgs, ResourceArgs, RmArgs, RunArgs, StartArgs, StopArgs,
};
use crate::format::{human_size, since};
use crate::printer::Printer;
use crate::terminal::{require_tty_input, RawMode};

/// Docker's exit code when the engine itself fails before the container runs.
const ENGINE_FAILED: u8 = 125;
/// Docker's exit code of an `exec` whose process could not start.
const EXEC_FAILED: u8 = 126;

pub fn run(engine: &Engine, printer: Printer, args: RunArgs) -> CommandResult {
    let options = create_options(&args.create)?;
    if !args.detach {
        require_tty_input(options.open_stdin && options.tty)?;
    }
    engine.warm_up_container_start();
    let id = create_pulling(engine, &printer, &args.create, &options)?;
    if args.detach {
        let child = engine
            .spawn_monitor(&id, Attach::Detached)
            .map_err(engine_failure)?;
        engine
            .await_detached_start(child, &id)
            .map_err(runtime_failure)?;
        printer.data(&id);
        return Ok(ExitCode::SUCCESS);
    }
    attached(engine, &id, options.open_stdin, options.tty)
}

/// Runs the monitor in the foreground: its output is the container's, its exit code too.
/// With `stdin` it reads ours; with a tty too, our terminal is raw meanwhile.
pub(crate) fn attached(engine: &Engine, id: &str, stdin: bool, tty: bool) -> CommandResult {
    let raw = if stdin && tty {
        Some(RawMode::enable()?)
    } else {
        None
    };
    let status = engine.start_attached(id, stdin).map_err(engine_failure)?;
    drop(raw);
    Ok(ExitCode::from(
        status.code().map_or(ENGINE_FAILED, |c| c as u8),
    ))
}

pub fn create(engine: &Engine, printer: Printer, args: CreateArgs) -> CommandResult {
    let options = create_options(&args)?;
    printer.data(create_pulling(engine, &printer, &args, &options)?);
    Ok(ExitCode::SUCCESS)
}

/// Creates the container, pulling its image first as `--pull` says (Docker's default:
/// only when missing). Pull progress goes to stderr: stdout is the container's.
fn create_pulling(
    engine: &Engine,
    printer: &Printer,
    args: &CreateArgs,
    options: &CreateOptions,
) -> Result<String, CommandError> {
    let say = |line: String| printer.info(line);
    let pull = || {
        super::registry::pull_image(engine, args.image(), None, false, &say).map_err(|mut e| {
            e.exit_code = ENGINE_FAILED;
            e
        })
    };
    match args.pull.as_str() {
        "always" => drop(pull()?),
        "missing" | "never" => {}
        other => {
            return Err(CommandError {
                message: format!("--pull {other}: expected missing, always or never"),
                hint: None,
                exit_code: ENGINE_FAILED,
            })
        }
    }
    match engine.create_container(options) {
        Err(EngineError::ImageNotFound(_)) if args.pull == "missing" => {
            printer.info(format!("Unable to find image '{}' locally", args.image()));
            pull()?;
            engine.create_container(options).map_err(engine_failure)
        }
        result => result.map_err(engine_failure),
    }
}

pub fn start(engine: &Engine, printer: Printer, args: StartArgs) -> CommandResult {
    engine.warm_up_container_start();
    if args.attach || args.interactive {
        let [name] = args.containers.as_slice() else {
            return Err(CommandError::new(
                "start --attach takes one container",
                Some("start the others without -a"),
            ));
        };
        let record = engine.find_container(name)?.record;
        // As Docker's: stdin is attached only to a container created with -i.
        let stdin = args.interactive && record.open_stdin;
        let tty = record.run.process.tty;
        require_tty_input(stdin && tty)?;
        return attached(engine, &record.id, stdin, tty);
    }
    let names = if args.all_restartable {
        engine.restartable_at_boot()?
    } else {
        args.containers
    };
    each(&printer, &names, |name| {
        let child = engine.start_container(name, Attach::Detached)?;
        engine.await_detached_start(child, name)
    })
}

pub fn stop(engine: &Engine, printer: Printer, args: StopArgs) -> CommandResult {
    each(&printer, &args.containers, |name| {
        engine.stop_container(name, args.signal.as_deref(), args.time)
    })
}

pub fn restart(engine: &Engine, printer: Printer, args: StopArgs) -> CommandResult {
    each(&printer, &args.containers, |name| {
        engine.stop_container(name, args.signal.as_deref(), args.time)?;
        let child = engine.start_container(name, Attach::Detached)?;
        engine.await_detached_start(child, name)
    })
}

pub fn kill(engine: &Engine, printer: Printer, args: KillArgs) -> CommandResult {
    each(&printer, &args.containers, |name| {
        engine.kill_container(name, &args.signal)
    })
}

pub fn remove(engine: &Engine, printer: Printer, args: RmArgs) -> CommandResult {
    each(&printer, &args.containers, |name| {
        engine
            .remove_container(name, args.force, args.volumes)
            .map(drop)
    })
}

/// Runs `action` on each name, printing the name on success, as Docker.
fn each(
    printer: &Printer,
    names: &[String],
    mut action: impl FnMut(&str) -> Result<(), EngineError>,
) -> CommandResult {
    super::for_each_name(printer, names, |name| {
        action(name).map(|()| vec![name.to_string()])
    })
}

pub fn wait(engine: &Engine, printer: Printer, args: NamesArgs) -> CommandResult {
    super::for_each_name(&printer, &args.containers, |name| {
        Ok(vec![engine.wait_container(name)?.to_string()])
    })
}

pub fn prune(engine: &Engine, printer: Printer, args: PruneArgs) -> CommandResult {
    if !args.force
        && !printer.confirm(
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
        )
    {
        return Ok(ExitCode::SUCCESS);
    }
    let (removed, reclaimed) = engine.prune_containers()?;
    if !removed.is_empty() {
        printer.data("Deleted Containers:");
        removed.iter().for_each(|id| printer.data(id));
        printer.data("");
    }
    printer.data(format!("Total reclaimed space: {}", human_size(reclaimed)));
    Ok(ExitCode::SUCCESS)
}

pub fn list(engine: &Engine, printer: Printer, args: PsArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut containers = engine.list_containers()?;
    // As Docker's: only a status filter looks past the running containers without -a.
    let any_status = args.all || args.filters.iter().any(|f| f.starts_with("status="));
    containers.retain(|c| any_status || c.state.status.is_up());
    for filter in &args.filters {
        let (key, value) = filter.split_once('=').unwrap_or((filter, ""));
        match key {
            "status" => containers.retain(|c| state_name(c) == value),
            "name" => containers.retain(|c| c.record.name.contains(value)),
            "id" => containers.retain(|c| c.record.id.starts_with(value)),
            "health" => containers.retain(|c| health_status(c) == value),
            "label" => containers.retain(|c| match value.split_once('=') {
                Some((k, v)) => c.record.labels.get(k).is_some_and(|l| l == v),
                None => c.record.labels.contains_key(value),
            }),
            _ => {
                return Err(CommandError::new(
                    format!("--filter {filter}: unsupported filter"),
                    Some("wharf ps supports status=, health=, name=, id= and label= filters"),
                ))
            }
        }
    }
    if args.quiet {
        for c in &containers {
            printer.data(if args.no_trunc {
                &c.record.id[..]
            } else {
                &c.record.id[..12]
            });
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ports = engine.published_ports()?;
    let mut rows = Vec::new();
    for c in &containers {
        let mut row = ps_row(c, args.no_trunc, ports.get(&c.record.id));
        add_mount_fields(c, args.no_trunc, &mut row);
        if args.size {
            // Docker's SIZE: the writable layer, then with the image's layers.
            let (writable, root) = engine.container_sizes(&c.record.id)?;
            row["Size"] = format!("{} (virtual {})", human_size(writable), human_size(root)).into();
        }
        rows.push(row);
    }
    let mut columns = vec![
        ("CONTAINER ID", "ID"),
        ("IMAGE", "Image"),
        ("COMMAND", "Command"),
        ("CREATED", "RunningFor"),
        ("STATUS", "Status"),
        ("PORTS", "Ports"),
        ("NAMES", "Names"),
    ];
    if args.size {
        columns.push(("SIZE", "Size"));
    }
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// Docker's `LocalVolumes` (how many volumes are mounted), `Mounts` (each mount's volume
/// name or source, cut to 15 characters unless `no_trunc`) and `Size` (`0B` until sizes are
/// asked for) of a `ps` row.
pub(crate) fn add_mount_fields(c: &ContainerInfo, no_trunc: bool, row: &mut serde_json::Value) {
    let mounts = wharf_engine::mounts_json(&c.record);
    let volumes = mounts.iter().filter(|m| m["Type"] == "volume").count();
    row["LocalVolumes"] = volumes.to_string().into();
    row["Mounts"] = mounts
        .iter()
        .map(|m| {
            let name = m["Name"].as_str().filter(|n| !n.is_empty());
            let name = name.or(m["Source"].as_str()).unwrap_or_default();
            if no_trunc {
                name.to_owned()
            } else {
                ellipsis(name, 15)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
        .into();
    row["Size"] = "0B".into();
}

/// Docker's `stringutils.Ellipsis`: at most `max` characters, the last one `…` when cut.
fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Docker's PORTS column: `0.0.0.0:8080->8000/tcp`, and exposed ports that are not
/// published (`8000/tcp`), for running containers.
fn ports_column(c: &ContainerInfo, bindings: Option<&Vec<wharf_engine::PortBinding>>) -> String {
    if c.state.status != Status::Running {
        return String::new();
    }
    let bindings = bindings.map(Vec::as_slice).unwrap_or_default();
    // As the docker CLI orders them: by container port, then host address and port.
    let mut parts: Vec<(u16, String, u16, String)> = bindings
        .iter()
        .map(|b| {
            (
                b.container_port,
                b.host_ip.to_string(),
                b.host_port,
                b.to_string(),
            )
        })
        .collect();
    for exposed in &c.record.net.exposed_ports {
        let published = bindings
            .iter()
            .any(|b| format!("{}/{}", b.container_port, b.protocol) == *exposed);
        if !published {
            let port = exposed.split('/').next().and_then(|p| p.parse().ok());
            parts.push((port.unwrap_or(0), String::new(), 0, exposed.clone()));
        }
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(.., text)| text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A container's command as Docker's daemon lists it: its words joined by spaces, a word
/// holding a space between single quotes (nothing else is quoted or escaped).
pub(crate) fn command_text(args: &[String]) -> String {
    args.iter()
        .map(|arg| match arg.contains(' ') {
            true => format!("'{arg}'"),
            false => arg.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn ps_row(
    c: &ContainerInfo,
    no_trunc: bool,
    ports: Option<&Vec<wharf_engine::PortBinding>>,
) -> serde_json::Value {
    let command = command_text(&c.record.run.process.args);
    let command = if no_trunc || command.chars().count() <= 20 {
        format!("\"{command}\"")
    } else {
        format!("\"{}…\"", command.chars().take(19).collect::<String>())
    };
    let status = match c.state.status {
        Status::Created => "Created".to_string(),
        Status::Running if c.paused => {
            format!("Up {} (Paused)", elapsed(c.state.started_at.as_deref()))
        }
        Status::Running => match health_status(c) {
            "none" => format!("Up {}", elapsed(c.state.started_at.as_deref())),
            "starting" => format!(
                "Up {} (health: starting)",
                elapsed(c.state.started_at.as_deref())
            ),
            health => format!("Up {} ({health})", elapsed(c.state.started_at.as_deref())),
        },
        Status::Restarting => format!(
            "Restarting ({}) {}",
            c.state.exit_code.unwrap_or(0),
            since(c.state.finished_at.as_deref())
        ),
        Status::Exited => format!(
            "Exited ({}) {}",
            c.state.exit_code.unwrap_or(0),
            since(c.state.finished_at.as_deref())
        ),
    };
    json!({
        "ID": if no_trunc { c.record.id.clone() } else { c.record.id[..12].to_string() },
        "Image": c.record.image_name,
        "Command": command,
        "CreatedAt": go_time(&c.record.created),
        "RunningFor": since(Some(&c.record.created)),
        "Status": status,
        "State": state_name(c),
        "Ports": ports_column(c, ports),
        "Names": c.record.name,
        "Labels": c.record.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
        "Networks": if c.record.net.networks.is_empty() {
            c.record.network_mode.clone()
        } else {
            c.record.net.networks.iter().map(|n| n.network.as_str()).collect::<Vec<_>>().join(",")
        },
    })
}

/// An RFC 3339 time as Go prints a `time.Time` in UTC (`2026-12-07 22:32:55 +0000 UTC`),
/// which Docker's and docker compose's `CreatedAt` show; unreadable text is kept as is.
fn go_time(rfc3339: &str) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] +0000 UTC"
    );
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| rfc3339.to_owned())
}

/// Docker's state names: those of [`Status`], and `paused`.
pub(crate) fn state_name(c: &ContainerInfo) -> &'static str {
    if c.paused {
        "paused"
    } else {
        c.state.status.as_str()
    }
}

/// Docker's health filter values: `none` without a healthcheck.
pub(crate) fn health_status(c: &ContainerInfo) -> &str {
    match (&c.record.healthcheck, &c.state.health) {
        (None, _) => "none",
        (Some(_), Some(health)) if c.state.status == Status::Running => &health.status,
        (Some(_), _) => "starting",
    }
}

fn elapsed(rfc3339: Option<&str>) -> String {
    since(rfc3339).trim_end_matches(" ago").to_string()
}

pub fn logs(engine: &Engine, printer: Printer, args: LogsArgs) -> CommandResult {
    let tail = parse_tail(args.tail.as_deref())?;
    let now = time::OffsetDateTime::now_utc();
    let options = LogsOptions {
        tail,
        follow: args.follow,
        since: time_flag("--since", args.since.as_deref(), now)?,
        until: time_flag("--until", args.until.as_deref(), now)?,
    };
    engine.container_logs(&args.container, &options, |line| {
        let text = if args.timestamps {
            format!("{} {}", line.time, line.text)
        } else {
            line.text.clone()
        };
        printer.raw(&line.stream, &text);
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `logs --tail N|all`.
pub(crate) fn parse_tail(tail: Option<&str>) -> Result<Option<usize>, CommandError> {
    match tail {
        None | Some("all") => Ok(None),
        Some(n) => n.parse::<usize>().map(Some).map_err(|_| {
            CommandError::new(
                format!("--tail {n}: not a number"),
                Some("give a number of lines or `all`"),
            )
        }),
    }
}

/// `--memory`, `--memory-swap`, `--memory-reservation`, `--cpus`, `--cpu-shares` and
/// `--pids-limit`, for `run`/`create` and `update`.
pub(crate) fn resources(args: &ResourceArgs) -> Result<Resources, CommandError> {
    let size = |flag: &str, value: &Option<String>, what: &str| {
        value
            .as_deref()
            .map(|v| {
                wharf_engine::parse_bytes(v).ok_or_else(|| CommandError {
                    message: format!("{flag} {v}: not a size like {what}"),
                    hint: None,
                    exit_code: ENGINE_FAILED,
                })
            })
            .transpose()
    };
    let memory_swap = match args.memory_swap.as_deref() {
        Some("-1") => Some(MemorySwap::Unlimited),
        _ => size("--memory-swap", &args.memory_swap, "128m, or -1")?.map(MemorySwap::Limit),
    };
    Ok(Resources {
        memory: size("--memory", &args.memory, "64m or 1g")?,
        memory_swap,
        cpus: args.cpus,
        cpu_shares: args.cpu_shares,
        pids_limit: args.pids_limit,
        memory_reservation: size(
            "--memory-reservation",
            &args.memory_reservation,
            "64m or 1g",
        )?,
    })
}

/// A `--since`/`--until` flag's time (see [`parse_log_time`]).
pub(crate) fn time_flag(
    flag: &str,
    value: Option<&str>,
    now: time::OffsetDateTime,
) -> Result<Option<time::OffsetDateTime>, CommandError> {
    value
        .map(|text| {
            wharf_engine::parse_time(text, now).map_err(|why| {
                CommandError::new(
                    format!("{flag} {text}: {why}"),
                    Some("give an RFC 3339 time (2026-01-02T15:04:05Z), Unix seconds (1767366245) or a duration before now (10m, 1h30m)"),
                )
            })
        })
        .transpose()
}

/// `exec`: the process is this one's child, so its stdio is ours and its exit code ours.
/// This process has no other thread, as libcontainer needs (the runtime checks).
pub fn exec(engine: &Engine, _printer: Printer, args: ExecArgs) -> CommandResult {
    let options = ExecOptions {
        command: args.command,
        env: args.env.iter().map(|e| env_entry(e)).collect(),
        user: args.user,
        workdir: args.workdir,
        interactive: args.interactive,
        detach: args.detach,
        tty: args.tty,
    };
    let relays_terminal = options.interactive && options.tty && !options.detach;
    require_tty_input(relays_terminal)?;
    let raw = if relays_terminal {
        Some(RawMode::enable()?)
    } else {
        None
    };
    let result = engine.exec_in_container(&args.container, &options);
    drop(raw);
    match result {
        Ok(code) => Ok(ExitCode::from(code as u8)),
        Err(error @ EngineError::ContainerNotRunning { .. }) => {
            let mut error = CommandError::from(error);
            error.hint = Some(format!("start it first: `wharf start {}`", args.container));
            error.exit_code = ENGINE_FAILED;
            Err(error)
        }
        // Docker's exec exits 126 for any process that could not start, found or not.
        Err(error @ (EngineError::Start { .. } | EngineError::UnknownUser { .. })) => {
            let mut error = CommandError::from(error);
            error.exit_code = EXEC_FAILED;
            Err(error)
        }
        Err(error) => Err(runtime_failure(error)),
    }
}

/// The hidden process of an exec instance the API started: its stdio is the service's
/// pipes; its exit code is the process's, and is recorded for the API's inspect.
pub fn exec_instance(engine: &Engine, _printer: Printer, args: ExecInstanceArgs) -> CommandResult {
    match engine.run_exec_instance(&args.id) {
        Ok(code) => Ok(ExitCode::from(code as u8)),
        Err(error) => {
            let code = start_failure_code(&error).unwrap_or(EXEC_FAILED);
            let mut error = CommandError::from(error);
            error.exit_code = code;
            Err(error)
        }
    }
}

/// The hidden healthcheck helper: runs one probe when its monitor says go, prints `exit N`
/// or `timeout` for the monitor.
pub fn healthcheck(engine: &Engine, printer: Printer, args: HealthcheckArgs) -> CommandResult {
    if let Some(result) = engine.run_healthcheck(&args.id)? {
        printer.data(result.line());
    }
    Ok(ExitCode::SUCCESS)
}

/// The hidden monitor process: exits with the container's code.
pub fn monitor(engine: &Engine, printer: Printer, args: MonitorArgs) -> CommandResult {
    let attach = if args.attach {
        Attach::Attached { stdin: args.stdin }
    } else if args.restarted {
        Attach::Restarted
    } else {
        Attach::Detached
    };
    match engine.monitor(&args.id, attach) {
        Ok(code) => Ok(ExitCode::from(code as u8)),
        Err(EngineError::StartFailed {
            message,
            hint,
            exit_code,
        }) => {
            printer.error(message, hint.as_deref());
            Ok(ExitCode::from(exit_code as u8))
        }
        Err(error) => match start_failure_code(&error) {
            // Reported in the house style, for the CLI that started this monitor to pass on.
            Some(code) => {
                printer.error(error.to_string(), error.hint().as_deref());
                Ok(ExitCode::from(code))
            }
            None => Err(error.into()),
        },
    }
}

/// Engine errors before the container runs exit 125, as Docker's.
fn engine_failure(error: EngineError) -> CommandError {
    let mut error = CommandError::from(error);
    error.exit_code = ENGINE_FAILED;
    error
}

/// A container that could not start keeps the runtime's code (126, 127 or 125).
fn runtime_failure(error: EngineError) -> CommandError {
    let code = start_failure_code(&error).unwrap_or(ENGINE_FAILED);
    let mut error = CommandError::from(error);
    error.exit_code = code;
    error
}

/// Docker's exit code for a container whose process could not start: 127 for a command not
/// found, 126 for one that cannot run, 125 for the rest.
fn start_failure_code(error: &EngineError) -> Option<u8> {
    match error {
        EngineError::Runtime { exit_code, .. } | EngineError::StartFailed { exit_code, .. } => {
            Some(*exit_code as u8)
        }
        EngineError::Start { error, .. } => Some(error.exit_code() as u8),
        _ => None,
    }
}

/// Each value of a repeated `flag`, parsed; the first that does not parse is named by `bad`.
fn parse_each<T: std::str::FromStr<Err = wharf_runtime::ConfigError>>(
    flag: &str,
    values: &[String],
    bad: impl Fn(&str, &str, &str) -> CommandError,
) -> Result<Vec<T>, CommandError> {
    values
        .iter()
        .map(|value| {
            value
                .parse()
                .map_err(|e: T::Err| bad(flag, value, &e.to_string()))
        })
        .collect()
}

fn create_options(args: &CreateArgs) -> Result<CreateOptions, CommandError> {
    let bad = |flag: &str, value: &str, why: &str| CommandError {
        message: format!("{flag} {value}: {why}"),
        hint: None,
        exit_code: ENGINE_FAILED,
    };
    // The image comes first and the command's own flags after it, so a dash here is a flag
    // of ours that wharf does not know (else it would be pulled as an image).
    let image = args.image();
    if image.starts_with('-') {
        return Err(CommandError {
            message: format!("unknown flag: {image}"),
            hint: Some(
                "`wharf run --help` lists the flags; the command's own flags go after the image"
                    .into(),
            ),
            exit_code: ENGINE_FAILED,
        });
    }
    let mut env = Vec::new();
    for file in &args.env_files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| bad("--env-file", &file.display().to_string(), &e.to_string()))?;
        env.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(env_entry),
        );
    }
    env.extend(args.env.iter().map(|e| env_entry(e)));

    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for volume in &args.volumes {
        let parsed = volume_flag(volume).map_err(|why| CommandError {
            message: format!("--volume {volume}: {why}"),
            hint: Some(
                "use /host/path:/ctr[:ro] for a host folder, NAME:/ctr[:ro] for a volume, /ctr for an anonymous volume"
                    .into(),
            ),
            exit_code: ENGINE_FAILED,
        })?;
        match parsed {
            Requested::Mount(mount) => mounts.push(mount),
            Requested::Volume(volume) => volumes.push(volume),
        }
    }
    for mount in &args.mounts {
        let parsed = mount_flag(mount).map_err(|why| CommandError {
            message: format!("--mount {mount}: {why}"),
            hint: Some(
                "e.g. --mount type=bind,source=/srv/data,target=/data,readonly or --mount type=volume,source=NAME,target=/data"
                    .into(),
            ),
            exit_code: ENGINE_FAILED,
        })?;
        match parsed {
            Requested::Mount(mount) => mounts.push(mount),
            Requested::Volume(volume) => volumes.push(volume),
        }
    }
    for tmpfs in &args.tmpfs {
        mounts.push(tmpfs_mount(tmpfs).map_err(|why| bad("--tmpfs", tmpfs, &why))?);
    }
    let size = |flag: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| {
                wharf_engine::parse_bytes(v)
                    .ok_or_else(|| bad(flag, v, "not a size like 64m or 1g"))
            })
            .transpose()
    };
    let mut sysctls = BTreeMap::new();
    for sysctl in &args.sysctl {
        let (name, value) = sysctl
            .split_once('=')
            .ok_or_else(|| bad("--sysctl", sysctl, "expected NAME=VALUE"))?;
        sysctls.insert(name.to_owned(), value.to_owned());
    }
    let capabilities = CapabilityChanges {
        add: parse_caps(&args.cap_add).map_err(|(c, e)| bad("--cap-add", &c, &e))?,
        drop: parse_caps(&args.cap_drop).map_err(|(c, e)| bad("--cap-drop", &c, &e))?,
    };
    let mut no_new_privileges = false;
    for option in &args.security_opt {
        match option.as_str() {
            "no-new-privileges" | "no-new-privileges=true" | "no-new-privileges:true" => {
                no_new_privileges = true
            }
            "no-new-privileges=false" | "no-new-privileges:false" => no_new_privileges = false,
            other => {
                return Err(bad(
                    "--security-opt",
                    other,
                    "wharf supports no-new-privileges",
                ))
            }
        }
    }
    let labels = super::parse_labels(&args.labels);
    let restart_policy = args.restart.parse().map_err(|why: String| CommandError {
        message: format!("--restart {}: {why}", args.restart),
        hint: Some("e.g. --restart on-failure:3 or --restart unless-stopped".into()),
        exit_code: ENGINE_FAILED,
    })?;
    let duration = |flag: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|text| {
                wharf_engine::parse_duration(text)
                    .and_then(|d| {
                        if d.is_zero() || d >= std::time::Duration::from_millis(1) {
                            Ok(d)
                        } else {
                            Err(format!("`{text}` is below the minimum of 1ms"))
                        }
                    })
                    .map_err(|why| bad(flag, text, &why))
            })
            .transpose()
    };
    let health = HealthOptions {
        cmd: args.health_cmd.clone(),
        test: None,
        interval: duration("--health-interval", &args.health_interval)?,
        timeout: duration("--health-timeout", &args.health_timeout)?,
        start_period: duration("--health-start-period", &args.health_start_period)?,
        start_interval: duration("--health-start-interval", &args.health_start_interval)?,
        retries: args.health_retries,
        disable: args.no_healthcheck,
    };
    Ok(CreateOptions {
        image: args.image().to_owned(),
        name: args.name.clone(),
        command: (!args.command().is_empty()).then(|| args.command().to_vec()),
        entrypoint: args.entrypoint.clone(),
        env,
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        hostname: args.hostname.clone(),
        auto_remove: args.rm,
        network: args.network.clone(),
        publish: args.publish.clone(),
        publish_all: args.publish_all,
        port_bindings_as_sent: None,
        expose: args.expose.clone(),
        ip: args.ip.clone(),
        network_aliases: args.network_aliases.clone(),
        add_hosts: args.add_hosts.clone(),
        dns: args.dns.clone(),
        mounts,
        volumes,
        inherited_volumes: Vec::new(),
        read_only: args.read_only,
        resources: resources(&args.resources)?,
        ulimits: parse_each("--ulimit", &args.ulimit, bad)?,
        devices: parse_each("--device", &args.device, bad)?,
        capabilities,
        privileged: args.privileged,
        no_new_privileges,
        labels,
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
        restart_policy,
        health,
        log_config: log_config(&args.log_driver, &args.log_opts)?,
        tty: args.tty,
        open_stdin: args.interactive,
        // Docker's CLI sets it only for an attached `run`, whose stdin wharf passes itself.
        stdin_once: false,
        init: args.init.then(|| args.init_path.clone()),
        sysctls,
        shm_size: size("--shm-size", &args.shm_size)?,
    })
}

/// `--log-driver json-file|none` and its `--log-opt KEY=VALUE`s.
pub(crate) fn log_config(driver: &str, options: &[String]) -> Result<LogConfig, CommandError> {
    let mut pairs = Vec::with_capacity(options.len());
    for option in options {
        let (key, value) = option.split_once('=').ok_or_else(|| CommandError {
            message: format!("--log-opt {option}: expected KEY=VALUE"),
            hint: Some("e.g. --log-opt max-size=10m".into()),
            exit_code: ENGINE_FAILED,
        })?;
        pairs.push((key, value));
    }
    LogConfig::parse(driver, pairs).map_err(|error| CommandError {
        message: match &error {
            LogOptionError::Driver(_) => format!("--log-driver {}: {error}", error.value()),
            _ => format!("--log-opt {}: {error}", error.value()),
        },
        hint: Some(error.hint().into()),
        exit_code: ENGINE_FAILED,
    })
}

/// `KEY=VALUE` as is; a bare `KEY` takes its value from wharf's environment, as Docker.
fn env_entry(entry: &str) -> String {
    match entry.split_once('=') {
        Some(_) => entry.to_string(),
        None => std::env::var(entry)
            .map_or_else(|_| entry.to_string(), |value| format!("{entry}={value}")),
    }
}

/// What a `-v` or `--mount` asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Requested {
    Mount(Mount),
    Volume(VolumeRequest),
}

/// `-v /host:/ctr[:opts]` (a missing host folder is created, as Docker's), `-v NAME:/ctr[:opts]`
/// or `-v /ctr`; opts are `ro`, `rw`, `nocopy`, a bind propagation, `z` and `Z` (no SELinux
/// here: ignored).
pub(crate) fn volume_flag(spec: &str) -> Result<Requested, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, destination, options) = match parts.as_slice() {
        [destination] => ("", *destination, ""),
        [source, destination] => (*source, *destination, ""),
        [source, destination, options] => (*source, *destination, *options),
        _ => return Err("expected [SOURCE:]/container/path[:OPTIONS]".into()),
    };
    if !destination.starts_with('/') {
        return Err(format!("`{destination}` is not an absolute container path"));
    }
    let (mut read_only, mut no_copy, mut propagation) = (false, false, None);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => no_copy = true,
            "z" | "Z" => {}
            other => propagation = Some(other.parse::<Propagation>()?),
        }
    }
    if source.contains('/') && !source.starts_with('/') {
        return Err(format!(
            "`{source}` is neither an absolute host path nor a volume name"
        ));
    }
    if !source.starts_with('/') {
        if propagation.is_some() {
            return Err("a propagation applies to host folders, not volumes".into());
        }
        return Ok(Requested::Volume(VolumeRequest {
            name: (!source.is_empty()).then(|| source.to_string()),
            destination: destination.into(),
            read_only,
            no_copy,
        }));
    }
    if no_copy {
        return Err("nocopy applies to volumes, not host folders".into());
    }
    let source = PathBuf::from(source);
    if !source.exists() {
        // Docker creates a missing bind source as a folder (--mount does not).
        std::fs::create_dir_all(&source)
            .map_err(|e| format!("cannot create {}: {e}", source.display()))?;
    }
    Ok(Requested::Mount(Mount::Bind {
        source,
        destination: destination.into(),
        read_only,
        propagation: propagation.unwrap_or_default(),
    }))
}

/// Docker's `--mount type=bind|volume|tmpfs,source=..,target=..,...`; a bind source must
/// exist.
fn mount_flag(spec: &str) -> Result<Requested, String> {
    let mut fields = BTreeMap::new();
    for field in spec.split(',') {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (field, None),
        };
        let key = match key {
            "src" => "source",
            "dst" | "destination" => "target",
            "ro" => "readonly",
            other => other,
        };
        if fields.insert(key, value).is_some() {
            return Err(format!("`{key}` is given twice"));
        }
    }
    let kind = fields
        .remove("type")
        .unwrap_or(Some("volume"))
        .unwrap_or("");
    let flag = |fields: &mut BTreeMap<&str, Option<&str>>, key: &str| match fields.remove(key) {
        None => Ok(false),
        Some(None | Some("true" | "1")) => Ok(true),
        Some(Some("false" | "0")) => Ok(false),
        Some(Some(other)) => Err(format!("`{key}={other}`: expected true or false")),
    };
    let mut value = |key: &str| -> Result<Option<&str>, String> {
        match fields.remove(key) {
            Some(None) => Err(format!("`{key}` needs a value ({key}=...)")),
            Some(Some(value)) => Ok(Some(value)),
            None => Ok(None),
        }
    };
    let target = value("target")?.ok_or("target is required (target=/path/in/container)")?;
    if !target.starts_with('/') {
        return Err(format!("target `{target}` is not an absolute path"));
    }
    let source = value("source")?;
    let _ = value("consistency")?;
    let foreign_prefix = |fields: &BTreeMap<&str, Option<&str>>, own: &str| {
        fields
            .keys()
            .find(|k| {
                ["bind-", "volume-", "tmpfs-"]
                    .iter()
                    .any(|p| k.starts_with(p) && *p != own)
            })
            .map(|k| format!("`{k}` does not apply to a mount of type {kind}"))
    };
    let read_only = flag(&mut fields, "readonly")?;
    let requested = match kind {
        "bind" => {
            if let Some(error) = foreign_prefix(&fields, "bind-") {
                return Err(error);
            }
            let source = source.ok_or("a bind mount needs source=/host/path")?;
            if !source.starts_with('/') {
                return Err(format!("bind source `{source}` is not an absolute path"));
            }
            if !Path::new(source).exists() {
                return Err(format!("bind source path does not exist: {source}"));
            }
            let propagation = match fields.remove("bind-propagation") {
                Some(Some(p)) => p.parse()?,
                Some(None) => return Err("`bind-propagation` needs a value".into()),
                None => Propagation::default(),
            };
            Requested::Mount(Mount::Bind {
                source: source.into(),
                destination: target.into(),
                read_only,
                propagation,
            })
        }
        "volume" => {
            if let Some(error) = foreign_prefix(&fields, "volume-") {
                return Err(error);
            }
            if let Some(source) = source.filter(|s| s.contains('/')) {
                return Err(format!(
                    "volume source `{source}` is not a volume name (use type=bind for a host path)"
                ));
            }
            let no_copy = flag(&mut fields, "volume-nocopy")?;
            match fields.remove("volume-driver") {
                None | Some(Some("local")) => {}
                Some(other) => {
                    return Err(format!(
                        "volume-driver `{}`: wharf has the local driver only",
                        other.unwrap_or_default()
                    ))
                }
            }
            if fields.contains_key("volume-opt") {
                return Err("volume-opt: the local driver's options are not supported yet".into());
            }
            Requested::Volume(VolumeRequest {
                name: source.map(str::to_string),
                destination: target.into(),
                read_only,
                no_copy,
            })
        }
        "tmpfs" => {
            if let Some(error) = foreign_prefix(&fields, "tmpfs-") {
                return Err(error);
            }
            if source.is_some() {
                return Err("a tmpfs mount takes no source".into());
            }
            let size_bytes = match fields.remove("tmpfs-size") {
                Some(Some(size)) => Some(
                    wharf_engine::parse_bytes(size)
                        .ok_or(format!("tmpfs-size `{size}` is not a size"))?,
                ),
                Some(None) => return Err("`tmpfs-size` needs a value".into()),
                None => None,
            };
            let mode = match fields.remove("tmpfs-mode") {
                Some(Some(mode)) => Some(
                    u32::from_str_radix(mode, 8)
                        .map_err(|_| format!("tmpfs-mode `{mode}` is not octal"))?,
                ),
                Some(None) => return Err("`tmpfs-mode` needs a value".into()),
                None => None,
            };
            Requested::Mount(Mount::Tmpfs {
                destination: target.into(),
                size_bytes,
                mode,
                read_only,
                exec: false,
            })
        }
        other => {
            return Err(format!(
                "unknown mount type `{other}` (use bind, volume or tmpfs)"
            ))
        }
    };
    match fields.keys().next() {
        Some(key) => Err(format!("unexpected key `{key}`")),
        None => Ok(requested),
    }
}

pub(crate) fn tmpfs_mount(spec: &str) -> Result<Mount, String> {
    let (destination, options) = spec.split_once(':').unwrap_or((spec, ""));
    let (mut size_bytes, mut mode, mut read_only, mut exec) = (None, None, false, false);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", size)) => {
                size_bytes = Some(
                    wharf_engine::parse_bytes(size)
                        .ok_or(format!("size `{size}` is not a size"))?,
                )
            }
            Some(("mode", m)) => {
                mode = Some(
                    u32::from_str_radix(m, 8).map_err(|_| format!("mode `{m}` is not octal"))?,
                )
            }
            None if option == "ro" => read_only = true,
            None if option == "rw" || option == "noexec" => {}
            None if option == "exec" => exec = true,
            _ => return Err(format!("unknown option `{option}`")),
        }
    }
    Ok(Mount::Tmpfs {
        destination: destination.into(),
        size_bytes,
        mode,
        read_only,
        exec,
    })
}

pub(crate) fn parse_caps(names: &[String]) -> Result<Vec<CapabilityName>, (String, String)> {
    names
        .iter()
        .map(|n| {
            n.parse()
                .map_err(|e: wharf_runtime::ConfigError| (n.clone(), e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options_parse_like_dockers() {
        let opts = |o: &[&str]| o.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let config = log_config("json-file", &opts(&["max-size=10m", "max-file=3"])).unwrap();
        assert_eq!((config.max_size, config.max_file), (Some(10 << 20), 3));
        assert_eq!(config.options.len(), 2);
        let unlimited = log_config("json-file", &opts(&["max-size=-1"])).unwrap();
        assert_eq!((unlimited.max_size, unlimited.max_file), (None, 1));
        assert_eq!(
            log_config("none", &[]).unwrap().driver,
            wharf_engine::LogDriver::None
        );
        assert!(log_config("none", &opts(&["max-size=1m"])).is_err());
        assert!(log_config("json-file", &opts(&["max-file=0"])).is_err());
        assert!(log_config("json-file", &opts(&["max-size"])).is_err());
        assert!(log_config("journald", &[]).is_err());
    }

    #[test]
    fn volumes_and_tmpfs_parse() {
        assert!(volume_flag("relative").is_err());
        assert!(volume_flag("./relative:/x")
            .unwrap_err()
            .contains("neither"));
        assert!(volume_flag("/tmp:/x:zz").is_err());
        assert_eq!(
            volume_flag("/tmp:/x:ro,rslave").unwrap(),
            Requested::Mount(Mount::Bind {
                source: "/tmp".into(),
                destination: "/x".into(),
                read_only: true,
                propagation: Propagation::Rslave,
            })
        );
        assert_eq!(
            volume_flag("data:/x:ro,nocopy").unwrap(),
            Requested::Volume(VolumeRequest {
                name: Some("data".into()),
                destination: "/x".into(),
                read_only: true,
                no_copy: true,
            })
        );
        assert_eq!(
            volume_flag("/cache").unwrap(),
            Requested::Volume(VolumeRequest {
                name: None,
                destination: "/cache".into(),
                ..VolumeRequest::default()
            })
        );
        assert_eq!(
            tmpfs_mount("/run:size=1m,mode=755,exec").unwrap(),
            Mount::Tmpfs {
                destination: "/run".into(),
                size_bytes: Some(1 << 20),
                mode: Some(0o755),
                read_only: false,
                exec: true
            }
        );
        assert!(tmpfs_mount("/run:bogus").is_err());
    }

    #[test]
    fn mounts_parse_like_dockers() {
        assert_eq!(
            mount_flag("type=bind,src=/tmp,dst=/x,readonly,bind-propagation=shared").unwrap(),
            Requested::Mount(Mount::Bind {
                source: "/tmp".into(),
                destination: "/x".into(),
                read_only: true,
                propagation: Propagation::Shared,
            })
        );
        assert_eq!(
            mount_flag("source=data,target=/x,volume-nocopy").unwrap(),
            Requested::Volume(VolumeRequest {
                name: Some("data".into()),
                destination: "/x".into(),
                read_only: false,
                no_copy: true,
            })
        );
        assert_eq!(
            mount_flag("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700,ro=false").unwrap(),
            Requested::Mount(Mount::Tmpfs {
                destination: "/t".into(),
                size_bytes: Some(1 << 20),
                mode: Some(0o700),
                read_only: false,
                exec: false,
            })
        );
        let error = |spec| mount_flag(spec).unwrap_err();
        assert!(error("type=bind,source=/nonexistent-wharf,target=/x").contains("does not exist"));
        assert!(error("type=bind,source=/tmp").contains("target is required"));
        assert!(error("type=volume,source=v,target=/x,tmpfs-size=1m").contains("does not apply"));
        assert!(error("type=tmpfs,target=/x,bogus=1").contains("unexpected key `bogus`"));
        assert!(error("type=volume,source=./x,target=/x").contains("not a volume name"));
        assert!(error("type=nfs,target=/x").contains("unknown mount type"));
    }
}
