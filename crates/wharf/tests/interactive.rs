//! Interactive containers: `-i` and `-t` for `run`, `start` and `exec` driven from a real
//! pseudo-terminal made by the test, signals sent to an attached `wharf run`, and `--init`.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{await_output, Wharf};
use rustix::termios::{self, LocalModes, Winsize};

/// How long a test waits for what must come before failing.
const PATIENCE: Duration = Duration::from_secs(30);
/// busybox sh's prompt for root in /.
const PROMPT: &str = "/ # ";

fn wharf_with_busybox() -> Option<Wharf> {
    if !common::is_root() {
        common::skip("containers need root");
        return None;
    }
    let wharf = Wharf::new();
    wharf.import_busybox();
    Some(wharf)
}

fn code(output: &std::process::Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// A pseudo-terminal playing the user's: wharf runs on its slave (as its controlling
/// terminal, so that a resize sends it SIGWINCH), the test types into its master and reads
/// what the terminal shows.
struct Terminal {
    master: File,
    /// The user's side, kept to look at its modes after wharf exits.
    slave: OwnedFd,
    shown: Arc<(Mutex<Vec<u8>>, Condvar)>,
}

impl Terminal {
    fn new(rows: u16, cols: u16) -> Self {
        let master = rustix::pty::openpt(
            rustix::pty::OpenptFlags::RDWR
                | rustix::pty::OpenptFlags::NOCTTY
                | rustix::pty::OpenptFlags::CLOEXEC,
        )
        .expect("openpt");
        rustix::pty::grantpt(&master).expect("grantpt");
        rustix::pty::unlockpt(&master).expect("unlockpt");
        let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
        let slave: OwnedFd = File::options()
            .read(true)
            .write(true)
            .open(name.to_str().expect("utf-8 pty name"))
            .expect("the pty's slave opens")
            .into();
        let terminal = Self {
            master: master.into(),
            slave,
            shown: Arc::default(),
        };
        terminal.resize(rows, cols);
        let mut reader = terminal.master.try_clone().expect("dup master");
        let shown = Arc::clone(&terminal.shown);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once nobody holds the slave (the test's copy is dropped last).
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                let (text, changed) = &*shown;
                text.lock().unwrap().extend_from_slice(&buf[..n]);
                changed.notify_all();
            }
        });
        terminal
    }

    fn resize(&self, rows: u16, cols: u16) {
        termios::tcsetwinsize(
            &self.master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .expect("resize the test's terminal");
    }

    /// Starts `wharf ARGS` on this terminal, in a session of its own whose controlling
    /// terminal it is (`setsid --ctty`), as a shell starts a command.
    fn spawn(&self, wharf: &Wharf, args: &[&str]) -> Child {
        let stdio = || Stdio::from(self.slave.try_clone().expect("dup slave"));
        Command::new("setsid")
            .arg("--ctty")
            .arg(env!("CARGO_BIN_EXE_wharf"))
            .args(args)
            .env("WHARF_ROOT", wharf.path())
            .env("WHARF_RUN", wharf.path().join("run"))
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio())
            .spawn()
            .expect("wharf starts")
    }

    fn type_text(&self, text: &str) {
        (&self.master)
            .write_all(text.as_bytes())
            .expect("typing into the terminal");
    }

    /// Everything shown so far.
    fn shown(&self) -> String {
        String::from_utf8_lossy(&self.shown.0.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal has shown `want` `times` times in all.
    fn await_shown(&self, want: &str, times: usize) {
        let deadline = Instant::now() + PATIENCE;
        let (text, changed) = &*self.shown;
        let mut seen = text.lock().unwrap();
        while String::from_utf8_lossy(&seen).matches(want).count() < times {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the terminal never showed {want:?} {times} times; it shows:\n{}",
                String::from_utf8_lossy(&seen)
            );
            seen = changed.wait_timeout(seen, left).unwrap().0;
        }
    }

    /// Types `command` until the terminal has shown `want` once more than before: for what
    /// follows a resize, which reaches the container's pty a moment after the test's.
    fn type_until(&self, command: &str, want: &str) {
        let before = self.shown().matches(want).count();
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.type_text(command);
            self.await_shown(PROMPT, self.shown().matches(PROMPT).count() + 1);
            if self.shown().matches(want).count() > before {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{command:?} never showed {want:?}:\n{}",
                self.shown()
            );
        }
    }

    /// Whether the user's terminal is in its usual (cooked) mode: line editing and echo.
    fn is_cooked(&self) -> bool {
        let modes = termios::tcgetattr(self.slave.as_fd())
            .expect("tcgetattr")
            .local_modes;
        modes.contains(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG)
    }
}

