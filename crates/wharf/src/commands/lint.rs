//! `wharf lint [PATH...]`: Dockerfiles and compose files through `wharf-lint`'s rules.
//! `-` reads a Dockerfile from stdin. Folders are searched for Dockerfiles (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`,
//! `Containerfile`) and compose files. A `.hadolint.yaml` (from `--config`, the current
//! folder or the first PATH's folder) is honored as hadolint honors it.
//!
//! Output is `file:line:col severity rule message` and a `fix:` line, or `--format json`
//! (a list), `sarif`, or a template over the rows. The exit code is 1 when a finding
//! reaches the failure threshold (errors by default).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};
use wharf_compose::{load, LoadOptions};
use wharf_lint::{Config, Finding, Level, Severity};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::LintArgs;
use crate::printer::Printer;

/// Folders never searched: tools' caches, environments and VCS data.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".mypy_cache",
];

const COMPOSE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// The findings of one file.
pub(crate) struct Linted {
    pub file: String,
    pub findings: Vec<Finding>,
}

pub fn lint(printer: Printer, args: LintArgs) -> CommandResult {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for path in &paths {
        collect(path, &mut files)?;
    }
    if files.is_empty() {
        return Err(CommandError::new(
            format!(
                "no Dockerfile or compose file in {}",
                paths
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some("name the files, e.g. wharf lint Dockerfile compose.yaml"),
        ));
    }
    let mut config = read_config(args.config.as_deref(), &paths[0])?;
    config.ignored.extend(args.ignored.iter().cloned());
    let threshold = match &args.failure_threshold {
        Some(text) => text.parse::<Level>().map_err(|()| {
            CommandError::new(
                format!("--failure-threshold {text}: unknown level"),
                Some("use error, warning, info, style or none"),
            )
        })?,
        None => config
            .failure_threshold
            .unwrap_or(Level::Severity(Severity::Error)),
    };
    let linted: Vec<Linted> = files
        .iter()
        .map(|(path, kind)| lint_file(path, *kind, &config))
        .collect::<Result<_, _>>()?;
    match args.format.as_deref() {
        None | Some("text") => print_text(&printer, &linted),
        Some("json") => printer.data(Value::Array(rows(&linted)).to_string()),
        Some("sarif") => printer.data(sarif(&linted).to_string()),
        Some(template) => {
            let format = parse_format(Some(template))?;
            let columns = [
                ("FILE", "file"),
                ("LINE", "line"),
                ("SEVERITY", "severity"),
                ("RULE", "rule"),
                ("MESSAGE", "message"),
            ];
            print_rows(&printer, &format, &columns, &rows(&linted))?;
        }
    }
    let failed = linted
        .iter()
        .flat_map(|file| &file.findings)
        .any(|finding| threshold.reached_by(finding.severity));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dockerfile,
    Compose,
}

fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if COMPOSE_NAMES.contains(&lower.as_str())
        || ((lower.starts_with("compose.") || lower.starts_with("docker-compose."))
            && (lower.ends_with(".yaml") || lower.ends_with(".yml")))
    {
        Some(Kind::Compose)
    } else if lower == "dockerfile"
        || lower == "containerfile"
        || lower.ends_with(".dockerfile")
        || lower.starts_with("dockerfile.")
    {
        Some(Kind::Dockerfile)
    } else {
        None
    }
}

/// Files named on the command line are linted whatever their name (a Dockerfile unless
/// named like a compose file); folders are searched.
fn collect(path: &Path, files: &mut Vec<(PathBuf, Kind)>) -> Result<(), CommandError> {
    if path.as_os_str() == "-" {
        files.push((path.to_owned(), Kind::Dockerfile));
        return Ok(());
    }
    let metadata = std::fs::metadata(path).map_err(|error| {
        CommandError::new(
            format!("cannot read {}: {error}", path.display()),
            Some("give a Dockerfile, a compose file or a folder"),
        )
    })?;
    if !metadata.is_dir() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        files.push((path.to_owned(), kind_of(&name).unwrap_or(Kind::Dockerfile)));
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            CommandError::new(format!("cannot list {}: {error}", path.display()), None)
        })?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if path == Path::new(".") {
            PathBuf::from(&name)
        } else {
            path.join(&name)
        };
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                collect(&child, files)?;
            }
        } else if let Some(kind) = kind_of(&name) {
            files.push((child, kind));
        }
    }
    Ok(())
}

