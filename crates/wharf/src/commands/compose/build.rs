//! `compose build`: the images of the services that have a `build` section, as `up` builds
//! them, with `--no-cache`, `--pull` and `--build-arg` over the file's settings;
//! `--with-dependencies` builds what the services named depend on too, `--push` pushes
//! what it built (as `compose push`), `--ssh` is refused.

use std::process::ExitCode;

use wharf_compose::labels::image_name;
use wharf_compose::{selected_services, Backend};
use wharf_engine::{Engine, NoProgress};

use super::up::backend;
use super::{load_project, named_services};
use crate::cli::{ComposeBuildArgs, ComposeProjectArgs};
use crate::commands::build::plain_progress;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

pub fn build(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeBuildArgs,
) -> CommandResult {
    if let Some(ssh) = &args.ssh {
        return Err(CommandError::new(
            format!("--ssh {ssh}: ssh forwarding into builds is not supported"),
            Some("pass what the build needs as a build secret (`build.secrets`) instead"),
        ));
    }
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    // --with-dependencies: what the services named depend on, transitively, first.
    let services: Vec<String> = if args.with_dependencies || args.services.is_empty() {
        selected_services(&project, &args.services, false)
    } else {
        args.services.clone()
    };
    // `--build-arg NAME` takes the value of the project's environment, as docker compose.
    let mut build_args = Vec::new();
    for arg in &args.build_arg {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), project.environment.get(arg).cloned()),
        };
        build_args.push((name.to_owned(), value));
    }
    let reporter = plain_progress(printer, args.quiet);
    let backend = backend(engine, &reporter, project_args.host_ca_certs);
    let mut built = Vec::new();
    for service in services.iter().map(|name| &project.services[name]) {
        let Some(build) = &service.build else {
            continue;
        };
        let mut service = service.clone();
        let mut build = build.clone();
        build.no_cache |= args.no_cache;
        build.pull |= args.pull;
        build.args.extend(build_args.iter().cloned());
        service.build = Some(build);
        let image = image_name(&project.name, &service);
        backend
            .build(&project, &service, &image)
            .map_err(|error| CommandError {
                message: format!(
                    "service {}: {}",
                    service.name,
                    wharf_engine::error_chain(&*error)
                ),
                hint: None,
                exit_code: 1,
            })?;
        if !args.quiet {
            printer.info(format!(" ✔ Service {}  Built", service.name));
        }
        built.push((service.name.clone(), image));
    }
    // --push: as `compose push`, the images built under a name of the file's.
    if args.push {
        for (service, image) in built {
            if project.services[&service].image.is_empty() {
                continue;
            }
            engine
                .push(&image, &NoProgress)
                .map_err(|error| CommandError {
                    message: format!(
                        "service {service}: {image}: {}",
                        wharf_engine::error_chain(&error)
                    ),
                    hint: None,
                    exit_code: 1,
                })?;
            if !args.quiet {
                printer.info(format!(" ✔ {service} Pushed"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
