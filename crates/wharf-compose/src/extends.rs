//! `extends:`, as compose-go's `loader/extends.go` resolves it: the base service (from the
//! same file, or from `file:`, read and interpolated on its own with its relative paths
//! resolved against its own directory) is merged under the service with the usual merge
//! rules, recursively; a loop is an error.

use std::path::{Path, PathBuf};

use crate::discovery::absolute_path;
use crate::error::ComposeError;
use crate::load::{interpolate_document, read_file, Context};
use crate::merge::merge_service;
use crate::reset::{apply_tags_below, take_tags};
use crate::tree::{KeyPath, Node, Value};
use crate::{canonical, paths};

/// Resolves every service's `extends` in a file's tree. `file` is the file it was read from;
/// `base_dir` is where a relative `extends.file` is looked for; `tags` are the file's
/// `!reset`/`!override` paths, which also drop what a service inherits.
pub fn apply(
    document: &mut Node,
    file: &Path,
    base_dir: &Path,
    tags: &[KeyPath],
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
        let place = Place {
            file,
            dir: base_dir,
            tags,
        };
        let result = resolve_service(&name, &mut services, &place, context, &mut Vec::new());
        if let (Some(slot), Value::Map(map)) = (document.get_mut("services"), services.value) {
            slot.value = Value::Map(map);
        }
        result?;
    }
    Ok(())
}

/// The file a service is defined in: its path, where its `extends.file` is looked for, and
/// its `!reset`/`!override` paths.
struct Place<'a> {
    file: &'a Path,
    dir: &'a Path,
    tags: &'a [KeyPath],
}

/// Resolves `name` in `services` (a map of service trees) in place.
fn resolve_service(
    name: &str,
    services: &mut Node,
    place: &Place<'_>,
    context: &mut Context,
    chain: &mut Vec<(PathBuf, String)>,
) -> Result<(), ComposeError> {
    let file = place.file;
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
            resolve_service(&reference, services, place, context, chain)?;
            services.get(&reference).cloned()
        }
        Some(other) => {
            let other_path = absolute_path(place.dir, Path::new(&other));
            let (mut other_services, other_tags) =
                load_base_file(&other_path, name, &reference, &extends, &path, context)?;
            let other_dir = other_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let other_place = Place {
                file: &other_path,
                dir: &other_dir,
                tags: &other_tags,
            };
            resolve_service(
                &reference,
                &mut other_services,
                &other_place,
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
    // The service's own `!reset`/`!override` keys drop what it would inherit.
    let mut base = base;
    let service_path = KeyPath::root().join("services").join(name.to_owned());
    apply_tags_below(&mut base, &service_path, place.tags);
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
/// that file's directory; and that file's `!reset`/`!override` paths.
fn load_base_file(
    other: &Path,
    name: &str,
    reference: &str,
    extends: &Node,
    path: &KeyPath,
    context: &mut Context,
) -> Result<(Node, Vec<KeyPath>), ComposeError> {
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
    let tags = take_tags(&mut document);
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
    Ok((services, tags))
}
