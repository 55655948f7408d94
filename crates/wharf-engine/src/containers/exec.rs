//! `exec`: another process in a running container, as a child of the calling process (which
//! must be single-threaded: the runtime checks). Also what healthchecks run through.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use wharf_runtime::{ConsoleSocket, ExecConfig, ExecProcess, Stdio};

use super::attach::TtyDriver;
use super::create::resolve_user;
use super::logfile::JsonLog;
use super::monitor::{pump, runtime_error, stdin_of_this_process, LogStream};
use super::record::{ContainerRecord, Status};
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// The flags of `exec`, already parsed.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// `-e KEY=VALUE`, over the container's environment.
    pub env: Vec<String>,
    /// `-u user[:group]`, resolved in the container's `/etc/passwd` and `/etc/group`.
    pub user: Option<String>,
    /// `-w DIR`; the container's working directory when `None`.
    pub workdir: Option<String>,
    /// `-i`: the process reads this process's stdin; else `/dev/null`.
    pub interactive: bool,
    /// `-d`: no stdio at all, and nobody waits.
    pub detach: bool,
    /// `-t`: the process's stdio is a new pty, relayed to this process's stdio.
    pub tty: bool,
}

impl Engine {
    /// Runs a process in the running container `name` and returns its exit code (0 at once
    /// with `detach`). A program that is missing or not executable is a
    /// [`EngineError::Runtime`] with exit code 127 or 126, as Docker's.
    ///
    /// **Call only from a single-threaded process.**
    pub fn exec_in_container(&self, name: &str, options: &ExecOptions) -> Result<i32> {
        let info = self.find_container(name)?;
        if info.state.status != Status::Running {
            return Err(EngineError::ContainerNotRunning {
                name: info.record.name,
            });
        }
        // As Docker: a frozen container would hang the exec.
        if info.paused {
            return Err(EngineError::ContainerPaused {
                name: info.record.name,
            });
        }
        let mut config = exec_config(&info.record, options)?;
        // Detached, nobody would read a pty: Docker's `exec -dt` is `exec -d` here.
        let console = if options.tty && !options.detach {
            let path = self.console_socket_path()?;
            Some(ConsoleSocket::bind(&path).map_err(|e| runtime_error(&info.record.name, &e))?)
        } else {
            None
        };
        config.tty = console.is_some();
        let stdio = if let Some(console) = &console {
            Stdio {
                console_socket: Some(console.path().to_owned()),
                ..Stdio::default()
            }
        } else if options.detach {
            Stdio {
                stdin: Some(dev_null(false)?),
                stdout: Some(dev_null(true)?),
                stderr: Some(dev_null(true)?),
                console_socket: None,
            }
        } else if options.interactive {
            Stdio::default()
        } else {
            Stdio {
                stdin: Some(dev_null(false)?),
                ..Stdio::default()
            }
        };
        let mut process = self.exec_process(&info.record, &config, stdio)?;
        if options.detach {
            return Ok(0);
        }
        if let Some(console) = console {
            let relayed = relay_tty(&info.record.name, &console, options.interactive, &process);
            if let Err(error) = relayed {
                let _ = process.kill(rustix::process::Signal::KILL.as_raw());
                let _ = process.wait();
                return Err(error);
            }
        }
        process
            .wait()
            .map(|status| status.code())
            .map_err(|e| runtime_error(&info.record.name, &e))
    }

    /// Starts `config` in the container of `record` (for exec and healthchecks).
    pub(crate) fn exec_process(
        &self,
        record: &ContainerRecord,
        config: &ExecConfig,
        stdio: Stdio,
    ) -> Result<ExecProcess> {
        wharf_runtime::exec(&self.runtime_state_root(), &record.id, config, stdio)
            .map_err(|e| runtime_error(&record.name, &e))
    }
}

/// Relays this process's stdio (stdin too when `interactive`) to the pty of `process`, just
/// exec'd, until every process holding the pty has ended. Signals that would end this process
/// (and leave the user's terminal raw) go to `process` meanwhile.
fn relay_tty(
    name: &str,
    console: &ConsoleSocket,
    interactive: bool,
    process: &ExecProcess,
) -> Result<()> {
    let master = console
        .receive_master()
        .map_err(|e| runtime_error(name, &e))?;
    // Not a terminal (output redirected): the pty keeps its default size.
    let _ = wharf_runtime::copy_window_size(std::io::stdout(), &master);
    let input = interactive.then(stdin_of_this_process).transpose()?;
    let pid = rustix::process::Pid::from_raw(process.pid());
    let mut tty = TtyDriver::new(&master, input, pid)?;
    let streams = vec![LogStream::new("stdout", master)];
    pump(
        streams,
        JsonLog::none(),
        true,
        None,
        Some(&mut tty),
        None,
        None,
    )
    .at("relay the terminal of", console.path())
}

/// `options` over what the container runs with.
fn exec_config(record: &ContainerRecord, options: &ExecOptions) -> Result<ExecConfig> {
    if options.command.is_empty() {
        return Err(EngineError::BadOption {
            flag: "exec",
            value: record.name.clone(),
            message: "no command given".into(),
        });
    }
    let cwd = match options.workdir.as_deref().filter(|w| !w.is_empty()) {
        Some(dir) if !dir.starts_with('/') => {
            return Err(EngineError::BadOption {
                flag: "--workdir",
                value: dir.to_string(),
                message: "the working directory must be an absolute path".into(),
            })
        }
        Some(dir) => Some(PathBuf::from(dir)),
        None => None,
    };
    // Resolved in the container's own root, which may have users the image lacks.
    let user = options
        .user
        .as_deref()
        .map(|spec| resolve_user(spec, &[record.run.merged_dir()]))
        .transpose()?
        .map(|user| user.ids());
    Ok(ExecConfig {
        args: options.command.clone(),
        env: options.env.clone(),
        cwd,
        user,
        tty: false,
    })
}

pub(crate) fn dev_null(write: bool) -> Result<OwnedFd> {
    let file = if write {
        std::fs::OpenOptions::new().write(true).open("/dev/null")
    } else {
        File::open("/dev/null")
    };
    Ok(file.at("open", "/dev/null")?.into())
}
