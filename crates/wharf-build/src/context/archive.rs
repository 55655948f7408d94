//! Tar archives: ADD's extraction of local archives and a build context sent on stdin. An
//! archive can never write outside its extraction directory.

use std::fs::{self, File};
use std::io::{self, Cursor, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, CWD};
use tar::EntryType;

use super::pattern::go_clean;
use super::resolve::{apply_metadata, lstat, mkdir_all, resolve_in_root, set_times};
use super::{Error, Result};

/// What [`extract_context`] found on its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinContext {
    /// A tar archive (plain, gzip, bzip2, xz or zstd), extracted as the build context.
    Archive,
    /// Not an archive: like `docker build - < Dockerfile`, the input was written to
    /// `<into>/Dockerfile` and the context holds nothing else.
    Dockerfile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

fn detect(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if head.starts_with(b"BZh") {
        Compression::Bzip2
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Compression::Xz
    } else {
        Compression::None
    }
}

fn decompress<'a, R: Read + 'a>(
    reader: R,
    compression: Compression,
    path: &Path,
) -> Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(reader).map_err(Error::io("decompress", path))?,
        ),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
    })
}

/// Reads up to `n` bytes from the start of `reader`.
fn read_head<R: Read>(reader: &mut R, n: usize, path: &Path) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader
        .by_ref()
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(Error::io("read", path))?;
    Ok(head)
}

/// Whether `block` is a tar header with a valid checksum.
fn is_tar_header(block: &[u8]) -> bool {
    let Ok(block) = <&[u8; 512]>::try_from(block) else {
        return false;
    };
    let header = tar::Header::from_byte_slice(block);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(b)
            }
        })
        .sum();
    stored == sum
}

/// Opens `path` as an archive the way BuildKit decides what ADD extracts: the content
/// (decompressed if it starts with a known magic number) must begin with a valid tar header.
/// Returns a reader of the tar stream, or None when the file is to be copied as is.
pub(crate) fn open_archive(path: &Path) -> Result<Option<Box<dyn Read>>> {
    let mut file = File::open(path).map_err(Error::io("open", path))?;
    let head = read_head(&mut file, 6, path)?;
    let compression = detect(&head);
    let file = Cursor::new(head).chain(file);
    let mut stream = decompress(file, compression, path)?;
    let block = match read_head(&mut stream, 512, path) {
        Ok(block) => block,
        // Data that merely starts like gzip or zstd is a plain file to copy.
        Err(_) if compression != Compression::None => return Ok(None),
        Err(e) => return Err(e),
    };
    if !is_tar_header(&block) {
        return Ok(None);
    }
    Ok(Some(Box::new(Cursor::new(block).chain(stream))))
}

