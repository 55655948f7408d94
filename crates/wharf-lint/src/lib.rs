//! Lint rules for Dockerfiles and compose projects. Dockerfile rules use hadolint's ids and
//! behaviour where hadolint has the rule (with its exemptions, `# hadolint ignore=` comments
//! and `.hadolint.yaml` settings), BuildKit's check names where only BuildKit has it (and
//! honor `# check=skip=...;error=true`), and `WP...` ids for wharf's Python-aware rules;
//! compose rules have `WC...` ids. Rules read text and models they are given and touch no
//! files; findings come back as values for the caller to print.
//!
//! ```
//! let config = wharf_lint::Config::default();
//! let report = wharf_lint::lint_dockerfile("FROM python\nRUN pip install flask\n", &config);
//! let rules: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
//! assert!(rules.contains(&"DL3006") && rules.contains(&"DL3013"));
//! ```

mod compose;
mod config;
mod dockerfile;
mod error;
mod finding;
mod pragmas;
mod rules;
mod shell;

pub use compose::{lint_compose, COMPOSE_RULES};
pub use config::Config;
pub use error::LintError;
pub use finding::{Finding, Level, Severity};
pub use rules::{Rule, RULES};

use dockerfile::{File, Item};
use pragmas::Pragmas;
use wharf_dockerfile::{Dockerfile, Instruction};

/// What linting a Dockerfile found, and what its `# check=` directive asks of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// `# check=skip=all`: no checks during a build.
    pub checks_off: bool,
}

/// hadolint's id for a Dockerfile it cannot parse.
const PARSE_ERROR: &str = "DL1000";

/// Lints a Dockerfile's text with every rule.
pub fn lint_dockerfile(source: &str, config: &Config) -> Report {
    let parsed = match wharf_dockerfile::parse(source) {
        Ok(parsed) => parsed,
        Err(error) => {
            return Report {
                findings: vec![parse_error(error.line().unwrap_or(1), &error)],
                checks_off: false,
            }
        }
    };
    let checks_off = parsed
        .directives
        .check
        .as_ref()
        .is_some_and(|check| check.skip_all);
    Report {
        findings: run(source, &parsed, config, RULES),
        checks_off,
    }
}

#[cfg(test)]
pub(crate) fn lint_with(source: &str, config: &Config, rules: &[&Rule]) -> Vec<Finding> {
    let parsed = wharf_dockerfile::parse(source).expect("test Dockerfiles parse");
    run(source, &parsed, config, rules)
}

fn parse_error(line: usize, error: &wharf_dockerfile::Error) -> Finding {
    // The finding has the line already.
    let message = match error {
        wharf_dockerfile::Error::AtLine { kind, .. } => kind.to_string(),
        other => other.to_string(),
    };
    Finding {
        message,
        ..parse_error_at(line)
    }
}

fn parse_error_at(line: usize) -> Finding {
    Finding {
        line,
        column: 1,
        rule: PARSE_ERROR,
        severity: Severity::Error,
        message: String::new(),
        fix: "fix the syntax so that the Dockerfile parses",
        buildkit: None,
    }
}

/// `PORT`, `PORT-PORT`, either with `/PROTOCOL`, or a variable: what EXPOSE takes (hadolint
/// refuses the rest, BuildKit warns about `HOST:PORT` as `ExposeInvalidFormat`).
fn is_port_spec(spec: &str) -> bool {
    if spec.contains('$') {
        return true;
    }
    let ports = spec.split('/').next().unwrap_or_default();
    !ports.is_empty()
        && ports
            .split('-')
            .all(|port| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
}

/// The rules' view of a parsed Dockerfile, and the instructions it could not type.
pub(crate) fn build_file<'a>(
    source: &'a str,
    parsed: &'a Dockerfile,
    config: &'a Config,
) -> (File<'a>, Vec<Finding>) {
    let mut items = Vec::new();
    let mut invalid = Vec::new();
    for node in &parsed.nodes {
        // BuildKit refuses these triggers; hadolint parses them and reports DL3043.
        let forbidden_trigger = matches!(&node.args, wharf_dockerfile::Arguments::Trigger(trigger)
            if matches!(trigger.keyword().as_str(), "onbuild" | "from" | "maintainer"));
        if forbidden_trigger {
            continue;
        }
        match Instruction::from_node(node) {
            Ok(Instruction::Expose(ports)) if ports.iter().any(|port| !is_port_spec(port)) => {
                let port = ports
                    .iter()
                    .find(|port| !is_port_spec(port))
                    .expect("found");
                invalid.push(Finding {
                    message: format!(
                        "invalid port `{port}` in EXPOSE: write PORT[-PORT][/PROTOCOL]"
                    ),
                    buildkit: Some("ExposeInvalidFormat"),
                    ..parse_error_at(node.lines.start)
                });
            }
            Ok(instruction) => items.push(Item::new(node, instruction)),
            Err(error) => invalid.push(parse_error(node.lines.start, &error)),
        }
    }
    let file = File {
        items,
        source,
        parsed,
        config,
    };
    (file, invalid)
}

