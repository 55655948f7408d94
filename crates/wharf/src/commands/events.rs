//! `events`: the engine's container events (see `wharf_engine::ContainerEvent`), the
//! recorded ones from `--since` on, then each as it happens, until `--until` or until
//! interrupted; Docker's text line, or its message as JSON or through a template.

use std::process::ExitCode;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wharf_engine::{ContainerEvent, Engine, EventFilters, EventWindow, WatchedEvent};

use super::container::time_flag;
use super::{parse_format, CommandError, CommandResult};
use crate::cli::EventsArgs;
use crate::format::Format;
use crate::printer::Printer;

pub fn events(engine: &Engine, printer: Printer, args: EventsArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let filters = EventFilters::parse(&args.filters)?;
    let now = OffsetDateTime::now_utc();
    let window = EventWindow {
        since: time_flag("--since", args.since.as_deref(), now)?,
        until: time_flag("--until", args.until.as_deref(), now)?,
    };
    let mut failed = None;
    engine.watch_events(&window, |watched| {
        let WatchedEvent::Event(event) = watched else {
            return !printer.stdout_closed();
        };
        if !filters.matches(event) {
            return true;
        }
        let line = match &format {
            Format::Table => Ok(text_line(event)),
            Format::Json => Ok(message(event).to_string()),
            Format::Template { template, .. } => template.render(&message(event)),
        };
        match line {
            Ok(line) => {
                printer.data(line);
                true
            }
            Err(error) => {
                failed = Some(CommandError::new(format!("--format: {error}"), None));
                false
            }
        }
    })?;
    match failed {
        Some(error) => Err(error),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Docker's line: `TIME TYPE ACTION ID (k=v, ...)`, attributes sorted by key.
fn text_line(event: &ContainerEvent) -> String {
    let attributes: Vec<String> = event
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} {} {} {} ({})",
        event.time,
        event.kind,
        event.action,
        event.id,
        attributes.join(", ")
    )
}

/// Docker's `events.Message` (what `/events` sends and `--format` reads), with the legacy
/// `status`, `id` and `from` beside `Actor`.
pub(crate) fn message(event: &ContainerEvent) -> Value {
    let nanos = OffsetDateTime::parse(&event.time, &Rfc3339)
        .map_or(0, OffsetDateTime::unix_timestamp_nanos);
    let mut message = json!({
        "Type": event.kind,
        "Action": event.action,
        "Actor": { "ID": event.id, "Attributes": event.attributes },
        "scope": "local",
        "time": nanos / 1_000_000_000,
        "timeNano": nanos,
    });
    // As Docker's: the legacy fields for containers and images only.
    if matches!(event.kind.as_str(), "container" | "image") {
        message["status"] = json!(event.action);
        message["id"] = json!(event.id);
    }
    if let Some(image) = event
        .attributes
        .get("image")
        .filter(|_| event.kind == "container")
    {
        message["from"] = json!(image);
    }
    message
}
