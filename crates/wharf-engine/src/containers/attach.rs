//! The user's side of a running container: an attached `run` or `start -a` waits for the
//! monitor while passing signals on, and whoever holds a pty master for the user (the
//! monitor, or the CLI for `exec -t`) relays the user's input and window size to it.
//!
//! How the CLI reaches the monitor: it hands the monitor its own stdio when it starts it
//! (as a shell hands a terminal to a job), and forwards SIGWINCH to it. No socket, no
//! protocol: the user's bytes reach the pty through one copy, and a container without a
//! tty reads the user's stdin directly, so its end of input is exactly the user's.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::Pid;

use super::monitor::Attach;
use super::record::Status;
use super::stdin_relay::socket_path;
use crate::error::{EngineError, IoResultExt, Result};
use crate::signals::{Signals, PROXIED};
use crate::Engine;

impl Engine {
    /// Starts container `name` through a monitor attached to this process's stdio (its
    /// stdin too with `stdin`, for a container created with `-i`) and waits for it. Signals
    /// sent to this process meanwhile go to the container, as Docker's `--sig-proxy`, and
    /// SIGWINCH to the monitor, which resizes the container's pty.
    pub fn start_attached(&self, name: &str, stdin: bool) -> Result<ExitStatus> {
        let id = self.find_container(name)?.record.id;
        let mut handled = PROXIED.to_vec();
        handled.extend([Signal::SIGWINCH, Signal::SIGCHLD]);
        // Before the monitor exists, so that no signal is lost; the monitor unblocks them.
        let signals = Signals::block(&handled).at("block signals of", "this process")?;
        let mut monitor = self.start_container(&id, Attach::Attached { stdin })?;
        loop {
            if let Some(status) = monitor.try_wait().at("wait for the monitor of", &id)? {
                return Ok(status);
            }
            match poll(&mut [PollFd::new(&signals, PollFlags::IN)], None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(errno) => return Err(io::Error::from(errno)).at("wait for signals of", &id),
            }
            while let Some(signal) = signals.next().at("read signals of", "this process")? {
                if signal == Signal::SIGCHLD as i32 {
                    continue;
                }
                if signal == Signal::SIGWINCH as i32 {
                    let pid = Pid::from_child(&monitor);
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::WINCH);
                    continue;
                }
                // Before the container runs or after it ended there is nobody to signal,
                // as with Docker's proxy.
                let _ = self.kill_container(&id, &signal.to_string());
            }
        }
    }
}

impl Engine {
    /// A connection to the stdin of container `name` (created with `-i`), through its
    /// monitor (see `stdin_relay`): shutting down its writing side is the end of this
    /// client's input. Waits while the container has not started yet, until `abandoned`
    /// says so; `None` when the container takes no input or has ended.
    pub fn connect_stdin(
        &self,
        name: &str,
        abandoned: &dyn Fn() -> bool,
    ) -> Result<Option<UnixStream>> {
        let record = self.find_container(name)?.record;
        if !record.open_stdin {
            return Ok(None);
        }
        let path = socket_path(&self.run_root, &record.id);
        loop {
            if let Ok(stream) = UnixStream::connect(&path) {
                return Ok(Some(stream));
            }
            match self.container_info(&record.id) {
                Ok(now) if now.state.status == Status::Exited => return Ok(None),
                Err(EngineError::ContainerNotFound(_)) => return Ok(None),
                Err(error) => return Err(error),
                Ok(_) if abandoned() => return Ok(None),
                Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

/// The user's side of a container's pty: typed input goes to the master, and the pty takes
/// the size of this process's stdout (the user's terminal) on each SIGWINCH.
pub(super) struct TtyDriver {
    master: File,
    /// The user's input; `None` after its end (the pty itself stays open).
    input: Option<OwnedFd>,
    signals: Signals,
    /// Where the signals of [`PROXIED`] go, when this process holds the user's terminal
    /// raw: it must outlive them to restore it.
    forward_to: Option<Pid>,
}

impl TtyDriver {
    /// Blocks SIGWINCH (and [`PROXIED`] with `forward_to`) for this process to read them:
    /// call once the container's process has started, as a libcontainer clone inherits the
    /// signal mask.
    pub(super) fn new(
        master: &OwnedFd,
        input: Option<OwnedFd>,
        forward_to: Option<Pid>,
    ) -> Result<Self> {
        let mut handled = vec![Signal::SIGWINCH];
        if forward_to.is_some() {
            handled.extend(PROXIED);
        }
        Ok(Self {
            master: File::from(master.try_clone().at("duplicate", "the pty master")?),
            input,
            signals: Signals::block(&handled).at("block signals of", "this process")?,
            forward_to,
        })
    }

    /// What to wait for: signals, then the user's input while it lasts.
    pub(super) fn poll_fds(&self) -> Vec<PollFd<'_>> {
        let mut fds = vec![PollFd::new(&self.signals, PollFlags::IN)];
        if let Some(input) = &self.input {
            fds.push(PollFd::new(input, PollFlags::IN));
        }
        fds
    }

    /// Acts on what [`TtyDriver::poll_fds`] found ready, in its order.
    pub(super) fn handle(&mut self, ready: &[bool]) -> io::Result<()> {
        if ready.first() == Some(&true) {
            while let Some(signal) = self.signals.next()? {
                if signal == Signal::SIGWINCH as i32 {
                    // The user's output is not a terminal (any more): nothing to follow.
                    let _ = wharf_runtime::copy_window_size(io::stdout(), &self.master);
                } else if let Some((pid, signal)) = self
                    .forward_to
                    .zip(rustix::process::Signal::from_named_raw(signal))
                {
                    // Gone already: its pty's end finishes the relay.
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        }
        let Some(input) = self.input.as_ref().filter(|_| ready.get(1) == Some(&true)) else {
            return Ok(());
        };
        let mut buf = [0u8; 4096];
        match rustix::io::read(input, &mut buf) {
            Ok(0) | Err(Errno::IO) => self.input = None,
            // The container is gone: its output's end finishes the relay.
            Ok(n) => {
                if self.master.write_all(&buf[..n]).is_err() {
                    self.input = None;
                }
            }
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(errno) => return Err(errno.into()),
        }
        Ok(())
    }
}
