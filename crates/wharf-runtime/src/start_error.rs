//! Why a container's process could not start, in Docker's words where users know them, each
//! naming the command, path or device at fault, with Docker's exit code
//! ([`StartError::exit_code`]).
//!
//! What can be seen from outside is checked before anything is created: the devices and the
//! working directory ([`crate::run::Container::create`], [`crate::exec()`]). The command is
//! checked where it runs: inside the container, with its mounts and as its user, by the
//! executor ([`crate::filter::FilteringExecutor`]) before libcontainer reports the process
//! ready. libcontainer carries an executor's error to the caller only as text, inside its own
//! messages, so the error travels as JSON behind [`MARKER`] and [`StartError::find`] reads it
//! back from libcontainer's error.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use serde::{Deserialize, Serialize};

/// Precedes the JSON of a [`StartError`] in the text libcontainer carries.
const MARKER: &str = "wharf-start-error:";

/// Why the container's process did not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartError {
    /// Docker's (runc's) wording.
    #[error("exec: \"{command}\": executable file not found in $PATH")]
    NotInPath { command: String },
    /// Docker's (runc's) wording.
    #[error("exec: \"{command}\": stat {path}: no such file or directory")]
    NoSuchFile { command: String, path: PathBuf },
    #[error("exec: \"{command}\": {path} is a directory, not a program")]
    IsDirectory { command: String, path: PathBuf },
    #[error("exec: \"{command}\": permission denied: {path} is not executable")]
    NotExecutable { command: String, path: PathBuf },
    /// The file exists, but the ELF interpreter (dynamic loader) or `#!` interpreter it names
    /// does not: the kernel says ENOENT as if the program were missing.
    #[error("exec: \"{command}\": {path} needs the interpreter {interpreter}, which is missing in the container")]
    MissingInterpreter {
        command: String,
        path: PathBuf,
        interpreter: PathBuf,
    },
    #[error("exec: \"{command}\": {path}: {}", describe(*errno))]
    Exec {
        command: String,
        path: PathBuf,
        errno: i32,
    },
    #[error("chdir to working directory \"{path}\" failed: {}", describe(*errno))]
    WorkingDir { path: PathBuf, errno: i32 },
    /// Docker's (runc's) opening words. `mounted` is a host path, or `tmpfs`.
    #[error("error mounting \"{mounted}\" to rootfs at \"{destination}\": {}", if *source_is_dir { "a directory cannot be mounted on a file" } else { "a file cannot be mounted on a directory" })]
    MountType {
        mounted: String,
        destination: PathBuf,
        source_is_dir: bool,
    },
    /// runc's wording.
    #[error("mount destination \"{destination}\" cannot be mounted because it is inside /proc (it resolves to {resolved})")]
    MountInProc {
        destination: PathBuf,
        resolved: PathBuf,
    },
    /// Docker's wording; the source was there at create, and is gone (or unreadable) now.
    #[error("invalid mount config for type \"bind\": bind source path does not exist: {path} ({})", describe(*errno))]
    BindSource { path: PathBuf, errno: i32 },
    /// Docker's wording.
    #[error("error gathering device information while adding custom device \"{path}\": {}", describe(*errno))]
    Device { path: PathBuf, errno: i32 },
    #[error("error gathering device information while adding custom device \"{path}\": not a device node")]
    NotADevice { path: PathBuf },
}

impl StartError {
    /// Docker's exit code for it: 127 for a command not found, 126 for one that cannot be
    /// run, 125 for the engine's own errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::NotInPath { .. }
            | StartError::NoSuchFile { .. }
            | StartError::MissingInterpreter { .. } => 127,
            StartError::IsDirectory { .. }
            | StartError::NotExecutable { .. }
            | StartError::Exec { .. } => 126,
            StartError::WorkingDir { .. }
            | StartError::MountType { .. }
            | StartError::MountInProc { .. }
            | StartError::BindSource { .. }
            | StartError::Device { .. }
            | StartError::NotADevice { .. } => 125,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StartError::NotInPath { .. } => {
                "check the command's name, or give its absolute path in the container".into()
            }
            StartError::NoSuchFile { .. } => {
                "check the path: it is looked up in the container, not on the host".into()
            }
            StartError::IsDirectory { .. } | StartError::NotExecutable { .. } => {
                "give a program; a file needs an execute bit (chmod +x) to run".into()
            }
            StartError::MissingInterpreter { interpreter, .. } => format!(
                "install {} in the image, or use a program built for it (a program linked against glibc does not run on a musl or static image)",
                interpreter.display()
            ),
            StartError::WorkingDir { .. } => {
                "give --workdir (-w) a directory of the container, or a path where one can be made"
                    .into()
            }
            // Docker's hint.
            StartError::MountType { .. } => "Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type".into(),
            StartError::MountInProc { .. } => {
                "mount the volume or folder somewhere else: /proc is the kernel's".into()
            }
            StartError::BindSource { .. } => {
                "make the folder or file again, or remove the container and create it without that mount".into()
            }
            StartError::Device { .. } | StartError::NotADevice { .. } => {
                "give --device a device node of this host (`ls -l /dev` lists them)".into()
            }
            StartError::Exec { .. } => return None,
        })
    }

    /// The text an executor returns for libcontainer to carry (see the module docs).
    pub(crate) fn to_message(&self) -> String {
        // Serializing a plain enum of strings and numbers cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{self} {MARKER}{json}")
    }

    /// The start error carried in `error` or any of its sources, if one is.
    pub fn find(error: &(dyn std::error::Error + 'static)) -> Option<StartError> {
        let mut next = Some(error);
        while let Some(error) = next {
            let text = error.to_string();
            if let Some(at) = text.find(MARKER) {
                let json = &text[at + MARKER.len()..];
                // libcontainer may append bytes after it (a tenant's error is read into a
                // buffer in chunks): read one value and ignore what follows.
                let mut values = serde_json::Deserializer::from_str(json).into_iter::<StartError>();
                if let Some(Ok(found)) = values.next() {
                    return Some(found);
                }
            }
            next = error.source();
        }
        None
    }

    /// The error for `command` that failed to exec at `path` with `errno`: the precise one
    /// when [`find_program`] sees why, else the errno.
    pub(crate) fn of_exec(command: &str, path_var: Option<&str>, errno: i32) -> StartError {
        match find_program(command, path_var) {
            Err(found) => found,
            Ok(path) => StartError::Exec {
                command: command.to_owned(),
                path,
                errno,
            },
        }
    }
}

