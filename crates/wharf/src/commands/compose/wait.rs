//! `compose wait`: blocks until every container of the services has stopped, printing
//! docker compose's line for each; the exit code is the last one's. With
//! `--down-project` the project then goes down (`down --remove-orphans`), as docker
//! compose does once all have stopped.

use std::process::ExitCode;

use wharf_engine::Engine;

use super::{load_project, named_services, project_containers};
use crate::cli::{ComposeDownArgs, ComposeProjectArgs, ComposeWaitArgs};
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

pub fn wait(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeWaitArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    let containers = project_containers(engine, &project.name, &args.services)?;
    if containers.is_empty() {
        return Err(CommandError::new(
            format!("no containers for project \"{}\"", project.name),
            Some("start them with `wharf compose up -d`"),
        ));
    }
    let mut code = 0;
    for container in &containers {
        code = engine.wait_container(&container.record.id)?;
        printer.data(format!(
            "container \"{}\" exited with status code {code}",
            container.record.id
        ));
    }
    if args.down_project {
        let down = ComposeDownArgs {
            volumes: false,
            rmi: None,
            remove_orphans: true,
            timeout: None,
            services: Vec::new(),
        };
        super::down::down(engine, printer, project_args, down)?;
    }
    Ok(ExitCode::from(code as u8))
}
