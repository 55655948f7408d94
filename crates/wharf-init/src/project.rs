//! The project's files as detection sees them: the relative paths of a bounded walk (tools'
//! folders and virtual environments left out) and their text on demand.

use std::path::{Path, PathBuf};

use crate::error::InitError;

/// Folders no detection looks into.
const SKIPPED: &[&str] = &[
    ".git",
    ".hg",
    ".venv",
    "venv",
    "env",
    ".env",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    "build",
    "dist",
    ".idea",
    ".vscode",
    "htmlcov",
];

/// How deep the walk goes: apps live near the top.
const MAX_DEPTH: usize = 4;

pub struct ProjectFiles {
    root: PathBuf,
    /// Relative paths with `/`, sorted.
    files: Vec<String>,
}

impl ProjectFiles {
    pub fn scan(root: &Path) -> Result<Self, InitError> {
        let mut files = Vec::new();
        walk(root, "", 0, &mut files)?;
        files.sort();
        Ok(Self {
            root: root.to_owned(),
            files,
        })
    }

    pub fn has(&self, path: &str) -> bool {
        self.files
            .binary_search_by(|file| file.as_str().cmp(path))
            .is_ok()
    }

    /// The text of a file, `None` when it is absent or not UTF-8.
    pub fn read(&self, path: &str) -> Option<String> {
        if !self.has(path) {
            return None;
        }
        std::fs::read_to_string(self.root.join(path)).ok()
    }

    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str)
    }

    /// The project's own Python modules: not tests, migrations or settings of tools.
    pub fn python_modules(&self) -> impl Iterator<Item = &str> {
        self.files().filter(|file| {
            file.ends_with(".py")
                && !file.split('/').any(|part| {
                    matches!(part, "tests" | "test" | "migrations" | "docs")
                        || part.starts_with("test_")
                })
                && !file.ends_with("conftest.py")
                && !file.ends_with("setup.py")
        })
    }
}

fn walk(root: &Path, prefix: &str, depth: usize, files: &mut Vec<String>) -> Result<(), InitError> {
    let dir = root.join(prefix);
    let entries = std::fs::read_dir(&dir).map_err(InitError::at("read", &dir))?;
    for entry in entries {
        let entry = entry.map_err(InitError::at("read", &dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if depth + 1 < MAX_DEPTH
                && !SKIPPED.contains(&name.as_str())
                && !name.ends_with(".egg-info")
            {
                walk(root, &path, depth + 1, files)?;
            }
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}
