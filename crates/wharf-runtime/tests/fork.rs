//! `fork_detached` from a single-threaded process: the test harness is threaded (and refused,
//! see the unit test), so the test re-executes this binary, whose `main` forks before any
//! thread exists. The child reports what it sees of itself into a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

/// Set for the re-executed helper: where its child writes its report.
const REPORT_ENV: &str = "WHARF_FORK_REPORT";
const TITLE: &str = "wharf: a detached child";

fn main() {
    if std::env::var_os(REPORT_ENV).is_some() {
        let pid = wharf_runtime::fork_detached(TITLE, report).expect("the helper forks");
        std::io::stdout()
            .write_all(format!("{pid}\n").as_bytes())
            .expect("the helper writes the pid");
        return;
    }
    let args = Arguments::from_args();
    let trials = vec![Trial::test(
        "a_detached_child_has_its_title_and_none_of_the_parents_files",
        a_detached_child_has_its_title_and_none_of_the_parents_files,
    )];
    libtest_mimic::run(&args, trials).exit();
}

/// The child's work: its command line, its name and its open descriptors, to the report.
fn report() {
    let Some(path) = std::env::var_os(REPORT_ENV) else {
        return;
    };
    let cmdline = std::fs::read("/proc/self/cmdline").unwrap_or_default();
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    // Each open descriptor and what it is, but the listing's own.
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.flatten()
                .filter_map(|entry| {
                    let target = std::fs::read_link(entry.path()).ok()?;
                    let fd = entry.file_name().to_string_lossy().into_owned();
                    Some(format!("{fd}:{}", target.display()))
                })
                .filter(|fd| !fd.ends_with("/fd"))
                .collect()
        })
        .unwrap_or_default();
    fds.sort();
    let text = format!(
        "{}\n{}\n{}\n",
        String::from_utf8_lossy(&cmdline).trim_end_matches('\0'),
        comm.trim_end(),
        fds.join(" ")
    );
    let partial = PathBuf::from(&path).with_extension("partial");
    if std::fs::write(&partial, text).is_ok() {
        let _ = std::fs::rename(partial, path);
    }
}

fn a_detached_child_has_its_title_and_none_of_the_parents_files() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let report = dir.path().join("report");
    // The helper's stdout is a pipe, and it has a file of ours open as its stdin.
    let helper = Command::new(std::env::current_exe()?)
        .env(REPORT_ENV, &report)
        .stdin(std::fs::File::open("/dev/null")?)
        .stdout(Stdio::piped())
        .output()?;
    if !helper.status.success() {
        return Err(format!("the helper failed: {helper:?}").into());
    }
    let pid: i32 = String::from_utf8_lossy(&helper.stdout).trim().parse()?;
    let text = wait_for(&report)?;
    let lines: Vec<&str> = text.lines().collect();
    // The helper's command line (this binary's path) is longer than the title.
    let expected = [TITLE, &TITLE[..15], "0:/dev/null 1:/dev/null 2:/dev/null"];
    if lines != expected {
        return Err(format!("child {pid} reported {lines:?}, expected {expected:?}").into());
    }
    Ok(())
}

fn wait_for(path: &Path) -> Result<String, Failed> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path) {
            return Ok(text);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("no report at {} after 10 s", path.display()).into())
}