/// Extracts the tar stream `reader` (read from `source`, named in errors) into the existing
/// directory `dest`, which acts as the root: names are cleaned, a name climbing above the root
/// is an error, and symlinks met on the way resolve inside `dest`. Entries keep their mode,
/// mtime and owner (`chown` overrides the owner); missing parents are created 0755 and owned
/// by root, as BuildKit does.
pub fn extract_tar<R: Read>(
    reader: R,
    source: &Path,
    dest: &Path,
    chown: Option<(u32, u32)>,
) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let read_err = || Error::io("read archive", source);
    let mut dir_times = Vec::new();
    for entry in archive.entries().map_err(read_err())? {
        let mut entry = entry.map_err(read_err())?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(clean) = clean_name(&name)? else {
            continue;
        };
        let rel = resolve_in_root(dest, Path::new(&clean), kind.is_dir())?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&rel);
        if let Some(parent) = rel.parent() {
            mkdir_all(dest, parent, (0, 0))?;
        }
        if let Some(existing) = lstat(&target)? {
            if !existing.is_dir() {
                fs::remove_file(&target).map_err(Error::io("remove", &target))?;
            } else if !kind.is_dir() {
                fs::remove_dir_all(&target).map_err(Error::io("remove", &target))?;
            }
        }
        let header = entry.header();
        let owner = chown.unwrap_or((
            header.uid().map_err(read_err())? as u32,
            header.gid().map_err(read_err())? as u32,
        ));
        let mode = header.mode().map_err(read_err())? & 0o7777;
        let mtime = (header.mtime().map_err(read_err())? as i64, 0);
        match kind {
            EntryType::Directory => {
                if lstat(&target)?.is_none() {
                    fs::create_dir(&target).map_err(Error::io("create directory", &target))?;
                }
                std::os::unix::fs::lchown(&target, Some(owner.0), Some(owner.1))
                    .map_err(Error::io("chown", &target))?;
                fs::set_permissions(&target, fs::Permissions::from_mode(mode))
                    .map_err(Error::io("chmod", &target))?;
                dir_times.push((target, mtime));
                continue;
            }
            EntryType::Regular | EntryType::Continuous => {
                let mut file = File::options()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                    .open(&target)
                    .map_err(Error::io("create", &target))?;
                io::copy(&mut entry, &mut file).map_err(Error::io("write", &target))?;
            }
            EntryType::Symlink => {
                let link = entry.link_name_bytes().unwrap_or_default();
                let link = Path::new(std::ffi::OsStr::from_bytes(&link));
                std::os::unix::fs::symlink(link, &target)
                    .map_err(Error::io("create symlink", &target))?;
            }
            EntryType::Link => {
                let link = entry.link_name_bytes().unwrap_or_default();
                let link = String::from_utf8_lossy(&link).into_owned();
                let Some(clean) = clean_name(&link)? else {
                    return Err(Error::ArchiveEscape { name: link });
                };
                let original = dest.join(resolve_in_root(dest, Path::new(&clean), false)?);
                fs::hard_link(&original, &target).map_err(Error::io("link", &target))?;
                let is_symlink = lstat(&target)?.is_some_and(|m| m.is_symlink());
                apply_metadata(&target, is_symlink, owner, mode, mtime)?;
                continue;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let file_type = match kind {
                    EntryType::Char => FileType::CharacterDevice,
                    EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let major = entry.header().device_major().ok().flatten().unwrap_or(0);
                let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
                let dev = rustix::fs::makedev(major, minor);
                rustix::fs::mknodat(CWD, &target, file_type, Mode::from_raw_mode(mode), dev)
                    .map_err(|e| Error::Io {
                        action: "create device",
                        path: target.clone(),
                        source: e.into(),
                    })?;
            }
            other => {
                return Err(Error::ArchiveEntry {
                    name,
                    kind: other.as_byte(),
                })
            }
        }
        apply_metadata(&target, kind == EntryType::Symlink, owner, mode, mtime)?;
    }
    for (dir, mtime) in dir_times.iter().rev() {
        set_times(dir, *mtime)?;
    }
    Ok(())
}

/// A tar entry name made relative and clean; None for the root itself.
fn clean_name(name: &str) -> Result<Option<String>> {
    let clean = go_clean(name.trim_start_matches('/'));
    if clean == "." {
        return Ok(None);
    }
    if clean == ".." || clean.starts_with("../") {
        return Err(Error::ArchiveEscape {
            name: name.to_owned(),
        });
    }
    Ok(Some(clean))
}

