//! `wharf compose`: the project is loaded by `wharf-compose` from docker compose's global
//! flags; each subcommand works on the loaded project.

mod bridge;
mod build;
mod config;
mod cp;
mod down;
mod events;
mod logs;
mod ls;
mod pull;
mod query;
mod run;
mod services;
mod up;
mod wait;
mod watch;

use std::path::PathBuf;

pub(crate) use down::down_project;
pub(crate) use up::up_project;

use wharf_compose::labels::{CONTAINER_NUMBER, SERVICE};
use wharf_compose::{load, ComposeError, LoadOptions, Project};
use wharf_engine::{ContainerInfo, Engine};

use super::{CommandError, CommandResult};
use crate::cli::{ComposeArgs, ComposeCommand, ComposeProjectArgs};
use crate::printer::Printer;

pub fn run(
    printer: Printer,
    args: ComposeArgs,
    open: &dyn Fn() -> Result<Engine, CommandError>,
) -> CommandResult {
    let project = &args.project;
    match args.command {
        ComposeCommand::Config(config) => config::config(printer, project, config),
        ComposeCommand::Bridge(bridge) => bridge::run(open, printer, project, bridge),
        ComposeCommand::Version(version) => services::version(printer, version),
        ComposeCommand::Run(run) => run::run(&open()?, printer, project, run),
        ComposeCommand::Build(build) => build::build(&open()?, printer, project, build),
        ComposeCommand::Pull(pull) => pull::pull(&open()?, printer, project, pull),
        ComposeCommand::Push(push) => pull::push(&open()?, printer, project, push),
        ComposeCommand::Images(images) => query::images(&open()?, printer, project, images),
        ComposeCommand::Top(top) => query::top(&open()?, printer, project, top),
        ComposeCommand::Port(port) => query::port(&open()?, printer, project, port),
        ComposeCommand::Cp(cp) => cp::copy(&open()?, printer, project, cp),
        ComposeCommand::Ls(ls) => ls::list(&open()?, printer, ls),
        ComposeCommand::Wait(wait) => wait::wait(&open()?, printer, project, wait),
        ComposeCommand::Events(events) => events::events(&open()?, printer, project, events),
        ComposeCommand::Up(up) => up::run_up(&open()?, printer, project, up),
        ComposeCommand::Create(create) => up::create(&open()?, printer, project, create),
        ComposeCommand::Down(down) => down::down(&open()?, printer, project, down),
        ComposeCommand::Ps(ps) => services::ps(&open()?, printer, project, ps),
        ComposeCommand::Logs(logs) => logs::logs(&open()?, printer, project, logs),
        ComposeCommand::Exec(exec) => services::exec(&open()?, printer, project, exec),
        ComposeCommand::Start(targets) => services::start(&open()?, printer, project, targets),
        ComposeCommand::Stop(stop) => services::stop(&open()?, printer, project, stop, false),
        ComposeCommand::Restart(stop) => services::stop(&open()?, printer, project, stop, true),
        ComposeCommand::Kill(targets) => services::kill(&open()?, printer, project, targets),
        ComposeCommand::Pause(targets) => {
            services::pause(&open()?, printer, project, targets, true)
        }
        ComposeCommand::Unpause(targets) => {
            services::pause(&open()?, printer, project, targets, false)
        }
        ComposeCommand::Rm(rm) => services::remove(&open()?, printer, project, rm),
        ComposeCommand::Watch(watch) => watch::watch(&open()?, printer, project, watch),
    }
}

/// The load options of the global flags, the current directory and the environment.
fn load_options(
    project: &ComposeProjectArgs,
    services: &[String],
) -> Result<LoadOptions, CommandError> {
    let current_dir = std::env::current_dir().map_err(|error| {
        CommandError::new(format!("cannot read the current directory: {error}"), None)
    })?;
    let mut options = LoadOptions::new(current_dir, std::env::vars().collect());
    options.files = project.files.clone();
    options.project_name = project.project_name.clone();
    options.project_directory = project.project_directory.clone();
    options.env_files = project.env_files.clone();
    options.profiles = project.profiles.clone();
    options.services = services.to_vec();
    options.home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(options)
}

/// The whole project (the commands select services themselves, so that the others are
/// not taken for orphans), its warnings printed.
fn load_project(printer: Printer, project: &ComposeProjectArgs) -> Result<Project, CommandError> {
    let loaded = load(&load_options(project, &[])?)?;
    for warning in &loaded.warnings {
        printer.info(format!("WARN[0000] {warning}"));
    }
    Ok(loaded.project)
}

/// The project's services named on the command line (all when none is), refusing an
/// unknown one as docker compose does.
fn named_services<'a>(
    project: &'a Project,
    names: &[String],
) -> Result<Vec<&'a wharf_compose::Service>, CommandError> {
    if names.is_empty() {
        return Ok(project.services.values().collect());
    }
    names
        .iter()
        .map(|name| {
            project.services.get(name).ok_or_else(|| {
                CommandError::new(
                    format!("no such service: {name}"),
                    Some("`wharf compose config --services` lists them"),
                )
            })
        })
        .collect()
}

/// The project's containers of `services` (all when empty), in dependency order of their
/// services, then by number.
fn project_containers(
    engine: &Engine,
    project: &str,
    services: &[String],
) -> Result<Vec<ContainerInfo>, CommandError> {
    let mut containers: Vec<ContainerInfo> = engine
        .project_containers(project)?
        .into_iter()
        .filter(|c| {
            services.is_empty()
                || c.record
                    .labels
                    .get(SERVICE)
                    .is_some_and(|s| services.contains(s))
        })
        .collect();
    containers.sort_by_key(|c| {
        let number: u32 = c
            .record
            .labels
            .get(CONTAINER_NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (
            c.record.labels.get(SERVICE).cloned().unwrap_or_default(),
            number,
        )
    });
    Ok(containers)
}

/// The container `index` (docker compose's `--index`, from 1) of `service`, not `run`'s.
fn service_container(
    engine: &Engine,
    project: &Project,
    service: &str,
    index: u32,
) -> Result<ContainerInfo, CommandError> {
    named_services(project, &[service.to_owned()])?;
    ordered_containers(engine, project, &[service.to_owned()])?
        .into_iter()
        .find(|c| c.record.labels.get(CONTAINER_NUMBER) == Some(&index.to_string()))
        .ok_or_else(|| {
            CommandError::new(
                format!("service \"{service}\" is not running"),
                Some("start it with `wharf compose up -d`"),
            )
        })
}

/// [`project_containers`] with the project's dependency order of services.
fn ordered_containers(
    engine: &Engine,
    project: &Project,
    services: &[String],
) -> Result<Vec<ContainerInfo>, CommandError> {
    let order = project.dependency_order();
    let mut containers = project_containers(engine, &project.name, services)?;
    containers.sort_by_key(|c| {
        c.record
            .labels
            .get(SERVICE)
            .and_then(|s| order.iter().position(|o| o == s))
            .unwrap_or(usize::MAX)
    });
    Ok(containers)
}

impl From<wharf_compose::UpError> for CommandError {
    fn from(error: wharf_compose::UpError) -> Self {
        CommandError {
            hint: error.hint(),
            message: wharf_engine::error_chain(&error),
            exit_code: 1,
        }
    }
}

impl From<ComposeError> for CommandError {
    fn from(error: ComposeError) -> Self {
        CommandError {
            hint: error.hint(),
            message: wharf_oci::error_chain(&error),
            exit_code: 1,
        }
    }
}
