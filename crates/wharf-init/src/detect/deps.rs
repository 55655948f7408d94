//! The names of the project's dependencies, from whichever files declare them:
//! requirements files, `pyproject.toml` (PEP 621 and Poetry), `Pipfile`, and lock files.
//! Names are normalized as PyPI does (lowercase, `_` and `.` as `-`).

use std::collections::BTreeSet;

use crate::project::ProjectFiles;

pub fn normalize(name: &str) -> String {
    name.trim().to_lowercase().replace(['_', '.'], "-")
}

/// The name at the start of a requirement (`Flask[async]>=3 ; python_version>"3"`).
fn requirement_name(line: &str) -> Option<String> {
    let line = line.split('#').next()?.trim();
    if line.is_empty() || line.starts_with('-') {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(line.len());
    (end > 0).then(|| normalize(&line[..end]))
}

pub fn dependencies(files: &ProjectFiles) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in files.files() {
        let is_requirements = (file.starts_with("requirements") && file.ends_with(".txt"))
            || (file.starts_with("requirements/") && file.ends_with(".txt"));
        if is_requirements {
            if let Some(text) = files.read(file) {
                names.extend(text.lines().filter_map(requirement_name));
            }
        }
    }
    if let Some(text) = files.read("pyproject.toml") {
        names.extend(pyproject_dependencies(&text));
    }
    if let Some(text) = files.read("Pipfile") {
        names.extend(section_keys(&text, &["[packages]"]));
    }
    for lock in ["uv.lock", "poetry.lock", "pdm.lock"] {
        if let Some(text) = files.read(lock) {
            names.extend(text.lines().filter_map(|line| {
                let value = line.strip_prefix("name = \"")?.strip_suffix('"')?;
                Some(normalize(value))
            }));
        }
    }
    names
}

/// `[project] dependencies = [...]` strings and `[tool.poetry.dependencies]` keys.
fn pyproject_dependencies(text: &str) -> Vec<String> {
    let mut names = section_keys(text, &["[tool.poetry.dependencies]"]);
    names.retain(|name| name != "python");
    let mut in_list = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("dependencies") && trimmed.contains('[') {
            in_list = true;
        }
        if in_list {
            for quoted in trimmed.split('"').skip(1).step_by(2) {
                names.extend(requirement_name(quoted));
            }
            if trimmed.ends_with(']') {
                in_list = false;
            }
        }
    }
    names
}

/// The keys of TOML sections (`name = ...` lines up to the next `[`).
pub fn section_keys(text: &str, sections: &[&str]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = sections.contains(&trimmed);
            continue;
        }
        if inside {
            if let Some((key, _)) = trimmed.split_once('=') {
                let key = key.trim().trim_matches('"');
                if !key.is_empty() && !key.starts_with('#') {
                    keys.push(normalize(key));
                }
            }
        }
    }
    keys
}

/// The value of `key = "value"` in a TOML section.
pub fn toml_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == section;
            continue;
        }
        if !inside {
            continue;
        }
        let Some((name, value)) = trimmed.split_once('=') else {
            continue;
        };
        if name.trim() == key {
            return Some(value.trim().trim_matches(['"', '\'']).to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_names() {
        assert_eq!(
            requirement_name("Flask[async]>=3.0 ; python_version > '3'"),
            Some("flask".into())
        );
        assert_eq!(
            requirement_name("psycopg2_binary==2.9"),
            Some("psycopg2-binary".into())
        );
        assert_eq!(requirement_name("-r base.txt"), None);
        assert_eq!(requirement_name("# comment"), None);
    }

    #[test]
    fn pyproject_lists_and_poetry_tables() {
        let text = "[project]\nname = \"x\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn[standard]\",\n]\n[tool.poetry.dependencies]\npython = \"^3.11\"\nDjango = \"^5\"\n";
        let names = pyproject_dependencies(text);
        assert!(
            names.contains(&"fastapi".into())
                && names.contains(&"uvicorn".into())
                && names.contains(&"django".into())
        );
        assert!(!names.contains(&"python".into()));
    }
}
