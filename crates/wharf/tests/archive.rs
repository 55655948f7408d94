//! `save` and `load`: round trips, `docker save` archives, OCI layouts, and what the layers
//! keep (whiteouts, links, devices, ownership, modes, xattrs).

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use common::{docker_save_archive, tarball, Entry, Wharf};

fn layer_dirs(wharf: &Wharf) -> Vec<PathBuf> {
    std::fs::read_dir(wharf.path().join("layers"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "tmp")
        .map(|e| e.path().join("diff"))
        .collect()
}

#[test]
fn save_then_load_into_another_store_keeps_id_and_tags() {
    let source = Wharf::new();
    let id = source.import_busybox();
    source.ok(&["tag", "busybox", "tools:1"]);
    let archive = source.path().join("out.tar");
    source.ok(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        "busybox:latest",
        "tools:1",
    ]);

    let names = std::process::Command::new("tar")
        .arg("tf")
        .arg(&archive)
        .output()
        .unwrap();
    let names = String::from_utf8(names.stdout).unwrap();
    for expected in ["manifest.json", "index.json", "oci-layout", "blobs/sha256/"] {
        assert!(
            names.contains(expected),
            "archive lacks {expected}:\n{names}"
        );
    }

    let target = Wharf::new();
    let loaded = target.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(
        loaded.contains("Loaded image: busybox:latest") && loaded.contains("Loaded image: tools:1"),
        "{loaded}"
    );
    assert_eq!(
        target.ok(&["inspect", "-f", "{{.Id}}", "tools:1"]).trim(),
        id
    );
    target.assert_consistent();

    // Streaming through stdout and stdin gives the same.
    let streamed = source.run(&["save", "busybox"]);
    common::assert_success(&streamed, &["save"]);
    let third = Wharf::new();
    let loaded = third.run_with_stdin(&["load"], &streamed.stdout);
    common::assert_success(&loaded, &["load"]);
    assert_eq!(
        third.ok(&["inspect", "-f", "{{.Id}}", "busybox"]).trim(),
        id
    );
}

#[test]
fn save_refuses_unknown_images_and_writes_nothing() {
    let wharf = Wharf::new();
    wharf.import_busybox();
    let out = wharf.path().join("never.tar");
    let error = wharf.fails(&["save", "-o", out.to_str().unwrap(), "busybox", "missing:1"]);
    assert!(
        error.starts_with("error: no such image: missing:1\nhint:"),
        "{error}"
    );
    assert!(!out.exists());
    assert!(std::fs::read_dir(wharf.path())
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with(".wharf-save")));
}

