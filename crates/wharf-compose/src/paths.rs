//! Relative paths in the tree made absolute against a directory, as compose-go's
//! `paths.ResolveRelativePaths` does: build contexts, env files, bind mount sources,
//! `extends.file`, secret and config files, `include` paths, local volume devices. A `~`
//! at the start is the user's home.

use std::path::Path;

use crate::discovery::absolute_path;
use crate::tree::{KeyPath, Node, Value};

#[derive(Clone, Copy)]
enum Resolver {
    Context,
    Path,
    /// A path that may also be an absolute Windows path, kept as written.
    HostPath,
    BindSource,
    LocalDevice,
}

const RESOLVERS: &[(&str, Resolver)] = &[
    ("services.*.build.context", Resolver::Context),
    ("services.*.build.additional_contexts.*", Resolver::Context),
    ("services.*.build.ssh.*", Resolver::HostPath),
    ("services.*.env_file.*.path", Resolver::Path),
    ("services.*.label_file.*", Resolver::Path),
    ("services.*.extends.file", Resolver::Path),
    ("services.*.develop.watch.*.path", Resolver::Path),
    ("services.*.volumes.*", Resolver::BindSource),
    ("configs.*.file", Resolver::HostPath),
    ("secrets.*.file", Resolver::HostPath),
    ("include.*.path", Resolver::Path),
    ("include.*.project_directory", Resolver::Path),
    ("include.*.env_file", Resolver::Path),
    ("volumes.*", Resolver::LocalDevice),
];

/// Makes the tree's relative paths absolute against `dir`.
pub fn resolve(node: &mut Node, dir: &Path, home: Option<&Path>) {
    walk(node, &KeyPath::root(), dir, home);
}

fn walk(node: &mut Node, path: &KeyPath, dir: &Path, home: Option<&Path>) {
    if let Some(resolver) = path.rule(RESOLVERS) {
        apply(resolver, node, dir, home);
        return;
    }
    match &mut node.value {
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                walk(value, &path.join(key.clone()), dir, home);
            }
        }
        Value::Seq(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(index), dir, home);
            }
        }
        _ => {}
    }
}

fn apply(resolver: Resolver, node: &mut Node, dir: &Path, home: Option<&Path>) {
    match resolver {
        Resolver::Path => absolutize(node, dir, home),
        Resolver::HostPath => absolutize_host_path(node, dir, home),
        Resolver::Context => {
            if let Value::String(context) = &node.value {
                let remote = context.contains("://")
                    || context.starts_with("service:")
                    || [
                        "https://",
                        "http://",
                        "git://",
                        "ssh://",
                        "github.com/",
                        "git@",
                    ]
                    .iter()
                    .any(|prefix| context.starts_with(prefix));
                if !remote {
                    absolutize(node, dir, home);
                }
            }
        }
        Resolver::BindSource => {
            let is_bind = node.get("type").and_then(Node::as_str) == Some("bind");
            if let (true, Some(source)) = (is_bind, node.get_mut("source")) {
                absolutize_host_path(source, dir, home);
            }
        }
        Resolver::LocalDevice => {
            let local = node.get("driver").and_then(Node::as_str) == Some("local");
            let Some(options) = node.get_mut("driver_opts").filter(|_| local) else {
                return;
            };
            let bind = options.get("o").and_then(Node::as_str) == Some("bind");
            if let (true, Some(device)) = (bind, options.get_mut("device")) {
                absolutize_host_path(device, dir, home);
            }
        }
    }
}

/// A string (or each string of a list) made absolute.
fn absolutize(node: &mut Node, dir: &Path, home: Option<&Path>) {
    match &mut node.value {
        Value::String(text) if !text.is_empty() => {
            let expanded = expand_user(text, home);
            // compose-go leaves absolute paths as written and cleans joined ones.
            *text = if Path::new(&expanded).is_absolute() {
                expanded
            } else {
                absolute_path(dir, Path::new(&expanded))
                    .to_string_lossy()
                    .into_owned()
            };
        }
        Value::Seq(items) => {
            for item in items {
                absolutize(item, dir, home);
            }
        }
        _ => {}
    }
}

/// As [`absolutize`], but an absolute Windows path (`C:\\x`, `\\\\server\\share`) stays as
/// written, as compose-go's `maybeUnixPath` keeps it.
/// An empty one is the directory itself.
fn absolutize_host_path(node: &mut Node, dir: &Path, home: Option<&Path>) {
    match node.as_str() {
        Some(path) if is_windows_absolute(path) => {}
        Some("") => node.value = Value::String(dir.display().to_string()),
        _ => absolutize(node, dir, home),
    }
}

fn is_windows_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    let separator = |b: u8| b == b'\\' || b == b'/';
    match bytes {
        [first, second, ..] if separator(*first) && separator(*second) => true,
        [letter, b':', third, ..] => letter.is_ascii_alphabetic() && separator(*third),
        _ => false,
    }
}

/// `~` and `~/x` with the user's home.
fn expand_user(path: &str, home: Option<&Path>) -> String {
    match (path, home) {
        ("~", Some(home)) => home.display().to_string(),
        (path, Some(home)) if path.starts_with("~/") => home.join(&path[2..]).display().to_string(),
        (path, _) => path.to_owned(),
    }
}
