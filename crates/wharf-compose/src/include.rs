//! `include:`, as compose-go's `loader/include.go` does it: each entry is loaded as a
//! project of its own (its own directory, its own `.env`, below the including project's
//! variables), and its services, networks, volumes, secrets and configs are added to the
//! including file; a resource defined differently on both sides is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::discovery::{absolute_path, merge_env_files};
use crate::error::ComposeError;
use crate::load::{load_files, Context};
use crate::tree::{KeyPath, Node, Value};
use crate::{normalize, paths};

const IMPORTED: [&str; 6] = [
    "services", "volumes", "networks", "secrets", "configs", "models",
];

/// Loads the `include` entries of a file's tree into it, then removes `include`.
pub fn apply(
    document: &mut Node,
    file: &Path,
    working_dir: &Path,
    context: &mut Context,
) -> Result<(), ComposeError> {
    let Some(entries) = document.as_map_mut().and_then(|map| map.remove("include")) else {
        return Ok(());
    };
    let path = KeyPath::root().join("include");
    let Value::Seq(entries) = entries.value else {
        return Err(ComposeError::invalid(&entries.at, &path, "must be a list"));
    };
    for (index, entry) in entries.iter().enumerate() {
        let here = path.index(index);
        let imported = load_entry(entry, &here, file, working_dir, context)?;
        import(document, imported, &here)?;
    }
    Ok(())
}

fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
        _ => Vec::new(),
    }
}

fn load_entry(
    entry: &Node,
    path: &KeyPath,
    file: &Path,
    working_dir: &Path,
    context: &mut Context,
) -> Result<Node, ComposeError> {
    let (files, project_directory, env_files) = match &entry.value {
        Value::String(one) => (vec![one.clone()], None, Vec::new()),
        Value::Map(_) => (
            strings(entry.get("path")),
            entry.get("project_directory").and_then(Node::scalar_text),
            strings(entry.get("env_file")),
        ),
        _ => {
            return Err(ComposeError::invalid(
                &entry.at,
                path,
                "must be a string or a mapping",
            ))
        }
    };
    let files: Vec<PathBuf> = files
        .iter()
        .map(|f| absolute_path(working_dir, Path::new(f)))
        .collect();
    let Some(main) = files.first() else {
        return Err(ComposeError::invalid(&entry.at, path, "path is required"));
    };
    let project_dir = match project_directory {
        None => main.parent().map(Path::to_path_buf).unwrap_or_default(),
        Some(dir) => absolute_path(working_dir, Path::new(&dir)),
    };
    let outer = file.to_path_buf();
    if context.including.contains(main) || *main == outer {
        let mut chain: Vec<String> = context
            .including
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        chain.push(outer.display().to_string());
        chain.push(main.display().to_string());
        return Err(ComposeError::invalid(
            &entry.at,
            path,
            format!("include cycle detected:\n{}", chain.join("\n include ")),
        ));
    }

    let env_files: Vec<PathBuf> = if env_files.is_empty() {
        let dot_env = project_dir.join(".env");
        if dot_env.is_file() {
            vec![dot_env]
        } else {
            Vec::new()
        }
    } else {
        env_files
            .iter()
            .map(|f| absolute_path(working_dir, Path::new(f)))
            .collect()
    };
    let mut environment = context.environment.clone();
    merge_env_files(&mut environment, &env_files)?;

    let mut inner = Context {
        environment,
        interpolate: context.interpolate,
        home: context.home.clone(),
        current_dir: context.current_dir.clone(),
        warnings: Vec::new(),
        including: context.including.iter().cloned().chain([outer]).collect(),
    };
    let mut imported = load_files(&files, &project_dir, &mut inner)?;
    paths::resolve(&mut imported, &project_dir, inner.home.as_deref());
    normalize::resolve_environment(&mut imported, &inner.environment);
    context.warnings.append(&mut inner.warnings);
    Ok(imported)
}

/// Adds the imported resources to the file's tree.
fn import(document: &mut Node, imported: Node, path: &KeyPath) -> Result<(), ComposeError> {
    let Value::Map(mut imported) = imported.value else {
        return Ok(());
    };
    let at = document.at.clone();
    let Some(root) = document.as_map_mut() else {
        return Ok(());
    };
    for kind in IMPORTED {
        let Some(Value::Map(resources)) = imported.remove(kind).map(|n| n.value) else {
            continue;
        };
        let target = root
            .entry(kind.to_owned())
            .or_insert_with(|| Node::new(Value::Map(BTreeMap::new()), at.clone()));
        if matches!(target.value, Value::Null) {
            target.value = Value::Map(BTreeMap::new());
        }
        let Value::Map(target) = &mut target.value else {
            continue;
        };
        for (name, resource) in resources {
            match target.get(&name) {
                Some(existing) if existing.to_json() != resource.to_json() => {
                    return Err(ComposeError::invalid(
                        &existing.at,
                        &KeyPath::root().join(kind).join(name.clone()),
                        format!("conflicts with imported resource ({path})"),
                    ));
                }
                Some(_) => {}
                None => {
                    target.insert(name, resource);
                }
            }
        }
    }
    Ok(())
}
