//! Which dependency manager the project uses: a lock file decides first (it pins what the
//! image installs), then requirements files, then the project metadata alone.

use super::deps::toml_value;
use crate::facts::Manager;
use crate::project::ProjectFiles;

pub fn manager(files: &ProjectFiles) -> Option<(Manager, String)> {
    let pyproject = files.read("pyproject.toml").unwrap_or_default();
    let poetry_table = pyproject.lines().any(|line| line.trim() == "[tool.poetry]");
    let poetry_package =
        toml_value(&pyproject, "[tool.poetry]", "package-mode").as_deref() != Some("false");
    let found = if files.has("uv.lock") {
        (Manager::Uv, "uv.lock")
    } else if files.has("poetry.lock") {
        (
            Manager::Poetry {
                package: poetry_package,
            },
            "poetry.lock",
        )
    } else if files.has("pdm.lock") {
        // As PDM decides: `distribution` when set, else whether a build backend is named.
        let package = match toml_value(&pyproject, "[tool.pdm]", "distribution").as_deref() {
            Some(value) => value == "true",
            None => pyproject
                .lines()
                .any(|line| line.trim() == "[build-system]"),
        };
        (Manager::Pdm { package }, "pdm.lock")
    } else if files.has("Pipfile.lock") {
        (Manager::Pipenv, "Pipfile.lock")
    } else if files.has("requirements.txt") {
        (
            Manager::Requirements {
                files: requirement_files(files, "requirements.txt"),
            },
            "requirements.txt",
        )
    } else if poetry_table {
        (
            Manager::Poetry {
                package: poetry_package,
            },
            "[tool.poetry] in pyproject.toml",
        )
    } else if files.has("Pipfile") {
        (Manager::Pipenv, "Pipfile")
    } else if files.has("pyproject.toml") || files.has("setup.py") {
        let listed = toml_value(&pyproject, "[project]", "dependencies").is_some();
        (
            Manager::Setuptools { listed },
            if files.has("pyproject.toml") {
                "pyproject.toml"
            } else {
                "setup.py"
            },
        )
    } else {
        return None;
    };
    let reason = format!("dependencies: {} (found {})", found.0.name(), found.1);
    Some((found.0, reason))
}

/// `path` and the requirement files it names with `-r`/`-c` (and those they name), relative
/// to the project, in the order found; names that are not in the project are left out.
fn requirement_files(files: &ProjectFiles, path: &str) -> Vec<String> {
    let mut found = vec![path.to_owned()];
    let mut next = 0;
    while next < found.len() {
        let current = found[next].clone();
        next += 1;
        let Some(text) = files.read(&current) else {
            continue;
        };
        let dir = current.rsplit_once('/').map_or("", |(dir, _)| dir);
        for line in text.lines() {
            let line = line.trim();
            let included = ["-r", "--requirement", "-c", "--constraint"]
                .iter()
                .find_map(|flag| line.strip_prefix(flag))
                .map(|rest| rest.trim_start_matches('=').trim());
            let Some(name) = included.filter(|name| !name.is_empty()) else {
                continue;
            };
            let joined = if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            };
            let normalized = normalize(&joined);
            if files.has(&normalized) && !found.contains(&normalized) {
                found.push(normalized);
            }
        }
    }
    found
}

/// `a/./b/../c` → `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}
