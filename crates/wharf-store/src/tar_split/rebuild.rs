//! Rebuilding a layer's tar from its record and its tree.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use flate2::Crc;
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::{Item, Record};

/// A file of the tree that does not hold what the record says.
#[derive(Debug)]
pub(crate) struct BadFile {
    pub path: std::path::PathBuf,
    pub reason: String,
}

/// Files up to this size are read and checked whole before a byte of them is written;
/// larger ones are checked in a first pass, then written.
const CHECK_IN_MEMORY: u64 = 16 << 20;

/// Writes the tar that `record` describes into `out`, reading file content from `tree`.
/// Each file's size and CRC are checked before its content is written, so a changed file
/// stops the tar before it, naming the file. `Err(Ok(..))` is a bad file, `Err(Err(..))`
/// an I/O error of `out`.
pub(crate) fn rebuild(
    record: &Record,
    tree: &Path,
    out: &mut dyn Write,
) -> Result<(), Result<BadFile, io::Error>> {
    let root = File::open(tree).map_err(|e| {
        Ok(BadFile {
            path: tree.to_path_buf(),
            reason: format!("can't be opened: {e}"),
        })
    })?;
    let mut buffer = Vec::new();
    for item in &record.items {
        match item {
            Item::Bytes(bytes) => out.write_all(bytes).map_err(Err)?,
            Item::File { path, size, crc } => {
                let bad = |reason: String| {
                    Ok(BadFile {
                        path: path.clone(),
                        reason,
                    })
                };
                let mut file =
                    open_in_tree(&root, path).map_err(|e| bad(format!("can't be opened: {e}")))?;
                let meta = file
                    .metadata()
                    .map_err(|e| bad(format!("can't be read: {e}")))?;
                if !meta.is_file() {
                    return Err(bad("is no longer a regular file".into()));
                }
                if meta.len() != *size {
                    return Err(bad(format!(
                        "is {} bytes long, the layer's record says {size}",
                        meta.len()
                    )));
                }
                let changed = || bad("has changed since the layer was stored".into());
                if *size <= CHECK_IN_MEMORY {
                    buffer.clear();
                    (&mut file)
                        .take(*size)
                        .read_to_end(&mut buffer)
                        .map_err(|e| bad(format!("can't be read: {e}")))?;
                    if buffer.len() as u64 != *size || crc_of(&buffer) != *crc {
                        return Err(changed());
                    }
                    out.write_all(&buffer).map_err(Err)?;
                } else {
                    let sum = copy_with_crc(&mut file, &mut io::sink(), *size)
                        .map_err(|e| bad(format!("can't be read: {e}")))?;
                    if sum != Some(*crc) {
                        return Err(changed());
                    }
                    file.seek(SeekFrom::Start(0))
                        .map_err(|e| bad(format!("can't be read: {e}")))?;
                    let mut counted = OutputErrors::new(out);
                    let sum = copy_with_crc(&mut file, &mut counted, *size);
                    if let Some(e) = counted.failed {
                        return Err(Err(e));
                    }
                    if sum.map_err(|e| bad(format!("can't be read: {e}")))? != Some(*crc) {
                        return Err(changed());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Opens the file at `path` of the tree `root`, beneath it and through no symlink: a record
/// names files only.
pub(crate) fn open_in_tree(root: &File, path: &Path) -> io::Result<File> {
    let fd = rustix::fs::openat2(
        root,
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
    )?;
    Ok(File::from(fd))
}

fn crc_of(bytes: &[u8]) -> u32 {
    let mut crc = Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// Copies exactly `size` bytes; `None` when the file holds fewer.
fn copy_with_crc(file: &mut File, out: &mut dyn Write, size: u64) -> io::Result<Option<u32>> {
    let mut crc = Crc::new();
    let mut left = size;
    let mut chunk = vec![0u8; 1 << 20];
    while left > 0 {
        let want = left.min(chunk.len() as u64) as usize;
        let n = file.read(&mut chunk[..want])?;
        if n == 0 {
            return Ok(None);
        }
        crc.update(&chunk[..n]);
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(Some(crc.sum()))
}

/// A writer that keeps its own error apart from a read error of what is copied into it:
/// one is the caller's, the other the layer's.
pub(crate) struct OutputErrors<'a> {
    out: &'a mut dyn Write,
    pub failed: Option<io::Error>,
}

impl<'a> OutputErrors<'a> {
    pub fn new(out: &'a mut dyn Write) -> Self {
        Self { out, failed: None }
    }
}

impl Write for OutputErrors<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf).inspect_err(|e| {
            self.failed = Some(io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