/// "no such file or directory": the C library's text for `errno`, as Go and Docker print it.
fn describe(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or(text)
}

/// Finds `command` as the process's exec will (the `PATH` given, Go's `exec.LookPath` as runc
/// uses it) and checks that it can run: a file with an execute bit the caller may use, whose
/// interpreter exists. Returns the program's path. Run inside the container, as its user.
pub(crate) fn find_program(command: &str, path_var: Option<&str>) -> Result<PathBuf, StartError> {
    let path = if command.contains('/') {
        PathBuf::from(command)
    } else {
        path_var
            .unwrap_or_default()
            .split(':')
            .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(command))
            .find(|candidate| {
                fs::metadata(candidate)
                    .is_ok_and(|meta| !meta.is_dir() && meta.permissions().mode() & 0o111 != 0)
            })
            .ok_or_else(|| StartError::NotInPath {
                command: command.to_owned(),
            })?
    };
    let failed = |errno: i32| StartError::Exec {
        command: command.to_owned(),
        path: path.clone(),
        errno,
    };
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StartError::NoSuchFile {
                command: command.to_owned(),
                path,
            })
        }
        Err(e) => return Err(failed(e.raw_os_error().unwrap_or(libc::EIO))),
    };
    if meta.is_dir() {
        return Err(StartError::IsDirectory {
            command: command.to_owned(),
            path,
        });
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(StartError::NotExecutable {
            command: command.to_owned(),
            path,
        });
    }
    if let Err(errno) = rustix::fs::access(&path, rustix::fs::Access::EXEC_OK) {
        return Err(failed(errno.raw_os_error()));
    }
    // An execute-only file cannot be read: the kernel will tell.
    if let Ok(file) = File::open(&path) {
        if let Some(interpreter) = interpreter(&file).filter(|i| !i.exists()) {
            return Err(StartError::MissingInterpreter {
                command: command.to_owned(),
                path,
                interpreter,
            });
        }
    }
    Ok(path)
}

/// The interpreter the kernel loads to run `file`: an ELF program's `PT_INTERP` (its dynamic
/// loader; none for a static program) or a script's `#!` line.
fn interpreter(file: &File) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let read = file.read_at(&mut head, 0).ok()?;
    let head = &head[..read];
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next()?;
        let text = std::str::from_utf8(line).ok()?;
        return text.split_whitespace().next().map(PathBuf::from);
    }
    elf_interpreter(file, head)
}

/// `PT_INTERP` of the ELF file whose first bytes are `head`.
fn elf_interpreter(file: &File, head: &[u8]) -> Option<PathBuf> {
    const PT_INTERP: u32 = 3;
    if head.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = *head.get(5)? == 1;
    let number = |bytes: &[u8]| {
        let push = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        if little {
            bytes.iter().rev().fold(0, push)
        } else {
            bytes.iter().fold(0, push)
        }
    };
    let field = |at: usize, len: usize| head.get(at..at + len).map(number);
    let (table, entry_size, count) = if wide {
        (field(0x20, 8)?, field(0x36, 2)?, field(0x38, 2)?)
    } else {
        (field(0x1c, 4)?, field(0x2a, 2)?, field(0x2c, 2)?)
    };
    let mut entry = vec![0u8; usize::try_from(entry_size).ok()?];
    for index in 0..count {
        file.read_exact_at(&mut entry, table + index * entry_size)
            .ok()?;
        let at = |offset: usize, len: usize| entry.get(offset..offset + len).map(number);
        if at(0, 4)? != u64::from(PT_INTERP) {
            continue;
        }
        let (offset, size) = if wide {
            (at(8, 8)?, at(32, 8)?)
        } else {
            (at(4, 4)?, at(16, 4)?)
        };
        let mut name = vec![0u8; usize::try_from(size.min(4096)).ok()?];
        file.read_exact_at(&mut name, offset).ok()?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        return Some(PathBuf::from(
            String::from_utf8_lossy(&name[..end]).into_owned(),
        ));
    }
    None
}

