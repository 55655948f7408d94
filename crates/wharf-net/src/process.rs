//! Running the host's firewall commands (`nft`, `iptables-restore`) with a script on stdin.

use std::io::Write as _;
use std::os::fd::{AsFd as _, OwnedFd};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;

use rustix::process::{waitid, WaitId, WaitIdOptions};

use crate::error::{io_error, NetError};

/// Runs `program args` in this thread's network namespace with `input` on its stdin, and
/// returns its output (stdout discarded); the caller judges the exit status.
pub(crate) fn run_with_input(
    program: &'static str,
    args: &[&str],
    input: &str,
) -> Result<Output, NetError> {
    let (child, written) = spawn_with_input(program, args, input, Stdio::null())?;
    let output = child
        .wait_with_output()
        .map_err(io_error("wait for", program))?;
    judge_written(program, &output, written)?;
    Ok(output)
}

/// Starts `program args` with `input` written to its stdin (then closed), its stdout to
/// `stdout` and its stderr piped; returns it with how the write went.
pub(crate) fn spawn_with_input(
    program: &'static str,
    args: &[&str],
    input: &str,
    stdout: Stdio,
) -> Result<(Child, Option<std::io::Result<()>>), NetError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_error("run", program))?;
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(input.as_bytes()));
    Ok((child, written))
}

/// A failed write shows in the exit status first: the program read a cut script.
pub(crate) fn judge_written(
    program: &'static str,
    output: &Output,
    written: Option<std::io::Result<()>>,
) -> Result<(), NetError> {
    if output.status.success() {
        if let Some(Err(error)) = written {
            return Err(io_error("write the script to", program)(error));
        }
    }
    Ok(())
}

/// Children this process no longer waits for, by pidfd: only `waitid` on one reaps that
/// very process, where a process that reaps any child (a monitor) may have taken it and
/// its pid be another child's by now.
static LEFT: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

/// Leaves the child of `pidfd` to end by itself; it is reaped at a later
/// [`reap_left_children`], or by init once this process ends.
pub(crate) fn leave_child(pidfd: OwnedFd) {
    LEFT.lock().unwrap_or_else(|e| e.into_inner()).push(pidfd);
}

/// Reaps the children left by [`leave_child`] that have ended.
pub(crate) fn reap_left_children() {
    let mut left = LEFT.lock().unwrap_or_else(|e| e.into_inner());
    left.retain(|pidfd| {
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        // `None`: still running. An error: reaped by someone else.
        matches!(waitid(WaitId::PidFd(pidfd.as_fd()), options), Ok(None))
    });
}
