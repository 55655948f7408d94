//! The user's terminal while a container's pty is attached to it: raw, so that every key
//! (Ctrl-C included) reaches the container's pty, which does the line editing and signals.

use std::io::{self, IsTerminal};

use rustix::termios::{self, OptionalActions, Termios};

use crate::commands::CommandError;

/// Docker's exit code when `-it` is asked without a terminal on stdin.
const NOT_A_TTY: u8 = 1;

/// `-t` with `-i` needs a terminal on stdin, as Docker's `the input device is not a TTY`.
pub fn require_tty_input(interactive_tty: bool) -> Result<(), CommandError> {
    if !interactive_tty || io::stdin().is_terminal() {
        return Ok(());
    }
    Err(CommandError {
        message: "the input device is not a TTY".into(),
        hint: Some(
            "drop -t to pipe input into the container (-i alone), or run from a terminal".into(),
        ),
        exit_code: NOT_A_TTY,
    })
}

/// The terminal on stdin in raw mode until dropped, which restores it as it was.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enable() -> Result<Self, CommandError> {
        let failed = |e: rustix::io::Errno| {
            CommandError::new(
                format!("cannot set the terminal on stdin to raw mode: {e}"),
                None,
            )
        };
        let stdin = io::stdin();
        let saved = termios::tcgetattr(&stdin).map_err(failed)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw).map_err(failed)?;
        Ok(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Drain: what the container printed last is shown before the shell's prompt.
        let _ = termios::tcsetattr(io::stdin(), OptionalActions::Drain, &self.saved);
    }
}
