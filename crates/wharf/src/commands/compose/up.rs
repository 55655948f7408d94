//! `compose up` and `compose create`: the plan of wharf-compose carried out
//! by the engine's [`ComposeBackend`], with docker compose's progress lines on stderr.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wharf_compose::labels::{ONEOFF, SERVICE};
use wharf_compose::model::CONDITION_COMPLETED_SUCCESSFULLY;
use wharf_compose::{
    selected_services, up, Event, PlanOptions, Project, Pull, Readiness, UpOptions,
};
use wharf_engine::{ComposeBackend, Engine};

use super::down::stop_in_parallel;
use super::logs::{follow_until_signal, short_name, AbortOn};
use super::{load_project, named_services, ordered_containers, project_containers};
use crate::cli::{ComposeCreateArgs, ComposeProjectArgs, ComposeUpArgs};
use crate::commands::build::plain_progress;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// The binary `init: true` runs, as `run --init`'s default.
fn init_path() -> std::path::PathBuf {
    std::env::var_os("WHARF_INIT_PATH").map_or_else(|| "/usr/bin/tini-static".into(), Into::into)
}

/// The engine as compose's backend, builds reported through `reporter`.
pub(super) fn backend<'a>(
    engine: &'a Engine,
    reporter: &'a dyn wharf_engine::BuildReporter,
    host_ca_certs: bool,
) -> ComposeBackend<'a> {
    ComposeBackend::new(engine, init_path(), host_ca_certs, reporter)
}

fn scale(values: &[String]) -> Result<BTreeMap<String, u32>, CommandError> {
    values
        .iter()
        .map(|value| {
            value
                .split_once('=')
                .and_then(|(service, n)| Some((service.to_string(), n.parse().ok()?)))
                .ok_or_else(|| {
                    CommandError::new(
                        format!("--scale {value}: expected SERVICE=NUM"),
                        Some("e.g. --scale worker=3"),
                    )
                })
        })
        .collect()
}

/// docker compose's progress line for an event.
pub(super) fn event_line(event: &Event) -> String {
    let (kind, name, what) = match event {
        Event::NetworkCreated(name) => ("Network", name, "Created"),
        Event::VolumeCreated(name) => ("Volume", name, "Created"),
        Event::Built(name) => ("Image", name, "Built"),
        Event::Pulled(name) => ("Image", name, "Pulled"),
        Event::Created(name) => ("Container", name, "Created"),
        Event::Recreated(name) => ("Container", name, "Recreated"),
        Event::Started(name) => ("Container", name, "Started"),
        Event::Restarted(name) => ("Container", name, "Restarted"),
        Event::Running(name) => ("Container", name, "Running"),
        Event::Removed(name) => ("Container", name, "Removed"),
        Event::Waited { container, condition } => {
            let what = match condition.as_str() {
                "service_healthy" => "Healthy",
                "service_completed_successfully" => "Exited",
                _ => "Started",
            };
            ("Container", container, what)
        }
        Event::Orphan(name) => {
            return format!(
                "WARN[0000] Found orphan containers ([{name}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up."
            )
        }
    };
    format!(" ✔ {kind} {name}  {what}")
}

fn converge(
    engine: &Engine,
    printer: Printer,
    project: &Project,
    args: &ComposeCreateArgs,
    base: UpOptions,
    host_ca_certs: bool,
) -> Result<(), CommandError> {
    let reporter = plain_progress(printer, false);
    let backend = backend(engine, &reporter, host_ca_certs);
    let options = UpOptions {
        plan: PlanOptions {
            services: args.services.clone(),
            // As docker compose: new anonymous volumes take new containers.
            force_recreate: args.force_recreate || base.renew_anon_volumes,
            no_recreate: args.no_recreate,
            remove_orphans: args.remove_orphans,
            scale: scale(&args.scale)?,
            ..base.plan
        },
        build: args.build,
        no_build: args.no_build,
        pull: args
            .pull
            .parse::<Pull>()
            .map_err(|why| CommandError::new(format!("--pull: {why}"), None))?,
        ..base
    };
    up(&backend, project, &options, &mut |event| {
        if !(args.quiet_pull && matches!(event, Event::Pulled(_))) {
            printer.info(event_line(&event))
        }
    })?;
    Ok(())
}

