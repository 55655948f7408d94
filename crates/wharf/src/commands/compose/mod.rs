//! `wharf compose`: the project is loaded by `wharf-compose` from docker compose's global
//! flags; each subcommand works on the loaded project.

mod config;

use std::path::PathBuf;

use wharf_compose::{ComposeError, LoadOptions};

use super::{CommandError, CommandResult};
use crate::cli::{ComposeArgs, ComposeCommand, ComposeProjectArgs};
use crate::printer::Printer;

pub fn run(printer: Printer, args: ComposeArgs) -> CommandResult {
    match args.command {
        ComposeCommand::Config(config) => config::config(printer, &args.project, config),
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

impl From<ComposeError> for CommandError {
    fn from(error: ComposeError) -> Self {
        CommandError {
            hint: error.hint(),
            message: wharf_oci::error_chain(&error),
            exit_code: 1,
        }
    }
}
