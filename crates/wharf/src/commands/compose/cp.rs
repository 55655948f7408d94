//! `compose cp`: `wharf cp` with `SERVICE:PATH` naming the service's container `--index`.

use wharf_engine::Engine;

use super::{load_project, service_container};
use crate::cli::{ComposeCpArgs, ComposeProjectArgs};
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

pub fn copy(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeCpArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    // The side naming a service (as `cp` splits it: no `/` before the first `:`).
    let container_side = |text: &str| -> Result<Option<String>, CommandError> {
        match text.split_once(':') {
            Some((service, path)) if !service.is_empty() && !service.contains('/') => {
                let container = service_container(engine, &project, service, args.index)?;
                Ok(Some(format!("{}:{path}", container.record.id)))
            }
            _ => Ok(None),
        }
    };
    let mut cp = args.cp;
    let source = container_side(&cp.source)?;
    let dest = container_side(&cp.dest)?;
    if source.is_none() && dest.is_none() {
        return Err(CommandError::new(
            "one of the paths must be SERVICE:PATH",
            Some("e.g. `wharf compose cp web:/app/log.txt .`"),
        ));
    }
    cp.source = source.unwrap_or(cp.source);
    cp.dest = dest.unwrap_or(cp.dest);
    crate::commands::cp::copy(engine, cp)
}
