//! `!reset` and `!override` in a later file: [`take_tags`] drops `!reset` values from the
//! file and lists the paths of both kinds; [`apply_tags`] removes those paths from what the
//! earlier files said, so that the later file's value (or nothing) stands alone.

use crate::tree::{KeyPath, Node, Tag, Value};

/// Removes `!reset` values from a file's tree and returns the paths of its `!reset` and
/// `!override` values.
pub fn take_tags(node: &mut Node) -> Vec<KeyPath> {
    let mut paths = Vec::new();
    collect_tags(node, &KeyPath::root(), &mut paths);
    paths
}

fn collect_tags(node: &mut Node, path: &KeyPath, paths: &mut Vec<KeyPath>) {
    match &mut node.value {
        Value::Map(map) => map.retain(|key, value| keep(value, path.join(key.clone()), paths)),
        Value::Seq(items) => {
            let mut index = 0;
            items.retain_mut(|item| {
                index += 1;
                keep(item, path.index(index - 1), paths)
            });
        }
        _ => {}
    }
}

/// Records a tagged value's path; whether the value stays in the file (`!reset` ones go).
fn keep(value: &mut Node, here: KeyPath, paths: &mut Vec<KeyPath>) -> bool {
    match value.tag {
        Some(Tag::Reset) => {
            paths.push(here);
            false
        }
        Some(Tag::Override) => {
            paths.push(here);
            true
        }
        None => {
            collect_tags(value, &here, paths);
            true
        }
    }
}

/// Removes from `base` (what earlier files said) every map entry at one of `paths`.
pub fn apply_tags(base: &mut Node, paths: &[KeyPath]) {
    if paths.is_empty() {
        return;
    }
    remove_paths(base, &KeyPath::root(), paths);
}

/// As [`apply_tags`], for a node found at `at` in its file.
pub fn apply_tags_below(node: &mut Node, at: &KeyPath, paths: &[KeyPath]) {
    remove_paths(node, at, paths);
}

fn remove_paths(node: &mut Node, path: &KeyPath, paths: &[KeyPath]) {
    if let Value::Map(map) = &mut node.value {
        map.retain(|key, value| {
            let here = path.join(key.clone());
            if paths.contains(&here) {
                return false;
            }
            remove_paths(value, &here, paths);
            true
        });
    }
}
