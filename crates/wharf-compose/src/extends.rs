//! `extends:`, as compose-go's `loader/extends.go` resolves it: the base service (from the
//! same file, or from `file:`, read and interpolated on its own with its relative paths
//! resolved against its own directory) is merged under the service with the usual merge
//! rules, recursively; a loop is an error.

use std::path::{Path, PathBuf};

use crate::discovery::absolute_path;
use crate::error::ComposeError;
use crate::load::{interpolate_document, read_file, Context};
use crate::merge::merge_service;
use crate::tree::{KeyPath, Node, Value};
use crate::{canonical, paths};

/// Resolves every service's `extends` in a file's tree. `file` is the file it was read from;
/// `base_dir` is where a relative `extends.file` is looked for.
pub fn apply(
    document: &mut Node,
    file: &Path,
    base_dir: &Path,
    context: &mut Context,
) -> Result<(), ComposeError> {
    let Some(services) = document.get("services").and_then(Node::as_map) else {
        return Ok(());
    };
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        let services = document
            .get_mut("services")
            .and_then(Node::as_map_mut)
            .map(std::mem::take)
            .unwrap_or_default();
        let mut services = Node::new(Value::Map(services), document.at.clone());
        let result = resolve_service(
            &name,
            &mut services,
            file,
            base_dir,
            context,
            &mut Vec::new(),
        );
        if let (Some(slot), Value::Map(map)) = (document.get_mut("services"), services.value) {
            slot.value = Value::Map(map);
        }
        result?;
    }
    Ok(())
}

/// Resolves `name` in `services` (a map of service trees) in place.
fn resolve_service(
    name: &str,
    services: &mut Node,
    file: &Path,
    base_dir: &Path,
    context: &mut Context,
    chain: &mut Vec<(PathBuf, String)>,
) -> Result<(), ComposeError> {
    let Some(service) = services.get(name) else {
        return Ok(());
    };
    let Some(extends) = service.get("extends").cloned() else {
        return Ok(());
    };
    let path = KeyPath::root()
        .join("services")
        .join(name.to_owned())
        .join("extends");
    let (reference, other_file) = match &extends.value {
        Value::String(reference) => (reference.clone(), None),
        Value::Map(settings) => {
            let reference = settings
                .get("service")
                .and_then(Node::as_str)
                .ok_or_else(|| {
                    ComposeError::invalid(&extends.at, &path, "extends.service is required")
                })?;
            let other = settings
                .get("file")
                .and_then(Node::as_str)
                .map(str::to_owned);
            (reference.to_owned(), other)
        }
        _ => {
            return Err(ComposeError::invalid(
                &extends.at,
                &path,
                "must be a string or a mapping",
            ))
        }
    };

    let link = (file.to_path_buf(), name.to_owned());
    if chain.contains(&link) {
        let mut names: Vec<String> = chain.iter().map(|(_, service)| service.clone()).collect();
        names.push(name.to_owned());
        return Err(ComposeError::invalid(
            &extends.at,
            &path,
            format!("circular reference with extends: {}", names.join(" -> ")),
        ));
    }
    chain.push(link);

    let base = match other_file {
        None => {
            if services.get(&reference).is_none() {
                return Err(ComposeError::invalid(
                    &extends.at,
                    &path,
                    format!(
                        "cannot extend service {name:?} in {}: service {reference:?} not found",
                        file.display()
                    ),
                ));
            }
            resolve_service(&reference, services, file, base_dir, context, chain)?;
            services.get(&reference).cloned()
        }
        Some(other) => {
            let other_path = absolute_path(base_dir, Path::new(&other));
            let mut other_services =
                load_base_file(&other_path, name, &reference, &extends, &path, context)?;
            let other_dir = other_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            resolve_service(
                &reference,
                &mut other_services,
                &other_path,
                &other_dir,
                context,
                chain,
            )?;
            other_services.get(&reference).cloned()
        }
    };
    chain.pop();

    let Some(base) = base else {
        return Ok(());
    };
    let Some(service) = services.get_mut(name) else {
        return Ok(());
    };
    let own = std::mem::replace(service, Node::new(Value::Null, extends.at.clone()));
    let mut merged = merge_service(base, own)?;
    if let Some(map) = merged.as_map_mut() {
        map.remove("extends");
    }
    *service = merged;
    Ok(())
}

/// The services of another file, interpolated, in long syntax, with paths resolved against
/// that file's directory.
fn load_base_file(
    other: &Path,
    name: &str,
    reference: &str,
    extends: &Node,
    path: &KeyPath,
    context: &mut Context,
) -> Result<Node, ComposeError> {
    let mut documents = read_file(other, &context.current_dir)?;
    if documents.is_empty() {
        return Err(ComposeError::invalid(
            &extends.at,
            path,
            format!(
                "cannot extend service {name:?} in {}: no services section",
                other.display()
            ),
        ));
    }
    let mut document = documents.remove(0);
    interpolate_document(&mut document, context)?;
    canonical::canonical(&mut document, &mut context.warnings, !context.interpolate)?;
    let other_dir = other.parent().map(Path::to_path_buf).unwrap_or_default();
    paths::resolve(&mut document, &other_dir, context.home.as_deref());
    let services = document.get("services").cloned().ok_or_else(|| {
        ComposeError::invalid(
            &extends.at,
            path,
            format!(
                "cannot extend service {name:?} in {}: no services section",
                other.display()
            ),
        )
    })?;
    if services.get(reference).is_none() {
        return Err(ComposeError::invalid(
            &extends.at,
            path,
            format!(
                "cannot extend service {name:?}: service {reference:?} not found in {}",
                other.display()
            ),
        ));
    }
    Ok(services)
}
