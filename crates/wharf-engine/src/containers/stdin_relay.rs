//! The stdin of a container created with `-i` that nobody attached at start: its monitor
//! listens on a unix socket (`WHARF_RUN/attach/<id>.sock`) and writes what each client sends
//! to the container's stdin (the pipe it reads, or its pty). `wharf attach` and the API's
//! attach connect there; output reaches them through the log, as `logs -f`.
//!
//! A client's end of input closes the container's stdin when the container was created
//! with `StdinOnce` and no tty (`docker run -i` attached through the API), as Docker's;
//! otherwise the container's stdin stays open for the next client. The monitor is
//! single-threaded: the target is non-blocking and a client is read only once what it sent
//! before has been written, so a container that does not read its input stalls nothing else.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use rustix::event::{PollFd, PollFlags};

use crate::error::{IoResultExt, Result};

/// Where the monitor of container `id` listens for attached input.
pub(crate) fn socket_path(run_root: &Path, id: &str) -> PathBuf {
    // Short enough for a socket's path under any WHARF_RUN of reasonable length.
    run_root
        .join("attach")
        .join(format!("{}.sock", &id[..id.len().min(32)]))
}

pub(super) struct StdinRelay {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<UnixStream>,
    /// The container's stdin; `None` once closed.
    target: Option<std::fs::File>,
    /// Read from a client, not yet written.
    pending: Vec<u8>,
    /// Close the container's stdin at a client's end of input.
    close_at_end: bool,
}

impl StdinRelay {
    pub(super) fn bind(path: PathBuf, target: OwnedFd, close_at_end: bool) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at("create directory", dir)?;
        }
        // Left by a monitor that was killed.
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).at("listen on", &path)?;
        listener.set_nonblocking(true).at("listen on", &path)?;
        rustix::io::ioctl_fionbio(&target, true)
            .map_err(io::Error::from)
            .at("set up the stdin of", &path)?;
        Ok(Self {
            listener,
            path,
            clients: Vec::new(),
            target: Some(target.into()),
            pending: Vec::new(),
            close_at_end,
        })
    }

    /// What to wait for, in the order [`StdinRelay::handle`] reads them: new clients, then
    /// the target's room while something is pending, else the clients' input.
    pub(super) fn poll_fds(&self) -> Vec<PollFd<'_>> {
        let mut fds = vec![PollFd::new(&self.listener, PollFlags::IN)];
        match (&self.target, self.pending.is_empty()) {
            (Some(target), false) => fds.push(PollFd::new(target, PollFlags::OUT)),
            _ => fds.extend(
                self.clients
                    .iter()
                    .map(|c| PollFd::new(c, PollFlags::IN | PollFlags::HUP)),
            ),
        }
        fds
    }

    pub(super) fn handle(&mut self, ready: &[bool]) {
        if ready.first() == Some(&true) {
            while let Ok((client, _)) = self.listener.accept() {
                if client.set_nonblocking(true).is_ok() {
                    self.clients.push(client);
                }
            }
        }
        if !self.pending.is_empty() {
            if ready.get(1) == Some(&true) {
                self.flush();
            }
            return;
        }
        let mut ended = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        for (i, client) in self.clients.iter_mut().enumerate() {
            if ready.get(i + 1) != Some(&true) {
                continue;
            }
            match client.read(&mut buf) {
                Ok(0) => ended.push(i),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => ended.push(i),
            }
        }
        for i in ended.into_iter().rev() {
            self.clients.remove(i);
            if self.close_at_end {
                self.target = None;
            }
        }
        self.flush();
    }

    /// Writes what is pending as far as the target takes it; nobody reads any more (the
    /// container closed its stdin): it is dropped.
    fn flush(&mut self) {
        while !self.pending.is_empty() {
            let Some(target) = &mut self.target else {
                self.pending.clear();
                return;
            };
            match target.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.target = None,
            }
        }
    }
}

impl Drop for StdinRelay {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
