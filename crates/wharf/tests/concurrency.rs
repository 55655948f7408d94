//! Many wharf processes at once, and processes killed halfway: the store stays consistent
//! and never shows a partial image.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::{docker_save_archive, tarball, Entry, Wharf};

/// An archive of a two-layer image: a base layer shared by all, and a layer of its own.
fn archive(n: usize) -> Vec<u8> {
    let files: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| (format!("base/{i}"), vec![b'b'; 4096]))
        .collect();
    let base_entries: Vec<Entry> = files
        .iter()
        .map(|(p, d)| Entry::File(p, d, 0o644))
        .collect();
    let mut base = vec![Entry::Dir("base", 0o755)];
    base.extend(base_entries);
    let own_name = format!("own-{n}");
    let own = tarball(&[Entry::File(&own_name, own_name.as_bytes(), 0o644)]);
    docker_save_archive(&[tarball(&base), own], "", Some(&format!("img{n}:latest")))
}

fn spawn(wharf: &Wharf, args: &[&str], input: Option<&std::path::Path>) -> Child {
    let mut command = wharf.command(args);
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(path) = input {
        command.stdin(std::fs::File::open(path).unwrap());
    }
    command.spawn().expect("wharf starts")
}

#[test]
fn eight_concurrent_loads_removals_and_prunes_leave_a_consistent_store() {
    let wharf = Wharf::new();
    let inputs = tempfile::tempdir().unwrap();
    let paths: Vec<_> = (0..4)
        .map(|n| {
            let path = inputs.path().join(format!("img{n}.tar"));
            std::fs::write(&path, archive(n)).unwrap();
            path
        })
        .collect();
    for round in 0..3 {
        let mut children = Vec::new();
        for path in &paths {
            children.push(("load", spawn(&wharf, &["load"], Some(path))));
        }
        children.push(("rmi", spawn(&wharf, &["rmi", "img0:latest"], None)));
        children.push(("rmi", spawn(&wharf, &["rmi", "-f", "img1:latest"], None)));
        children.push((
            "prune",
            spawn(&wharf, &["image", "prune", "-a", "-f"], None),
        ));
        children.push(("prune", spawn(&wharf, &["image", "prune", "-f"], None)));
        for (kind, child) in children {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            // A removal may race ahead of the load that creates its image; nothing else may fail.
            let acceptable =
                output.status.success() || (kind == "rmi" && stderr.contains("no such image"));
            assert!(acceptable, "round {round}: {kind} failed: {stderr}");
        }
        wharf.assert_consistent();
        // Every listed image is whole: inspectable, with its layers on disk.
        for id in wharf.ok(&["images", "-q", "--no-trunc"]).lines() {
            let dirs = wharf.ok(&["inspect", "-f", "{{.GraphDriver.Data.LowerDir}}", id]);
            for dir in dirs.trim().split(':') {
                assert!(
                    std::path::Path::new(dir).is_dir(),
                    "round {round}: {dir} missing for {id}"
                );
            }
        }
    }
}

#[test]
fn a_load_killed_at_any_moment_shows_no_partial_image() {
    // One large layer makes the load slow enough to be caught in every phase.
    let big: Vec<(String, Vec<u8>)> = (0..400)
        .map(|i| (format!("f{i}"), vec![(i % 251) as u8; 256 * 1024]))
        .collect();
    let entries: Vec<Entry> = big.iter().map(|(p, d)| Entry::File(p, d, 0o644)).collect();
    let inputs = tempfile::tempdir().unwrap();
    let path = inputs.path().join("big.tar");
    std::fs::write(
        &path,
        docker_save_archive(&[tarball(&entries)], "", Some("big:1")),
    )
    .unwrap();

    let wharf = Wharf::new();
    let mut saw_leftovers = false;
    for delay_ms in [5, 40, 120, 250, 500] {
        let mut child = spawn(&wharf, &["load"], Some(&path));
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let images = wharf.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        assert!(
            images.is_empty() || images.trim() == "big:1",
            "after a kill at {delay_ms} ms: {images}"
        );
        wharf.assert_consistent();
        let check = wharf.ok(&["system", "check"]);
        saw_leftovers |= !check.contains("reclaimable: 0 leftovers of interrupted operations, 0 unreferenced blobs, 0 unreferenced layers");
        if images.is_empty() {
            // Cleaning up makes the store empty again.
            wharf.ok(&["system", "check", "--repair"]);
            let clean = wharf.ok(&["system", "check"]);
            assert!(clean.contains("reclaimable: 0 leftovers of interrupted operations, 0 unreferenced blobs, 0 unreferenced layers"), "{clean}");
        } else {
            wharf.ok(&["rmi", "big:1"]);
        }
    }
    assert!(
        saw_leftovers,
        "no kill landed mid-load: the test did not test anything"
    );
    // And a load that is left alone completes.
    let output = wharf
        .command(&["load", "-i", path.to_str().unwrap()])
        .output()
        .unwrap();
    common::assert_success(&output, &["load"]);
    wharf.assert_consistent();
}

#[test]
fn eighty_containers_created_at_once_all_get_a_generated_name_of_their_own() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    // Eight loops of ten creates each, at once, as eight shells would.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..10 {
                    let output = wharf.run(&["create", "busybox", "true"]);
                    assert!(
                        output.status.success(),
                        "{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            });
        }
    });
    let names = wharf.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    let mut names: Vec<&str> = names.lines().collect();
    assert_eq!(names.len(), 80);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 80);
}
