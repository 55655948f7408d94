//! Atomic and durable file replacement: write a temp file in the same folder, fsync, rename,
//! fsync the folder. Readers see the old content or the new, never a mix, and once it returns
//! the new content survives a power cut (the folder's fsync makes the rename durable). The one
//! way wharf writes a record that must survive one: the engine's records use it too.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::error::{IoResultExt, Result};

pub fn write_file_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .expect("atomic writes target a file inside a folder");
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .at("create a temp file in", dir)?;
    temp.write_all(bytes).at("write", temp.path())?;
    temp.as_file().sync_all().at("fsync", temp.path())?;
    temp.persist(path)
        .map_err(|e| e.error)
        .at("rename into place", path)?;
    sync_dir(dir)
}

/// Makes the entries of `dir` (a file created, renamed or removed in it) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .at("fsync directory", dir)
}
