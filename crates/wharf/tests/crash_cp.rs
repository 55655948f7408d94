//! `kill -9` of `cp` midway, into a container and out of one. A stopped container's root is
//! mounted for the copy: a killed copy leaves that mount, which `system check --repair`
//! detaches. Afterwards the store is consistent, the container still starts, and the same
//! copy run again gives the whole tree.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::crash::{await_no_processes, check_and_repair, files_under, kill, mounts_under};
use common::Wharf;

const FILES: usize = 600;

/// A tree of `FILES` small files and an 8 MiB one.
fn big_tree(dir: &Path) {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    for i in 0..FILES {
        std::fs::write(files.join(format!("f{i}")), format!("{i}\n")).unwrap();
    }
    let big: Vec<u8> = (0..8u32 << 20).map(|i| (i * 7 + i / 4096) as u8).collect();
    std::fs::write(dir.join("big"), &big).unwrap();
}

/// Runs `wharf ARGS` and kills it `delay_ms` after `copied` files say the copy is under
/// way. Returns whether the kill landed before the copy was done: the process still ran
/// and not every file had landed (a kill between the last file and the exit finds the
/// container's root already detached).
fn killed_midway(wharf: &Wharf, args: &[&str], copied: impl Fn() -> usize, delay_ms: u64) -> bool {
    let mut copy = wharf
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::crash::wait_until("the copy begins", || {
        copied() > 0 || copy.try_wait().unwrap().is_some()
    });
    std::thread::sleep(Duration::from_millis(delay_ms));
    !kill(&mut copy) && copied() <= FILES
}

/// After a kill: nothing of the copy runs, the store is consistent, and --repair detaches
/// the container's root that a copy `killed_midway` had mounted.
fn assert_recovers(wharf: &Wharf, killed_midway: bool) {
    await_no_processes(wharf);
    let report = check_and_repair(wharf);
    assert!(
        !killed_midway || !report.contains("reclaimable: 0 leftovers"),
        "the killed copy's mount is not found:\n{report}"
    );
    assert_eq!(mounts_under(wharf), Vec::<String>::new(), "mounts left");
}

#[test]
fn a_cp_into_a_container_killed_midway_leaves_no_mount_and_copies_again() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    big_tree(source.path());
    let expected = std::fs::read(source.path().join("big")).unwrap();
    let mut landed = 0;
    for (i, delay_ms) in [0, 40, 200].into_iter().enumerate() {
        let name = format!("into{i}");
        let id = wharf
            .ok(&[
                "create",
                "--network",
                "none",
                "--name",
                &name,
                "busybox",
                "true",
            ])
            .trim()
            .to_string();
        let upper = wharf.path().join("containers").join(&id).join("upper");
        let dest = format!("{name}:/copied");
        let src = source.path().to_str().unwrap();
        let midway = killed_midway(
            &wharf,
            &["cp", src, &dest],
            || files_under(&upper.join("copied")),
            delay_ms,
        );
        landed += usize::from(midway);
        assert_recovers(&wharf, midway);
        assert_eq!(wharf.ok(&["start", "-a", &name]), "");
        // Again, into a fresh folder: the whole tree.
        wharf.ok(&["cp", src, &format!("{name}:/again")]);
        assert_eq!(files_under(&upper.join("again")), FILES + 1);
        assert_eq!(std::fs::read(upper.join("again/big")).unwrap(), expected);
        wharf.ok(&["rm", &name]);
    }
    assert!(
        landed > 0,
        "no kill landed during a copy: the test did not test anything"
    );
    wharf.remove_all_containers_leaving_nothing();
    wharf.assert_consistent();
}

#[test]
fn a_cp_out_of_a_container_killed_midway_leaves_no_mount_and_copies_again() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let source = tempfile::tempdir().unwrap();
    big_tree(source.path());
    wharf.ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "full",
        "busybox",
        "true",
    ]);
    wharf.ok(&["cp", source.path().to_str().unwrap(), "full:/tree"]);
    let mut landed = 0;
    for delay_ms in [0, 40, 200] {
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("tree");
        let midway = killed_midway(
            &wharf,
            &["cp", "full:/tree", dest.to_str().unwrap()],
            || files_under(&dest),
            delay_ms,
        );
        landed += usize::from(midway);
        assert_recovers(&wharf, midway);
        let again = out.path().join("again");
        wharf.ok(&["cp", "full:/tree", again.to_str().unwrap()]);
        assert_eq!(files_under(&again), FILES + 1);
        assert_eq!(
            std::fs::read(again.join("big")).unwrap(),
            std::fs::read(source.path().join("big")).unwrap()
        );
    }
    assert!(
        landed > 0,
        "no kill landed during a copy: the test did not test anything"
    );
    assert_eq!(wharf.ok(&["start", "-a", "full"]), "");
    wharf.remove_all_containers_leaving_nothing();
    wharf.assert_consistent();
}
