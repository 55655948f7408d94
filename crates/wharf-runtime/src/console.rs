//! Pseudo-terminals: libcontainer creates a container's pty inside the container and sends
//! its master over a unix socket (the OCI console socket); [`ConsoleSocket`] receives it.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

use crate::run::RunError;

/// A listening console socket, removed when dropped. Give [`ConsoleSocket::path`] to
/// [`crate::Stdio::console_socket`], create the container or exec, then take the master.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    /// Listens at `path`, replacing a file left there by a process that died.
    pub fn bind(path: &Path) -> Result<Self, RunError> {
        let io_error = |action| {
            move |source| RunError::Io {
                action,
                path: path.to_owned(),
                source,
            }
        };
        crate::run::remove_file_if_exists(path)?;
        let listener = UnixListener::bind(path).map_err(io_error("listen on"))?;
        // libcontainer has connected by the time create or exec returns: never wait.
        listener
            .set_nonblocking(true)
            .map_err(io_error("configure"))?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pty master sent by libcontainer while it created the container or exec'd the
    /// process (with `terminal` set in its spec).
    pub fn receive_master(&self) -> Result<OwnedFd, RunError> {
        let error = |source| RunError::Io {
            action: "receive the terminal on",
            path: self.path.clone(),
            source,
        };
        let (stream, _) = self.listener.accept().map_err(error)?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        // libcontainer sends the pty's name along with the descriptor.
        let mut name = [0u8; 256];
        rustix::net::recvmsg(
            &stream,
            &mut [io::IoSliceMut::new(&mut name)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .map_err(|errno| error(errno.into()))?;
        let master = control.drain().find_map(|message| match message {
            RecvAncillaryMessage::ScmRights(mut fds) => fds.next(),
            _ => None,
        });
        master.ok_or_else(|| error(io::Error::other("no file descriptor was sent")))
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        // Nobody to report to: a leftover file is replaced by the next bind.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Gives the pty `master` the window size of the terminal `terminal`. Fails when
/// `terminal` is not a terminal.
pub fn copy_window_size(terminal: impl AsFd, master: impl AsFd) -> io::Result<()> {
    let size = rustix::termios::tcgetwinsize(terminal)?;
    rustix::termios::tcsetwinsize(master, size)?;
    Ok(())
}
