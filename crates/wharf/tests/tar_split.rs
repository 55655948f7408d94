//! A layer is kept once: its unpacked tree plus a small tar-split record, not its blob
//! beside it. `save` and `push` get the exact tar back from tree and record: these tests
//! check the bytes (and ids) against what went in, a damaged tree, and `system check`.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use common::registry::Registry;
use common::{sha256, tarball, Entry, Wharf};

/// Every file of a tar archive by path.
fn files_of(archive: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    let mut reader = tar::Archive::new(archive);
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.insert(path, data);
    }
    files
}

/// The layer tars of the one image of a `save` archive, bottom first, uncompressed.
fn saved_layers(archive: &[u8]) -> Vec<Vec<u8>> {
    let files = files_of(archive);
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| {
            let data = &files[path.as_str().unwrap()];
            if data.starts_with(&[0x1f, 0x8b]) {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(&data[..])
                    .read_to_end(&mut plain)
                    .unwrap();
                plain
            } else {
                data.clone()
            }
        })
        .collect()
}

fn diff_ids(wharf: &Wharf, image: &str) -> Vec<String> {
    let text = wharf.ok(&["inspect", "-f", "{{json .RootFS.Layers}}", image]);
    serde_json::from_str::<Vec<String>>(text.trim()).unwrap()
}

/// Layer blobs left in the store's `blobs/` (manifests and configs stay there).
fn layer_blobs_kept(wharf: &Wharf, image: &str) -> Vec<String> {
    let manifest_digest = manifest_digest(wharf, image);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob_path(wharf, &manifest_digest)).unwrap())
            .unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .filter(|digest| blob_path(wharf, digest).exists())
        .collect()
}

