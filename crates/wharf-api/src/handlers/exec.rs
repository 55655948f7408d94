//! `/containers/{id}/exec` and `/exec/{id}/...`: create, start (a hijacked stream, or
//! detached), inspect.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::stream::{write_frame, STDERR, STDOUT};
use crate::types::{ExecCreate, ExecStart};

pub fn create(call: &mut Call) -> Result<Reply, ApiError> {
    let body: ExecCreate = call.json()?;
    if body
        .cmd
        .as_ref()
        .is_none_or(|c| c.clone().into_vec().is_empty())
    {
        return Err(ApiError::BadRequest("No exec command specified".into()));
    }
    let id = call.backend.create_exec(call.param(0), body)?;
    Ok(Reply::Json(201, json!({ "Id": id })))
}

pub fn inspect(call: &mut Call) -> Result<Reply, ApiError> {
    Ok(Reply::Json(200, call.backend.inspect_exec(call.param(0))?))
}

/// The pty keeps its size: resizing an exec's terminal is not supported yet, and clients
/// treat the call as advisory.
pub fn resize(call: &mut Call) -> Result<Reply, ApiError> {
    call.backend.inspect_exec(call.param(0))?;
    Ok(Reply::Empty(200))
}

/// Starts the exec; attached, its stdio is relayed over the hijacked connection until it
/// ends, and its exit code is recorded before the stream closes.
pub fn start(call: &mut Call) -> Result<Reply, ApiError> {
    let body: ExecStart = if call.request.body.iter().all(u8::is_ascii_whitespace) {
        ExecStart::default()
    } else {
        call.json()?
    };
    let detach = body.detach.unwrap_or(false);
    let Some(process) = call.backend.start_exec(call.param(0), detach)? else {
        return Ok(Reply::Empty(200));
    };
    let request = &*call.request;
    let Ok(hijacked) = call.connection.hijack(request) else {
        // The client has gone: the process runs on without its stdio, as a detached one.
        (process.wait)();
        return Ok(Reply::Written);
    };
    let raw = process.tty;
    let output = Arc::new(Mutex::new(hijacked.output));
    if let Some(mut stdin) = process.stdin {
        let mut input = hijacked.input;
        // Ends when the client closes its side (or the connection is shut down below); the
        // process sees the end of its input then.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut input, &mut stdin);
        });
    }
    let stderr = process.stderr.map(|stderr| {
        let output = Arc::clone(&output);
        std::thread::spawn(move || relay(stderr, &output, raw, STDERR))
    });
    relay(process.stdout, &output, raw, STDOUT);
    if let Some(thread) = stderr {
        let _ = thread.join();
    }
    (process.wait)();
    let output = output.lock().expect("output lock");
    let _ = output.shutdown(std::net::Shutdown::Both);
    Ok(Reply::Written)
}

/// Copies `from` to the client as frames of `stream` until its end. Once the client has
/// gone, the rest is read and dropped, so that the process never blocks on a full pipe.
fn relay(mut from: Box<dyn Read + Send>, to: &Mutex<UnixStream>, raw: bool, stream: u8) {
    let mut buffer = [0u8; 32 * 1024];
    let mut alive = true;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if alive {
            let mut out = to.lock().expect("output lock");
            alive = write_frame(&mut *out, raw, stream, &buffer[..n])
                .and_then(|()| out.flush())
                .is_ok();
        }
    }
}
