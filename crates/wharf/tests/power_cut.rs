//! A power cut after each operation reported done: the store lives on a small ext4 whose
//! power the test cuts (common/power_cut.rs: what was not synced is lost). Each operation is
//! followed by its own cut, so that no later fsync carries its writes to the disk by chance.
//! Afterwards what the command reported is whole, and `system check` finds the store
//! consistent.

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
    wharf.assert_consistent();
    wharf.remove_all_containers_leaving_nothing();
}
