//! For the tests that `kill -9` a wharf command midway: find what it left, kill it at a
//! moment seen on disk, and check that the store recovers.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use super::Wharf;

/// Processes whose command line mentions `needle`, as `pid: command line`.
pub fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

/// Mounts of this test's store.
pub fn mounts_under(wharf: &Wharf) -> Vec<String> {
    let root = wharf.path().to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|line| line.contains(&root))
        .map(str::to_owned)
        .collect()
}

/// Regular files in `dir` and below, but `volume.json` (how far a copy or a fill got,
/// wherever it writes them).
pub fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => files_under(&e.path()),
            Ok(t) if t.is_file() && e.file_name() != "volume.json" => 1,
            _ => 0,
        })
        .sum()
}

/// Polls `done` every 5 ms for at most 30 s; panics naming `what` if it never holds.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// SIGKILL, then reaps it. Returns whether it had already ended (the kill came too late).
pub fn kill(child: &mut Child) -> bool {
    let ended = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    child.wait().unwrap();
    ended
}

/// Waits until no process names the store: the killed command, a helper of it that learns
/// of its death and cleans up, a monitor (so, for a store with no container running).
pub fn await_no_processes(wharf: &Wharf) {
    let root = wharf.path().to_string_lossy().into_owned();
    let left = || processes_with(&root);
    for _ in 0..200 {
        if left().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(left(), Vec::<String>::new(), "processes left");
}

/// After a kill: `system check` finds every image whole (it fails on a problem), then
/// `--repair` removes what the killed command left, with no mount of the store left that
/// no running container holds. Returns the check's report.
pub fn check_and_repair(wharf: &Wharf) -> String {
    let report = wharf.ok(&["system", "check"]);
    assert!(
        report.contains(": consistent"),
        "store not consistent after a kill:\n{report}"
    );
    wharf.ok(&["system", "check", "--repair"]);
    let again = wharf.ok(&["system", "check"]);
    assert!(
        again.contains("reclaimable: 0 leftovers"),
        "--repair left leftovers:\n{again}"
    );
    report
}
