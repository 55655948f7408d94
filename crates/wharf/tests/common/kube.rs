//! Kubernetes manifests in tests: strict schema validation with PyPI's
//! `kubernetes-validate` (installed by scripts/install-kube-validate.sh; skipped loudly when
//! PyPI cannot be reached), and manifests read back as data.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Kubernetes versions every manifest must validate against.
const VERSIONS: &[&str] = &["1.30.0", "1.37.0"];

pub fn validator() -> Option<PathBuf> {
    let script = super::repo_root().join("scripts/install-kube-validate.sh");
    let output = Command::new(&script)
        .output()
        .expect("the install script runs");
    if !output.status.success() {
        super::skip(&format!(
            "kubernetes-validate cannot be installed (PyPI unreachable?): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
        return None;
    }
    Some(PathBuf::from(
        std::env::var_os("WHARF_KUBE_VALIDATE_VENV").unwrap_or("/opt/wharf-kube-validate".into()),
    ))
}

/// Every `*.yaml` under `dir` (a chart's too), validated strictly for each version.
pub fn validate(venv: &Path, dir: &Path) {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && !["Chart.yaml", "kustomization.yaml"]
                    .contains(&path.file_name().unwrap().to_str().unwrap())
            {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    for version in VERSIONS {
        let output = Command::new(venv.join("bin/kubernetes-validate"))
            .args(["--strict", "--quiet", "-k", version])
            .args(&files)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{} fails Kubernetes {version} validation:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A manifest file as data.
pub fn manifest(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{name} in {}: {e}", dir.display()));
    fn convert(yaml: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match yaml {
            Yaml::Integer(n) => Value::from(*n),
            Yaml::String(s) | Yaml::Real(s) => Value::String(s.clone()),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Array(items) => Value::Array(items.iter().map(convert).collect()),
            Yaml::Hash(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), convert(v)))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }
    convert(&yaml_rust2::YamlLoader::load_from_str(&text).unwrap()[0])
}