fn blob_path(wharf: &Wharf, digest: &str) -> PathBuf {
    wharf
        .path()
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// The digest of the stored manifest of `image`, from the store's index.
fn manifest_digest(wharf: &Wharf, image: &str) -> String {
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", image]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wharf.path().join("images/index.json")).unwrap())
            .unwrap();
    index["images"][id.trim()]["manifest"]
        .as_str()
        .unwrap()
        .to_string()
}

fn save(wharf: &Wharf, image: &str) -> Vec<u8> {
    let out = wharf.path().join("saved.tar");
    wharf.ok(&["save", "-o", out.to_str().unwrap(), image]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

/// A layer with what makes tar-split hard: PAX records, names past 100 bytes, a hard link,
/// a file a later entry replaces, a whiteout with content.
fn hostile_layer() -> Vec<u8> {
    let long = format!("srv/{}/{}", "d".repeat(90), "f".repeat(90));
    let mut builder = tar::Builder::new(tarball(&[
        Entry::Dir("srv/", 0o755),
        Entry::File("srv/config", b"first version", 0o644),
        Entry::OwnedFile {
            path: "srv/owned",
            data: b"with an xattr",
            uid: 1000,
            gid: 1000,
            mode: 0o600,
            xattr: Some(("user.note", b"kept")),
        },
        Entry::HardLink("srv/linked", "srv/owned"),
        Entry::File("srv/config", b"second, longer version", 0o644),
        Entry::File("srv/.wh.gone", b"content nobody keeps", 0o644),
    ]));
    // tarball() ends the archive: take the end blocks off to add a GNU long name.
    let mut bytes = std::mem::take(builder.get_mut());
    bytes.truncate(bytes.len() - 1024);
    let mut builder = tar::Builder::new(bytes);
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header.set_size(5);
    builder
        .append_data(&mut header, &long, &b"deep\n"[..])
        .unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn imported_layers_keep_no_blob_and_save_gives_the_input_tar_back() {
    let wharf = Wharf::new();
    let (input, _) = common::fixture("busybox");
    let id = wharf.import_busybox();
    let diff = diff_ids(&wharf, "busybox");
    assert!(layer_blobs_kept(&wharf, "busybox").is_empty());
    let chain = diff[0].trim_start_matches("sha256:");
    let layer_dir = wharf.path().join("layers").join(chain);
    assert!(layer_dir.join("tar-split.zst").is_file());

    let saved = save(&wharf, "busybox");
    let layers = saved_layers(&saved);
    let mut original = Vec::new();
    let file = std::fs::File::open(&input).unwrap();
    let mut head = [0u8; 2];
    std::fs::File::open(&input)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    if head == [0x1f, 0x8b] {
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut original)
            .unwrap();
    } else {
        std::io::BufReader::new(file)
            .read_to_end(&mut original)
            .unwrap();
    }
    assert!(layers[0] == original, "the saved layer is the imported tar");
    assert_eq!(format!("sha256:{}", sha256(&layers[0])), diff[0]);

    let other = Wharf::new();
    let loaded = other.run_with_stdin(&["load"], &saved);
    common::assert_success(&loaded, &["load"]);
    assert_eq!(
        other.ok(&["inspect", "-f", "{{.Id}}", "busybox"]).trim(),
        id
    );
    assert!(layer_blobs_kept(&other, "busybox").is_empty());
    wharf.assert_consistent();
    other.assert_consistent();
}

#[test]
fn loaded_hostile_layers_come_back_byte_for_byte() {
    let wharf = Wharf::new();
    let base = tarball(&[
        Entry::Dir("etc/", 0o755),
        Entry::File("etc/hostname", b"box\n", 0o644),
        Entry::Symlink("etc/link", "hostname"),
    ]);
    let layers = vec![base, hostile_layer()];
    let archive = common::docker_save_archive(&layers, "", Some("hostile:1"));
    common::assert_success(&wharf.run_with_stdin(&["load"], &archive), &["load"]);
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", "hostile:1"]);
    assert!(layer_blobs_kept(&wharf, "hostile:1").is_empty());
    let saved = save(&wharf, "hostile:1");
    let back = saved_layers(&saved);
    assert_eq!(back.len(), 2);
    for (i, (got, want)) in back.iter().zip(&layers).enumerate() {
        assert!(got == want, "layer {i} differs from what was loaded");
    }
    let other = Wharf::new();
    common::assert_success(&other.run_with_stdin(&["load"], &saved), &["load"]);
    assert_eq!(other.ok(&["inspect", "-f", "{{.Id}}", "hostile:1"]), id);
    wharf.assert_consistent();
}

/// Loads `app:1`, one small layer; returns its layers.
fn load_app(wharf: &Wharf) -> Vec<Vec<u8>> {
    let layers = vec![tarball(&[
        Entry::Dir("app/", 0o755),
        Entry::File("app/main.py", b"print('hello')\n", 0o644),
    ])];
    let archive = common::docker_save_archive(&layers, "", Some("app:1"));
    common::assert_success(&wharf.run_with_stdin(&["load"], &archive), &["load"]);
    layers
}

#[test]
fn a_changed_tree_file_stops_save_naming_layer_and_file() {
    let wharf = Wharf::new();
    load_app(&wharf);
    let chain = diff_ids(&wharf, "app:1")[0]
        .trim_start_matches("sha256:")
        .to_string();
    let file = wharf
        .path()
        .join("layers")
        .join(&chain)
        .join("diff/app/main.py");
    wharf.assert_consistent();

    // Same length, other bytes: only the thorough check and save see it.
    std::fs::write(&file, b"print('HELLO')\n").unwrap();
    wharf.assert_consistent();
    let out = wharf.path().join("out.tar");
    let error = wharf.fails(&["save", "-o", out.to_str().unwrap(), "app:1"]);
    assert!(
        error.starts_with("error: ") && error.contains(&chain) && error.contains("app/main.py"),
        "{error}"
    );
    assert!(error.contains("hint: "), "{error}");
    assert!(!out.exists(), "no partial archive");
    let leftovers: Vec<_> = std::fs::read_dir(wharf.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".wharf-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let thorough = wharf.run(&["system", "check", "--thorough"]);
    assert!(!thorough.status.success());
    let report = common::stdout(&thorough);
    assert!(
        report.contains(&chain) && report.contains("app/main.py"),
        "{report}"
    );

    // Another length: the plain check sees it too, and repair drops the image.
    std::fs::write(&file, b"print('hello, world')\n").unwrap();
    let check = wharf.run(&["system", "check"]);
    assert!(!check.status.success());
    assert!(common::stdout(&check).contains("app/main.py"));
    let repaired = wharf.ok(&["system", "check", "--repair"]);
    assert!(
        repaired.contains("removed image") && repaired.contains("pull or load it again"),
        "{repaired}"
    );
    assert!(!wharf.run(&["inspect", "app:1"]).status.success());
    wharf.assert_consistent();
}

#[test]
fn built_layers_keep_no_blob_and_save_gives_their_diff_ids() {
    let Some(wharf) = common::wharf_with_busybox() else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("data.txt"), "some data\n").unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\nCOPY data.txt /data/\nRUN echo made > /data/made && ln /data/made /data/again\n",
    )
    .unwrap();
    let dir = context.path().to_str().unwrap();
    wharf.ok(&["build", "-q", "-t", "built:1", dir]);
    let reproducible = wharf.run(&[
        "build",
        "-q",
        "--build-arg",
        "SOURCE_DATE_EPOCH=1700000000",
        "-t",
        "built:2",
        dir,
    ]);
    common::assert_success(&reproducible, &["build"]);
    for image in ["built:1", "built:2"] {
        assert!(layer_blobs_kept(&wharf, image).is_empty(), "{image}");
        let id = wharf.ok(&["inspect", "-f", "{{.Id}}", image]);
        let saved = save(&wharf, image);
        let diff = diff_ids(&wharf, image);
        let layers = saved_layers(&saved);
        assert_eq!(layers.len(), diff.len());
        for (layer, diff_id) in layers.iter().zip(&diff) {
            assert_eq!(&format!("sha256:{}", sha256(layer)), diff_id, "{image}");
        }
        let other = Wharf::new();
        common::assert_success(&other.run_with_stdin(&["load"], &saved), &["load"]);
        assert_eq!(other.ok(&["inspect", "-f", "{{.Id}}", image]), id);
    }
    wharf.assert_consistent();
}

#[test]
fn push_skips_what_the_registry_has_and_compresses_the_rest_once() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    let source = Wharf::new();
    let id = source.import_busybox();
    let imported = format!("{}/tools/bb:1", registry.address);
    source.ok(&["tag", "busybox", &imported]);
    let first = source.ok(&["push", &imported]);
    assert!(first.contains(": Pushed"), "{first}");
    let again = source.ok(&["push", &imported]);
    assert!(
        again.contains(": Layer already exists") && !again.contains(": Pushed"),
        "{again}"
    );

    // Pulled elsewhere: no layer blob kept; save gives tars hashing to the diff ids; a
    // push to another repository of the registry mounts, one to the same repository finds.
    let puller = Wharf::new();
    puller.ok(&["pull", &imported]);
    assert!(layer_blobs_kept(&puller, &imported).is_empty());
    let saved = save(&puller, &imported);
    for (layer, diff_id) in saved_layers(&saved)
        .iter()
        .zip(diff_ids(&puller, &imported))
    {
        assert_eq!(format!("sha256:{}", sha256(layer)), diff_id);
    }
    let same = puller.ok(&["push", &imported]);
    assert!(!same.contains(": Pushed"), "{same}");
    let moved = format!("{}/other/bb:1", registry.address);
    puller.ok(&["tag", &imported, &moved]);
    let mounted = puller.ok(&["push", &moved]);
    assert!(!mounted.contains(": Pushed"), "{mounted}");

    // A registry that has nothing: the layer goes up compressed from the rebuilt tar.
    let Some(second) = Registry::start(None) else {
        return;
    };
    let elsewhere = format!("{}/tools/bb:1", second.address);
    puller.ok(&["tag", &imported, &elsewhere]);
    let uploaded = puller.ok(&["push", &elsewhere]);
    assert!(uploaded.contains(": Pushed"), "{uploaded}");
    let fresh = Wharf::new();
    fresh.ok(&["pull", &elsewhere]);
    assert_eq!(
        fresh.ok(&["inspect", "-f", "{{.Id}}", &elsewhere]).trim(),
        id
    );
    puller.assert_consistent();
    fresh.assert_consistent();
}

/// Puts the store back in the layout wharf wrote before tar-split records, as that code
/// wrote it: each layer's blob in `blobs/` (here the saved tar: these layers were
/// imported or loaded uncompressed, so their blob is their tar), `layer.json` without
/// known forms, no record, no `version` file.
/// Returns the layer blobs it wrote. It runs no wharf command after its changes (the next
/// one migrates the store).
fn to_former_layout(wharf: &Wharf, images: &[&str]) -> Vec<PathBuf> {
    let mut layers = Vec::new();
    for image in images {
        let saved = save(wharf, image);
        layers.extend(
            saved_layers(&saved)
                .into_iter()
                .zip(chain_ids(wharf, image)),
        );
    }
    let mut written = Vec::new();
    for (layer, chain) in layers {
        let digest = format!("sha256:{}", sha256(&layer));
        std::fs::write(blob_path(wharf, &digest), &layer).unwrap();
        written.push(blob_path(wharf, &digest));
        let dir = wharf.path().join("layers").join(&chain);
        std::fs::remove_file(dir.join("tar-split.zst")).unwrap();
        let mut info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("layer.json")).unwrap()).unwrap();
        info.as_object_mut().unwrap().remove("forms");
        assert_eq!(info["blob"], digest.as_str());
        std::fs::write(dir.join("layer.json"), info.to_string()).unwrap();
    }
    std::fs::remove_file(wharf.path().join("version")).unwrap();
    written
}