pub fn create(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeCreateArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    let base = UpOptions {
        plan: PlanOptions {
            no_start: true,
            ..PlanOptions::default()
        },
        ..UpOptions::default()
    };
    let host_ca_certs = project_args.host_ca_certs;
    converge(engine, printer, &project, &args, base, host_ca_certs)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_up(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeUpArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    up_project(engine, printer, &project, project_args, args)
}

/// `up` of a loaded project (`kube play` loads its own); `project_args` say how, for the
/// builds and for `--watch`'s own process.
pub(crate) fn up_project(
    engine: &Engine,
    printer: Printer,
    project: &Project,
    project_args: &ComposeProjectArgs,
    args: ComposeUpArgs,
) -> CommandResult {
    let host_ca_certs = project_args.host_ca_certs;
    let base = UpOptions {
        plan: PlanOptions {
            no_deps: args.no_deps,
            no_start: args.no_start,
            ..PlanOptions::default()
        },
        timeout: args.timeout.map(Duration::from_secs),
        renew_anon_volumes: args.renew_anon_volumes,
        ..UpOptions::default()
    };
    let abort =
        match (
            args.abort_on_container_failure,
            args.abort_on_container_exit,
        ) {
            (true, true) => return Err(CommandError::new(
                "--abort-on-container-failure cannot be combined with --abort-on-container-exit",
                None,
            )),
            (true, false) => AbortOn::Failure,
            _ if args.abort_on_container_exit || args.exit_code_from.is_some() => AbortOn::Exit,
            _ => AbortOn::Signal,
        };
    let attaching = abort != AbortOn::Signal || !args.attach.is_empty();
    if (args.detach || args.wait) && attaching {
        let flag = if args.wait { "--wait" } else { "--detach" };
        return Err(CommandError::new(
            format!("{flag} cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --exit-code-from or --attach"),
            None,
        ));
    }
    let named: Vec<String> = args
        .exit_code_from
        .iter()
        .chain(&args.attach)
        .cloned()
        .collect();
    if !named.is_empty() {
        named_services(project, &named)?;
    }
    if args.watch {
        if args.detach || args.wait || args.no_start {
            return Err(CommandError::new(
                "--watch cannot be combined with --detach, --wait or --no-start",
                Some("`wharf compose watch` watches a project started in the background"),
            ));
        }
        super::watch::checked_rules(project, &args.create.services)?;
    }
    // Attached, the logs shown begin here, as docker compose attaches before it starts.
    let began = time::OffsetDateTime::now_utc();
    converge(engine, printer, project, &args.create, base, host_ca_certs)?;
    if args.no_start {
        return Ok(ExitCode::SUCCESS);
    }
    if args.wait {
        wait_ready(engine, printer, project, &args)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.detach {
        return Ok(ExitCode::SUCCESS);
    }
    let containers = ordered_containers(engine, project, &args.create.services)?;
    // As docker compose: the services named (all when none is), with their dependencies
    // under --attach-dependencies, or those of --attach; never `run`'s containers.
    let attach: Vec<String> = if !args.attach.is_empty() {
        args.attach.clone()
    } else if args.attach_dependencies || args.create.services.is_empty() {
        selected_services(project, &args.create.services, args.no_deps)
    } else {
        args.create.services.clone()
    };
    let mut shown = ordered_containers(engine, project, &attach)?;
    shown.retain(|c| {
        let labels = &c.record.labels;
        let service = labels.get(SERVICE).map_or("", String::as_str);
        labels.get(ONEOFF).map(String::as_str) != Some("True")
            && !args.no_attach.iter().any(|s| s == service)
    });
    shown.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let attaching: Vec<String> = shown.iter().map(short_name).collect();
    printer.data(format!("Attaching to {}", attaching.join(", ")));
    let stop = |first: Option<&str>| {
        if first.is_some() {
            printer.info("Aborting on container exit...");
        } else {
            printer.data("Gracefully Stopping... press Ctrl+C again to force");
        }
        stop_in_parallel(engine, printer, project, &containers, args.timeout, |_| {
            Ok(())
        })
    };
    let watcher = args
        .watch
        .then(|| super::watch::spawn_child(project_args, &args.create.services))
        .transpose()?;
    let first = follow_until_signal(
        engine,
        printer,
        &shown,
        began,
        (!args.no_color, !args.no_log_prefix),
        abort,
        stop,
    );
    if let Some(watcher) = watcher {
        super::watch::stop_child(watcher);
    }
    let first = first?;
    // docker compose's exit code: --exit-code-from's container's, else the first to exit.
    let exit_code_of = |name: &str| -> Result<u8, CommandError> {
        Ok(engine.find_container(name)?.state.exit_code.unwrap_or(0) as u8)
    };
    let code = match (&args.exit_code_from, &first) {
        (Some(service), _) => match containers
            .iter()
            .find(|c| c.record.labels.get(SERVICE) == Some(service))
        {
            Some(container) => exit_code_of(&container.record.name)?,
            None => 0,
        },
        (None, Some(first)) => exit_code_of(first)?,
        (None, None) => 0,
    };
    Ok(ExitCode::from(code))
}

/// `--wait`: every container of the services running, and healthy when it has a check.
fn wait_ready(
    engine: &Engine,
    printer: Printer,
    project: &Project,
    args: &ComposeUpArgs,
) -> Result<(), CommandError> {
    let deadline = args
        .wait_timeout
        .map(|seconds| Instant::now() + Duration::from_secs(seconds));
    for container in project_containers(engine, &project.name, &args.create.services)? {
        let service = container
            .record
            .labels
            .get(SERVICE)
            .map_or("", String::as_str);
        let condition = project.wait_condition(service);
        let name = &container.record.name;
        match engine.wait_condition(name, condition, deadline)? {
            // docker compose's words: a job that ran to completion has Exited; the rest,
            // running without a healthcheck or healthy with one, are Healthy.
            Readiness::Ready => printer.info(format!(
                " ✔ Container {name}  {}",
                if condition == CONDITION_COMPLETED_SUCCESSFULLY {
                    "Exited"
                } else {
                    "Healthy"
                }
            )),
            Readiness::Failed(reason) => {
                return Err(CommandError::new(
                    format!("container {name} {reason}"),
                    Some("`wharf compose logs` shows what it printed"),
                ))
            }
        }
    }
    Ok(())
}