/// Waits until process `child` blocks signal number `signal` (`SigBlk` in its status).
fn await_signal_blocked(child: &Child, signal: u32) {
    let status = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(&status).expect("the process runs");
        let blocked = text
            .lines()
            .find_map(|l| l.strip_prefix("SigBlk:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .expect("a SigBlk line");
        if blocked & (1 << (signal - 1)) != 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "wharf never blocked signal {signal}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `child` and returns its exit code.
fn exit_code(mut child: Child) -> i32 {
    child
        .wait()
        .expect("wharf exits")
        .code()
        .expect("exited, not killed")
}

#[test]
fn run_it_is_an_interactive_shell_on_a_real_pty() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let terminal = Terminal::new(33, 77);
    assert!(terminal.is_cooked());
    let run = terminal.spawn(
        &wharf,
        &[
            "run",
            "-it",
            "--name",
            "shell",
            "--network",
            "none",
            "busybox",
            "sh",
        ],
    );
    terminal.type_text("tty; stty size; echo $TERM\n");
    terminal.await_shown("xterm", 1);
    let shown = terminal.shown();
    assert!(shown.contains("/dev/pts/0\r\n33 77\r\n"), "{shown}");
    // Raw on the user's side while attached: the container's pty echoes and edits lines.
    assert!(
        !terminal.is_cooked(),
        "the user's terminal is raw while attached"
    );

    // The size follows the user's terminal (SIGWINCH to wharf, passed on to the pty).
    terminal.resize(40, 100);
    terminal.type_until("stty size\n", "40 100");

    // Ctrl-C travels through the pty: it interrupts the shell's command, not wharf.
    terminal.type_text("sleep 1000\n");
    std::thread::sleep(Duration::from_millis(200));
    terminal.type_text("\x03");
    terminal.type_text("echo status=$?\n");
    terminal.await_shown("status=130", 1);

    terminal.type_text("exit 3\n");
    assert_eq!(exit_code(run), 3);
    assert!(terminal.is_cooked(), "wharf restored the user's terminal");

    // The pty's output is in the log too, as stdout.
    let logs = wharf.run(&["logs", "shell"]);
    assert!(common::stdout(&logs).contains("33 77"), "{logs:?}");
    assert!(common::stdout(&logs).contains("status=130"), "{logs:?}");
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "");
    let inspect = wharf.ok(&[
        "inspect",
        "-f",
        "{{.Config.Tty}} {{.Config.OpenStdin}}",
        "shell",
    ]);
    assert_eq!(inspect.trim(), "true true");

    // start -a -i attaches the same terminal again.
    let start = terminal.spawn(&wharf, &["start", "-a", "-i", "shell"]);
    terminal.type_text("echo again-$((6*7))\n");
    terminal.await_shown("again-42", 1);
    terminal.type_text("exit 5\n");
    assert_eq!(exit_code(start), 5);
    assert!(terminal.is_cooked());

    // A container that cannot start leaves the terminal as it was too, with Docker's code.
    let missing = terminal.spawn(
        &wharf,
        &[
            "run",
            "-it",
            "--rm",
            "--network",
            "none",
            "busybox",
            "no-such-command",
        ],
    );
    assert_eq!(exit_code(missing), 127);
    terminal.await_shown("executable file not found in $PATH", 1);
    assert!(terminal.is_cooked(), "wharf restored the user's terminal");

    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", "shell"]);
    wharf.ok(&["rm", "shell"]);
    wharf.assert_nothing_leaked(&[id.trim().to_string()]);
}

#[test]
fn i_pipes_stdin_and_t_works_without_a_terminal() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let piped = wharf.run_with_stdin(
        &["run", "-i", "--rm", "--network", "none", "busybox", "cat"],
        b"hi\n",
    );
    assert_eq!((code(&piped), common::stdout(&piped).as_str()), (0, "hi\n"));
    // Without -i the container's stdin is empty.
    let closed = wharf.run_with_stdin(
        &["run", "--rm", "--network", "none", "busybox", "cat"],
        b"hi\n",
    );
    assert_eq!((code(&closed), common::stdout(&closed).as_str()), (0, ""));
    // Detached with -i, stdin stays open with nobody writing: `cat` waits instead of ending.
    let waiting = wharf
        .ok(&["run", "-di", "--network", "none", "busybox", "cat"])
        .trim()
        .to_string();
    wharf.ok(&["exec", &waiting, "true"]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Running}}", &waiting])
            .trim(),
        "true"
    );
    wharf.ok(&["rm", "-f", &waiting]);

    // -t alone needs no terminal here: the output comes through the container's pty.
    let tty = wharf.run(&["run", "-t", "--rm", "--network", "none", "busybox", "tty"]);
    assert_eq!(
        (code(&tty), common::stdout(&tty).as_str()),
        (0, "/dev/pts/0\r\n")
    );
    // -it asks for the user's terminal, and there is none: refused before anything is made.
    let refused = wharf.run(&["run", "-it", "--network", "none", "busybox", "sh"]);
    assert_eq!(code(&refused), 1);
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr).lines().next(),
        Some("error: the input device is not a TTY")
    );
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    wharf.assert_nothing_leaked(&[waiting]);
}

