//! The one place the CLI writes to the terminal: data on stdout, everything else on stderr,
//! errors in the house style (`error: ...` then `hint: ...`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a line of data could not be written: whoever reads stdout has gone.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy)]
pub struct Printer;

impl Printer {
    /// A line of data (stdout). A closed pipe (`wharf images | head -1`) is not an error.
    pub fn data(&self, line: impl AsRef<str>) {
        let mut out = io::stdout().lock();
        if writeln!(out, "{}", line.as_ref()).is_err() {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
    }

    /// Whether stdout has gone (`wharf stats | head -3`): a stream of data may stop.
    pub fn stdout_closed(&self) -> bool {
        STDOUT_CLOSED.load(Ordering::Relaxed)
    }

    /// Container output, to the stream it came from, as is.
    pub fn raw(&self, stream: &str, text: &str) {
        let _ = if stream == "stderr" {
            io::stderr().lock().write_all(text.as_bytes())
        } else {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
    }

    /// Clears a terminal before the next screenful of data (`stats`); nothing elsewhere.
    pub fn redraw(&self) {
        use std::io::IsTerminal;
        let mut out = io::stdout().lock();
        if out.is_terminal() {
            let _ = out.write_all(b"\x1b[2J\x1b[H");
        }
    }

    /// A line about what wharf is doing (stderr), such as a pull during `run`.
    pub fn info(&self, line: impl AsRef<str>) {
        eprintln!("{}", line.as_ref());
    }

    /// Progress text on stderr, as is (a live view redraws itself with escape codes).
    pub fn status(&self, text: &str) {
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }

    /// A question on stderr, answered on stdin.
    pub fn prompt(&self, question: &str) {
        eprint!("{question}");
        let _ = io::stderr().flush();
    }

    pub fn error(&self, message: impl AsRef<str>, hint: Option<&str>) {
        eprintln!("error: {}", message.as_ref());
        if let Some(hint) = hint {
            eprintln!("hint: {hint}");
        }
    }

    /// Asks a yes/no question on stderr; anything but y/yes (or no terminal input) is no.
    pub fn confirm(&self, question: &str) -> bool {
        eprint!("{question} [y/N] ");
        let _ = io::stderr().flush();
        let mut answer = String::new();
        io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
    }
}
