//! `compose run`: a one-off container of a service, after what it depends on is up, named
//! `<project>-<service>-run-<slug>` and labelled `com.docker.compose.oneoff=True`; attached,
//! it exits with the command's code; with `-d` it prints the container's id.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_compose::labels::SERVICE;
use wharf_compose::model::ServiceVolume;
use wharf_compose::syntax::{parse_ports, parse_volume};
use wharf_compose::{load, prepare_run, Event, Project, Pull, RunOptions};
use wharf_engine::Engine;

use super::up::{backend, event_line};
use super::{load_options, named_services};
use crate::cli::{ComposeProjectArgs, ComposeRunArgs};
use crate::commands::build::plain_progress;
use crate::commands::container::attached;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// `-v`: a relative bind source is relative to the current directory, as for `docker run`.
fn volume(spec: &str, current_dir: &Path) -> Result<ServiceVolume, CommandError> {
    let mut volume = parse_volume(spec)
        .map_err(|why| CommandError::new(format!("--volume {spec}: {why}"), None))?;
    if volume.kind == "bind" && Path::new(&volume.source).is_relative() {
        volume.source = current_dir.join(&volume.source).display().to_string();
    }
    Ok(volume)
}

/// `--env-from-file`: each file's variables as `NAME=VALUE`, read as compose reads env
/// files (quotes, `${VAR}` from the earlier lines and the shell).
fn env_from_files(files: &[PathBuf]) -> Result<Vec<String>, CommandError> {
    let mut env = Vec::new();
    for file in files {
        let flag = |why: String| {
            CommandError::new(format!("--env-from-file {}: {why}", file.display()), None)
        };
        let text = std::fs::read_to_string(file).map_err(|e| flag(e.to_string()))?;
        let lookup = |name: &str| std::env::var(name).ok();
        let vars = wharf_compose::dotenv::parse(&text, &lookup)
            .map_err(|e| flag(format!("line {}: {}", e.line, e.message)))?;
        env.extend(
            vars.into_iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
    }
    Ok(env)
}

/// `--remove-orphans`: the project's containers of services no longer in the file go
/// first, as docker compose.
fn remove_orphans(
    engine: &Engine,
    printer: Printer,
    project: &Project,
) -> Result<(), CommandError> {
    for container in engine.project_containers(&project.name)? {
        let service = container
            .record
            .labels
            .get(SERVICE)
            .map_or("", String::as_str);
        if project.services.contains_key(service) {
            continue;
        }
        engine.stop_container(&container.record.id, None, None)?;
        engine.remove_container(&container.record.id, true, false)?;
        printer.info(format!(" ✔ Container {}  Removed", container.record.name));
    }
    Ok(())
}

/// The flags as [`RunOptions`], each value parsed, naming the flag when it is bad.
fn run_options(args: &ComposeRunArgs, tty: bool) -> Result<RunOptions, CommandError> {
    let current_dir = std::env::current_dir().map_err(|error| {
        CommandError::new(format!("cannot read the current directory: {error}"), None)
    })?;
    let entrypoint = match &args.entrypoint {
        Some(text) => Some(shlex::split(text).ok_or_else(|| {
            CommandError::new(
                format!("--entrypoint {text}: unbalanced quotes"),
                Some("quote it as a shell would"),
            )
        })?),
        None => None,
    };
    let labels = args
        .labels
        .iter()
        .map(|label| {
            label
                .split_once('=')
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .ok_or_else(|| {
                    CommandError::new(
                        format!("--label {label}: label must be set as KEY=VALUE"),
                        None,
                    )
                })
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let mut publish = Vec::new();
    for spec in &args.publish {
        publish.extend(
            parse_ports(spec)
                .map_err(|why| CommandError::new(format!("--publish {spec}: {why}"), None))?,
        );
    }
    Ok(RunOptions {
        command: args.command.clone(),
        entrypoint,
        // -e after the files: it wins, as docker compose.
        env: env_from_files(&args.env_from_file)?
            .into_iter()
            .chain(args.env.iter().cloned())
            .collect(),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        name: args.name.clone(),
        tty,
        interactive: args.interactive,
        service_ports: args.service_ports,
        publish,
        volumes: args
            .volumes
            .iter()
            .map(|spec| volume(spec, &current_dir))
            .collect::<Result<_, _>>()?,
        labels,
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        no_deps: args.no_deps,
        build: args.build,
        pull: args
            .pull
            .parse::<Pull>()
            .map_err(|why| CommandError::new(format!("--pull: {why}"), None))?,
    })
}

pub fn run(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeRunArgs,
) -> CommandResult {
    // As docker compose: a TTY unless -T, or unless stdin is no terminal.
    let tty = !args.no_tty && std::io::stdin().is_terminal();
    let options = run_options(&args, tty)?;
    // Loaded with the service named, so that its profile is enabled.
    let loaded = load(&load_options(
        project_args,
        std::slice::from_ref(&args.service),
    )?)?;
    for warning in &loaded.warnings {
        printer.info(format!("WARN[0000] {warning}"));
    }
    let project = loaded.project;
    let service = named_services(&project, std::slice::from_ref(&args.service))?[0];
    if args.remove_orphans {
        remove_orphans(engine, printer, &project)?;
    }
    let reporter = plain_progress(printer, false);
    let backend = backend(engine, &reporter, project_args.host_ca_certs);
    engine.warm_up_container_start();
    let image_id = prepare_run(&backend, &project, service, &options, &mut |event| {
        if !(args.quiet_pull && matches!(event, Event::Pulled(_))) {
            printer.info(event_line(&event))
        }
    })?;
    let id = backend.create_one_off(
        &project,
        service,
        &options,
        &image_id,
        args.rm,
        args.use_aliases,
    )?;
    if args.detach {
        engine.start_detached(&id)?;
        printer.data(&id);
        return Ok(ExitCode::SUCCESS);
    }
    attached(engine, &id, args.interactive, tty)
}