/// `--config`, else `.hadolint.yaml` (or `.yml`) in the current folder, else beside the
/// first PATH, else where hadolint looks in the user's home.
fn read_config(given: Option<&Path>, first: &Path) -> Result<Config, CommandError> {
    let folder = if first.is_dir() {
        first.to_owned()
    } else {
        first.parent().map(Path::to_owned).unwrap_or_default()
    };
    let candidates: Vec<PathBuf> = match given {
        Some(path) => vec![path.to_owned()],
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            let config_home = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|home| home.join(".config")));
            [Path::new("."), folder.as_path()]
                .iter()
                .flat_map(|dir| [dir.join(".hadolint.yaml"), dir.join(".hadolint.yml")])
                .chain(config_home.map(|dir| dir.join("hadolint.yaml")))
                .chain(home.map(|home| home.join(".hadolint.yaml")))
                .collect()
        }
    };
    for path in candidates {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return Config::from_yaml(&text, &path.display().to_string())
                    .map_err(|error| CommandError::new(error.to_string(), error.hint().as_deref()))
            }
            Err(error) if given.is_some() => {
                return Err(CommandError::new(
                    format!("--config {}: {error}", path.display()),
                    None,
                ))
            }
            Err(_) => {}
        }
    }
    Ok(Config::default())
}

fn lint_file(path: &Path, kind: Kind, config: &Config) -> Result<Linted, CommandError> {
    let file = path.display().to_string();
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|error| CommandError::new(format!("cannot read {file}: {error}"), None))?;
    let findings = match kind {
        Kind::Dockerfile => wharf_lint::lint_dockerfile(&text, config).findings,
        Kind::Compose => lint_compose_file(path, &text)?,
    };
    Ok(Linted { file, findings })
}

fn lint_compose_file(path: &Path, text: &str) -> Result<Vec<Finding>, CommandError> {
    let current_dir = std::env::current_dir().map_err(|error| {
        CommandError::new(format!("cannot read the current directory: {error}"), None)
    })?;
    let mut options = LoadOptions::new(current_dir, std::env::vars().collect());
    options.files = vec![path.to_owned()];
    options.home = std::env::var_os("HOME").map(PathBuf::from);
    let project = load(&options).map_err(CommandError::from)?.project;
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_ascii_lowercase();
    let production = !["override", "dev", "local", "debug"]
        .iter()
        .any(|word| name.contains(word));
    Ok(wharf_lint::lint_compose(&project, text, production))
}

fn rows(linted: &[Linted]) -> Vec<Value> {
    linted
        .iter()
        .flat_map(|file| {
            file.findings
                .iter()
                .map(|finding| finding.to_row(&file.file))
        })
        .collect()
}

fn print_text(printer: &Printer, linted: &[Linted]) {
    for file in linted {
        for finding in &file.findings {
            printer.data(format!(
                "{}:{}:{} {} {} {}",
                file.file,
                finding.line,
                finding.column,
                finding.severity,
                finding.rule,
                finding.message
            ));
            printer.data(format!("  fix: {}", finding.fix));
        }
    }
}

/// SARIF 2.1.0 for code scanning: one run, the rules that fired, one result per finding.
fn sarif(linted: &[Linted]) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut results = Vec::new();
    for file in linted {
        for finding in &file.findings {
            if seen.insert(finding.rule) {
                rules.push(json!({
                    "id": finding.rule,
                    "shortDescription": {"text": finding.message},
                    "help": {"text": finding.fix},
                }));
            }
            let level = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info | Severity::Style => "note",
            };
            results.push(json!({
                "ruleId": finding.rule,
                "level": level,
                "message": {"text": format!("{} (fix: {})", finding.message, finding.fix)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": file.file},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }}],
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wharf lint",
                "informationUri": "https://github.com/hadolint/hadolint#rules",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// The findings of a Dockerfile that a build shows: warnings and errors, unless the
/// Dockerfile says `# check=skip=all`.
pub(crate) fn build_findings(text: &str, context: &Path) -> Vec<Finding> {
    let config = [".hadolint.yaml", ".hadolint.yml"]
        .iter()
        .find_map(|name| std::fs::read_to_string(context.join(name)).ok())
        .and_then(|text| Config::from_yaml(&text, ".hadolint.yaml").ok())
        .unwrap_or_default();
    let report = wharf_lint::lint_dockerfile(text, &config);
    if report.checks_off {
        return Vec::new();
    }
    report
        .findings
        .into_iter()
        .filter(|finding| finding.severity <= Severity::Warning)
        .collect()
}

/// Docker's block at the end of a build: ` N warnings found:` and one line each.
pub(crate) fn print_build_findings(printer: &Printer, file: &str, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let plural = if findings.len() == 1 { "" } else { "s" };
    printer.info(format!(
        " {} warning{plural} found (use `wharf lint {file}` for fixes):",
        findings.len()
    ));
    for finding in findings {
        printer.info(format!(
            " - {}: {} (line {})",
            finding.rule, finding.message, finding.line
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_kinds() {
        assert_eq!(kind_of("Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(kind_of("api.Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(kind_of("Dockerfile.dev"), Some(Kind::Dockerfile));
        assert_eq!(kind_of("compose.prod.yaml"), Some(Kind::Compose));
        assert_eq!(kind_of("docker-compose.yml"), Some(Kind::Compose));
        assert_eq!(kind_of("app.py"), None);
    }
}