#[test]
fn exec_it_runs_a_shell_in_a_detached_tty_container() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // -dit: the container's shell keeps its pty (and so runs on) with nobody attached.
    let id = wharf
        .ok(&[
            "run",
            "-dit",
            "--name",
            "box",
            "--network",
            "none",
            "busybox",
            "sh",
        ])
        .trim()
        .to_string();
    let terminal = Terminal::new(21, 61);
    let exec = terminal.spawn(&wharf, &["exec", "-it", "box", "sh"]);
    terminal.type_text("tty; stty size; echo $TERM\n");
    terminal.await_shown("xterm", 1);
    let shown = terminal.shown();
    assert!(
        shown.contains("/dev/pts/1\r\n21 61\r\n"),
        "the exec has a pty of its own, of the user's size: {shown}"
    );
    terminal.resize(30, 90);
    terminal.type_until("stty size\n", "30 90");
    terminal.type_text("exit 4\n");
    assert_eq!(exit_code(exec), 4);
    assert!(terminal.is_cooked(), "wharf restored the user's terminal");

    // A signal to `wharf exec -it` goes to the process, and the terminal is restored as
    // that ends. Sent once wharf relays (blocks SIGTERM to read it), not before.
    let exec = terminal.spawn(
        &wharf,
        &["exec", "-it", "box", "sh", "-c", "exec sleep 1000"],
    );
    await_signal_blocked(&exec, 15);
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&exec),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(exit_code(exec), 128 + 15);
    assert!(terminal.is_cooked(), "wharf restored the user's terminal");

    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Running}}", "box"])
            .trim(),
        "true"
    );
    // -t without a terminal, and -it refused without one, as for run.
    let tty = wharf.run(&["exec", "-t", "box", "tty"]);
    assert_eq!(common::stdout(&tty), "/dev/pts/1\r\n");
    let refused = wharf.run(&["exec", "-it", "box", "sh"]);
    assert_eq!(code(&refused), 1);
    assert!(String::from_utf8_lossy(&refused.stderr)
        .starts_with("error: the input device is not a TTY"));

    wharf.ok(&["rm", "-f", "box"]);
    wharf.assert_nothing_leaked(&[id]);
}

