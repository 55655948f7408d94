//! `wharf init [DIR]`: detects the Python project and writes `Dockerfile`, `.dockerignore`,
//! `compose.yaml` (and `.env` with generated development passwords when a service needs
//! one). Nothing is overwritten without `--force`, and nothing is written when one file
//! would be refused; `--dry-run` prints the files instead.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_init::{detect, render, start_command, InitError, Overrides};

use super::{CommandError, CommandResult};
use crate::cli::InitArgs;
use crate::printer::Printer;

impl From<InitError> for CommandError {
    fn from(error: InitError) -> Self {
        Self::new(error.to_string(), error.hint().as_deref())
    }
}

pub fn init(printer: Printer, args: InitArgs) -> CommandResult {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let overrides = Overrides {
        python: args.python.clone(),
        port: args.port,
        command: args.cmd.clone(),
    };
    let facts = detect(&dir, &overrides)?;
    let files = render(&facts, &password()?);

    printer.info("Detected:");
    for reason in &facts.reasons {
        printer.info(format!("  {reason}"));
    }
    printer.info(format!("  command: {}", start_command(&facts).join(" ")));

    if args.dry_run {
        for file in &files {
            printer.data(format!("# --- {} ---", file.name));
            printer.data(file.text.trim_end());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Check every file before writing any.
    if !args.force {
        if let Some(existing) = files.iter().find(|file| dir.join(file.name).exists()) {
            return Err(CommandError::new(
                format!("{} already exists", dir.join(existing.name).display()),
                Some("keep it, or replace the files with wharf init --force (see them first with --dry-run)"),
            ));
        }
    }
    for file in &files {
        write_atomically(&dir.join(file.name), &file.text)?;
    }
    let names: Vec<&str> = files.iter().map(|file| file.name).collect();
    printer.info(format!("Wrote {}", names.join(", ")));
    printer.info("Next: wharf build -t app . (or wharf compose up -d --wait)");
    Ok(ExitCode::SUCCESS)
}

/// A development password: 16 random bytes, hex.
fn password() -> Result<String, CommandError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|error| CommandError::new(format!("cannot read /dev/urandom: {error}"), None))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn write_atomically(path: &Path, text: &str) -> Result<(), CommandError> {
    let temporary = path.with_extension("wharf-init.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|error| {
            let _ = std::fs::remove_file(&temporary);
            CommandError::new(format!("cannot write {}: {error}", path.display()), None)
        })
}
