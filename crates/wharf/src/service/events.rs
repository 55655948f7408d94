//! `/events` and `/containers/{id}/stats` over the engine: its events file and its cgroup
//! readings, in Docker's shapes.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wharf_api::types::{EventsQuery, StatsSample};
use wharf_api::ApiError;
use wharf_engine::{Engine, EventFilters, EventWindow, WatchedEvent};

use super::api_error;
use crate::commands::event_message;

pub fn events(
    engine: &Engine,
    query: &EventsQuery,
    each: &mut dyn FnMut(Option<&Value>) -> bool,
) -> Result<(), ApiError> {
    let filters = EventFilters::new(query.filters.clone()).map_err(api_error)?;
    let time = |nanos: Option<i128>| {
        nanos
            .map(OffsetDateTime::from_unix_timestamp_nanos)
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("invalid time: {e}")))
    };
    let window = EventWindow {
        since: time(query.since)?,
        until: time(query.until)?,
    };
    engine
        .watch_events(&window, |watched| match watched {
            WatchedEvent::Event(event) if filters.matches(event) => {
                each(Some(&event_message(event)))
            }
            WatchedEvent::Event(_) => true,
            WatchedEvent::Idle => each(None),
        })
        .map_err(api_error)
}

pub fn stats(engine: &Engine, name: &str) -> Result<StatsSample, ApiError> {
    let info = engine.find_container(name).map_err(api_error)?;
    let stats = engine.container_stats(&info).map_err(api_error)?;
    let read = if stats.running {
        OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .expect("now formats")
    } else {
        "0001-01-01T00:00:00Z".into()
    };
    Ok(StatsSample {
        id: stats.id,
        name: stats.name,
        read,
        cpu_ns: stats.cpu_ns,
        cpu_user_ns: stats.cpu_user_ns,
        cpu_kernel_ns: stats.cpu_kernel_ns,
        system_cpu_ns: stats.host_cpu_ns,
        online_cpus: stats.online_cpus,
        memory_bytes: stats.memory_bytes,
        memory_limit: stats.memory_limit,
        pids: stats.pids,
        block_read_bytes: stats.block_read_bytes,
        block_write_bytes: stats.block_write_bytes,
        net_rx_bytes: stats.net_rx_bytes,
        net_tx_bytes: stats.net_tx_bytes,
    })
}
