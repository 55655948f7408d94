use std::io::{self, BufRead, IsTerminal};
use std::os::fd::AsFd;
use std::process::ExitCode;

use wharf_engine::{end_by, BlobPushed, Engine, Signals, TERMINATING};
use wharf_oci::Reference;

use super::{CommandError, CommandResult};
use crate::cli::{LoginArgs, LogoutArgs, PullArgs, PushArgs};
use crate::layer_view::{LayerView, Transfer};
use crate::printer::Printer;

pub fn pull(engine: &Engine, printer: Printer, args: PullArgs) -> CommandResult {
    let say = |line: String| printer.data(line);
    let platform = args.platform.as_deref();
    if !args.all_tags {
        let reference = pull_image(engine, &args.image, platform, args.quiet, &say)?;
        printer.data(reference);
        return Ok(ExitCode::SUCCESS);
    }
    let tags = engine.remote_tags(&args.image)?;
    if tags.is_empty() {
        return Err(CommandError::new(
            format!("the repository {} has no tags", args.image),
            Some("push a tag to it first, or check the repository name"),
        ));
    }
    for tag in &tags {
        let reference = pull_image(engine, &tag.to_string(), platform, args.quiet, &say)?;
        if args.quiet {
            printer.data(reference);
        }
    }
    if !args.quiet {
        printer.data(tags[0].repository());
    }
    Ok(ExitCode::SUCCESS)
}

/// Pulls with Docker's progress (bars on a terminal, else lines sent to `say`); returns the
/// full reference. Also used by `run` and `create` for a missing image, which say it on
/// stderr.
pub(crate) fn pull_image(
    engine: &Engine,
    image: &str,
    platform: Option<&str>,
    quiet: bool,
    say: &(dyn Fn(String) + Sync),
) -> Result<String, CommandError> {
    if !quiet {
        // A bad name is the engine's to report, with its hint.
        if let Ok(reference) = Reference::parse_normalized(image) {
            let wanted = match (reference.tag(), reference.digest()) {
                (Some(tag), _) => tag.to_string(),
                (None, Some(digest)) => digest.to_string(),
                (None, None) => "latest".to_string(),
            };
            say(format!("{wanted}: Pulling from {}", reference.path()));
        }
    }
    let view = LayerView::new(Transfer::Pull, quiet, say);
    let report = engine.pull(image, platform, &view)?;
    if !quiet {
        say(format!("Digest: {}", report.digest));
        let status = if report.up_to_date {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        say(format!("Status: {status} {}", report.reference.familiar()));
    }
    Ok(report.reference.to_string())
}

pub fn push(engine: &Engine, printer: Printer, args: PushArgs) -> CommandResult {
    let say = |line: String| printer.data(line);
    if !args.quiet {
        if let Ok(reference) = Reference::parse_normalized(&args.image) {
            say(format!(
                "The push refers to repository [{}]",
                reference.repository()
            ));
        }
    }
    let view = LayerView::new(Transfer::Push, args.quiet, &say);
    let report = engine.push(&args.image, &view)?;
    for layer in &report.layers {
        let what = match &layer.how {
            BlobPushed::Existed => "Layer already exists".to_string(),
            BlobPushed::Mounted => match &layer.mounted_from {
                Some(from) => format!("Mounted from {}", from.path()),
                None => "Mounted from another repository".to_string(),
            },
            BlobPushed::Uploaded => "Pushed".to_string(),
        };
        view.finish(&layer.digest, &what);
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
        (None, false) if io::stdin().is_terminal() => {
            // Ctrl-C at the question must not leave the terminal without echo: the signals
            // that would end wharf wait until it is back on.
            let signals = Signals::block(TERMINATING).map_err(|e| {
                CommandError::new(format!("cannot block signals to ask for the password: {e}"), None)
            })?;
            // Echo goes off before the question, so nothing typed after it shows.
            let answer = without_echo(|| {
                printer.prompt("Password: ");
                match signals.wait_readable(io::stdin().as_fd()) {
                    Ok(None) => read_line("password").map(Ok),
                    Ok(Some(signal)) => Ok(Err(signal)),
                    Err(e) => Err(CommandError::new(
                        format!("cannot wait for the password on stdin: {e}"),
                        None,
                    )),
                }
            })?;
            // The Enter the user typed was not echoed either.
            printer.prompt("\n");
            match answer {
                Ok(password) => password,
                Err(signal) => end_by(signal),
            }
        }
        (None, false) => {
            return Err(CommandError::new(
                "no password given and stdin is not a terminal to ask for it",
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

/// Runs `read` with the terminal on stdin not echoing what is typed, then echoes again
/// (also when `read` fails).
fn without_echo<T>(read: impl FnOnce() -> Result<T, CommandError>) -> Result<T, CommandError> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = io::stdin();
    let no_terminal = |e: rustix::io::Errno| {
        CommandError::new(format!("cannot turn off echo on stdin: {e}"), None)
    };
    let saved = tcgetattr(&stdin).map_err(no_terminal)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &quiet).map_err(no_terminal)?;
    let result = read();
    tcsetattr(&stdin, OptionalActions::Now, &saved).map_err(no_terminal)?;
    result
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
