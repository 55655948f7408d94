//! `kill -9` while a volume is filled: `run -v VOLUME:/data IMAGE` copies the image's
//! `/data` into the new volume, and is killed at several moments of that copy; and a
//! container writing into a volume is killed together with its monitor, as a crash ends
//! both. Afterwards `system check` finds the store consistent, `--repair` leaves no mount,
//! the volume written before keeps its content, and the same `run` fills the volume whole.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::crash::{await_no_processes, check_and_repair, files_under, kill, mounts_under};
use common::Wharf;

/// Files and bytes the image holds at `/data`: enough that copying them takes a while.
const FILES: usize = 2000;
const BIG_MIB: usize = 16;

fn image_with_data(wharf: &Wharf) {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM busybox\nRUN mkdir -p /data/files && cd /data/files && \
             for i in $(seq 1 {FILES}); do echo $i > f$i; done && \
             dd if=/dev/urandom of=/data/big bs=1048576 count={BIG_MIB} 2>/dev/null && \
             md5sum /data/big > /data/big.md5\n"
        ),
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        "data:1",
        context.path().to_str().unwrap(),
    ]);
}

/// `script` in busybox with `volume` at /data; its output.
fn sh_with_volume(wharf: &Wharf, volume: &str, script: &str) -> String {
    let volume = format!("{volume}:/data");
    let args = ["run", "--rm", "--network", "none", "-v", &volume];
    wharf.ok(&[&args[..], &["busybox", "sh", "-c", script]].concat())
}

/// What the volume mounted at /data holds: the number of files and the big file's check.
fn volume_content(wharf: &Wharf, volume: &str) -> String {
    sh_with_volume(
        wharf,
        volume,
        "ls /data/files | wc -l && cd / && md5sum -c /data/big.md5",
    )
}

#[test]
fn a_run_killed_while_it_fills_a_volume_leaves_it_to_be_filled_again() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    image_with_data(&wharf);
    let whole = format!("{FILES}\n/data/big: OK\n");
    // Kills at moments of the copy after its folder appears (the first right then).
    let mut landed_midway = 0;
    for (i, delay_ms) in [0, 50, 250].into_iter().enumerate() {
        let volume = format!("filled{i}");
        let mount = format!("{volume}:/data");
        let fill = [
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            &mount,
            "data:1",
            "true",
        ];
        let mut run = wharf
            .command(&fill)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let data = wharf.path().join("volumes").join(&volume);
        common::crash::wait_until("the volume's fill begins", || {
            files_under(&data) > 0 || run.try_wait().unwrap().is_some()
        });
        std::thread::sleep(Duration::from_millis(delay_ms));
        let copied = files_under(&data);
        if kill(&mut run) {
            continue;
        }
        // The image's files, the big one and its check.
        landed_midway += usize::from(copied < FILES + 2);
        await_no_processes(&wharf);
        check_and_repair(&wharf);
        assert_eq!(mounts_under(&wharf), Vec::<String>::new(), "mounts left");
        // A killed fill leaves the volume empty (or whole), never half filled: the same run
        // fills it.
        wharf.ok(&fill);
        assert_eq!(
            volume_content(&wharf, &volume),
            whole,
            "volume {volume} after a kill {delay_ms} ms into its fill"
        );
        wharf.remove_all_containers_leaving_nothing();
        wharf.ok(&["volume", "rm", &volume]);
    }
    assert!(
        landed_midway > 0,
        "no kill landed during a fill: the test did not test anything"
    );
    wharf.assert_consistent();
}

#[test]
fn a_container_killed_with_its_monitor_leaves_its_volume_whole() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    wharf.ok(&["volume", "create", "kept"]);
    sh_with_volume(&wharf, "kept", "echo before > /data/before");
    let id = wharf
        .ok(&[
            "run",
            "-d",
            "--name",
            "writer",
            "-v",
            "kept:/data",
            "busybox",
            "sh",
            "-c",
            "while true; do echo line >> /data/log; done",
        ])
        .trim()
        .to_string();
    let log = wharf.path().join("volumes/kept/_data/log");
    common::crash::wait_until("the container writes", || {
        std::fs::metadata(&log).is_ok_and(|m| m.len() > 0)
    });
    // A crash ends the monitor and the container's processes at once.
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(wharf.path().join("containers").join(&id).join("state.json")).unwrap(),
    )
    .unwrap();
    for pid in [&state["monitor_pid"], &state["pid"]] {
        let pid = pid.as_i64().expect("a running container's pids") as i32;
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
    }
    await_no_processes(&wharf);
    let status = wharf.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    assert!(status.starts_with("writer Exited (137)"), "{status}");
    check_and_repair(&wharf);
    wharf.remove_all_containers_leaving_nothing();
    let read = sh_with_volume(&wharf, "kept", "cat /data/before && head -n 1 /data/log");
    assert_eq!(read, "before\nline\n");
    wharf.remove_all_containers_leaving_nothing();
    wharf.assert_consistent();
}
