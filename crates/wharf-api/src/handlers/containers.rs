//! `/containers/...`: create, list, inspect, start, stop, restart, kill, wait, remove, logs,
//! attach, top, rename, update, changes, export, pause, unpause.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

use serde_json::json;

use crate::call::{Call, Reply};
use crate::detach::{DetachKeys, DEFAULT_DETACH_KEYS};
use crate::error::ApiError;
use crate::stream::{write_frame, STDERR, STDOUT};
use crate::types::{
    ContainerCreate, ContainerSummary, HostConfig, LogEntry, LogsQuery, WaitCondition,
};

pub fn create(call: &mut Call) -> Result<Reply, ApiError> {
    let body: ContainerCreate = call.json()?;
    if body.image.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::BadRequest(
            "config cannot be empty in order to create a container: Image is missing".into(),
        ));
    }
    let name = call.query("name").filter(|n| !n.is_empty());
    let id = call.backend.create_container(name, body)?;
    Ok(Reply::Json(201, json!({ "Id": id, "Warnings": [] })))
}

pub fn list(call: &mut Call) -> Result<Reply, ApiError> {
    let all = call.flag("all");
    let limit = call.number::<i64>("limit")?;
    let filters = call.filters()?;
    let mut containers = call.backend.list_containers()?;
    // As Docker: without `all`, running ones only, unless a status filter asks for others.
    let any_status = all || filters.contains_key("status");
    containers.retain(|c| any_status || matches!(c.state.as_str(), "running" | "paused"));
    for (key, values) in &filters {
        let keep = |c: &ContainerSummary| values.iter().any(|v| filter_matches(c, key, v));
        match key.as_str() {
            "label" | "name" | "id" | "status" | "ancestor" | "network" | "health" | "exited" => {
                containers.retain(keep)
            }
            other => return Err(ApiError::BadRequest(format!("invalid filter '{other}'"))),
        }
    }
    // Docker's clients send -1 for no limit.
    if let Some(limit) = limit.filter(|l| *l > 0) {
        containers.truncate(limit as usize);
    }
    if call.flag("size") {
        for container in &mut containers {
            // One removed since it was listed (an auto-removed one, say) has no size.
            if let Ok((writable, root)) = call.backend.container_sizes(&container.id) {
                container.size_rw = (writable > 0).then_some(writable);
                container.size_root_fs = (root > 0).then_some(root);
            }
        }
    }
    Ok(Reply::Json(
        200,
        serde_json::to_value(containers).expect("summaries serialize"),
    ))
}

/// Docker's container filters: `label=k` or `label=k=v`, `name` and `id` (substring and
/// prefix, as Docker), `ancestor` (image name, with or without tag, or id).
fn filter_matches(c: &ContainerSummary, key: &str, value: &str) -> bool {
    match key {
        "label" => match value.split_once('=') {
            Some((k, v)) => c.labels.get(k).is_some_and(|l| l == v),
            None => c.labels.contains_key(value),
        },
        "name" => c.names.iter().any(|n| {
            n.trim_start_matches('/')
                .contains(value.trim_start_matches('/'))
        }),
        "id" => c.id.starts_with(value),
        "status" => c.state == value,
        "health" => c.health == value,
        "exited" => c.state == "exited" && c.status.starts_with(&format!("Exited ({value})")),
        "ancestor" => {
            let bare = value.strip_prefix("sha256:").unwrap_or(value);
            c.image == value
                || c.image.split(':').next() == Some(value)
                || c.image_id.trim_start_matches("sha256:").starts_with(bare)
        }
        "network" => c.network_settings.networks.contains_key(value),
        _ => false,
    }
}

pub fn inspect(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(
        200,
        call.backend.inspect_container(call.param(0))?,
    ))
}

pub fn start(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.start_container(call.param(0))?;
    Ok(Reply::Empty(204))
}

pub fn stop(call: &mut Call) -> Result<Reply, ApiError> {
    let timeout = call.number::<i64>("t")?.map(|t| t.max(0) as u64);
    let signal = call.query("signal").filter(|s| !s.is_empty());
    call.backend
        .stop_container(call.param(0), signal, timeout)?;
    Ok(Reply::Empty(204))
}

pub fn restart(call: &mut Call) -> Result<Reply, ApiError> {
    let timeout = call.number::<i64>("t")?.map(|t| t.max(0) as u64);
    let signal = call.query("signal").filter(|s| !s.is_empty());
    call.backend
        .restart_container(call.param(0), signal, timeout)?;
    Ok(Reply::Empty(204))
}

