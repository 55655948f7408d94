//! `compose events`: the project's container events as they happen (from the engine's
//! events file, see `wharf_engine::ContainerEvent`), `run`'s containers left out, in
//! docker compose's text or `--json` lines. It runs until interrupted, or until `--until`;
//! `--since` shows the recorded events from that time first.

use std::process::ExitCode;

use serde_json::json;
use wharf_compose::labels::{ONEOFF, PROJECT, SERVICE};
use wharf_engine::{ContainerEvent, Engine};

use super::{load_project, named_services};
use crate::cli::{ComposeEventsArgs, ComposeProjectArgs};
use crate::commands::container::time_flag;
use crate::commands::CommandResult;
use crate::printer::Printer;

/// docker compose's line: `2006-01-02 15:04:05.000000 container ACTION ID (k=v, ...)`,
/// then an empty line, as it prints them.
fn text_line(event: &ContainerEvent, attributes: &[(&String, &String)]) -> String {
    let time = event.time.replacen('T', " ", 1);
    let time = time.get(..26).unwrap_or(&time);
    let attributes: Vec<String> = attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{time} container {} {} ({})\n",
        event.action,
        event.id,
        attributes.join(", ")
    )
}

/// Go's RFC 3339 with nanoseconds, as `encoding/json` writes a time: no trailing zeros.
fn go_time(time: &str) -> String {
    match time.strip_suffix('Z').and_then(|t| t.split_once('.')) {
        Some((seconds, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                format!("{seconds}Z")
            } else {
                format!("{seconds}.{fraction}Z")
            }
        }
        None => time.to_owned(),
    }
}

pub fn events(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeEventsArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    let now = time::OffsetDateTime::now_utc();
    let since = time_flag("--since", args.since.as_deref(), now)?;
    let until = time_flag("--until", args.until.as_deref(), now)?;
    let window = wharf_engine::EventWindow { since, until };
    engine.watch_events(&window, |watched| {
        let wharf_engine::WatchedEvent::Event(event) = watched else {
            return true;
        };
        let labels = &event.attributes;
        let service = labels.get(SERVICE).cloned().unwrap_or_default();
        let ours = labels.get(PROJECT) == Some(&project.name)
            && labels.get(ONEOFF).map(String::as_str) != Some("True")
            && (args.services.is_empty() || args.services.contains(&service));
        if !ours {
            return true;
        }
        let attributes: Vec<(&String, &String)> = labels
            .iter()
            .filter(|(key, _)| !key.starts_with("com.docker.compose."))
            .collect();
        if args.json {
            let attributes: serde_json::Map<String, serde_json::Value> = attributes
                .iter()
                .map(|(k, v)| ((*k).clone(), json!(v)))
                .collect();
            printer.data(
                json!({
                    "action": event.action,
                    "attributes": attributes,
                    "id": event.id,
                    "service": service,
                    "time": go_time(&event.time),
                    "type": "container",
                })
                .to_string(),
            );
        } else {
            printer.data(text_line(event, &attributes));
        }
        true
    })?;
    Ok(ExitCode::SUCCESS)
}
