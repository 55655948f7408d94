//! What several targets share: tar archives built from a fuzzer-chosen description (random
//! bytes almost never make a header whose checksum holds, so the fuzzer describes entries
//! and this writes their headers), and a sandbox to check that an unpacker stayed inside
//! its root; YAML read back ([`yaml`]); a project's files in one input ([`files`]).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;

pub mod files;
pub mod yaml;

/// A name in an archive. Absolute names point into the sandbox's `outside` folder, so a
/// broken unpacker writes there (where the check sees it), never onto the host.
#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    Text(String),
    /// `..` repeated, then a name: a relative escape.
    Up(u8, String),
    /// The absolute path of `outside/<name>`.
    Outside(String),
    /// A name used by an earlier entry, to build on it (a symlink, then a file below it).
    Earlier(u8, String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Kind {
    File(Vec<u8>),
    Dir,
    Symlink(Name),
    HardLink(Name),
    Fifo,
    CharDevice(u8, u8),
    BlockDevice(u8, u8),
    /// A PAX header for the next entry: `path`, `linkpath` or an xattr.
    Pax(Vec<(PaxKey, Name)>),
    /// Any type flag, with data.
    Other(u8, Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum PaxKey {
    Path,
    LinkPath,
    Size,
    Mtime,
    XattrUser,
    XattrOpaque,
    XattrSecurity,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Entry {
    pub name: Name,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
}

/// A sandbox folder holding the unpacker's `root` and, beside it, `outside/` with one file
/// that must stay as it is. It sits [`DEPTH`] folders deep in a folder of its own, so that
/// `..` escapes land in folders the check sees rather than on the host.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

/// Folders between the process's base and a sandbox; a name with more `..` is defused.
const DEPTH: usize = 12;

fn base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let top = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let mut base = top.join(format!("wharf-fuzz-{}", std::process::id()));
    for level in 0..DEPTH {
        base.push(format!("d{level}"));
    }
    base
}

const MARKER: &[u8] = b"must not change";

impl Sandbox {
    /// In `/dev/shm` where there is one: fsync is free on tmpfs.
    pub fn new() -> Self {
        let base = base();
        fs::create_dir_all(&base).expect("the sandbox's base");
        let dir = tempfile::tempdir_in(&base).expect("a temp folder");
        fs::create_dir(dir.path().join("root")).expect("the root");
        fs::create_dir(dir.path().join("outside")).expect("the outside folder");
        fs::write(dir.path().join("outside/marker"), MARKER).expect("the marker");
        Self { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Panics when anything was written outside the root: a new name beside it, anything
    /// new in `outside/`, or the marker changed or linked to.
    pub fn assert_untouched(&self) {
        for parent in self.dir.path().ancestors().skip(1).take(DEPTH + 1) {
            let names = fs::read_dir(parent).expect("list a sandbox parent").count();
            assert_eq!(names, 1, "something was written in {}", parent.display());
        }
        let mut beside: Vec<_> = fs::read_dir(self.dir.path())
            .expect("list the sandbox")
            .map(|e| e.expect("a sandbox entry").file_name())
            .collect();
        beside.sort();
        assert_eq!(
            beside,
            ["outside", "root"],
            "something was written beside the root"
        );
        let outside: Vec<_> = fs::read_dir(self.outside())
            .expect("list outside")
            .map(|e| e.expect("an outside entry").file_name())
            .collect();
        assert_eq!(
            outside,
            ["marker"],
            "something was written outside the root"
        );
        let marker = self.outside().join("marker");
        let meta = fs::symlink_metadata(&marker).expect("the marker");
        assert!(meta.is_file(), "the marker was replaced");
        assert_eq!(
            meta.nlink(),
            1,
            "the marker was hard-linked from inside the root"
        );
        assert_eq!(meta.mode() & 0o7777, 0o644, "the marker's mode changed");
        assert_eq!(
            fs::read(&marker).expect("the marker"),
            MARKER,
            "the marker changed"
        );
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes `entries` as a tar stream. `outside` is what absolute names point into.
pub fn build_tar(entries: &[Entry], outside: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut earlier: Vec<Vec<u8>> = Vec::new();
    for entry in entries {
        let name = resolve(&entry.name, outside, &earlier);
        let mut header = tar::Header::new_gnu();
        let (type_flag, data, link) = match &entry.kind {
            Kind::File(data) => (b'0', data.clone(), None),
            Kind::Dir => (b'5', Vec::new(), None),
            Kind::Symlink(target) => (b'2', Vec::new(), Some(resolve(target, outside, &earlier))),
            Kind::HardLink(target) => (b'1', Vec::new(), Some(resolve(target, outside, &earlier))),
            Kind::Fifo => (b'6', Vec::new(), None),
            Kind::CharDevice(major, minor) | Kind::BlockDevice(major, minor) => {
                let _ = header.set_device_major(u32::from(*major));
                let _ = header.set_device_minor(u32::from(*minor));
                let flag = if matches!(entry.kind, Kind::CharDevice(..)) {
                    b'3'
                } else {
                    b'4'
                };
                (flag, Vec::new(), None)
            }
            Kind::Pax(records) => (b'x', pax_records(records, outside, &earlier), None),
            Kind::Other(flag, data) => (*flag, data.clone(), None),
        };
        set_bytes(&mut header.as_old_mut().name, &name);
        if let Some(link) = &link {
            set_bytes(&mut header.as_old_mut().linkname, link);
        }
        header.set_entry_type(tar::EntryType::new(type_flag));
        header.set_mode(entry.mode);
        header.set_uid(entry.uid);
        header.set_gid(entry.gid);
        header.set_mtime(entry.mtime);
        header.set_size(data.len() as u64);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&data);
        out.resize(out.len().next_multiple_of(512), 0);
        earlier.push(name);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn resolve(name: &Name, outside: &Path, earlier: &[Vec<u8>]) -> Vec<u8> {
    let path = resolve_unchecked(name, outside, earlier);
    if path.windows(2).filter(|w| w == b"..").count() >= DEPTH {
        return String::from_utf8_lossy(&path)
            .replace("..", "__")
            .into_bytes();
    }
    path
}

fn resolve_unchecked(name: &Name, outside: &Path, earlier: &[Vec<u8>]) -> Vec<u8> {
    match name {
        Name::Text(text) if text.starts_with('/') => {
            format!("{}{text}", outside.display()).into_bytes()
        }
        Name::Text(text) => text.clone().into_bytes(),
        Name::Up(count, rest) => {
            let mut path = "../".repeat(usize::from(*count) % DEPTH);
            path.push_str(rest.trim_start_matches('/'));
            path.into_bytes()
        }
        Name::Outside(rest) => format!("{}/{rest}", outside.display()).into_bytes(),
        Name::Earlier(index, rest) if !earlier.is_empty() => {
            let mut path = earlier[usize::from(*index) % earlier.len()].clone();
            if !rest.is_empty() {
                path.push(b'/');
                path.extend_from_slice(rest.trim_start_matches('/').as_bytes());
            }
            path
        }
        Name::Earlier(_, rest) => rest.clone().into_bytes(),
    }
}

fn pax_records(records: &[(PaxKey, Name)], outside: &Path, earlier: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in records {
        let key = match key {
            PaxKey::Path => "path",
            PaxKey::LinkPath => "linkpath",
            PaxKey::Size => "size",
            PaxKey::Mtime => "mtime",
            PaxKey::XattrUser => "SCHILY.xattr.user.fuzz",
            PaxKey::XattrOpaque => "SCHILY.xattr.trusted.overlay.opaque",
            PaxKey::XattrSecurity => "SCHILY.xattr.security.capability",
        };
        let value = resolve(value, outside, earlier);
        // A record is `<length> <key>=<value>\n`, the length counting itself.
        let body = 1 + key.len() + 1 + value.len() + 1;
        let mut length = body + 1;
        while length.to_string().len() + body != length {
            length = length.to_string().len() + body;
        }
        out.extend_from_slice(format!("{length} {key}=").as_bytes());
        out.extend_from_slice(&value);
        out.push(b'\n');
    }
    out
}

/// Names longer than the field are cut: PAX records carry long ones.
fn set_bytes(field: &mut [u8], bytes: &[u8]) {
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
}
