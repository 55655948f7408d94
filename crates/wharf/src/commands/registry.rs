use std::io::{self, BufRead, IsTerminal};
use std::process::ExitCode;

use wharf_engine::{BlobPushed, Engine};

use super::{CommandError, CommandResult};
use crate::cli::{LoginArgs, LogoutArgs, PullArgs, PushArgs};
use crate::printer::Printer;

/// Per-blob progress is summarized after each transfer; live bars are not drawn yet.
fn quiet_progress(_: &wharf_oci::Digest, _: u64) {}

pub fn pull(engine: &Engine, printer: Printer, args: PullArgs) -> CommandResult {
    let report = pull_image(
        engine,
        &args.image,
        args.platform.as_deref(),
        args.quiet,
        &|line| printer.data(line),
    )?;
    printer.data(report);
    Ok(ExitCode::SUCCESS)
}

/// Pulls with Docker's progress lines sent to `say`; returns the full reference. Also used
/// by `run` and `create` for a missing image, which say it on stderr.
pub(crate) fn pull_image(
    engine: &Engine,
    image: &str,
    platform: Option<&str>,
    quiet: bool,
    say: &dyn Fn(String),
) -> Result<String, CommandError> {
    let report = engine.pull(image, platform, &quiet_progress)?;
    let printer = Say(say);
    if !quiet {
        let path = report.reference.path().to_string();
        printer.data(format!(
            "{}: Pulling from {path}",
            report.reference.tag().unwrap_or("latest")
        ));
        for digest in report.downloaded.iter().filter(|d| **d != report.id) {
            printer.data(format!("{}: Pull complete", digest.short()));
        }
        printer.data(format!("Digest: {}", report.digest));
        let status = if report.up_to_date {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        printer.data(format!("Status: {status} {}", report.reference.familiar()));
    }
    Ok(report.reference.to_string())
}

/// Progress lines to wherever the caller wants them.
struct Say<'a>(&'a dyn Fn(String));

impl Say<'_> {
    fn data(&self, line: String) {
        (self.0)(line)
    }
}

pub fn push(engine: &Engine, printer: Printer, args: PushArgs) -> CommandResult {
    let report = engine.push(&args.image, &quiet_progress)?;
    if !args.quiet {
        printer.data(format!(
            "The push refers to repository [{}]",
            report.reference.repository()
        ));
        for (digest, how) in &report.layers {
            let what = match how {
                BlobPushed::Existed => "Layer already exists",
                BlobPushed::Mounted => "Mounted from another repository",
                BlobPushed::Uploaded => "Pushed",
            };
            printer.data(format!("{}: {what}", digest.short()));
        }
    }
    printer.data(format!(
        "{}: digest: {}",
        report.reference.tag().unwrap_or("latest"),
        report.digest
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn login(engine: &Engine, printer: Printer, args: LoginArgs) -> CommandResult {
    let stdin = io::stdin();
    let read_line = |what: &str| -> Result<String, CommandError> {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CommandError::new(format!("reading the {what}: {e}"), None))?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    };
    let username = match args.username {
        Some(username) => username,
        None if io::stdin().is_terminal() => {
            printer.prompt("Username: ");
            read_line("username")?
        }
        None => {
            return Err(CommandError::new(
                "no username given",
                Some("pass -u USERNAME"),
            ))
        }
    };
    let password = match (args.password, args.password_stdin) {
        (Some(_), true) => return Err(CommandError::new("--password and --password-stdin are mutually exclusive", None)),
        (Some(password), false) => password,
        (None, true) => read_line("password")?,
        (None, false) => {
            return Err(CommandError::new(
                "no password given",
                Some("pipe it in with --password-stdin (`echo $TOKEN | wharf login -u USER --password-stdin`)"),
            ))
        }
    };
    if password.is_empty() {
        return Err(CommandError::new(
            "the password is empty",
            Some("pass the password or token on stdin"),
        ));
    }
    engine.login(args.server.as_deref(), &username, &password)?;
    printer.data("Login Succeeded");
    Ok(ExitCode::SUCCESS)
}

pub fn logout(engine: &Engine, printer: Printer, args: LogoutArgs) -> CommandResult {
    let (domain, erased) = engine.logout(args.server.as_deref())?;
    if erased {
        printer.data(format!("Removing login credentials for {domain}"));
    } else {
        printer.data(format!("Not logged in to {domain}"));
    }
    Ok(ExitCode::SUCCESS)
}
