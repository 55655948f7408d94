//! `kill -9` of `wharf build` at its long moments (a RUN step running, a layer being
//! committed): afterwards `system check` finds the store consistent, `--repair` leaves no
//! mount or process of the build behind, and the same build run again succeeds.
//!
//! The `__build-step` child has its build's death as its parent-death signal: it kills the
//! step's container and unmounts it, so that nothing of a killed build keeps running.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::crash::{mounts_under, processes_with};
use common::Wharf;

/// A context whose RUN step says so, then sleeps `PAUSE` seconds, then writes `SIZE` MiB
/// (a layer slow enough to commit that a kill can land during it).
fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nARG PAUSE=0\nARG SIZE=0\n\
         RUN echo step-running && sleep $PAUSE && \
         dd if=/dev/zero of=/data bs=1048576 count=$SIZE 2>/dev/null && echo step-written\n",
    )
    .unwrap();
    dir
}

/// Starts the build and kills it (SIGKILL) once its output shows `line`.
fn build_killed_after(wharf: &Wharf, context: &std::path::Path, args: &[&str], line: &str) {
    let mut command_args = vec!["build", "--progress", "plain", "-t", "crash:1"];
    command_args.extend_from_slice(args);
    command_args.push(context.to_str().unwrap());
    let mut child = wharf
        .command(&command_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    for output in BufReader::new(child.stderr.take().unwrap()).lines() {
        let output = output.unwrap();
        seen.push_str(&output);
        seen.push('\n');
        if output.contains(line) && !output.contains("echo") {
            break;
        }
    }
    assert!(
        seen.contains(line),
        "the build never printed {line:?}:\n{seen}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn assert_recovers(wharf: &Wharf, context: &std::path::Path, marker: &str) {
    assert!(
        !wharf
            .ok(&["images", "--format", "{{.Repository}}"])
            .contains("crash"),
        "a killed build left an image"
    );
    // The step's process learns of its build's death from the kernel and takes a moment to
    // kill its container and clean up after it.
    // Its own command line names the store; the container's names the marker.
    let root = wharf.path().to_string_lossy().into_owned();
    let left = || [processes_with(marker), processes_with(&root)].concat();
    for _ in 0..100 {
        if left().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(left(), Vec::<String>::new(), "processes left");
    // A mount of the killed build itself (the step's rootfs it was reading) is left for
    // `--repair`.
    wharf.assert_consistent();
    wharf.ok(&["system", "check", "--repair"]);
    assert_eq!(mounts_under(wharf), Vec::<String>::new(), "mounts left");
    let output = wharf.run(&["build", "-t", "crash:1", context.to_str().unwrap()]);
    common::assert_success(&output, &["build"]);
    wharf.assert_consistent();
}

#[test]
fn a_build_killed_during_a_run_step_leaves_no_process_mount_or_image() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let context = context();
    // A pause no other test uses marks this build's processes.
    build_killed_after(
        &wharf,
        context.path(),
        &["--build-arg", "PAUSE=86317"],
        "step-running",
    );
    assert_recovers(&wharf, context.path(), "86317");
}

#[test]
fn a_build_killed_during_its_layer_commit_leaves_a_consistent_store() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let context = context();
    // The step ends at once with 200 MiB to commit: the kill lands while it is packed.
    build_killed_after(
        &wharf,
        context.path(),
        &["--build-arg", "SIZE=200"],
        "step-written",
    );
    assert_recovers(&wharf, context.path(), "SIZE=200");
}
