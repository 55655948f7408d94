//! Layer unpacking keeps the archive's order although regular files are written on worker
//! threads: later entries that replace, link to or whiteout earlier files find them written,
//! and folders keep their times. Each layer queues many files before the entry that depends
//! on them, so a missing wait would leave the layer different from its archive.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use common::{tarball, Entry, Wharf};

const MTIME: i64 = 1_700_000_000;

/// Many small files under `dir`, enough to keep the writers busy past the next entries.
fn filler(dir: &str) -> Vec<(String, Vec<u8>)> {
    (0..150)
        .map(|i| (format!("{dir}/f{i:03}"), vec![b'a' + (i % 26) as u8; 3000]))
        .collect()
}

fn file_entries(files: &[(String, Vec<u8>)]) -> Vec<Entry<'_>> {
    files
        .iter()
        .map(|(path, data)| Entry::File(path, data, 0o644))
        .collect()
}

/// Imports `layer` into a fresh store and returns the store and the unpacked layer's folder.
fn import(layer: &[u8]) -> (Wharf, PathBuf) {
    let wharf = Wharf::new();
    common::assert_success(
        &wharf.run_with_stdin(&["import", "-", "layer:1"], layer),
        &["import"],
    );
    let diff = fs::read_dir(wharf.path().join("layers"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name() != "tmp")
        .expect("an unpacked layer")
        .path()
        .join("diff");
    (wharf, diff)
}

/// A refused layer leaves no temp folder or file behind, and the store consistent.
fn assert_nothing_left(wharf: &Wharf) {
    for dir in ["layers/tmp", "blobs/tmp"] {
        let left: Vec<_> = fs::read_dir(wharf.path().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left behind in {dir}: {left:?}");
    }
    wharf.assert_consistent();
}

#[test]
fn later_entries_replace_link_and_whiteout_files_still_being_written() {
    let (early, late) = (filler("d"), filler("e"));
    let big = vec![7u8; 3 << 20];
    let mut entries = vec![Entry::Dir("d", 0o755)];
    entries.extend(file_entries(&early));
    entries.extend([
        // A folder full of queued files replaced by a file.
        Entry::File("d", b"now a file", 0o600),
        // A file replaced by a folder, which then gets a child.
        Entry::File("f", b"first", 0o644),
        Entry::Dir("f", 0o750),
        Entry::File("f/child", b"child", 0o644),
        // The same path twice: the second wins.
        Entry::File("dup", b"old", 0o644),
        Entry::File("dup", b"new", 0o640),
        // A hard link to a file queued just before.
        Entry::File("target", b"linked", 0o755),
        Entry::HardLink("link", "target"),
        // A whiteout of a file queued just before.
        Entry::File("gone", b"x", 0o644),
        Entry::File(".wh.gone", b"", 0o644),
        // A file larger than what is queued, written in place among queued ones.
        Entry::Dir("e", 0o755),
        Entry::File("e/big", &big, 0o644),
    ]);
    entries.extend(file_entries(&late));
    entries.push(Entry::OwnedFile {
        path: "e/setuid",
        data: b"#!/bin/sh\n",
        uid: 1000,
        gid: 1001,
        mode: 0o4755,
        xattr: Some(("user.origin", b"layer")),
    });
    let (wharf, diff) = import(&tarball(&entries));

    let d = fs::symlink_metadata(diff.join("d")).unwrap();
    assert!(
        d.is_file(),
        "d must end as the file that replaced the folder"
    );
    assert_eq!(fs::read(diff.join("d")).unwrap(), b"now a file");
    assert_eq!(d.permissions().mode() & 0o7777, 0o600);

    assert!(diff.join("f").is_dir(), "f must end as a folder");
    assert_eq!(fs::read(diff.join("f/child")).unwrap(), b"child");
    assert_eq!(fs::read(diff.join("dup")).unwrap(), b"new");
    assert_eq!(
        fs::metadata(diff.join("dup")).unwrap().permissions().mode() & 0o7777,
        0o640
    );

    let target = fs::metadata(diff.join("target")).unwrap();
    let link = fs::metadata(diff.join("link")).unwrap();
    assert_eq!(
        target.ino(),
        link.ino(),
        "link must be a hard link to target"
    );
    assert_eq!(target.nlink(), 2);
    assert_eq!(fs::read(diff.join("link")).unwrap(), b"linked");

    let gone = fs::symlink_metadata(diff.join("gone")).unwrap();
    assert!(gone.file_type().is_char_device() && gone.rdev() == 0);

    assert_eq!(fs::read(diff.join("e/big")).unwrap(), big);
    for (path, data) in &late {
        assert_eq!(&fs::read(diff.join(path)).unwrap(), data, "{path}");
    }
    let setuid = fs::metadata(diff.join("e/setuid")).unwrap();
    assert_eq!((setuid.uid(), setuid.gid()), (1000, 1001));
    assert_eq!(setuid.permissions().mode() & 0o7777, 0o4755);
    assert_eq!(setuid.mtime(), MTIME);
    assert_eq!(
        rustix::fs::getxattr(
            diff.join("e/setuid").as_path(),
            "user.origin",
            &mut [0u8; 16]
        ),
        Ok(5)
    );
    // Folder times are set after every file in them is written.
    assert_eq!(fs::metadata(diff.join("e")).unwrap().mtime(), MTIME);
    assert_eq!(fs::metadata(diff.join("f")).unwrap().mtime(), MTIME);
    wharf.assert_consistent();
}

#[test]
fn a_deep_tree_unpacks_whole_with_its_times() {
    let mut dirs = Vec::new();
    let mut path = String::from("top");
    // One letter a level: the harness's tar headers hold paths of up to 100 bytes.
    for level in 0..40u8 {
        dirs.push(path.clone());
        path = format!("{path}/{}", char::from(b'a' + level % 26));
    }
    let files: Vec<(String, Vec<u8>)> = dirs
        .iter()
        .flat_map(|dir| {
            (0..8).map(move |i| (format!("{dir}/file{i}"), format!("{dir} {i}").into_bytes()))
        })
        .collect();
    let mut entries = Vec::new();
    for (level, dir) in dirs.iter().enumerate() {
        entries.push(Entry::Dir(dir, 0o755));
        entries.extend(file_entries(&files[level * 8..level * 8 + 8]));
    }
    let (wharf, diff) = import(&tarball(&entries));
    for (path, data) in &files {
        assert_eq!(&fs::read(diff.join(path)).unwrap(), data, "{path}");
    }
    for dir in &dirs {
        assert_eq!(
            fs::metadata(diff.join(dir)).unwrap().mtime(),
            MTIME,
            "{dir}"
        );
    }
    wharf.assert_consistent();
}

#[test]
fn a_file_used_as_a_folder_by_a_later_entry_is_refused() {
    let files = filler("d");
    let mut entries = vec![Entry::Dir("d", 0o755)];
    entries.extend(file_entries(&files));
    entries.extend([
        Entry::File("p", b"a file", 0o644),
        Entry::File("p/q", b"under a file", 0o644),
    ]);
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["import", "-", "layer:1"], &tarball(&entries));
    assert!(!output.status.success(), "a file was used as a folder");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing unsafe entry `p/q`: a parent folder is not a folder"),
        "{stderr}"
    );
    assert_nothing_left(&wharf);
}

