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
use crate::commands::{print_rows, CommandResult};
use crate::format::Format;
use crate::printer::Printer;

pub fn list(engine: &Engine, printer: Printer, args: ComposeLsArgs) -> CommandResult {
    // Project → (state → count, config files).
    let mut projects: BTreeMap<String, (BTreeMap<&str, usize>, String)> = BTreeMap::new();
    let containers = engine.list_containers()?;
    for container in &containers {
        let labels = &container.record.labels;
        let Some(project) = labels.get(PROJECT) else {
            continue;
        };
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
