//! The accept loop: a thread per connection (each blocks on engine calls, which are
//! synchronous), and an exit after `idle` without any connection, as `podman system service
//! --time`. A connection counts as busy from accept to close, hijacked streams included.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use crate::backend::Backend;
use crate::call::{Call, Reply};
use crate::error::ApiError;
use crate::http::{Connection, ReadError, Request};
use crate::routes;

/// How many connections are open, and when the last one closed.
struct Activity {
    open: usize,
    since: Instant,
}

/// Serves until `idle` passes with no connection open (never with `None`).
pub fn serve(
    listener: UnixListener,
    backend: Arc<dyn Backend>,
    idle: Option<Duration>,
) -> std::io::Result<()> {
    let activity = Arc::new(Mutex::new(Activity {
        open: 0,
        since: Instant::now(),
    }));
    loop {
        let wait = match idle {
            None => None,
            Some(idle) => {
                let now = activity.lock().expect("activity lock");
                if now.open == 0 && now.since.elapsed() >= idle {
                    return Ok(());
                }
                // Busy: look again after a whole `idle`; else when it would run out.
                Some(if now.open > 0 {
                    idle
                } else {
                    idle - now.since.elapsed()
                })
            }
        };
        let timeout = wait.map(|w| Timespec {
            tv_sec: w.as_secs() as i64,
            tv_nsec: i64::from(w.subsec_nanos()),
        });
        let mut fds = [PollFd::new(&listener, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // The client went away between poll and accept, or a transient lack of fds.
            Err(_) => continue,
        };
        activity.lock().expect("activity lock").open += 1;
        let backend = Arc::clone(&backend);
        let activity = Arc::clone(&activity);
        std::thread::spawn(move || {
            serve_connection(stream, backend.as_ref());
            let mut now = activity.lock().expect("activity lock");
            now.open -= 1;
            now.since = Instant::now();
        });
    }
}

/// Answers requests on one connection until the client closes it, asks to, or hijacks it.
/// I/O errors end the connection: the client has gone.
pub fn serve_connection(stream: UnixStream, backend: &dyn Backend) {
    let Ok(mut connection) = Connection::new(stream) else {
        return;
    };
    loop {
        let mut request = match connection.read_request() {
            Ok(request) => request,
            Err(ReadError::Closed | ReadError::Io(_)) => return,
            Err(ReadError::Bad(error)) => {
                connection.keep_alive = false;
                let _ = connection.reply_json(error.status(), &error.body());
                return;
            }
        };
        if answer(&mut request, &mut connection, backend).is_err() || !connection.keep_alive {
            return;
        }
    }
}

fn answer(
    request: &mut Request,
    connection: &mut Connection,
    backend: &dyn Backend,
) -> std::io::Result<()> {
    let found = routes::find(&request.method, &request.path);
    let reply = found.and_then(|(route, params)| {
        let mut call = Call {
            backend,
            request,
            params,
            connection: &mut *connection,
        };
        (route.handler)(&mut call)
    });
    match reply {
        Ok(Reply::Json(status, value)) => connection.reply_json(status, &value),
        Ok(Reply::Empty(status)) => connection.reply(status, "text/plain", b""),
        Ok(Reply::Text(status, text)) => {
            connection.reply(status, "text/plain; charset=utf-8", text.as_bytes())
        }
        Ok(Reply::Written) => Ok(()),
        Err(ApiError::NotModified) => connection.reply(304, "text/plain", b""),
        Err(error) => connection.reply_json(error.status(), &error.body()),
    }
}
