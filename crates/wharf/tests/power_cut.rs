//! A power cut after each operation reported done: the store lives on a small ext4 whose
//! power the test cuts (common/power_cut.rs: what was not synced is lost). Each operation is
//! followed by its own cut, so that no later fsync carries its writes to the disk by chance.
//! Afterwards what the command reported is whole, and `system check` finds the store
//! consistent.
//!
//! What is synced, so that it survives:
//! - records, each written to a temp file, fsynced, renamed, its folder fsynced
//!   (`wharf_store::write_file_durably`): images/index.json, layer.json, build cache records,
//!   container.json, volume.json (and the new volume's entry); networks keep
//!   their own store the same way (wharf-net);
//! - blobs: temp file, fsync, rename, folder fsync;
//! - unpacked layers and a volume's first fill from its image: the filesystem flushed once
//!   (syncfs), then renamed into place.
//!
//! What is not, and is reconciled after a cut instead: a container's state.json (unreadable:
//! created if it never ran, else exited 255), its name claim (empty: found again from the
//! records), its hostname/hosts/resolv.conf (empty: written again at start), the runtime's
//! state in WHARF_RUN (cleared before the next start), events.jsonl (a torn line is
//! skipped), removals (a removed container may come back, exited), and what a container
//! writes into a volume (its own to sync, as with Docker).

mod common;

use std::process::Command;

use common::power_cut::PowerCutDisk;
use common::Wharf;

/// A store on a disk whose power can be cut, with its wharf in a network namespace of its
/// own; `None` after a SKIPPED line.
fn store_on_power_cut_disk() -> Option<(PowerCutDisk, Wharf)> {
    let disk = PowerCutDisk::new()?;
    let wharf = Wharf::inside(&disk.path(), true);
    Some((disk, wharf))
}

/// Every unpacked layer of the store holds what the fixture's tarball holds: contents,
/// sizes, modes, times and link targets (`tar --compare`).
fn assert_layers_match_fixture(wharf: &Wharf, fixture: &str) {
    let (tar, _) = common::fixture(fixture);
    let layers: Vec<_> = std::fs::read_dir(wharf.path().join("layers"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "tmp")
        .collect();
    assert_eq!(layers.len(), 1, "one layer for the imported fixture");
    let diff = layers[0].path().join("diff");
    let output = Command::new("tar")
        .arg("--compare")
        .arg("-f")
        .arg(&tar)
        .arg("-C")
        .arg(&diff)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the layer lost content in the power cut:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn images(wharf: &Wharf) -> String {
    wharf.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
}

#[test]
fn images_imported_and_built_survive_a_power_cut() {
    let Some((mut disk, wharf)) = store_on_power_cut_disk() else {
        return;
    };
    wharf.import_busybox();
    let listed = images(&wharf);
    disk.cut_and_restore();
    assert_eq!(
        images(&wharf),
        listed,
        "the imported image after a power cut"
    );
    assert_layers_match_fixture(&wharf, "busybox");
    wharf.assert_consistent();

    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\nRUN echo built > /built\n",
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        "built:1",
        context.path().to_str().unwrap(),
    ]);
    let listed = images(&wharf);
    disk.cut_and_restore();
    assert_eq!(images(&wharf), listed, "the built image after a power cut");
    wharf.assert_consistent();
    let output = wharf.ok(&["run", "--rm", "built:1", "cat", "/built"]);
    assert_eq!(output, "built\n");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn volumes_and_containers_survive_a_power_cut() {
    let Some((mut disk, wharf)) = store_on_power_cut_disk() else {
        return;
    };
    wharf.import_busybox();
    disk.cut_and_restore();

    wharf.ok(&["volume", "create", "kept"]);
    disk.cut_and_restore();
    assert_eq!(
        wharf.ok(&["volume", "ls", "-q"]),
        "kept\n",
        "a created volume after a power cut"
    );

    // What a container writes is its own to sync, as with Docker; the volume keeps it.
    wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "kept:/data",
        "busybox",
        "sh",
        "-c",
        "echo written | dd of=/data/file conv=fsync 2>/dev/null",
    ]);
    disk.cut_and_restore();
    let read = [
        "run",
        "--rm",
        "-v",
        "kept:/data",
        "busybox",
        "cat",
        "/data/file",
    ];
    assert_eq!(wharf.ok(&read), "written\n");

    let id = wharf.ok(&[
        "create",
        "--name",
        "made",
        "-v",
        "kept:/data",
        "busybox",
        "cat",
        "/data/file",
    ]);
    disk.cut_and_restore();
    // A removal is not synced (Docker's is not either): the `--rm` containers may come back,
    // exited.
    assert!(
        wharf.container_ids().contains(&id.trim().to_string()),
        "a created container after a power cut: {id}"
    );
    assert_eq!(wharf.ok(&["start", "-a", "made"]), "written\n");

    // A new volume filled from the image at create: its files are on the disk once it is.
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\nRUN mkdir /seed && echo seeded > /seed/file\n",
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        "seed:1",
        context.path().to_str().unwrap(),
    ]);
    disk.cut_and_restore();
    wharf.ok(&["create", "-v", "seeded:/seed", "seed:1", "true"]);
    disk.cut_and_restore();
    let read = [
        "run",
        "--rm",
        "-v",
        "seeded:/seed",
        "busybox",
        "cat",
        "/seed/file",
    ];
    assert_eq!(wharf.ok(&read), "seeded\n");
    wharf.assert_consistent();
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn a_pulled_image_survives_a_power_cut() {
    let Some(registry) = common::registry::Registry::start(None) else {
        return;
    };
    let Some(mut disk) = PowerCutDisk::new() else {
        return;
    };
    // In the host's namespace, where the registry listens.
    let wharf = Wharf::inside(&disk.path(), false);
    let source = Wharf::new();
    let id = source.import_busybox();
    let name = format!("{}/power/bb:1", registry.address);
    source.ok(&["tag", "busybox", &name]);
    source.ok(&["push", &name]);
    wharf.ok(&["pull", &name]);
    disk.cut_and_restore();
    assert_eq!(wharf.ok(&["inspect", "-f", "{{.Id}}", &name]).trim(), id);
    assert_layers_match_fixture(&wharf, "busybox");
    wharf.assert_consistent();
}

