//! `compose ls`: the projects found from their containers' `com.docker.compose.project`
//! labels (there is no other record of them), with docker compose's combined status such
//! as `exited(1), running(2)` and the config files they were made from.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::json;
use wharf_compose::labels::{CONFIG_FILES, PROJECT};
use wharf_engine::Engine;

use crate::cli::ComposeLsArgs;
use crate::commands::container::state_name;
use crate::commands::{print_rows, CommandError, CommandResult};
use crate::format::Format;
use crate::printer::Printer;

/// `--filter name=VALUE`, as docker compose: a project whose name contains VALUE, which
/// `^` and `$` may anchor (docker compose takes a regular expression).
fn name_filters(filters: &[String]) -> Result<Vec<&str>, CommandError> {
    filters
        .iter()
        .map(|filter| match filter.split_once('=') {
            Some(("name", value)) => Ok(value),
            Some((key, _)) => Err(CommandError::new(
                format!("--filter {filter}: invalid filter '{key}'"),
                Some("compose ls filters on name=VALUE only"),
            )),
            None => Err(CommandError::new(
                format!("--filter {filter}: bad format of filter (expected name=value)"),
                None,
            )),
        })
        .collect()
}

fn name_matches(name: &str, pattern: &str) -> bool {
    match (pattern.strip_prefix('^'), pattern.strip_suffix('$')) {
        (Some(rest), _) => match rest.strip_suffix('$') {
            Some(exact) => name == exact,
            None => name.starts_with(rest),
        },
        (None, Some(suffix)) => name.ends_with(suffix),
        (None, None) => name.contains(pattern),
    }
}

pub fn list(engine: &Engine, printer: Printer, args: ComposeLsArgs) -> CommandResult {
    let names = name_filters(&args.filters)?;
    // Project → (state → count, config files).
    let mut projects: BTreeMap<String, (BTreeMap<&str, usize>, String)> = BTreeMap::new();
    let containers = engine.list_containers()?;
    for container in &containers {
        let labels = &container.record.labels;
        let Some(project) = labels.get(PROJECT) else {
            continue;
        };
        if !names.iter().all(|pattern| name_matches(project, pattern)) {
            continue;
        }
        let state = state_name(container);
        // Without -a, as docker compose: only running containers count.
        if !args.all && state != "running" {
            continue;
        }
        let entry = projects.entry(project.clone()).or_default();
        *entry.0.entry(state).or_default() += 1;
        if entry.1.is_empty() {
            entry.1 = labels.get(CONFIG_FILES).cloned().unwrap_or_default();
        }
    }
    if args.quiet {
        projects.keys().for_each(|name| printer.data(name));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<serde_json::Value> = projects
        .iter()
        .map(|(name, (states, files))| {
            let status: Vec<String> = states
                .iter()
                .map(|(state, count)| format!("{state}({count})"))
                .collect();
            json!({"Name": name, "Status": status.join(", "), "ConfigFiles": files})
        })
        .collect();
    if args.format == "json" {
        printer.data(serde_json::Value::Array(rows).to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        ("NAME", "Name"),
        ("STATUS", "Status"),
        ("CONFIG FILES", "ConfigFiles"),
    ];
    print_rows(&printer, &Format::Table, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filters_match_parts_and_anchors() {
        assert!(name_matches("cgaps3", "gaps"));
        assert!(name_matches("cgaps3", "^cg"));
        assert!(!name_matches("cgaps3", "^gaps"));
        assert!(name_matches("cgaps3", "s3$"));
        assert!(name_matches("cgaps3", "^cgaps3$"));
        assert!(!name_matches("cgaps3", "^cgaps$"));
        assert!(name_filters(&["nope=x".into()]).is_err());
        assert!(name_filters(&["name".into()]).is_err());
        assert_eq!(name_filters(&["name=a".into()]).unwrap(), ["a"]);
    }
}