/// Each unpacked layer starts in a block group of ext4's choosing (`chattr +T` on the
/// folder layers are unpacked in), not next to the last layer removed.
#[test]
fn layers_are_unpacked_under_a_top_of_trees_folder() {
    let (_wharf, diff) = import(&tarball(&[Entry::File("a", b"a", 0o644)]));
    let store = diff.parent().unwrap().parent().unwrap().parent().unwrap();
    let tmp = fs::File::open(store.join("layers/tmp")).unwrap();
    match rustix::fs::ioctl_getflags(&tmp) {
        Ok(flags) => assert!(flags.contains(rustix::fs::IFlags::TOPDIR), "{flags:?}"),
        Err(e) => common::skip(&format!(
            "this filesystem has no inode flags ({e}): the top-of-trees hint is not tested"
        )),
    }
}

/// Decompression runs on a thread of its own: its errors still fail the unpack, and nothing
/// of the layer stays.
#[test]
fn a_truncated_gzip_layer_is_refused_and_leaves_nothing() {
    use std::io::Write;
    let files = filler("d");
    let mut entries = vec![Entry::Dir("d", 0o755)];
    entries.extend(file_entries(&files));
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&tarball(&entries)).unwrap();
    let mut layer = gzip.finish().unwrap();
    layer.truncate(layer.len() / 2);
    let wharf = Wharf::new();
    let output = wharf.run_with_stdin(&["load"], &common::docker_save_archive(&[layer], "", None));
    assert!(!output.status.success(), "a truncated layer was loaded");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a valid tar archive"), "{stderr}");
    assert_nothing_left(&wharf);
}