/// The chain ids (hex) of an image's layers, bottom first.
fn chain_ids(wharf: &Wharf, image: &str) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    for diff_id in diff_ids(wharf, image) {
        let next = match chain.last() {
            None => diff_id.clone(),
            Some(parent) => format!(
                "sha256:{}",
                sha256(format!("{parent} {diff_id}").as_bytes())
            ),
        };
        chain.push(next);
    }
    chain
        .into_iter()
        .map(|c| c.trim_start_matches("sha256:").to_string())
        .collect()
}

#[test]
fn a_store_of_the_former_layout_is_migrated_on_open_and_keeps_working() {
    let wharf = Wharf::new();
    let id = wharf.import_busybox();
    let layers = vec![hostile_layer()];
    let archive = common::docker_save_archive(&layers, "", Some("hostile:1"));
    common::assert_success(&wharf.run_with_stdin(&["load"], &archive), &["load"]);
    let before = save(&wharf, "busybox");
    let busybox_chain = chain_ids(&wharf, "busybox").remove(0);
    let busybox_dir = wharf.path().join("layers").join(busybox_chain);
    let hostile_dir = wharf
        .path()
        .join("layers")
        .join(chain_ids(&wharf, "hostile:1").remove(0));
    let hostile_record = std::fs::read(hostile_dir.join("tar-split.zst")).unwrap();
    let blobs = to_former_layout(&wharf, &["busybox", "hostile:1"]);
    assert_eq!(blobs.len(), 2);
    assert!(blobs.iter().all(|blob| blob.is_file()));
    // A migration that stopped while writing its temp record, and one that stopped after
    // its record was in place but before its blob was dropped.
    std::fs::write(busybox_dir.join(".tmp-record"), b"half a record").unwrap();
    std::fs::write(hostile_dir.join("tar-split.zst"), hostile_record).unwrap();

    // Any command opens the store, and the first one migrates it.
    assert_eq!(
        wharf.ok(&["inspect", "-f", "{{.Id}}", "busybox"]).trim(),
        id
    );
    assert_eq!(
        std::fs::read_to_string(wharf.path().join("version")).unwrap(),
        "2\n"
    );
    assert!(blobs.iter().all(|blob| !blob.exists()));
    for image in ["busybox", "hostile:1"] {
        assert!(layer_blobs_kept(&wharf, image).is_empty(), "{image}");
        for chain in chain_ids(&wharf, image) {
            let dir = wharf.path().join("layers").join(chain);
            assert!(dir.join("tar-split.zst").is_file());
        }
    }
    assert!(
        save(&wharf, "busybox") == before,
        "the same archive as before"
    );
    assert!(saved_layers(&save(&wharf, "hostile:1"))[0] == layers[0]);
    // The temp file of the interrupted run is a leftover that check reports and removes.
    let report = wharf.ok(&["system", "check"]);
    assert!(report.contains("1 leftovers"), "{report}");
    wharf.ok(&["system", "check", "--repair"]);
    assert!(!busybox_dir.join(".tmp-record").exists());
    wharf.assert_consistent();
    let thorough = wharf.ok(&["system", "check", "--thorough"]);
    assert!(thorough.contains(": consistent"), "{thorough}");
}

