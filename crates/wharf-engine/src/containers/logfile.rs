//! Docker's json-file log: one JSON object a line (`log`, `stream`, `time`), in
//! `containers/<id>/container.log`, rotated by size into `container.log.1`, `.2`... when
//! `--log-opt max-size` is set (Docker's default: never). `--log-driver none` keeps nothing.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `--log-driver` and `--log-opt`, as given and as understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    pub driver: LogDriver,
    /// Rotate once the file would grow past this many bytes; `None`: never.
    #[serde(default)]
    pub max_size: Option<u64>,
    /// How many files to keep, the one being written included (Docker's default: 1).
    #[serde(default = "one")]
    pub max_file: u32,
    /// The `--log-opt` values as given, for inspect.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

/// A log driver or option wharf cannot use; the caller names where it came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogOptionError {
    #[error("unsupported log driver {0}")]
    Driver(String),
    #[error("max-size={0}: not a size")]
    Size(String),
    #[error("max-file={0}: max-file is a number of files, at least 1")]
    MaxFile(String),
    #[error("unknown log option {key} for the {driver} log driver")]
    Unknown { driver: &'static str, key: String },
}

impl LogOptionError {
    pub fn hint(&self) -> &'static str {
        match self {
            LogOptionError::Driver(_) => "wharf has the json-file (default) and none log drivers",
            LogOptionError::Size(_) => "e.g. max-size=10m (or -1: no limit)",
            LogOptionError::MaxFile(_) => "e.g. max-file=3",
            LogOptionError::Unknown { .. } => {
                "the json-file driver takes max-size and max-file; the none driver takes none"
            }
        }
    }
}

impl LogConfig {
    /// A log driver by Docker's name (empty: the default) and its options
    /// (`max-size`, `max-file` for json-file, as Docker's).
    pub fn parse<'a>(
        driver: &str,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, LogOptionError> {
        let mut config = LogConfig {
            driver: match driver {
                "" | "json-file" => LogDriver::JsonFile,
                "none" => LogDriver::None,
                other => return Err(LogOptionError::Driver(other.to_owned())),
            },
            max_size: None,
            max_file: 1,
            options: BTreeMap::new(),
        };
        for (key, value) in options {
            match (config.driver, key) {
                (LogDriver::JsonFile, "max-size") if value == "-1" => config.max_size = None,
                (LogDriver::JsonFile, "max-size") => {
                    config.max_size = Some(
                        crate::parse_bytes(value)
                            .filter(|&n| n > 0)
                            .ok_or_else(|| LogOptionError::Size(value.to_owned()))?,
                    )
                }
                (LogDriver::JsonFile, "max-file") => {
                    config.max_file = value
                        .parse()
                        .ok()
                        .filter(|&n| n >= 1)
                        .ok_or_else(|| LogOptionError::MaxFile(value.to_owned()))?
                }
                (driver, _) => {
                    return Err(LogOptionError::Unknown {
                        driver: driver.as_str(),
                        key: key.to_owned(),
                    })
                }
            }
            config.options.insert(key.to_owned(), value.to_owned());
        }
        Ok(config)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogDriver {
    #[default]
    JsonFile,
    None,
}

impl LogDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            LogDriver::JsonFile => "json-file",
            LogDriver::None => "none",
        }
    }
}

/// The log the monitor writes; with the `none` driver it keeps nothing.
pub(crate) struct JsonLog {
    path: PathBuf,
    max_size: Option<u64>,
    max_file: u32,
    file: Option<BufWriter<File>>,
    size: u64,
}

impl JsonLog {
    pub(crate) fn open(path: &Path, config: &LogConfig) -> io::Result<Self> {
        let mut log = Self {
            path: path.to_owned(),
            max_size: config.max_size,
            max_file: config.max_file.max(1),
            file: None,
            size: 0,
        };
        if config.driver == LogDriver::JsonFile {
            log.reopen()?;
        }
        Ok(log)
    }

    /// A log that keeps nothing (an `exec -t`'s output goes to the user only).
    pub(crate) fn none() -> Self {
        Self {
            path: PathBuf::new(),
            max_size: None,
            max_file: 1,
            file: None,
            size: 0,
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = file.metadata()?.len();
        self.file = Some(BufWriter::new(file));
        Ok(())
    }

    /// One line of Docker's json-file format; rotates first when it would not fit.
    pub(crate) fn write_entry(&mut self, stream: &str, line: &[u8], time: &str) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        let mut entry = serde_json::to_vec(&serde_json::json!({
            "log": String::from_utf8_lossy(line),
            "stream": stream,
            "time": time,
        }))?;
        entry.push(b'\n');
        let len = entry.len() as u64;
        if self.size > 0 && self.max_size.is_some_and(|max| self.size + len > max) {
            self.rotate()?;
        }
        if let Some(file) = &mut self.file {
            file.write_all(&entry)?;
            self.size += len;
        }
        Ok(())
    }

    /// `container.log.N-1` → `.N` ... `container.log` → `.1`, the oldest dropped (with
    /// `max-file=1`, the log starts over).
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush()?;
        }
        let numbered = |n: u32| numbered_path(&self.path, n);
        if self.max_file > 1 {
            for n in (1..self.max_file - 1).rev() {
                rename_if_exists(&numbered(n), &numbered(n + 1))?;
            }
            rename_if_exists(&self.path, &numbered(1))?;
        } else {
            remove_if_exists(&self.path)?;
        }
        self.reopen()
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

fn numbered_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The rotated files of the log at `path` that exist, oldest first (the file being written
/// itself not included).
pub(crate) fn rotated_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..)
        .map(|n| numbered_path(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["log"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn rotates_by_size_and_keeps_max_file_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let config = LogConfig {
            max_size: Some(200),
            max_file: 3,
            ..LogConfig::default()
        };
        let mut log = JsonLog::open(&path, &config).unwrap();
        for n in 0..20 {
            log.write_entry(
                "stdout",
                format!("line {n:02}").as_bytes(),
                "2026-01-01T00:00:00.000000000Z",
            )
            .unwrap();
        }
        log.flush().unwrap();
        let rotated = rotated_files(&path);
        assert_eq!(
            rotated,
            vec![numbered_path(&path, 2), numbered_path(&path, 1)]
        );
        let mut all: Vec<String> = rotated.iter().flat_map(|p| lines(p)).collect();
        all.extend(lines(&path));
        assert!(all.len() < 20, "the oldest lines were dropped");
        let expected: Vec<String> = (20 - all.len()..20)
            .map(|n| format!("line {n:02}"))
            .collect();
        assert_eq!(
            all, expected,
            "what is kept is in order and ends with the last line"
        );
        for file in rotated.iter().chain([&path]) {
            assert!(std::fs::metadata(file).unwrap().len() <= 200);
        }
    }

    #[test]
    fn the_none_driver_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let config = LogConfig {
            driver: LogDriver::None,
            ..LogConfig::default()
        };
        let mut log = JsonLog::open(&path, &config).unwrap();
        log.write_entry("stdout", b"x\n", "t").unwrap();
        log.flush().unwrap();
        assert!(!path.exists());
    }
}
