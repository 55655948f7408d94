//! Exec instances of the API: recorded by the engine, run by `wharf __exec ID`, a process of
//! their own (libcontainer needs a single-threaded caller; this one has threads).

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use wharf_api::types::{ExecCreate, ExecProcess};
use wharf_api::ApiError;
use wharf_engine::{Engine, ExecOptions, EXEC_INSTANCE_COMMAND};

use super::api_error;

pub fn create(engine: &Engine, container: &str, body: ExecCreate) -> Result<String, ApiError> {
    let options = ExecOptions {
        command: body.cmd.map(|c| c.into_vec()).unwrap_or_default(),
        env: body.env.unwrap_or_default(),
        user: body.user.filter(|u| !u.is_empty()),
        workdir: body.working_dir.filter(|w| !w.is_empty()),
        interactive: body.attach_stdin.unwrap_or(false),
        detach: false,
        tty: body.tty.unwrap_or(false),
    };
    let instance = engine
        .create_exec(container, options)
        .map_err(|error| match error {
            wharf_engine::EngineError::ContainerNotRunning { name } => {
                ApiError::Conflict(format!("container {name} is not running"))
            }
            other => api_error(other),
        })?;
    Ok(instance.id)
}

/// Starts `wharf __exec ID` with pipes for its stdio (none when detached: it then runs on
/// its own, records its exit code all the same, and is reaped by a thread).
pub fn start(engine: &Engine, id: &str, detach: bool) -> Result<Option<ExecProcess>, ApiError> {
    let instance = engine.exec_instance(id).map_err(api_error)?;
    if instance.running || instance.exit_code.is_some() {
        return Err(ApiError::Conflict(format!(
            "exec instance {} has already been started",
            instance.id
        )));
    }
    let exe = std::env::current_exe()
        .map_err(|e| ApiError::Engine(format!("cannot find the wharf executable: {e}")))?;
    let mut command = Command::new(exe);
    command
        .arg("--root")
        .arg(engine.root())
        .arg("--run-root")
        .arg(engine.run_root())
        .arg(EXEC_INSTANCE_COMMAND)
        .arg(&instance.id);
    let interactive = instance.options.interactive && !detach;
    let piped = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    command
        .stdin(piped(interactive))
        .stdout(piped(!detach))
        .stderr(piped(!detach));
    let mut child = command
        .spawn()
        .map_err(|e| ApiError::Engine(format!("cannot start the exec process: {e}")))?;
    if detach {
        std::thread::spawn(move || drop(child.wait()));
        return Ok(None);
    }
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let stdin = child.stdin.take();
    Ok(Some(ExecProcess {
        tty: instance.options.tty,
        stdin: stdin.map(|s| Box::new(s) as Box<dyn std::io::Write + Send>),
        stdout: Box::new(stdout),
        // With a tty, `wharf exec -t` writes everything (its own errors too) to one stream.
        stderr: Some(Box::new(stderr)),
        wait: Box::new(move || drop(child.wait())),
    }))
}

pub fn inspect(engine: &Engine, id: &str) -> Result<Value, ApiError> {
    let instance = engine.exec_instance(id).map_err(api_error)?;
    let options = &instance.options;
    let (entrypoint, arguments) = options
        .command
        .split_first()
        .map_or((String::new(), Vec::new()), |(e, a)| {
            (e.clone(), a.to_vec())
        });
    Ok(json!({
        "ID": instance.id,
        "Running": instance.running,
        "ExitCode": instance.exit_code,
        "ProcessConfig": {
            "tty": options.tty,
            "entrypoint": entrypoint,
            "arguments": arguments,
            "privileged": false,
            "user": options.user.clone().unwrap_or_default(),
        },
        "OpenStdin": options.interactive,
        "OpenStderr": true,
        "OpenStdout": true,
        "CanRemove": false,
        "ContainerID": instance.container_id,
        "DetachKeys": "",
        "Pid": instance.pid.unwrap_or(0),
    }))
}
