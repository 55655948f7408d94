//! Running the host's firewall commands (`nft`, `iptables-restore`) with a script on stdin.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use crate::error::{io_error, NetError};

/// Runs `program args` in this thread's network namespace with `input` on its stdin, and
/// returns its output (stdout discarded); the caller judges the exit status.
pub(crate) fn run_with_input(
    program: &'static str,
    args: &[&str],
    input: &str,
) -> Result<Output, NetError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_error("run", program))?;
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(io_error("wait for", program))?;
    // A failed write shows in the exit status first: the program read a cut script.
    if output.status.success() {
        if let Some(Err(error)) = written {
            return Err(io_error("write the script to", program)(error));
        }
    }
    Ok(output)
}
