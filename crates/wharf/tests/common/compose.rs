//! A compose project for end-to-end tests: a wharf in its own network namespace with
//! fixture images, and a folder holding `compose.yaml`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use super::Wharf;

/// A wharf in its own network namespace with `fixtures` (name, tag) imported, or `None`
/// after printing SKIPPED.
pub fn isolated_wharf(fixtures: &[(&str, &str)]) -> Option<Wharf> {
    if !super::is_root() {
        super::skip("containers and networks need root");
        return None;
    }
    let wharf = Wharf::isolated();
    if wharf.netns.is_none() {
        super::skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    for (name, tag) in fixtures {
        wharf.import_fixture(name, tag);
    }
    Some(wharf)
}

pub struct ComposeProject {
    pub wharf: Wharf,
    pub dir: tempfile::TempDir,
}

impl ComposeProject {
    /// [`isolated_wharf`] with `yaml` as the project's `compose.yaml`.
    pub fn new(fixtures: &[(&str, &str)], yaml: &str) -> Option<Self> {
        let project = Self {
            wharf: isolated_wharf(fixtures)?,
            dir: tempfile::tempdir().expect("project folder"),
        };
        project.write(yaml);
        Some(project)
    }

    pub fn write(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("compose.yaml"), yaml).expect("compose.yaml");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `compose -f DIR/compose.yaml ARGS...`.
    fn args(&self, args: &[&str]) -> Vec<String> {
        let file = self.dir.path().join("compose.yaml").display().to_string();
        let mut all = vec!["compose".to_string(), "-f".to_string(), file];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.run(&args)
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.ok(&args)
    }

    /// Runs and asserts failure, returning stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.fails(&args)
    }

    /// `inspect -f TEMPLATE NAME`, trimmed.
    pub fn inspect(&self, template: &str, name: &str) -> String {
        self.wharf
            .ok(&["inspect", "-f", template, name])
            .trim()
            .to_string()
    }

    /// The names of every container, sorted.
    pub fn container_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .wharf
            .ok(&["ps", "-a", "--format", "{{.Names}}"])
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }
}

/// A running `compose watch` (or `up --watch`), its stdout and stderr read line by line.
pub struct Watching {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Watching {
    pub fn start(project: &ComposeProject, args: &[&str]) -> Self {
        let file = project.path().join("compose.yaml").display().to_string();
        let mut all = vec!["compose", "-f", &file];
        all.extend(args);
        let mut child = project
            .wharf
            .command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wharf compose watch starts");
        let (send, lines) = channel();
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if send.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the next line containing `want` (a minute at most, against a hang).
    pub fn wait_for(&mut self, want: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(want) {
                        return line;
                    }
                    assert!(!line.starts_with("error:"), "{:#?}", self.seen);
                }
                Err(_) => panic!("no line with {want:?}; seen:\n{:#?}", self.seen),
            }
        }
    }

    /// Runs `changes` with the watcher stopped, so that they reach it at once (one batch)
    /// even when this test is descheduled between two writes for longer than the quiet
    /// period on a busy machine: its kernel queue keeps the events meanwhile.
    pub fn at_once(&self, changes: impl FnOnce()) {
        self.signal(rustix::process::Signal::STOP);
        changes();
        self.signal(rustix::process::Signal::CONT);
    }

    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Stops it as Ctrl-C does and waits for it.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        self.signal(rustix::process::Signal::INT);
        self.child.wait().unwrap()
    }
}

/// A test that fails before it interrupts the watcher does not leave it running.
impl Drop for Watching {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
