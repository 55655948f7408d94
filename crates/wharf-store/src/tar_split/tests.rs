use std::fs;
use std::io::Write;

use tar::{EntryType, Header};
use wharf_oci::Digest;

use super::*;
use crate::error::StoreError;
use crate::extract::unpack;

/// Unpacks `tar` into a fresh folder; returns the folder and the record written meanwhile,
/// after a round trip through its file format.
fn unpacked(tar: &[u8]) -> (tempfile::TempDir, Record) {
    let root = tempfile::tempdir().unwrap();
    let recorder = Recorder::shared();
    unpack(tar, root.path(), &Digest::of(tar), 2, &recorder).unwrap();
    let record = recorder.borrow_mut().finish().unwrap();
    let mut bytes = Vec::new();
    record.write_to(&mut bytes).unwrap();
    let read = Record::read_from(&bytes[..]).unwrap();
    assert_eq!(read, record);
    (root, read)
}

fn rebuilt(record: &Record, tree: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    rebuild(record, tree, &mut out)
        .map_err(|e| format!("{e:?}"))
        .unwrap();
    out
}

fn header(kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header.set_size(size);
    header
}

fn file(tar: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
    tar.append_data(
        &mut header(EntryType::Regular, content.len() as u64),
        path,
        content,
    )
    .unwrap();
}

fn dir(tar: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut header = header(EntryType::Directory, 0);
    header.set_mode(0o755);
    tar.append_data(&mut header, path, &[][..]).unwrap();
}

fn files_in(record: &Record) -> Vec<String> {
    record
        .items
        .iter()
        .filter_map(|item| match item {
            Item::File { path, .. } => Some(path.display().to_string()),
            Item::Bytes(_) => None,
        })
        .collect()
}

#[test]
fn a_plain_tar_comes_back_byte_for_byte_with_only_headers_kept() {
    let mut tar = tar::Builder::new(Vec::new());
    dir(&mut tar, "etc/");
    file(&mut tar, "etc/hosts", &[7u8; 3000]);
    file(&mut tar, "etc/empty", b"");
    let tar = tar.into_inner().unwrap();
    let (root, record) = unpacked(&tar);
    assert_eq!(rebuilt(&record, root.path()), tar);
    assert_eq!(record.tar_size, tar.len() as u64);
    assert_eq!(files_in(&record), ["etc/hosts"]);
    let kept: usize = record
        .items
        .iter()
        .map(|item| match item {
            Item::Bytes(bytes) => bytes.len(),
            Item::File { .. } => 0,
        })
        .sum();
    assert_eq!(
        kept,
        tar.len() - 3000,
        "only the content is left to the tree"
    );
}

#[test]
fn pax_records_long_names_and_links_come_back() {
    let long = format!("usr/{}/{}", "d".repeat(120), "f".repeat(150));
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_pax_extensions([
        ("SCHILY.xattr.user.note", &b"kept"[..]),
        ("comment", &b"a pax comment"[..]),
    ])
    .unwrap();
    file(&mut tar, "a.txt", b"first");
    file(&mut tar, &long, b"deep");
    let mut link = header(EntryType::Link, 0);
    tar.append_link(&mut link, "b.txt", "a.txt").unwrap();
    let mut symlink = header(EntryType::Symlink, 0);
    tar.append_link(
        &mut symlink,
        format!("s/{}", "l".repeat(130)),
        "/etc/passwd",
    )
    .unwrap();
    let mut tar = tar.into_inner().unwrap();
    // A writer padding the stream to a record size, as GNU tar does.
    tar.extend_from_slice(&[0u8; 4096]);
    let (root, record) = unpacked(&tar);
    assert_eq!(rebuilt(&record, root.path()), tar);
    assert_eq!(files_in(&record), ["a.txt", long.as_str()]);
}

