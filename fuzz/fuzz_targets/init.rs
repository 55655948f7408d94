//! `wharf init` over a project folder written from the input (parts `path\ncontent` after
//! NUL bytes: pyproject.toml, Pipfile, requirements files and their `-r` includes,
//! setup.py, manage.py, Procfile, modules...; parts named `@python`, `@port` and `@cmd` are
//! `--python`, `--port` and `--cmd`). Detection reads nothing outside the folder and
//! writes nothing; the same folder gives the same facts; what it renders must be usable:
//! the Dockerfile parses into stages and lints without an error, compose.yaml loads.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use wharf_fuzz::{files, Sandbox};
use wharf_init::{detect, render, Overrides};
use wharf_lint::{lint_dockerfile, Config, Severity};

fuzz_target!(|bytes: &[u8]| {
    let mut overrides = Overrides::default();
    let mut project = Vec::new();
    for (path, content) in files::parts(bytes) {
        let text = String::from_utf8_lossy(&content).trim_end().to_owned();
        match path.as_str() {
            "@python" => overrides.python = Some(text),
            "@port" => overrides.port = text.parse().ok(),
            "@cmd" => overrides.command = Some(text),
            _ => project.push((path, content)),
        }
    }
    let sandbox = Sandbox::new();
    let dir = sandbox.root();
    files::write(&dir, &project);
    let facts = match (detect(&dir, &overrides), detect(&dir, &overrides)) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first, second, "two detections differ");
            first
        }
        (Err(first), Err(second)) => {
            assert!(!first.to_string().trim().is_empty());
            assert_eq!(first.to_string(), second.to_string());
            sandbox.assert_untouched();
            return;
        }
        (first, second) => panic!("one detection fails: {first:?} / {second:?}"),
    };
    sandbox.assert_untouched();
    // One sandbox at a time: each checks that it is alone in its parent.
    drop(sandbox);
    let rendered = render(&facts, "fuzz-password");
    assert_eq!(
        rendered,
        render(&facts, "fuzz-password"),
        "two renders differ"
    );
    let text = |name: &str| {
        rendered
            .iter()
            .find(|file| file.name == name)
            .map(|file| file.text.clone())
            .unwrap_or_else(|| panic!("no {name} rendered"))
    };

    let dockerfile = text("Dockerfile");
    let parsed = wharf_dockerfile::parse(&dockerfile)
        .unwrap_or_else(|e| panic!("the Dockerfile does not parse: {e}\n{facts:?}\n{dockerfile}"));
    for node in &parsed.nodes {
        if let Err(e) = wharf_dockerfile::Instruction::from_node(node) {
            panic!("line {}: {e}\n{facts:?}\n{dockerfile}", node.lines.start);
        }
    }
    wharf_dockerfile::BuildStages::from_dockerfile(&parsed)
        .unwrap_or_else(|e| panic!("no stages: {e}\n{dockerfile}"));
    let errors: Vec<String> = lint_dockerfile(&dockerfile, &Config::default())
        .findings
        .iter()
        .filter(|finding| finding.severity == Severity::Error)
        .map(|finding| format!("{} {} {}", finding.line, finding.rule, finding.message))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{facts:?}\n{dockerfile}");

    // compose.yaml (and .env) beside the Dockerfile, loaded as `wharf compose` would.
    let out = Sandbox::new();
    for file in &rendered {
        std::fs::write(out.root().join(file.name), &file.text).expect("a rendered file");
    }
    let mut options = wharf_compose::LoadOptions::new(out.root(), BTreeMap::new());
    options.project_name = Some("fuzz".into());
    if let Err(e) = wharf_compose::load(&options) {
        panic!(
            "compose.yaml does not load: {e}\n{facts:?}\n{}",
            text("compose.yaml")
        );
    }
    out.assert_untouched();
});
