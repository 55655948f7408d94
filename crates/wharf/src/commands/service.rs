//! `wharf system service [--time N] [URI]`: the Docker Engine API on a unix socket, as
//! `podman system service`. Nothing resident: it exits after `--time` seconds without a
//! client, and under systemd it starts when the first client connects (socket activation).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::{CommandError, CommandResult};
use crate::cli::ServiceArgs;
use crate::printer::Printer;
use crate::service::EngineBackend;

pub fn service(root: &Path, run_root: &Path, printer: Printer, args: ServiceArgs) -> CommandResult {
    // Before any thread: it takes descriptor 3 and changes the environment.
    let activated = wharf_runtime::take_activation_socket();
    let (listener, bound) = match activated {
        Some(socket) => (UnixListener::from(socket), None),
        None => {
            let path = socket_path(&args.uri)?;
            (bind(&path)?, Some(path))
        }
    };
    let idle = (args.time > 0).then(|| Duration::from_secs(args.time));
    let backend = Arc::new(EngineBackend {
        root: root.to_owned(),
        run_root: run_root.to_owned(),
    });
    match &bound {
        Some(path) => printer.info(format!(
            "API service listening on unix://{}",
            path.display()
        )),
        None => printer.info("API service listening on the socket systemd passed"),
    }
    let served = wharf_api::serve(listener, backend, idle);
    if let Some(path) = &bound {
        let _ = std::fs::remove_file(path);
    }
    served.map_err(|e| CommandError::new(format!("the API service failed: {e}"), None))?;
    Ok(ExitCode::SUCCESS)
}

/// `unix:///run/wharf/docker.sock` → `/run/wharf/docker.sock`.
fn socket_path(uri: &str) -> Result<PathBuf, CommandError> {
    match uri.strip_prefix("unix://") {
        Some(path) if path.starts_with('/') => Ok(PathBuf::from(path)),
        _ if uri.starts_with("tcp://") => Err(CommandError::new(
            format!("{uri}: TCP is not supported yet"),
            Some("listen on a unix socket: unix:///path/docker.sock"),
        )),
        _ => Err(CommandError::new(
            format!("{uri}: not a unix socket URI"),
            Some("give unix:///absolute/path.sock"),
        )),
    }
}

/// Binds `path`, 0660 (root's, as Docker's socket). A socket left by a service that died is
/// replaced; one that answers belongs to a running service and is refused.
fn bind(path: &Path) -> Result<UnixListener, CommandError> {
    let failed = |what: &str, e: std::io::Error| {
        CommandError::new(format!("cannot {what} {}: {e}", path.display()), None)
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| failed("create the folder of", e))?;
    }
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(CommandError::new(
                format!("{}: another service is listening there", path.display()),
                Some("stop it, or give another socket path"),
            ));
        }
        std::fs::remove_file(path).map_err(|e| failed("remove the stale socket", e))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| failed("listen on", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| failed("set the permissions of", e))?;
    Ok(listener)
}