#[test]
fn loads_a_docker_save_archive_with_whiteouts_links_and_devices() {
    let base = tarball(&[
        Entry::Dir("etc", 0o755),
        Entry::File("etc/keep", b"keep", 0o644),
        Entry::File("etc/gone", b"gone", 0o644),
        Entry::Dir("data", 0o755),
        Entry::File("data/old", b"old", 0o600),
    ]);
    let top = tarball(&[
        Entry::Dir("etc", 0o755),
        Entry::File("etc/.wh.gone", b"", 0o644),
        Entry::Dir("data", 0o700),
        Entry::File("data/.wh..wh..opq", b"", 0o644),
        Entry::File("data/new", b"new", 0o4755),
        Entry::HardLink("data/new-link", "data/new"),
        Entry::Symlink("data/abs-link", "/etc/keep"),
        Entry::CharDevice("data/null", 1, 3),
        Entry::Fifo("data/pipe"),
        Entry::OwnedFile {
            path: "data/owned",
            data: b"o",
            uid: 1000,
            gid: 2000,
            mode: 0o640,
            xattr: Some(("user.note", b"hello")),
        },
    ]);
    let wharf = Wharf::new();
    let archive = docker_save_archive(&[base, top], r#","Env":["A=1"]"#, Some("layered:1"));
    let output = wharf.run_with_stdin(&["load"], &archive);
    common::assert_success(&output, &["load"]);
    assert_eq!(common::stdout(&output).trim(), "Loaded image: layered:1");
    wharf.assert_consistent();

    let dirs = layer_dirs(&wharf);
    assert_eq!(dirs.len(), 2);
    let top_dir = dirs
        .iter()
        .find(|d| d.join("data/new").exists())
        .expect("top layer");
    let whiteout = std::fs::symlink_metadata(top_dir.join("etc/gone")).unwrap();
    assert!(
        whiteout.file_type().is_char_device() && whiteout.rdev() == 0,
        "a whiteout is a 0:0 char device"
    );
    assert!(!top_dir.join("etc/.wh.gone").exists());
    let opaque = rustix::fs::getxattr(
        top_dir.join("data").as_path(),
        "trusted.overlay.opaque",
        &mut [0u8; 8],
    )
    .unwrap();
    assert_eq!(opaque, 1);
    assert!(!top_dir.join("data/.wh..wh..opq").exists());

    let new = std::fs::metadata(top_dir.join("data/new")).unwrap();
    assert_eq!(new.permissions().mode() & 0o7777, 0o4755, "setuid survives");
    assert_eq!(new.nlink(), 2, "hard link kept");
    assert_eq!(new.mtime(), 1_700_000_000);
    assert_eq!(
        std::fs::read_link(top_dir.join("data/abs-link")).unwrap(),
        PathBuf::from("/etc/keep")
    );
    let null = std::fs::symlink_metadata(top_dir.join("data/null")).unwrap();
    assert!(null.file_type().is_char_device() && null.rdev() == rustix::fs::makedev(1, 3));
    assert!(std::fs::symlink_metadata(top_dir.join("data/pipe"))
        .unwrap()
        .file_type()
        .is_fifo());
    let owned = std::fs::metadata(top_dir.join("data/owned")).unwrap();
    assert_eq!(
        (owned.uid(), owned.gid(), owned.permissions().mode() & 0o777),
        (1000, 2000, 0o640)
    );
    let mut note = [0u8; 16];
    let len =
        rustix::fs::getxattr(top_dir.join("data/owned").as_path(), "user.note", &mut note).unwrap();
    assert_eq!(&note[..len], b"hello");
    assert_eq!(
        std::fs::metadata(top_dir.join("data"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    // Saving it again and loading it elsewhere keeps the id: the config is kept byte for byte.
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", "layered:1"]);
    let saved = wharf.run(&["save", "layered:1"]);
    let again = Wharf::new();
    common::assert_success(&again.run_with_stdin(&["load"], &saved.stdout), &["load"]);
    assert_eq!(again.ok(&["inspect", "-f", "{{.Id}}", "layered:1"]), id);
    assert_eq!(
        again
            .ok(&["inspect", "-f", "{{.Config.Env}}", "layered:1"])
            .trim(),
        "[A=1]"
    );
}

#[test]
fn loads_an_oci_layout_with_gzip_layers_keeping_its_manifest() {
    use std::io::Write;
    let layer = tarball(&[Entry::File("hello", b"world", 0o644)]);
    let diff_id = common::sha256(&layer);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&layer).unwrap();
    let gz = gz.finish().unwrap();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":{}}}]}}"#,
        common::sha256(config.as_bytes()),
        config.len(),
        common::sha256(&gz),
        gz.len()
    );
    let manifest_digest = common::sha256(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_digest}","size":{},"annotations":{{"io.containerd.image.name":"example.com/oci/app:2"}}}},{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_digest}","size":{}}}]}}"#,
        manifest.len(),
        manifest.len()
    );
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".into(), index.into_bytes()),
        (
            format!("blobs/sha256/{manifest_digest}"),
            manifest.clone().into_bytes(),
        ),
        (
            format!("blobs/sha256/{}", common::sha256(config.as_bytes())),
            config.into_bytes(),
        ),
        (format!("blobs/sha256/{}", common::sha256(&gz)), gz),
    ];
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["load"], &common::plain_archive(&files));
    common::assert_success(&output, &["load"]);
    assert_eq!(
        common::stdout(&output).trim(),
        "Loaded image: example.com/oci/app:2"
    );
    // The original manifest is kept, not rewritten.
    assert!(wharf
        .path()
        .join(format!("blobs/sha256/{manifest_digest}"))
        .exists());
    let dirs = layer_dirs(&wharf);
    assert_eq!(std::fs::read(dirs[0].join("hello")).unwrap(), b"world");
    wharf.assert_consistent();
}

#[test]
fn load_rejects_archives_that_are_not_images() {
    let wharf = Wharf::new();
    let not_image = common::plain_archive(&[("hello.txt".to_string(), b"hi".to_vec())]);
    let output = wharf.run_with_stdin(&["load"], &not_image);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: stdin: it has neither manifest.json (docker save) nor index.json (OCI layout)\nhint:"), "{stderr}");
    let garbage = wharf.run_with_stdin(
        &["load"],
        b"this is not a tarball at all, not even close to one.",
    );
    assert!(!garbage.status.success());
    let missing = wharf.fails(&["load", "-i", "/nonexistent.tar"]);
    assert!(
        missing.starts_with("error: cannot open /nonexistent.tar:"),
        "{missing}"
    );
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    assert_eq!(
        std::fs::read_dir(wharf.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0,
        "nothing stays behind"
    );
}