#[test]
fn content_a_later_entry_replaced_is_kept_in_the_record() {
    let mut tar = tar::Builder::new(Vec::new());
    file(&mut tar, "app/config", b"old config");
    file(&mut tar, "app/tree/leaf", b"leaf in a folder that goes");
    file(&mut tar, "keep", b"first");
    let mut link = header(EntryType::Link, 0);
    tar.append_link(&mut link, "linked", "keep").unwrap();
    file(&mut tar, "app/config", b"new config, longer");
    // A file replaces the folder, a whiteout the file that held a link's content.
    file(&mut tar, "app/tree", b"now a file");
    file(&mut tar, ".wh.keep", b"");
    // A whiteout with content: the content is nowhere in the tree.
    file(&mut tar, "app/.wh.gone", b"odd but legal");
    let tar = tar.into_inner().unwrap();
    let (root, record) = unpacked(&tar);
    assert_eq!(
        fs::read(root.path().join("app/config")).unwrap(),
        b"new config, longer"
    );
    assert_eq!(rebuilt(&record, root.path()), tar);
    assert_eq!(files_in(&record), ["app/config", "app/tree"]);
}

#[test]
fn a_changed_tree_file_stops_the_rebuild_naming_it() {
    let mut tar = tar::Builder::new(Vec::new());
    file(&mut tar, "a", b"alpha");
    file(&mut tar, "b", b"bravo");
    let tar = tar.into_inner().unwrap();
    let (root, record) = unpacked(&tar);
    fs::write(root.path().join("b"), b"BRAVO").unwrap();
    let mut out = Vec::new();
    match rebuild(&record, root.path(), &mut out) {
        Err(Ok(bad)) => {
            assert_eq!(bad.path, std::path::Path::new("b"));
            assert!(bad.reason.contains("changed"), "{}", bad.reason);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !out.windows(5).any(|w| w == b"BRAVO"),
        "nothing of the changed file is written"
    );
    fs::write(root.path().join("b"), b"br").unwrap();
    let Err(Ok(bad)) = rebuild(&record, root.path(), &mut Vec::new()) else {
        panic!("a shorter file passed");
    };
    assert!(bad.reason.contains("2 bytes long"), "{}", bad.reason);
    fs::remove_file(root.path().join("b")).unwrap();
    std::os::unix::fs::symlink("a", root.path().join("b")).unwrap();
    assert!(matches!(
        rebuild(&record, root.path(), &mut Vec::new()),
        Err(Ok(_))
    ));
}

#[test]
fn sparse_files_are_refused_clearly() {
    let mut tar = tar::Builder::new(Vec::new());
    let mut sparse = header(EntryType::GNUSparse, 0);
    sparse.set_path("holes").unwrap();
    sparse.as_gnu_mut().unwrap().realsize = *b"00000000000\0";
    sparse.set_cksum();
    tar.append(&sparse, &[][..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let root = tempfile::tempdir().unwrap();
    match unpack(
        &tar[..],
        root.path(),
        &Digest::of(&tar),
        1,
        &Recorder::shared(),
    ) {
        Err(StoreError::UnsafeEntry { reason, .. }) => assert!(reason.contains("sparse")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn damaged_records_are_refused_with_a_reason() {
    let record = Record {
        items: vec![
            Item::Bytes(vec![1, 2, 3]),
            Item::File {
                path: "x".into(),
                size: 5,
                crc: 9,
            },
        ],
        tar_size: 8,
    };
    let mut bytes = Vec::new();
    record.write_to(&mut bytes).unwrap();
    let mut plain = Vec::new();
    zstd::stream::copy_decode(&bytes[..], &mut plain).unwrap();
    let reencode = |plain: &[u8]| {
        let mut out = Vec::new();
        let mut encoder = zstd::stream::write::Encoder::new(&mut out, 1).unwrap();
        encoder.write_all(plain).unwrap();
        encoder.finish().unwrap();
        out
    };
    let reason = |plain: &[u8]| Record::read_from(&reencode(plain)[..]).unwrap_err();
    assert!(reason(&plain[..plain.len() - 3]).contains("cut short"));
    let mut newer = plain.clone();
    newer[16] = 2;
    assert!(reason(&newer).contains("format version 2"));
    let mut escaping = plain.clone();
    let at = escaping
        .windows(6)
        .position(|w| w == b"F\x01\0\0\0x")
        .unwrap();
    escaping.splice(at..at + 6, *b"F\x02\0\0\0..");
    assert!(
        reason(&escaping).contains("leaves the tree"),
        "{}",
        reason(&escaping)
    );
    let mut wrong_end = plain.clone();
    let end = wrong_end.len() - 16;
    wrong_end[end] ^= 1;
    assert!(reason(&wrong_end).contains("does not match"));
}