const STACK: &str = r#"
name: power
services:
  web:
    image: busybox:latest
    command: [sh, -c, 'mkdir -p /www; cat /shared/mark > /www/index.html; exec httpd -f -p 8080 -h /www']
    ports: ["18080:8080"]
    volumes: [shared:/shared]
    networks: [back]
  worker:
    image: busybox:latest
    command: [sh, -c, 'echo kept | dd of=/shared/mark conv=fsync 2>/dev/null; exec sleep 3600']
    volumes: [shared:/shared]
    networks: [back]
networks: {back: {}}
volumes: {shared: {}}
"#;

#[test]
fn a_running_compose_project_comes_back_after_a_power_cut() {
    let Some((mut disk, wharf)) = store_on_power_cut_disk() else {
        return;
    };
    if wharf.netns.is_none() {
        common::skip("cannot make a network namespace for the test (`ip netns add`)");
        return;
    }
    wharf.import_busybox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, STACK).unwrap();
    let compose = |args: &[&str]| {
        let mut all = vec!["compose", "-f", file.to_str().unwrap()];
        all.extend_from_slice(args);
        wharf.ok(&all)
    };
    compose(&["up", "-d"]);
    common::crash::wait_until("the worker writes the volume", || {
        wharf
            .path()
            .join("volumes/power_shared/_data/mark")
            .exists()
    });
    let mut ids = wharf.container_ids();
    disk.cut_running_and_reboot(&wharf);

    // Nothing runs after a reboot, and the store says so.
    let states = wharf.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert!(!states.contains("running"), "{states}");
    let report = wharf.ok(&["system", "check", "--repair"]);
    assert!(
        report.contains("consistent") || report.contains("repaired"),
        "{report}"
    );
    compose(&["up", "-d"]);
    let mut states: Vec<String> = wharf
        .ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    states.sort();
    assert_eq!(states, ["power-web-1 running", "power-worker-1 running"]);
    assert_eq!(wharf.fetch_page("http://127.0.0.1:18080/"), "kept\n");
    wharf.assert_consistent();
    ids.extend(wharf.container_ids());
    compose(&["down", "-v"]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    wharf.assert_nothing_leaked(&ids);
    wharf.assert_no_network_leftovers();
}