pub fn kill(call: &mut Call) -> Result<Reply, ApiError> {
    let signal = call
        .query("signal")
        .filter(|s| !s.is_empty())
        .unwrap_or("SIGKILL");
    call.backend.kill_container(call.param(0), signal)?;
    Ok(Reply::Empty(204))
}

/// The head goes as soon as the wait is registered, the body once the condition holds.
pub fn wait(call: &mut Call) -> Result<Reply, ApiError> {
    let condition = match call.query("condition").unwrap_or("") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => {
            return Err(ApiError::BadRequest(format!(
                "invalid condition: {other:?}: use not-running, next-exit or removed"
            )))
        }
    };
    let name = call.param(0).to_string();
    let backend = call.backend;
    let mut stream = None;
    let connection = &mut *call.connection;
    let peer = connection.watch_peer().map_err(gone)?;
    // The docker CLI gives up its wait when a start fails: then so do we.
    let result = backend.wait_container(
        &name,
        condition,
        &mut || stream = connection.stream(200, "application/json").ok(),
        &|| peer.closed(),
    );
    let Some(mut stream) = stream else {
        // Never registered (a missing container): nothing was sent, the error is the reply.
        let code = result?;
        return Ok(Reply::Json(
            200,
            json!({ "StatusCode": code, "Error": null }),
        ));
    };
    let body = match result {
        Ok(code) => json!({ "StatusCode": code, "Error": null }),
        Err(error) => json!({ "StatusCode": -1, "Error": { "Message": error.to_string() } }),
    };
    let _ = stream.json_line(&body).and_then(|()| stream.finish());
    Ok(Reply::Written)
}

pub fn remove(call: &mut Call) -> Result<Reply, ApiError> {
    let (force, volumes) = (call.flag("force"), call.flag("v"));
    call.backend
        .remove_container(call.param(0), force, volumes)?;
    Ok(Reply::Empty(204))
}

pub fn top(call: &mut Call) -> Result<Reply, ApiError> {
    let ps_args: Vec<String> = call
        .query("ps_args")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let top = call.backend.top_container(call.param(0), &ps_args)?;
    Ok(Reply::Json(
        200,
        serde_json::to_value(top).expect("top serializes"),
    ))
}

pub fn rename(call: &mut Call) -> Result<Reply, ApiError> {
    let new_name = call
        .query("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("name is required".into()))?
        .to_string();
    call.backend.rename_container(call.param(0), &new_name)?;
    Ok(Reply::Empty(204))
}

/// `POST /containers/{id}/update`: Docker's `UpdateConfig`, read with `HostConfig`'s names.
pub fn update(call: &mut Call) -> Result<Reply, ApiError> {
    let body: HostConfig = call.json()?;
    call.backend.update_container(call.param(0), body)?;
    Ok(Reply::Json(200, json!({ "Warnings": [] })))
}

pub fn changes(call: &mut Call) -> Result<Reply, ApiError> {
    let changes: Vec<_> = call
        .backend
        .container_changes(call.param(0))?
        .into_iter()
        .map(|(path, kind)| json!({ "Path": path, "Kind": kind }))
        .collect();
    Ok(Reply::Json(200, json!(changes)))
}

/// The tar streams as it is made; a failure midway cuts it short rather than ending it well.
pub fn export(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.inspect_container(call.param(0))?;
    let name = call.param(0).to_string();
    let backend = call.backend;
    let mut out = call
        .connection
        .stream(200, "application/x-tar")
        .map_err(gone)?;
    if backend.export_container(&name, &mut out).is_ok() {
        let _ = out.finish();
    }
    Ok(Reply::Written)
}

pub fn pause(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.pause_container(call.param(0))?;
    Ok(Reply::Empty(204))
}

pub fn unpause(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.unpause_container(call.param(0))?;
    Ok(Reply::Empty(204))
}

/// Whether the container has a tty (then its output is one raw stream), from its inspect.
fn has_tty(call: &Call) -> Result<bool, ApiError> {
    Ok(
        call.backend.inspect_container(call.param(0))?["Config"]["Tty"]
            .as_bool()
            .unwrap_or(false),
    )
}

pub fn logs(call: &mut Call) -> Result<Reply, ApiError> {
    let seconds = |call: &Call, key: &str| -> Result<Option<f64>, ApiError> {
        match call.query(key).filter(|v| !v.is_empty() && *v != "0") {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ApiError::BadRequest(format!(
                    "invalid value for {key}: {text:?} is not a Unix time"
                ))
            }),
        }
    };
    let query = LogsQuery {
        follow: call.flag("follow"),
        stdout: call.flag("stdout"),
        stderr: call.flag("stderr"),
        since: seconds(call, "since")?,
        until: seconds(call, "until")?,
        tail: match call.query("tail") {
            None | Some("" | "all") => None,
            Some(_) => call.number::<i64>("tail")?.map(|n| n.max(0) as usize),
        },
        timestamps: call.flag("timestamps"),
    };
    if !query.stdout && !query.stderr {
        return Err(ApiError::BadRequest(
            "Bad parameters: you must choose at least one stream".into(),
        ));
    }
    let raw = has_tty(call)?;
    let content_type = if raw {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let name = call.param(0).to_string();
    let backend = call.backend;
    let mut out = call.connection.stream(200, content_type).map_err(gone)?;
    let mut alive = true;
    // The head has gone: a failure now can only end the stream.
    let _ = backend.container_logs(&name, &query, &mut |line| {
        alive = send_line(&mut out, raw, &query, line);
        alive
    });
    if alive {
        let _ = out.finish();
    }
    Ok(Reply::Written)
}