#[test]
fn a_layer_that_cannot_migrate_keeps_its_blob_and_check_says_so() {
    let wharf = Wharf::new();
    let layers = load_app(&wharf);
    let blob = to_former_layout(&wharf, &["app:1"]).remove(0);
    let mut damaged = layers[0].clone();
    let at = damaged.windows(5).position(|w| w == b"hello").unwrap();
    damaged[at] = b'j';
    std::fs::write(&blob, &damaged).unwrap();

    // The blob is not the layer's tar any more: the layer stays in the former layout, and
    // check (of the blob, as before) names it.
    let check = wharf.run(&["system", "check"]);
    assert!(!check.status.success());
    let report = common::stdout(&check);
    assert!(
        report.contains("INCONSISTENT")
            && report.contains("1 layers keep their blob beside their tree"),
        "{report}"
    );
    assert!(blob.exists());

    // With its blob whole again, repair moves it.
    std::fs::write(&blob, &layers[0]).unwrap();
    let repaired = wharf.ok(&["system", "check", "--repair"]);
    assert!(repaired.contains("moved 1 layers"), "{repaired}");
    assert!(layer_blobs_kept(&wharf, "app:1").is_empty());
    assert!(saved_layers(&save(&wharf, "app:1"))[0] == layers[0]);
    wharf.assert_consistent();
}

