//! tar-split records: what it takes to give back a layer's exact tar from its unpacked tree,
//! so that a layer is kept once (the tree) instead of twice (the tree and its blob).
//!
//! As containers/storage's tar-split and Docker's layerdb do, a record keeps every byte of
//! the tar that is not file content held verbatim by the tree (headers, PAX records, long
//! names, padding, end blocks, and content the tree does not hold: a file a later entry of
//! the same tar replaced, a whiteout's content), and for each regular file whose content
//! the tree holds, its path in the tree, its size and a CRC-32 of its content. Rebuilding
//! the tar is reading the record in order; the whole is then hashed against the diff id.
//!
//! The record is `layers/<chain-id>/tar-split.zst`: zstd over this (integers little endian):
//!
//! ```text
//! "wharf tar-split\n" (16 bytes), version (1 byte, 1)
//! 'B' len:u64 bytes            bytes of the tar kept as they are
//! 'F' len:u32 path size:u64 crc32:u32   `size` bytes of content from the tree's `path`
//! 'E' tar_size:u64 items:u64   the end: the tar's length and the count of items before it
//! ```

mod rebuild;
mod record;

pub(crate) use rebuild::{open_in_tree, rebuild, OutputErrors};
pub(crate) use record::{ContentReader, Recorder, RecordingReader, RecordingWriter};

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The record's file name in a layer's folder.
pub(crate) const RECORD_FILE: &str = "tar-split.zst";

const MAGIC: &[u8; 16] = b"wharf tar-split\n";
const VERSION: u8 = 1;
/// The longest path a record may name (Linux's PATH_MAX).
const MAX_PATH: u32 = 4096;

/// One piece of a layer's tar, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// Bytes of the tar kept as they are.
    Bytes(Vec<u8>),
    /// The content of the tree's file at `path` (relative, normalized).
    File { path: PathBuf, size: u64, crc: u32 },
}

/// A whole record: every piece of the tar and its length.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub items: Vec<Item>,
    pub tar_size: u64,
}

impl Record {
    /// Writes the record, zstd-compressed, into `out`.
    pub fn write_to(&self, out: impl Write) -> io::Result<()> {
        let mut out = zstd::stream::write::Encoder::new(out, 3)?;
        out.write_all(MAGIC)?;
        out.write_all(&[VERSION])?;
        for item in &self.items {
            match item {
                Item::Bytes(bytes) => {
                    out.write_all(b"B")?;
                    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
                    out.write_all(bytes)?;
                }
                Item::File { path, size, crc } => {
                    let path = path.as_os_str().as_bytes();
                    out.write_all(b"F")?;
                    out.write_all(&(path.len() as u32).to_le_bytes())?;
                    out.write_all(path)?;
                    out.write_all(&size.to_le_bytes())?;
                    out.write_all(&crc.to_le_bytes())?;
                }
            }
        }
        out.write_all(b"E")?;
        out.write_all(&self.tar_size.to_le_bytes())?;
        out.write_all(&(self.items.len() as u64).to_le_bytes())?;
        out.finish()?.flush()
    }

    /// Reads a record written by [`Self::write_to`]; the error says what is wrong with it.
    pub fn read_from(input: impl Read) -> Result<Self, String> {
        let mut input = zstd::stream::read::Decoder::new(input).map_err(|e| e.to_string())?;
        let mut magic = [0u8; 17];
        read_exact(&mut input, &mut magic, "its header")?;
        if &magic[..16] != MAGIC {
            return Err("it is not a wharf tar-split record".into());
        }
        if magic[16] != VERSION {
            return Err(format!(
                "it has format version {}, this wharf reads version {VERSION}",
                magic[16]
            ));
        }
        let mut items = Vec::new();
        let mut sum = 0u64;
        loop {
            let mut tag = [0u8; 1];
            read_exact(&mut input, &mut tag, "an item")?;
            match &tag {
                b"B" => {
                    let len = read_u64(&mut input)?;
                    let mut bytes = Vec::new();
                    (&mut input)
                        .take(len)
                        .read_to_end(&mut bytes)
                        .map_err(|e| e.to_string())?;
                    if bytes.len() as u64 != len {
                        return Err("it ends inside kept bytes".into());
                    }
                    sum += len;
                    items.push(Item::Bytes(bytes));
                }
                b"F" => {
                    let len = read_u32(&mut input)?;
                    if len == 0 || len > MAX_PATH {
                        return Err(format!("a file path is {len} bytes long"));
                    }
                    let mut path = vec![0u8; len as usize];
                    read_exact(&mut input, &mut path, "a file path")?;
                    let path = PathBuf::from(OsStr::from_bytes(&path));
                    if !path
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
                    {
                        return Err(format!("file path {} leaves the tree", path.display()));
                    }
                    let size = read_u64(&mut input)?;
                    let crc = read_u32(&mut input)?;
                    sum = sum.checked_add(size).ok_or("its sizes overflow")?;
                    items.push(Item::File { path, size, crc });
                }
                b"E" => {
                    let tar_size = read_u64(&mut input)?;
                    let count = read_u64(&mut input)?;
                    if count != items.len() as u64 || tar_size != sum {
                        return Err("its end does not match its items".into());
                    }
                    let mut rest = [0u8; 1];
                    if input.read(&mut rest).map_err(|e| e.to_string())? != 0 {
                        return Err("it goes on after its end".into());
                    }
                    return Ok(Self { items, tar_size });
                }
                other => return Err(format!("unknown item kind {:#04x}", other[0])),
            }
        }
    }
}

fn read_exact(input: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), String> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("it is cut short in {what}"),
        _ => e.to_string(),
    })
}

fn read_u64(input: &mut impl Read) -> Result<u64, String> {
    let mut buf = [0u8; 8];
    read_exact(input, &mut buf, "a number")?;
    Ok(u64::from_le_bytes(buf))
}

fn read_u32(input: &mut impl Read) -> Result<u32, String> {
    let mut buf = [0u8; 4];
    read_exact(input, &mut buf, "a number")?;
    Ok(u32::from_le_bytes(buf))
}

#[cfg(test)]
mod tests;