/// Writes one line as `query` asks; false once the client has gone.
fn send_line(out: &mut impl Write, raw: bool, query: &LogsQuery, line: &LogEntry) -> bool {
    if (line.stderr && !query.stderr) || (!line.stderr && !query.stdout) {
        return true;
    }
    let text = if query.timestamps {
        format!("{} {}", line.time, line.text)
    } else {
        line.text.clone()
    };
    let stream = if line.stderr { STDERR } else { STDOUT };
    write_frame(out, raw, stream, text.as_bytes()).is_ok()
}

/// `POST /containers/{id}/attach`: the container's output from now on (with `logs`, from
/// its start), on a hijacked connection, until the container exits. With `stdin` (a
/// container created with `-i`), what the client sends goes to the container's stdin through
/// its monitor, until the client's end of input or its `detachKeys`, which end the stream.
pub fn attach(call: &mut Call) -> Result<Reply, ApiError> {
    let inspect = call.backend.inspect_container(call.param(0))?;
    let stdin = call.flag("stdin") && inspect["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    let mut keys = DetachKeys::parse(call.query("detachKeys").unwrap_or(DEFAULT_DETACH_KEYS))
        .map_err(|e| ApiError::BadRequest(format!("invalid detachKeys: {e}")))?;
    let raw = inspect["Config"]["Tty"].as_bool().unwrap_or(false);
    // Without `logs`, only output from now on: from this moment rather than from the log's
    // end when it is opened, which may come after the echo of input already relayed.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let query = LogsQuery {
        follow: call.flag_or("stream", false),
        stdout: call.flag("stdout"),
        stderr: call.flag("stderr"),
        since: (!call.flag("logs")).then_some(now),
        ..LogsQuery::default()
    };
    let name = call.param(0).to_string();
    let backend = call.backend;
    let request = &*call.request;
    let hijacked = call.connection.hijack(request).map_err(gone)?;
    let mut out = hijacked.output;
    let ended = AtomicBool::new(false);
    std::thread::scope(|scope| {
        if stdin {
            let (mut input, ended, name) = (hijacked.input, &ended, name.clone());
            let out = out.try_clone();
            scope.spawn(move || {
                let Ok(Some(mut to)) = backend.attach_stdin(&name, &|| ended.load(Relaxed)) else {
                    return;
                };
                if keys.relay(&mut input, &mut to) {
                    // As Docker's: the stream ends, the container runs on.
                    if let Ok(out) = &out {
                        let _ = out.shutdown(std::net::Shutdown::Both);
                    }
                }
                let _ = to.shutdown(std::net::Shutdown::Write);
            });
        }
        let _ = backend.container_logs(&name, &query, &mut |line| {
            send_line(&mut out, raw, &query, line)
        });
        ended.store(true, Relaxed);
        // Ends the client's input too, so that the stdin relay above returns.
        let _ = out.shutdown(std::net::Shutdown::Both);
    });
    Ok(Reply::Written)
}

/// The client went away before the reply's head: nobody reads an error any more.
pub(crate) fn gone(error: std::io::Error) -> ApiError {
    ApiError::Engine(format!("the client went away: {error}"))
}
