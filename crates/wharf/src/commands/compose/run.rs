//! `compose run`: a one-off container of a service, after what it depends on is up, named
//! `<project>-<service>-run-<slug>` and labelled `com.docker.compose.oneoff=True`; attached,
//! it exits with the command's code; with `-d` it prints the container's id.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use wharf_compose::model::ServiceVolume;
use wharf_compose::syntax::{parse_ports, parse_volume};
use wharf_compose::{load, prepare_run, Pull, RunOptions};
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
        env: args.env.clone(),
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
    let reporter = plain_progress(printer, false);
    let backend = backend(engine, &reporter, project_args.host_ca_certs);
    engine.warm_up_container_start();
    let image_id = prepare_run(&backend, &project, service, &options, &mut |event| {
        printer.info(event_line(&event))
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
