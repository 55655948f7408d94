//! `wharf lint` of a Dockerfile: every rule (with its shell reader) under the default
//! settings, under a `.hadolint.yaml` (the text before a NUL byte, when there is one) and
//! with every rule on, with and without `# hadolint ignore=` pragmas honored. Findings come
//! sorted, on lines of the file, with a message; pragmas only ever take findings away; the
//! same input gives the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_lint::{lint_dockerfile, Config, Level, Report, Severity, RULES};

fn lint(source: &str, config: &Config) -> Report {
    let report = lint_dockerfile(source, config);
    assert_eq!(report, lint_dockerfile(source, config), "two lints differ");
    let lines = source.lines().count().max(1);
    let mut previous = 0;
    for finding in &report.findings {
        assert!(
            (1..=lines + 1).contains(&finding.line),
            "{finding:?} is not on a line of the {lines}"
        );
        assert!(finding.line >= previous, "findings out of order");
        previous = finding.line;
        assert!(
            !finding.message.trim().is_empty(),
            "{finding:?} says nothing"
        );
        assert!(
            finding.rule == "DL1000" || RULES.iter().any(|rule| rule.code == finding.rule),
            "{finding:?} of an unknown rule"
        );
    }
    report
}

fuzz_target!(|bytes: &[u8]| {
    let (config_text, dockerfile) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (Some(&bytes[..at]), &bytes[at + 1..]),
        None => (None, bytes),
    };
    let source = String::from_utf8_lossy(dockerfile);
    let mut configs = vec![Config::default()];
    if let Some(text) = config_text {
        match Config::from_yaml(&String::from_utf8_lossy(text), ".hadolint.yaml") {
            Ok(config) => configs.push(config),
            Err(error) => assert!(!error.to_string().trim().is_empty()),
        }
    }
    configs.push(Config {
        overrides: RULES
            .iter()
            .map(|rule| (rule.code.to_owned(), Level::Severity(Severity::Style)))
            .collect(),
        strict_labels: true,
        trusted_registries: vec!["docker.io".into()],
        ..Config::default()
    });
    for config in configs {
        let honored = lint(&source, &config);
        let all = lint(
            &source,
            &Config {
                disable_ignore_pragma: true,
                ..config
            },
        );
        for finding in &honored.findings {
            assert!(
                all.findings.contains(finding),
                "{finding:?} only when pragmas are honored"
            );
        }
    }
});
