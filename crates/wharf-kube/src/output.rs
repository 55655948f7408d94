//! The converted objects as files: plain manifests (one file per object, or one stream),
//! a kustomization around them, or a Helm chart whose templates they are (`helm.rs`).

use serde_json::{json, Value};

use crate::convert::Object;

/// `--format` of `compose bridge convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Kubernetes,
    Kustomize,
    Helm,
}

/// The file name of an object: `<name>-<kind>.yaml`, lowercase.
pub fn file_name(object: &Object) -> String {
    format!("{}-{}.yaml", object.name, object.kind.to_ascii_lowercase())
}

/// One YAML document.
pub fn document(body: &Value) -> String {
    wharf_compose::yaml_text(body)
}

/// All objects as one stream of documents (`-o -`).
pub fn stream(objects: &[Object]) -> String {
    objects
        .iter()
        .map(|o| document(&o.body))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The files of `format`, as (relative path, text), in a stable order.
pub fn files(objects: &[Object], format: Format, project: &str) -> Vec<(String, String)> {
    let manifests = objects.iter().map(|o| (file_name(o), document(&o.body)));
    match format {
        Format::Kubernetes => manifests.collect(),
        Format::Kustomize => {
            let mut files: Vec<(String, String)> = manifests.collect();
            let resources: Vec<String> = objects.iter().map(file_name).collect();
            let kustomization = json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": resources,
            });
            files.push(("kustomization.yaml".into(), document(&kustomization)));
            files
        }
        Format::Helm => crate::helm::chart(objects, project),
    }
}