#[test]
fn signals_to_an_attached_run_reach_the_container() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let script = "trap 'echo got-USR1' USR1; trap 'echo got-TERM; exit 42' TERM; \
                  echo ready; while true; do sleep 0.05; done";
    let mut run = wharf
        .command(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("wharf runs");
    let mut stdout = run.stdout.take().expect("stdout");
    let mut shown = String::new();
    let mut read_until = |want: &str| {
        let mut buf = [0u8; 256];
        while !shown.contains(want) {
            let n = stdout.read(&mut buf).expect("read wharf's output");
            assert!(n > 0, "wharf ended before printing {want:?}: {shown}");
            shown.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    read_until("ready");
    let pid = rustix::process::Pid::from_child(&run);
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).unwrap();
    read_until("got-USR1");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    read_until("got-TERM");
    // The container's exit code is wharf's.
    assert_eq!(run.wait().unwrap().code(), Some(42));
    wharf.assert_nothing_leaked(&[]);
}

fn wharf_with_python() -> Option<Wharf> {
    if !common::is_root() {
        common::skip("containers need root");
        return None;
    }
    let wharf = Wharf::new();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    wharf.import_busybox();
    Some(wharf)
}

#[test]
fn init_forwards_sigterm_to_python_and_reaps_zombies() {
    let Some(wharf) = wharf_with_python() else {
        return;
    };
    let app = "import time; print('up', flush=True); time.sleep(1000)";
    let with_init = |name: &str, init: bool| {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        if init {
            args.push("--init");
        }
        args.extend(["python:3.11-slim", "python3", "-c", app]);
        wharf.ok(&args);
        await_output(&wharf, &["logs", name], "up");
    };
    // Python as PID 1 ignores SIGTERM (no handler, and the kernel shields PID 1): the stop
    // ends in SIGKILL. Behind tini it gets the signal and dies of it at once.
    with_init("bare", false);
    wharf.ok(&["stop", "-t", "1", "bare"]);
    with_init("tini", true);
    wharf.ok(&["stop", "-t", "60", "tini"]);
    let exit_codes = (
        wharf.ok(&["inspect", "-f", "{{.State.ExitCode}}", "bare"]),
        wharf.ok(&["inspect", "-f", "{{.State.ExitCode}}", "tini"]),
    );
    assert_eq!((exit_codes.0.trim(), exit_codes.1.trim()), ("137", "143"));
    let seen = wharf.ok(&["inspect", "-f", "{{.HostConfig.Init}} {{.Path}}", "tini"]);
    assert_eq!(seen.trim(), "true python3");

    // An orphan is reparented to PID 1: tini reaps it, a bare `sleep` as PID 1 does not.
    let orphan = "sh -c '(sleep 0.1; touch /tmp/done) &'; exec sleep 1000";
    let zombies = "grep -l '^State:.Z' /proc/[0-9]*/status | wc -l";
    for (name, init, want) in [("reaped", true, "0"), ("zombie", false, "1")] {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        if init {
            args.push("--init");
        }
        args.extend(["busybox", "sh", "-c", orphan]);
        wharf.ok(&args);
        await_output(
            &wharf,
            &[
                "exec",
                name,
                "sh",
                "-c",
                "test -e /tmp/done && echo done; true",
            ],
            "done",
        );
        await_output(&wharf, &["exec", name, "sh", "-c", zombies], want);
    }
    let ids: Vec<String> = wharf
        .ok(&["ps", "-a", "-q", "--no-trunc"])
        .lines()
        .map(str::to_string)
        .collect();
    wharf.ok(&["rm", "-f", "bare", "tini", "reaped", "zombie"]);
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn init_without_tini_is_a_clear_error() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let missing = wharf.path().join("no-tini");
    let output = wharf
        .command(&["run", "--init", "--network", "none", "busybox", "true"])
        .env("WHARF_INIT_PATH", &missing)
        .output()
        .expect("wharf runs");
    assert_eq!(code(&output), 125);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            format!("error: --init: {} is missing", missing.display()).as_str(),
            "hint: install Debian's tini package (`apt-get install tini`), or run without --init",
        ],
    );
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "", "nothing was created");
}
