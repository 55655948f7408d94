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
        (Manager::Pdm, "pdm.lock")
    } else if files.has("Pipfile.lock") {
        (Manager::Pipenv, "Pipfile.lock")
    } else if files.has("requirements.txt") {
        (
            Manager::Requirements {
                folder: files.files().any(|file| file.starts_with("requirements/")),
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
        (
            Manager::Setuptools,
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
