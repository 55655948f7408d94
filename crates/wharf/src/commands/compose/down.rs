//! `compose down`, and the parallel stop it shares with `compose stop`: every container
//! gets its signal as soon as the containers that depend on it are stopped, as docker
//! compose does, so a project stops in the time of its slowest container.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use wharf_compose::labels::{image_name, NETWORK, ONEOFF, PROJECT, SERVICE, VOLUME};
use wharf_compose::{stop_after, Project};
use wharf_engine::{ContainerInfo, Engine, StopRequest};

use super::{load_project, project_containers};
use crate::cli::{ComposeDownArgs, ComposeProjectArgs};
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// Stops `containers` side by side (dependents first), printing docker compose's line for
/// each and then calling `then` on it.
pub(super) fn stop_in_parallel<'a>(
    engine: &Engine,
    printer: Printer,
    project: &Project,
    containers: &'a [ContainerInfo],
    timeout: Option<u64>,
    mut then: impl FnMut(&'a ContainerInfo) -> Result<(), wharf_engine::EngineError>,
) -> Result<(), CommandError> {
    let services: Vec<&str> = containers
        .iter()
        .map(|c| c.record.labels.get(SERVICE).map_or("", String::as_str))
        .collect();
    let requests: Vec<StopRequest> = containers
        .iter()
        .zip(stop_after(project, &services))
        .map(|(c, after)| StopRequest {
            name: &c.record.id,
            after,
        })
        .collect();
    engine.stop_containers(&requests, None, timeout, &mut |index| {
        let container = &containers[index];
        printer.info(format!(" ✔ Container {}  Stopped", container.record.name));
        then(container)
    })?;
    Ok(())
}

pub fn down(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeDownArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    down_project(engine, printer, &project, args)
}

/// `down` of a loaded project (`kube down` loads its own).
pub(crate) fn down_project(
    engine: &Engine,
    printer: Printer,
    project: &Project,
    args: ComposeDownArgs,
) -> CommandResult {
    // As docker compose: `run`'s containers and those of services gone from the file go
    // only with --remove-orphans.
    let containers: Vec<ContainerInfo> = project_containers(engine, &project.name, &args.services)?
        .into_iter()
        .filter(|c| {
            let labels = &c.record.labels;
            let known = labels
                .get(SERVICE)
                .is_some_and(|s| project.services.contains_key(s));
            let oneoff = labels.get(ONEOFF).map(String::as_str) == Some("True");
            args.remove_orphans || (known && !oneoff)
        })
        .collect();
    // Each container is removed as soon as it is stopped, on a thread of its own: removing
    // is file work (its folder, its name, its anonymous volumes) that takes longer than
    // the stop on a disk mounted with `discard`.
    std::thread::scope(|scope| {
        let mut removals = Vec::new();
        stop_in_parallel(engine, printer, project, &containers, args.timeout, |c| {
            removals.push(scope.spawn(move || {
                // As docker compose: anonymous volumes go with -v, else they stay dangling.
                engine.remove_container(&c.record.id, true, args.volumes)?;
                printer.info(format!(" ✔ Container {}  Removed", c.record.name));
                Ok::<_, CommandError>(())
            }));
            Ok(())
        })?;
        removals
            .into_iter()
            .try_for_each(|removal| removal.join().expect("a removal panicked"))
    })?;
    if !args.services.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let ours = |labels: &BTreeMap<String, String>, kind: &str| {
        labels.get(PROJECT) == Some(&project.name) && labels.contains_key(kind)
    };
    let networks: Vec<String> = engine
        .list_networks()?
        .into_iter()
        .filter(|n| ours(&n.labels, NETWORK))
        .map(|n| n.name)
        .collect();
    // Networks first, while this process has one thread: their bridges are then deleted
    // by a child process that bears the kernel's wait (see Engine::remove_networks).
    let (removed, in_use) = engine.remove_networks(&networks)?;
    for name in removed {
        printer.info(format!(" ✔ Network {name}  Removed"));
    }
    // As docker compose: a network still in use (by a container of `run`, say) stays.
    for error in in_use {
        if let wharf_engine::EngineError::NetworkUsed { network, .. } = error {
            printer.info(format!(" ! Network {network}  Resource is still in use"));
        }
    }
    if args.volumes {
        for volume in engine.list_volumes()? {
            if ours(&volume.labels, VOLUME) {
                engine.remove_volume(&volume.name)?;
                printer.info(format!(" ✔ Volume {}  Removed", volume.name));
            }
        }
    }
    if let Some(rmi) = &args.rmi {
        let images: BTreeSet<String> = project
            .services
            .values()
            .filter(|s| rmi == "all" || s.image.is_empty())
            .map(|s| image_name(&project.name, s))
            .collect();
        for image in images {
            if engine.remove_image(&image, false).is_ok() {
                printer.info(format!(" ✔ Image {image}  Removed"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
