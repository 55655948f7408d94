//! The mount table of this process's mount namespace (/proc/self/mountinfo), for the
//! store's cleanups and the engine's `system reset`.

use std::path::PathBuf;

use crate::error::{IoResultExt, Result};

/// Every mount point of this mount namespace, as mountinfo lists them.
pub fn mount_points() -> Result<Vec<PathBuf>> {
    let path = "/proc/self/mountinfo";
    let table = std::fs::read_to_string(path).at("read", path)?;
    Ok(table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mount_path)
        .collect())
}

/// A mount point as mountinfo writes it: space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(field: &str) -> PathBuf {
    let raw = field.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let octal = raw.get(i + 1..i + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (raw[i], octal) {
            (b'\\', Some(byte)) => {
                bytes.push(byte);
                i += 4;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    let path: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(bytes);
    path.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(
            unescape_mount_path(r"/tmp/a\040b/c\134d/merged"),
            PathBuf::from("/tmp/a b/c\\d/merged")
        );
        assert_eq!(
            unescape_mount_path(r"/tmp/a\040b\134c"),
            PathBuf::from("/tmp/a b\\c")
        );
        assert_eq!(unescape_mount_path("/plain"), PathBuf::from("/plain"));
        assert_eq!(unescape_mount_path(r"/plain\x"), PathBuf::from(r"/plain\x"));
    }
}
