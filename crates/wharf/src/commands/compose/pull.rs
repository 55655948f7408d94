//! `compose pull` and `compose push`: the services' images to and from their registries,
//! one service after another; a failure stops the command unless `--ignore-*-failures`,
//! which reports it and goes on, as docker compose. `pull --include-deps` adds what the
//! services named depend on, `--policy missing` skips the images present.

use std::process::ExitCode;

use wharf_engine::{Engine, EngineError, NoProgress};

use wharf_compose::selected_services;

use super::{load_project, named_services};
use crate::cli::{ComposeProjectArgs, ComposePullArgs, ComposePushArgs};
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// Moves each `(service, image, may_fail)` with `transfer`, printing docker compose's
/// lines; a failure of one that `may_fail` is only reported.
fn transfer_each(
    printer: Printer,
    images: Vec<(String, String, bool)>,
    quiet: bool,
    done: &str,
    transfer: impl Fn(&str) -> Result<(), EngineError>,
) -> CommandResult {
    for (service, image, may_fail) in images {
        match transfer(&image) {
            Ok(()) if quiet => {}
            Ok(()) => printer.info(format!(" ✔ {service} {done}")),
            Err(error) if may_fail => printer.info(format!(
                "WARN[0000] {service}: {image}: {}",
                wharf_engine::error_chain(&error)
            )),
            Err(error) => {
                let mut error = CommandError::from(error);
                error.message = format!("service {service}: {image}: {}", error.message);
                return Err(error);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn pull(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposePullArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    // --include-deps: the services named and what they depend on (all when none is named).
    let services: Vec<String> = if args.include_deps || args.services.is_empty() {
        selected_services(&project, &args.services, false)
    } else {
        args.services.clone()
    };
    let skip = |service: &str, why: &str| {
        if !args.quiet {
            printer.info(format!(" - {service} Skipped - {why}"));
        }
    };
    let mut images = Vec::new();
    for service in services.iter().map(|name| &project.services[name]) {
        if service.image.is_empty() {
            skip(&service.name, "No image to be pulled");
            continue;
        }
        if args.ignore_buildable && service.build.is_some() {
            skip(&service.name, "Image can be built");
            continue;
        }
        if args.policy.as_deref() == Some("missing") && engine.inspect_image(&service.image).is_ok()
        {
            skip(&service.name, "Image is already present locally");
            continue;
        }
        // As docker compose: an image the project can build may fail to pull.
        let may_fail = args.ignore_pull_failures || service.build.is_some();
        images.push((service.name.clone(), service.image.clone(), may_fail));
    }
    transfer_each(printer, images, args.quiet, "Pulled", |image| {
        engine.pull(image, None, &NoProgress).map(drop)
    })
}

pub fn push(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposePushArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    // As docker compose: the images the project builds under a name of its own.
    let images = named_services(&project, &args.services)?
        .into_iter()
        .filter(|s| s.build.is_some() && !s.image.is_empty())
        .map(|s| (s.name.clone(), s.image.clone(), args.ignore_push_failures))
        .collect();
    transfer_each(printer, images, args.quiet, "Pushed", |image| {
        engine.push(image, &NoProgress).map(drop)
    })
}