fn run(source: &str, parsed: &Dockerfile, config: &Config, rules: &[&Rule]) -> Vec<Finding> {
    let (file, mut findings) = build_file(source, parsed, config);
    // As hadolint does, a file that does not parse gets its parse errors only.
    if !findings.is_empty() {
        return findings;
    }
    let from_lines: Vec<usize> = file
        .items
        .iter()
        .filter(|item| item.is_from())
        .map(|item| item.line)
        .collect();
    let pragmas = Pragmas::read(source, &from_lines);
    let check = parsed.directives.check.clone().unwrap_or_default();
    for rule in rules {
        let severity = match config.overrides.get(rule.code) {
            Some(Level::Ignore) => continue,
            Some(Level::Severity(severity)) => *severity,
            None if rule.off_by_default() => continue,
            None => rule.severity,
        };
        if config.ignored.iter().any(|ignored| ignored == rule.code) {
            continue;
        }
        let buildkit_skipped = rule
            .buildkit
            .is_some_and(|name| check.skip_all || check.skip.iter().any(|skipped| skipped == name));
        if buildkit_skipped || check.skip.iter().any(|skipped| skipped == rule.code) {
            continue;
        }
        let severity = if check.error && rule.buildkit.is_some() {
            Severity::Error
        } else {
            severity
        };
        for hit in (rule.check)(&file) {
            if !config.disable_ignore_pragma && pragmas.ignores(rule.code, hit.line) {
                continue;
            }
            findings.push(Finding {
                line: hit.line,
                column: 1,
                rule: rule.code,
                severity,
                message: hit.detail.unwrap_or_else(|| rule.message.to_owned()),
                fix: rule.fix,
                buildkit: rule.buildkit,
            });
        }
    }
    findings.sort_by_key(|finding| finding.line);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(source: &str, config: &Config) -> Vec<(usize, &'static str, Severity)> {
        lint_dockerfile(source, config)
            .findings
            .into_iter()
            .map(|finding| (finding.line, finding.rule, finding.severity))
            .collect()
    }

    #[test]
    fn config_ignores_and_overrides() {
        let source = "FROM python:3.12\nRUN pip install flask\n";
        let config = Config::from_yaml(
            "ignored: [DL3013]\noverride:\n  error: [DL3042]\n  none: [WP002]\n",
            "c",
        )
        .unwrap();
        assert_eq!(rules(source, &config), [(2, "DL3042", Severity::Error)]);
    }

    #[test]
    fn pragmas_silence_the_next_line() {
        let source =
            "FROM python:3.12\n# hadolint ignore=DL3013,DL3042\nRUN pip install flask\nUSER 1\n";
        assert!(rules(source, &Config::default()).is_empty());
        let config = Config {
            disable_ignore_pragma: true,
            ..Config::default()
        };
        assert_eq!(rules(source, &config).len(), 2);
    }

    #[test]
    fn check_directive_skips_and_raises_buildkit_checks() {
        let source = "# check=skip=JSONArgsRecommended\nFROM a:1\nUSER 1\nCMD run\nMAINTAINER me\n";
        assert_eq!(
            rules(source, &Config::default()),
            [(5, "DL4000", Severity::Error)]
        );
        let source = "# check=error=true\nFROM a:1\nUSER 1\nENV A 1\n";
        assert_eq!(
            rules(source, &Config::default()),
            [(4, "LegacyKeyValueFormat", Severity::Error)]
        );
        let report = lint_dockerfile(
            "# check=skip=all\nFROM a:1\nUSER 1\nCMD run\n",
            &Config::default(),
        );
        assert!(report.checks_off && report.findings.is_empty());
    }

    #[test]
    fn unparsable_files_are_one_error() {
        let report = lint_dockerfile("FROM a:1\nRUN\n", &Config::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(
            (report.findings[0].rule, report.findings[0].line),
            ("DL1000", 2)
        );
        let report = lint_dockerfile("FROM a\nEXPOSE 8000:8000\n", &Config::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(
            report.findings[0].message,
            "invalid port `8000:8000` in EXPOSE: write PORT[-PORT][/PROTOCOL]"
        );
        let report = lint_dockerfile("", &Config::default());
        assert_eq!(report.findings[0].rule, "DL1000");
    }
}
