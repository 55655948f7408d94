//! BuildKit's golden files for the Dockerfile parser and the shell lexer, read from the shared
//! conformance folder (never copied into the repository): `../../../shared/conformance/buildkit`
//! from this crate, or `$WHARF_CONFORMANCE_DIR` (the conformance folder or its `buildkit`
//! subfolder). Each test runs every case and names each one that fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use wharf_dockerfile::{parse, ShellLexer};

/// The folder with BuildKit's files, or `None` (after saying so) when it is not there.
fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("WHARF_CONFORMANCE_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let nested = dir.join("buildkit");
            if nested.is_dir() {
                nested
            } else {
                dir
            }
        }
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/buildkit"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        report_skip(&dir);
        None
    }
}

#[allow(clippy::print_stderr)]
fn report_skip(dir: &Path) {
    eprintln!(
        "SKIPPED: buildkit conformance files not found at {}",
        dir.display()
    );
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The case folders under `dir`, sorted by name.
fn cases(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    cases.sort();
    cases
}

/// Fails with every failing case listed, or passes when there are none.
fn assert_all_pass(group: &str, total: usize, failures: &[String]) {
    assert!(total > 0, "{group}: no cases found");
    assert!(
        failures.is_empty(),
        "{group}: {} of {total} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parse_trees_match_the_golden_results() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let cases = cases(&dir.join("testfiles"));
    let mut failures = Vec::new();
    for (name, path) in &cases {
        let expected = read(&path.join("result")).replace("\r\n", "\n");
        match parse(&read(&path.join("Dockerfile"))) {
            Ok(dockerfile) if dockerfile.dump() == expected => {}
            Ok(dockerfile) => {
                let actual = dockerfile.dump();
                let difference = actual
                    .lines()
                    .zip(expected.lines())
                    .find(|(actual, expected)| actual != expected)
                    .map_or_else(
                        || {
                            format!(
                                "{} lines, expected {}",
                                actual.lines().count(),
                                expected.lines().count()
                            )
                        },
                        |(actual, expected)| format!("got {actual}, expected {expected}"),
                    );
                failures.push(format!("testfiles/{name}: {difference}"));
            }
            Err(error) => failures.push(format!("testfiles/{name}: {error}")),
        }
    }
    assert_all_pass("testfiles", cases.len(), &failures);
}

#[test]
fn negative_files_are_rejected() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let cases = cases(&dir.join("testfiles-negative"));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, path)| {
            let parsed = parse(&read(&path.join("Dockerfile")));
            parsed
                .ok()
                .map(|_| format!("testfiles-negative/{name}: parsed without error"))
        })
        .collect();
    assert_all_pass("testfiles-negative", cases.len(), &failures);
}

#[test]
fn variables_expand_like_buildkit() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let env: BTreeMap<String, String> = [
        ("PWD", "/home"),
        ("SHELL", "bash"),
        ("KOREAN", "한국어"),
        ("NULL", ""),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let lexer = ShellLexer::new('\\');
    let mut total = 0;
    let mut failures = Vec::new();
    for (index, line) in read(&dir.join("envVarTest")).lines().enumerate() {
        let line_number = index + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        let [platform, input, expected] = parts[..] else {
            failures.push(format!(
                "envVarTest:{line_number}: not `PLATFORM|input|expected`: {line}"
            ));
            continue;
        };
        if platform == "W" {
            continue;
        }
        total += 1;
        match (lexer.process_word(input, &env), expected) {
            (Err(_), "error") => {}
            (Ok(value), expected) if value == expected => {}
            (outcome, expected) => failures.push(format!(
                "envVarTest:{line_number}: {input:?} gave {outcome:?}, expected {expected:?}"
            )),
        }
    }
    assert_all_pass("envVarTest", total, &failures);
}

#[test]
fn words_split_like_buildkit() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let lexer = ShellLexer::new('\\');
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    let mut failures = Vec::new();
    for (index, line) in read(&dir.join("wordsTest")).lines().enumerate() {
        let line_number = index + 1;
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(assignment) = line.strip_prefix("ENV ") {
            let assignment = assignment.trim_start_matches(' ');
            let (key, value) = assignment.split_once('=').unwrap_or((assignment, ""));
            env.insert(key.to_owned(), value.to_owned());
            continue;
        }
        let Some((input, expected)) = line.split_once('|') else {
            failures.push(format!(
                "wordsTest:{line_number}: not `input | words`: {line}"
            ));
            continue;
        };
        total += 1;
        let input = input.trim();
        let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
        let words = lexer
            .process_words(input, &env)
            .unwrap_or_else(|_| vec!["error".to_owned()]);
        if words != expected {
            failures.push(format!(
                "wordsTest:{line_number}: {input:?} gave {words:?}, expected {expected:?}"
            ));
        }
    }
    assert_all_pass("wordsTest", total, &failures);
}