#[test]
fn a_built_layer_pushed_is_compressed_again_into_the_blob_its_manifest_names() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    if !common::is_root() {
        return common::skip("builds need root");
    }
    // In the host's namespace (the registry is on its loopback), the step without network.
    let wharf = Wharf::new();
    wharf.import_busybox();
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\nRUN echo zstd > /made.txt\n",
    )
    .unwrap();
    let name = format!("{}/built/z:1", registry.address);
    wharf.ok(&[
        "build",
        "-q",
        "--network",
        "none",
        "-t",
        &name,
        "--output",
        "type=image,compression=zstd",
        context.path().to_str().unwrap(),
    ]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(blob_path(&wharf, &manifest_digest(&wharf, &name))).unwrap(),
    )
    .unwrap();
    let built = &manifest["layers"][1];
    assert_eq!(
        built["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    let digest = built["digest"].as_str().unwrap();
    assert!(
        !blob_path(&wharf, digest).exists(),
        "the zstd blob is not kept"
    );
    // The push makes it again from the tar, at the level the build used: the same blob
    // the manifest names goes up.
    let pushed = wharf.ok(&["push", &name]);
    let short = &digest.trim_start_matches("sha256:")[..12];
    assert!(
        pushed.contains(&format!("{short}: Pushed")),
        "{digest}\n{pushed}"
    );
    let other = Wharf::new();
    other.ok(&["pull", &name]);
    assert_eq!(
        other.ok(&["inspect", "-f", "{{.Id}}", &name]),
        wharf.ok(&["inspect", "-f", "{{.Id}}", &name])
    );
}