/// Enters `path` in the process's root, as its user: for a working directory on a mount the
/// caller could not look into ahead (a tmpfs, /proc), made when missing as runc does.
pub(crate) fn enter_working_dir(path: &Path) -> Result<(), StartError> {
    let failed = |errno: Errno| StartError::WorkingDir {
        path: path.to_owned(),
        errno: errno.raw_os_error(),
    };
    match rustix::process::chdir(path) {
        Err(Errno::NOENT) => {
            fs::create_dir_all(path)
                .map_err(|e| failed(Errno::from_io_error(&e).unwrap_or(Errno::NOENT)))?;
            rustix::process::chdir(path).map_err(failed)
        }
        result => result.map_err(failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_travel_through_libcontainer_text() {
        let error = StartError::MissingInterpreter {
            command: "app".into(),
            path: "/usr/bin/app".into(),
            interpreter: "/lib64/ld-linux-x86-64.so.2".into(),
        };
        // As libcontainer wraps it, with the bytes a tenant's buffer may add after it.
        let text = format!("error in executing process : {}\0\0", error.to_message());
        let wrapped = io::Error::other(text);
        assert_eq!(StartError::find(&wrapped), Some(error));
        assert_eq!(
            StartError::find(&io::Error::other("failed to unix syscall")),
            None
        );
    }

    #[test]
    fn messages_name_what_is_at_fault() {
        let missing = StartError::NotInPath {
            command: "nope".into(),
        };
        assert_eq!(
            missing.to_string(),
            "exec: \"nope\": executable file not found in $PATH"
        );
        assert_eq!(missing.exit_code(), 127);
        let cwd = StartError::WorkingDir {
            path: "/proc/self/fd/7".into(),
            errno: libc::ENOTDIR,
        };
        assert_eq!(
            cwd.to_string(),
            "chdir to working directory \"/proc/self/fd/7\" failed: not a directory"
        );
        assert_eq!(cwd.exit_code(), 125);
        let device = StartError::Device {
            path: "/dev/nope".into(),
            errno: libc::ENOENT,
        };
        assert_eq!(
            device.to_string(),
            "error gathering device information while adding custom device \"/dev/nope\": no such file or directory"
        );
    }

    #[test]
    fn programs_are_found_and_checked_as_exec_would() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let write = |name: &str, body: &[u8], mode: u32| {
            let path = bin.join(name);
            fs::write(&path, body).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            path
        };
        let path_var = bin.display().to_string();
        let script = write("script", b"#!/bin/sh\necho hi\n", 0o755);
        assert_eq!(find_program("script", Some(&path_var)), Ok(script));
        let data = write("data", b"text", 0o644);
        assert_eq!(
            find_program("data", Some(&path_var)),
            Err(StartError::NotInPath {
                command: "data".into()
            })
        );
        let as_path = data.display().to_string();
        assert_eq!(
            find_program(&as_path, None),
            Err(StartError::NotExecutable {
                command: as_path.clone(),
                path: data
            })
        );
        let dir_text = bin.display().to_string();
        assert!(matches!(
            find_program(&dir_text, None),
            Err(StartError::IsDirectory { .. })
        ));
        let gone = bin.join("gone").display().to_string();
        assert!(matches!(
            find_program(&gone, None),
            Err(StartError::NoSuchFile { .. })
        ));
        let orphan = write("orphan", b"#!/no/such/shell -e\n", 0o755);
        let orphan_text = orphan.display().to_string();
        assert_eq!(
            find_program(&orphan_text, None),
            Err(StartError::MissingInterpreter {
                command: orphan_text.clone(),
                path: orphan,
                interpreter: "/no/such/shell".into()
            })
        );
    }

    #[test]
    fn an_elf_programs_loader_is_read() {
        // This test binary is a dynamically linked ELF: its loader exists on this host.
        let exe = std::env::current_exe().unwrap();
        let file = File::open(&exe).unwrap();
        let loader = interpreter(&file).expect("a PT_INTERP");
        assert!(loader.is_absolute() && loader.exists(), "{loader:?}");
        // A copy whose loader name is changed (same length) names a missing one.
        let mut bytes = fs::read(&exe).unwrap();
        let name = loader.display().to_string();
        let at = bytes
            .windows(name.len())
            .position(|w| w == name.as_bytes())
            .unwrap();
        let other = format!("/{}", "x".repeat(name.len() - 1));
        bytes[at..at + name.len()].copy_from_slice(other.as_bytes());
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy");
        fs::write(&copy, &bytes).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        let copy_text = copy.display().to_string();
        assert_eq!(
            find_program(&copy_text, None),
            Err(StartError::MissingInterpreter {
                command: copy_text.clone(),
                path: copy,
                interpreter: other.into()
            })
        );
    }
}
