//! `wharf`: the CLI. It parses Docker-compatible flags, calls the engine, and prints through
//! one printer. No engine logic lives here.

mod cli;
mod commands;
mod format;
mod layer_view;
mod printer;
mod service;
mod template;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::printer::Printer;

/// Docker's exit code for errors of the engine itself (bad flags, failed setup).
const EXIT_ENGINE_ERROR: u8 = 125;

fn main() -> ExitCode {
    let printer = Printer;
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return cli::report_parse_error(error),
    };
    match commands::run(cli, printer) {
        Ok(code) => code,
        Err(error) => {
            commands::report(&printer, &error);
            ExitCode::from(error.exit_code)
        }
    }
}
