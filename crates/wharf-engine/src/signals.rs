//! Signals read from a file descriptor (signalfd) instead of caught by handlers: an attached
//! CLI forwards them to its container, a monitor or `exec -t` resizes a pty on SIGWINCH. The
//! process must be single-threaded (wharf's CLI and monitors are), so blocking them for the
//! calling thread blocks them for the process. A thread that the CLI starts must block every
//! signal ([`with_all_blocked`]), or a signal sent to the process could be delivered to it.
//!
//! A blocked signal stays blocked across fork and exec, and `std::process::Command` does not
//! clear it: block only once a container or exec'd process has started (a libcontainer clone
//! inherits the mask), and let wharf's helper processes (monitors, healthchecks) begin with
//! [`unblock_all`].

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{poll, PollFd, PollFlags};

/// What an attached `wharf run` passes on to its container, as Docker's `--sig-proxy`
/// (not SIGCHLD, SIGPIPE, SIGURG, SIGWINCH, nor the job-control signals).
pub const PROXIED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGTERM,
    Signal::SIGALRM,
];

/// The signals that end a process by default when a terminal or `kill` sends them.
pub const TERMINATING: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
];

/// Ends this process by `signal`, as if it had not been blocked: a shell reports it as usual
/// (130 for Ctrl-C). For a process that first had something to restore (a terminal's echo).
pub fn end_by(signal: i32) -> ! {
    if let Ok(signal) = Signal::try_from(signal) {
        let _ = SigSet::from(signal).thread_unblock();
        let _ = nix::sys::signal::raise(signal);
    }
    // The signal is ignored (an inherited SIG_IGN): end with the code a shell would show.
    std::process::exit(128 + signal)
}

/// Unblocks every signal: for a wharf process started by one that blocks some (an attached
/// CLI, a monitor on a tty), before it starts a container or process in one.
pub fn unblock_all() -> io::Result<()> {
    SigSet::empty().thread_set_mask()?;
    Ok(())
}

/// Calls `start` with every signal blocked, so that the threads it starts (which inherit
/// the mask) never take a signal meant for the process; restores the caller's mask after.
pub fn with_all_blocked<T>(start: impl FnOnce() -> T) -> io::Result<T> {
    let previous = SigSet::all().thread_swap_mask(SigmaskHow::SIG_BLOCK)?;
    let started = start();
    previous.thread_set_mask()?;
    Ok(started)
}

/// Blocked signals, readable from [`Signals::as_fd`]. Dropping it restores the mask.
#[derive(Debug)]
pub struct Signals {
    fd: SignalFd,
    previous: SigSet,
}

impl Signals {
    /// Blocks `signals` and opens a descriptor that reads them.
    pub fn block(signals: &[Signal]) -> io::Result<Self> {
        let set: SigSet = signals.iter().copied().collect();
        let previous = set.thread_swap_mask(SigmaskHow::SIG_BLOCK)?;
        match SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
            Ok(fd) => Ok(Self { fd, previous }),
            Err(errno) => {
                let _ = previous.thread_set_mask();
                Err(errno.into())
            }
        }
    }

    /// Waits until `input` is readable (`None`) or one of the signals comes (its number).
    pub fn wait_readable(&self, input: BorrowedFd<'_>) -> io::Result<Option<i32>> {
        loop {
            let mut fds = [
                PollFd::new(&self.fd, PollFlags::IN),
                PollFd::from_borrowed_fd(input, PollFlags::IN),
            ];
            match poll(&mut fds, None) {
                Err(rustix::io::Errno::INTR) => continue,
                Err(errno) => return Err(errno.into()),
                Ok(_) => {}
            }
            if !fds[0].revents().is_empty() {
                if let Some(signal) = self.next()? {
                    return Ok(Some(signal));
                }
            }
            if !fds[1].revents().is_empty() {
                return Ok(None);
            }
        }
    }

    /// The next pending signal's number, without waiting: `None` when none is pending.
    pub fn next(&self) -> io::Result<Option<i32>> {
        let info = self.fd.read_signal()?;
        Ok(info.and_then(|info| i32::try_from(info.ssi_signo).ok()))
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Nobody to report to; a process keeps working with a signal left blocked.
        let _ = self.previous.thread_set_mask();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_started_with_all_blocked_take_no_signal_and_the_caller_keeps_its_mask() {
        let before = SigSet::thread_get_mask().unwrap();
        let started =
            with_all_blocked(|| std::thread::spawn(|| SigSet::thread_get_mask().unwrap())).unwrap();
        let in_thread = started.join().unwrap();
        for signal in Signal::iterator() {
            let unblockable = matches!(signal, Signal::SIGKILL | Signal::SIGSTOP);
            assert!(
                in_thread.contains(signal) || unblockable,
                "{signal} not blocked"
            );
        }
        let after = SigSet::thread_get_mask().unwrap();
        for signal in Signal::iterator() {
            assert_eq!(after.contains(signal), before.contains(signal), "{signal}");
        }
    }
}
