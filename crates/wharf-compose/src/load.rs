//! The load, step by step, in compose-go's order (`loader/loader.go`): the project name;
//! then for each file: read, interpolate, extends, include, merge into the files before it,
//! canonical long syntax; then defaults, relative paths,
//! normalization, the typed model, profiles, consistency and `env_file`s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wharf_oci::PathIoContext;

use crate::canonical::{canonical, set_defaults};
use crate::discovery::{discover, Discovered, LoadOptions};
use crate::error::ComposeError;
use crate::interpolate::{interpolate, Interpolation};
use crate::merge::merge;
use crate::model::Project;
use crate::reset::{apply_tags, take_tags};
use crate::tree::{KeyPath, Node, Position, Value};
use crate::unicity::enforce_unicity;
use crate::{consistency, decode, extends, include, name, normalize, paths, select};

/// A loaded project, and what compose would have warned about while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
}

/// What one load knows while it reads files.
pub(crate) struct Context {
    pub environment: BTreeMap<String, String>,
    pub interpolate: bool,
    pub home: Option<PathBuf>,
    /// Where the user is: files are named relative to it in errors.
    pub current_dir: PathBuf,
    pub warnings: Vec<String>,
    /// Files being included, outermost first, to name an include cycle.
    pub including: Vec<PathBuf>,
}

/// Loads the project the options point at, as `docker compose config` shows it.
pub fn load(options: &LoadOptions) -> Result<Loaded, ComposeError> {
    let (tree, discovered, mut context, project_name) = load_tree(options)?;
    let mut project = decode::project(&tree, &project_name)?;
    project.working_dir = discovered.working_dir.clone();
    project.compose_files = discovered.files.clone();
    project.environment = context.environment.clone();
    select::resolve_secrets(&mut project);
    select::apply_profiles(&mut project, &profiles(options, &context.environment));
    consistency::check_consistency(&mut project, &tree)?;
    if options.interpolate {
        select::resolve_label_files(&mut project, &context.environment)?;
    }
    if options.resolve_env_files {
        select::resolve_env_files(&mut project, &context.environment)?;
    }
    select::enable_services(&mut project, &options.services)?;
    select::select_services(&mut project, &options.services)?;
    select::drop_unused_resources(&mut project);
    Ok(Loaded {
        project,
        warnings: std::mem::take(&mut context.warnings),
    })
}

/// The merged tree before it is typed: what `config --no-interpolate` prints.
pub fn load_model(options: &LoadOptions) -> Result<(serde_json::Value, Vec<String>), ComposeError> {
    let (tree, _, context, _) = load_tree(options)?;
    Ok((tree.to_json(), context.warnings))
}

