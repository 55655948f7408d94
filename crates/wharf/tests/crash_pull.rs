//! `kill -9` of `pull` at several moments (a blob being downloaded, the first blob stored,
//! a layer being unpacked, the layers moved into place), from Debian's `docker-registry` on loopback
//! holding an image of four 12 MiB layers. Afterwards `system check` finds no partial image
//! (a killed pull never shows one), `--repair` removes what the pull left, nothing of it
//! runs or stays mounted, and the pull run again completes with the pushed image.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use common::crash::{await_no_processes, check_and_repair, kill, mounts_under};
use common::registry::Registry;
use common::{Entry, Wharf};

const LAYERS: usize = 4;
const LAYER_MIB: usize = 12;

/// A store holding an image of `LAYERS` incompressible layers, pushed as `name`; returns
/// its id.
fn push_big_image(source: &Wharf, name: &str) -> String {
    let layers: Vec<Vec<u8>> = (0..LAYERS)
        .map(|i| {
            let mut data = Vec::new();
            std::fs::File::open("/dev/urandom")
                .unwrap()
                .take((LAYER_MIB << 20) as u64)
                .read_to_end(&mut data)
                .unwrap();
            common::tarball(&[Entry::File(&format!("layer{i}"), &data, 0o644)])
        })
        .collect();
    let archive = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        archive.path(),
        common::docker_save_archive(&layers, "", Some("big:1")),
    )
    .unwrap();
    source.ok(&["load", "-i", archive.path().to_str().unwrap()]);
    source.ok(&["tag", "big:1", name]);
    source.ok(&["push", name]);
    source
        .ok(&["inspect", "-f", "{{.Id}}", name])
        .trim()
        .to_string()
}

/// Entries in `dir` (none if it does not exist).
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |e| e.count())
}

#[test]
fn a_pull_killed_at_any_moment_leaves_no_partial_image_and_completes_when_run_again() {
    if !common::is_root() {
        common::skip("the registry tests' stores run as root");
        return;
    }
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let name = format!("{}/crash/big:1", registry.address);
    let source = Wharf::new();
    let id = push_big_image(&source, &name);
    let target = Wharf::new();
    let root = target.path().to_path_buf();
    // Blobs download into blobs/tmp, land in blobs/sha256 (a config and a manifest first:
    // past 2, a layer), unpack into layers/tmp, move into layers/ before the image is
    // recorded.
    let moments: [(&str, &dyn Fn() -> bool); 4] = [
        ("a download under way", &|| {
            entries(&root.join("blobs/tmp")) > 0
        }),
        ("a layer stored", &|| {
            entries(&root.join("blobs/sha256")) > 2
        }),
        ("a layer unpacking", &|| {
            entries(&root.join("layers/tmp")) > 0
        }),
        ("layers in place", &|| entries(&root.join("layers")) > 1),
    ];
    let mut landed = 0;
    for (moment, reached) in moments {
        let mut pull = target
            .command(&["pull", &name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        common::crash::wait_until(moment, || reached() || pull.try_wait().unwrap().is_some());
        if kill(&mut pull) {
            continue;
        }
        await_no_processes(&target);
        // A kill after the image was recorded (the pull was printing its last lines) leaves
        // it whole: `system check` verifies every blob and layer of it.
        let images = target.ok(&["images", "-q", "--no-trunc"]);
        if images.is_empty() {
            landed += 1;
        } else {
            assert_eq!(images.trim(), id, "a pull killed at {moment}");
        }
        check_and_repair(&target);
        assert_eq!(mounts_under(&target), Vec::<String>::new(), "mounts left");
        target.ok(&["pull", &name]);
        assert_eq!(target.ok(&["inspect", "-f", "{{.Id}}", &name]).trim(), id);
        assert_eq!(target.ok(&["images", "-q", "--no-trunc"]).trim(), id);
        target.assert_consistent();
        // The next round downloads everything again.
        target.ok(&["rmi", &name]);
        target.ok(&["system", "check", "--repair"]);
        assert_eq!(entries(&root.join("blobs/sha256")), 0, "{moment}");
    }
    assert!(
        landed > 0,
        "no kill landed during a pull: the test did not test anything"
    );
}
