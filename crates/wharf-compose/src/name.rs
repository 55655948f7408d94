//! The project name, by docker compose's precedence: `-p`, then `COMPOSE_PROJECT_NAME`
//! (shell or `.env`), then `name:` in the files (interpolated, normalized), then the project
//! directory's name, normalized.

use crate::discovery::{Discovered, LoadOptions};
use crate::error::ComposeError;
use crate::load::{read_file, Context};
use crate::template::substitute;

/// Lower case, only `a-z`, `0-9`, `_` and `-`, not starting with `_` or `-`: compose's
/// `NormalizeProjectName`.
pub fn normalize_project_name(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

pub(crate) fn project_name(
    options: &LoadOptions,
    discovered: &Discovered,
    context: &mut Context,
) -> Result<String, ComposeError> {
    let imperative = options
        .project_name
        .clone()
        .filter(|name| !name.is_empty())
        .map(|name| (name, "-p"))
        .or_else(|| {
            context
                .environment
                .get("COMPOSE_PROJECT_NAME")
                .filter(|name| !name.is_empty())
                .map(|name| (name.clone(), "COMPOSE_PROJECT_NAME"))
        });
    if let Some((name, source)) = imperative {
        if normalize_project_name(&name) != name {
            return Err(invalid_name(&name).with_hint(format!(
                "give {source} a name such as '{}'",
                normalize_project_name(&name)
            )));
        }
        return Ok(name);
    }

    let mut from_files = String::new();
    for file in &discovered.files {
        for document in read_file(file, &context.current_dir)? {
            if let Some(name) = document.get("name").and_then(|n| n.scalar_text()) {
                if !name.is_empty() {
                    from_files = name;
                }
            }
        }
    }
    let named_in_files = !from_files.is_empty();
    if options.interpolate {
        let lookup = |name: &str| context.environment.get(name).cloned();
        from_files = substitute(&from_files, &lookup, &mut |_| {}).map_err(|error| {
            ComposeError::project(format!("invalid project name {from_files:?}: {error}"))
        })?;
    }
    if options.normalize {
        from_files = normalize_project_name(&from_files);
    }
    let name = if !from_files.is_empty() {
        from_files
    } else if named_in_files {
        String::new()
    } else {
        let folder = discovered
            .working_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        normalize_project_name(&folder)
    };
    if name.is_empty() {
        return Err(ComposeError::project("project name must not be empty")
            .with_hint("name the project with -p NAME or `name:` in the compose file"));
    }
    Ok(name)
}

fn invalid_name(name: &str) -> ComposeError {
    ComposeError::project(format!(
        "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_like_compose() {
        assert_eq!(normalize_project_name("My App"), "myapp");
        assert_eq!(normalize_project_name("__web-1"), "web-1");
        assert_eq!(normalize_project_name("café.v2"), "cafv2");
    }
}