/// `--profile`, else `COMPOSE_PROFILES`.
fn profiles(options: &LoadOptions, environment: &BTreeMap<String, String>) -> Vec<String> {
    if !options.profiles.is_empty() {
        return options.profiles.clone();
    }
    environment
        .get("COMPOSE_PROFILES")
        .map(|list| list.split(',').map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default()
}

type Tree = (Node, Discovered, Context, String);

fn load_tree(options: &LoadOptions) -> Result<Tree, ComposeError> {
    let discovered = discover(options)?;
    let mut context = Context {
        environment: discovered.environment.clone(),
        interpolate: options.interpolate,
        home: options.home.clone(),
        current_dir: options.current_dir.clone(),
        warnings: discovered.warnings.clone(),
        including: Vec::new(),
    };
    let project_name = name::project_name(options, &discovered, &mut context)?;
    context
        .environment
        .insert("COMPOSE_PROJECT_NAME".to_owned(), project_name.clone());

    let mut tree = load_files(&discovered.files, &discovered.working_dir, &mut context)?;
    let is_empty = tree.as_map().is_none_or(|map| map.is_empty());
    if is_empty {
        return Err(ComposeError::project("empty compose file"));
    }
    paths::resolve(&mut tree, &discovered.working_dir, context.home.as_deref());
    if options.interpolate {
        normalize::resolve_environment(&mut tree, &context.environment);
    }
    if options.normalize {
        if let Some(map) = tree.as_map_mut() {
            let at = Position::default();
            map.insert(
                "name".into(),
                Node::new(Value::String(project_name.clone()), at),
            );
        }
        // docker compose resolves nothing from the environment when it does not
        // interpolate: variables named without a value stay so.
        let environment = if options.interpolate {
            context.environment.clone()
        } else {
            BTreeMap::new()
        };
        normalize::normalize(&mut tree, &environment);
    }
    Ok((tree, discovered, context, project_name))
}

/// Loads and merges `files` in order; then the spec's defaults. Paths stay relative.
pub(crate) fn load_files(
    files: &[PathBuf],
    working_dir: &Path,
    context: &mut Context,
) -> Result<Node, ComposeError> {
    let mut merged = Node::new(Value::Map(BTreeMap::new()), Position::default());
    for file in files {
        for document in read_file(file, &context.current_dir)? {
            merged = load_document(merged, document, file, working_dir, context)?;
        }
    }
    set_defaults(&mut merged);
    Ok(merged)
}

/// The documents of one compose file, parsed with their lines.
pub(crate) fn read_file(file: &Path, current_dir: &Path) -> Result<Vec<Node>, ComposeError> {
    let text = std::fs::read_to_string(file).at("read", file)?;
    let name: Arc<str> = Arc::from(display_name(file, current_dir).as_str());
    crate::yaml::parse_documents(&text, &name)
}

/// How errors name a file: its path as the user would type it from the project, which is
/// its file name for the usual `compose.yaml` next to the user.
fn display_name(file: &Path, current_dir: &Path) -> String {
    file.strip_prefix(current_dir)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// One document: its own steps, then merged into what came before.
fn load_document(
    merged: Node,
    mut document: Node,
    file: &Path,
    working_dir: &Path,
    context: &mut Context,
) -> Result<Node, ComposeError> {
    if document.as_map().is_none() {
        return Err(ComposeError::invalid(
            &document.at,
            &KeyPath::root(),
            "top-level object must be a mapping",
        ));
    }
    let tags = take_tags(&mut document);
    interpolate_document(&mut document, context)?;
    check_ulimits(&document)?;
    extends::apply(&mut document, file, working_dir, &tags, context)?;
    let mut merged = merged;
    apply_tags(&mut merged, &tags);
    include::apply(&mut document, file, working_dir, context)?;
    let mut merged = merge(merged, document)?;
    enforce_unicity(&mut merged)?;
    if let Some(map) = merged.as_map_mut() {
        if map.remove("version").is_some() {
            context.warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                file.display()
            ));
        }
    }
    canonical(&mut merged, &mut context.warnings, !context.interpolate)?;
    enforce_unicity(&mut merged)?;
    Ok(merged)
}

/// As compose's schema, which checks each file before any merge: a ulimit written as a
/// mapping gives both `soft` and `hard` (an override cannot give one alone).
fn check_ulimits(document: &Node) -> Result<(), ComposeError> {
    let Some(services) = document.get("services").and_then(Node::as_map) else {
        return Ok(());
    };
    for (service, node) in services {
        let Some(ulimits) = node.get("ulimits").and_then(Node::as_map) else {
            continue;
        };
        for (name, limit) in ulimits {
            let Some(fields) = limit.as_map() else {
                continue;
            };
            let path = KeyPath::root()
                .join("services")
                .join(service.clone())
                .join("ulimits")
                .join(name.clone());
            if let Some(unknown) = fields.keys().find(|k| *k != "soft" && *k != "hard") {
                return Err(ComposeError::invalid(
                    &limit.at,
                    &path,
                    format!("unknown key '{unknown}'"),
                )
                .with_hint("a ulimit is a number, or a mapping with `soft` and `hard`"));
            }
            if !(fields.contains_key("soft") && fields.contains_key("hard")) {
                return Err(ComposeError::invalid(
                    &limit.at,
                    &path,
                    "must be a number, or a mapping with both `soft` and `hard`",
                )
                .with_hint(format!("write `{name}: {{soft: N, hard: N}}` in full")));
            }
        }
    }
    Ok(())
}

pub(crate) fn interpolate_document(
    document: &mut Node,
    context: &mut Context,
) -> Result<(), ComposeError> {
    if !context.interpolate {
        return Ok(());
    }
    let environment = context.environment.clone();
    let lookup = move |name: &str| environment.get(name).cloned();
    interpolate(
        document,
        &mut Interpolation {
            lookup: &lookup,
            warnings: &mut context.warnings,
        },
    )
}

#[cfg(test)]
mod tests;