/// Turns the build context given on stdin (`wharf build - < ctx.tar`) into the directory
/// `into` (existing, normally empty): a tar (plain, gzip or zstd) is extracted safely; anything
/// else is taken as a Dockerfile, as Docker does.
pub fn extract_context<R: Read>(mut reader: R, into: &Path) -> Result<StdinContext> {
    let stdin = PathBuf::from("stdin");
    let head = read_head(&mut reader, 512, &stdin)?;
    let compression = detect(&head);
    if compression == Compression::None && !is_tar_header(&head) {
        let path = into.join("Dockerfile");
        let mut file = File::create(&path).map_err(Error::io("create", &path))?;
        io::copy(&mut Cursor::new(head).chain(reader), &mut file)
            .map_err(Error::io("write", &path))?;
        return Ok(StdinContext::Dockerfile);
    }
    let stream = decompress(Cursor::new(head).chain(reader), compression, &stdin)?;
    extract_tar(stream, &stdin, into, None)?;
    Ok(StdinContext::Archive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A tar built from raw headers, so that hostile names get through.
    fn raw_tar(entries: &[(&str, EntryType, &str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, link, content) in entries {
            let mut header = tar::Header::new_old();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            header.set_entry_type(*kind);
            header.set_size(content.len() as u64);
            header.set_mode(if *kind == EntryType::Directory {
                0o755
            } else {
                0o640
            });
            header.set_uid(42);
            header.set_gid(43);
            header.set_mtime(1_600_000_000);
            header.set_cksum();
            builder.append(&header, content.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn extract(data: &[u8], dest: &Path) -> Result<()> {
        extract_tar(data, Path::new("test.tar"), dest, None)
    }

    #[test]
    fn extraction_keeps_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let data = raw_tar(&[
            ("d/", EntryType::Directory, "", ""),
            ("d/f", EntryType::Regular, "", "hello"),
            ("d/l", EntryType::Symlink, "f", ""),
            ("d/h", EntryType::Link, "d/f", ""),
        ]);
        extract(&data, dir.path()).unwrap();
        let meta = fs::metadata(dir.path().join("d/f")).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("d/h")).unwrap(), "hello");
        assert_eq!(
            fs::read_link(dir.path().join("d/l")).unwrap(),
            Path::new("f")
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (42, 43, 0o640)
        );
        assert_eq!(meta.mtime(), 1_600_000_000);
        assert_eq!(
            fs::metadata(dir.path().join("d")).unwrap().mtime(),
            1_600_000_000
        );
    }

    #[test]
    fn hostile_archives_stay_inside() {
        let outer = tempfile::tempdir().unwrap();
        let dest = outer.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let err =
            extract(&raw_tar(&[("../evil", EntryType::Regular, "", "x")]), &dest).unwrap_err();
        assert_eq!(
            err.to_string(),
            "archive path \"../evil\" is outside extraction root"
        );
        assert!(!outer.path().join("evil").exists());

        let data = raw_tar(&[
            ("/abs", EntryType::Regular, "", "a"),
            ("root", EntryType::Symlink, "/", ""),
            ("up", EntryType::Symlink, "../../../..", ""),
            ("root/etc/x", EntryType::Regular, "", "1"),
            ("up/y", EntryType::Regular, "", "2"),
        ]);
        extract(&data, &dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("abs")).unwrap(), "a");
        assert_eq!(fs::read_to_string(dest.join("etc/x")).unwrap(), "1");
        assert_eq!(fs::read_to_string(dest.join("y")).unwrap(), "2");
        assert!(!outer.path().join("y").exists());

        let err = extract(
            &raw_tar(&[("h", EntryType::Link, "../../etc/passwd", "")]),
            &dest,
        );
        assert!(matches!(err, Err(Error::ArchiveEscape { .. })));
    }

    #[test]
    fn context_from_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let data = raw_tar(&[("Dockerfile", EntryType::Regular, "", "FROM scratch\n")]);
        assert_eq!(
            extract_context(&data[..], dir.path()).unwrap(),
            StdinContext::Archive
        );
        assert!(dir.path().join("Dockerfile").exists());

        let gz_dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw_tar(&[(
            "app/main.go",
            EntryType::Regular,
            "",
            "package main",
        )]))
        .unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            extract_context(&gz[..], gz_dir.path()).unwrap(),
            StdinContext::Archive
        );
        assert!(gz_dir.path().join("app/main.go").exists());

        let df_dir = tempfile::tempdir().unwrap();
        let text = b"FROM busybox\nRUN true\n";
        assert_eq!(
            extract_context(&text[..], df_dir.path()).unwrap(),
            StdinContext::Dockerfile
        );
        assert_eq!(fs::read(df_dir.path().join("Dockerfile")).unwrap(), text);
    }

    #[test]
    fn archive_detection() {
        let dir = tempfile::tempdir().unwrap();
        let tar_path = dir.path().join("t");
        fs::write(&tar_path, raw_tar(&[("f", EntryType::Regular, "", "x")])).unwrap();
        assert!(open_archive(&tar_path).unwrap().is_some());
        let text = dir.path().join("text.tar");
        fs::write(&text, "hello").unwrap();
        assert!(open_archive(&text).unwrap().is_none());
        let fake_gz = dir.path().join("fake.gz");
        fs::write(&fake_gz, [0x1f, 0x8b, 0x08, 0, 1, 2]).unwrap();
        assert!(open_archive(&fake_gz).unwrap().is_none());
    }

    #[test]
    fn bzip2_and_xz_archives_extract_like_gzip_and_zstd() {
        use std::io::Write;
        let tar = raw_tar(&[("f", EntryType::Regular, "", "content")]);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&tar).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&tar).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("a.tar.bz2", bz.finish().unwrap()),
            ("a.tar.xz", xz.finish().unwrap()),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, bytes).unwrap();
            let mut stream = open_archive(&path).unwrap().expect("an archive");
            let mut plain = Vec::new();
            stream.read_to_end(&mut plain).unwrap();
            assert_eq!(plain, tar, "{name}");
        }
        // Data that only starts like xz is a file to copy.
        let fake = dir.path().join("fake.xz");
        fs::write(&fake, [0xfd, b'7', b'z', b'X', b'Z', 0]).unwrap();
        assert!(open_archive(&fake).unwrap().is_none());
    }
}
