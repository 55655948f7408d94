//! Hostile input: tarballs that try to write outside their layer, and archives whose content
//! does not match its digests. Each is refused with a clear error, nothing is written
//! outside the store, and nothing of it stays inside.

mod common;

use std::path::Path;

use common::{docker_save_archive, tarball, Entry, Wharf};

/// Imports `layer` into a fresh store, expects the refusal `reason`, and checks that the
/// store is left empty and consistent and that `outside` was not created.
fn assert_import_refused(layer: &[u8], reason: &str, outside: &Path) {
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["import", "-", "evil:1"], layer);
    assert!(!output.status.success(), "a hostile tarball was imported");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: layer sha256:") && stderr.contains(reason),
        "unexpected error:\n{stderr}"
    );
    assert!(stderr.contains("\nhint: "), "no hint:\n{stderr}");
    assert!(
        !outside.exists(),
        "{} was written outside the layer",
        outside.display()
    );
    assert_eq!(wharf.ok(&["images", "-q"]), "", "no image may appear");
    assert_store_empty(&wharf);
}

fn assert_store_empty(wharf: &Wharf) {
    for dir in ["blobs/sha256", "blobs/tmp", "layers/tmp"] {
        let left: Vec<_> = std::fs::read_dir(wharf.path().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left behind in {dir}: {left:?}");
    }
    let layers: Vec<_> = std::fs::read_dir(wharf.path().join("layers"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "tmp")
        .collect();
    assert!(layers.is_empty(), "a layer was left behind");
    wharf.assert_consistent();
}

fn outside_target(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

#[test]
fn refuses_parent_directory_traversal() {
    let (_dir, outside) = outside_target("escaped");
    let depth = "../".repeat(12);
    let name = format!(
        "{depth}{}",
        outside.display().to_string().trim_start_matches('/')
    );
    assert_import_refused(
        &tarball(&[Entry::File(&name, b"pwned", 0o644)]),
        "path contains `..`",
        &outside,
    );
    assert_import_refused(
        &tarball(&[Entry::File("a/../../x", b"pwned", 0o644)]),
        "path contains `..`",
        &outside,
    );
}

#[test]
fn refuses_absolute_paths() {
    let (_dir, outside) = outside_target("absolute");
    let name = outside.display().to_string();
    assert_import_refused(
        &tarball(&[Entry::File(&name, b"pwned", 0o644)]),
        "absolute path",
        &outside,
    );
}

#[test]
fn refuses_writing_through_a_symlinked_parent() {
    let (dir, outside) = outside_target("via-symlink");
    let target = dir.path().display().to_string();
    let layer = tarball(&[
        Entry::Symlink("escape", &target),
        Entry::File("escape/via-symlink", b"pwned", 0o644),
    ]);
    assert_import_refused(&layer, "a parent folder is a symlink", &outside);
    // Also when the symlink is relative and deep.
    let layer = tarball(&[
        Entry::Dir("a", 0o755),
        Entry::Symlink("a/b", "../../../../../../../../../../.."),
        Entry::File("a/b/tmp/x", b"pwned", 0o644),
    ]);
    assert_import_refused(&layer, "a parent folder is a symlink", &outside);
}

#[test]
fn refuses_hard_links_out_of_the_layer() {
    let (_dir, outside) = outside_target("never");
    let layer = tarball(&[Entry::HardLink("passwd", "../../../../../../etc/passwd")]);
    assert_import_refused(&layer, "path contains `..`", &outside);
    let layer = tarball(&[Entry::HardLink("passwd", "/etc/passwd")]);
    assert_import_refused(&layer, "absolute path", &outside);
    // A hard link through a symlink to a host folder.
    let layer = tarball(&[
        Entry::Symlink("etc", "/etc"),
        Entry::HardLink("passwd", "etc/passwd"),
    ]);
    assert_import_refused(
        &layer,
        "hard link target's folder is a symlink or missing",
        &outside,
    );
    // Linking a file outside after replacing a folder with a symlink.
    let layer = tarball(&[Entry::HardLink("x", "missing/file")]);
    assert_import_refused(&layer, "hard link target", &outside);
}

#[test]
fn a_symlink_replacing_a_folder_does_not_redirect_later_entries() {
    let (dir, outside) = outside_target("later");
    let target = dir.path().display().to_string();
    let layer = tarball(&[
        Entry::Dir("d", 0o755),
        Entry::File("d/ok", b"ok", 0o644),
        Entry::Symlink("d", &target),
        Entry::File("d/later", b"pwned", 0o644),
    ]);
    assert_import_refused(&layer, "a parent folder is a symlink", &outside);
}

#[test]
fn refuses_a_layer_whose_content_does_not_match_the_config() {
    let good = tarball(&[Entry::File("a", b"a", 0o644)]);
    let mut archive = docker_save_archive(std::slice::from_ref(&good), "", Some("tampered:1"));
    // Change the file's content block (512-aligned in both the layer and the archive), so
    // the layer no longer matches the diff id its config promises.
    let at = (0..archive.len())
        .step_by(512)
        .find(|&i| archive[i] == b'a' && archive[i + 1..i + 512].iter().all(|&b| b == 0))
        .expect("the layer's content block");
    archive[at] = b'b';
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["load"], &archive);
    assert!(!output.status.success(), "a tampered layer was loaded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("but the image config says") && stderr.contains("tampered with"),
        "{stderr}"
    );
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    assert_store_empty(&wharf);
}

#[test]
fn refuses_a_blob_whose_name_is_not_its_digest() {
    let fake = format!("blobs/sha256/{}", "0".repeat(64));
    let archive = common::plain_archive(&[(fake, b"not what the name says".to_vec())]);
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["load"], &archive);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: blob content does not match its digest: expected sha256:0000"),
        "{stderr}"
    );
    assert_store_empty(&wharf);
}

#[test]
fn forged_overlay_xattrs_are_dropped() {
    let layer = tarball(&[Entry::OwnedFile {
        path: "f",
        data: b"x",
        uid: 0,
        gid: 0,
        mode: 0o644,
        xattr: Some(("trusted.overlay.redirect", b"/etc")),
    }]);
    let wharf = Wharf::new();
    common::assert_success(
        &wharf.run_with_stdin(&["import", "-", "x:1"], &layer),
        &["import"],
    );
    let layer_dir = std::fs::read_dir(wharf.path().join("layers"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name() != "tmp")
        .unwrap()
        .path();
    assert!(rustix::fs::getxattr(
        layer_dir.join("diff/f").as_path(),
        "trusted.overlay.redirect",
        &mut [0u8; 16]
    )
    .is_err());
}
