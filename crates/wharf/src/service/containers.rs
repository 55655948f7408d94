//! Container calls of the API over the engine: start, stop, kill, wait, list, logs.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wharf_api::types::{
    ContainerSummary, LogEntry, LogsQuery, PortSummary, SummaryHostConfig, SummaryNetworks,
    WaitCondition,
};
use wharf_api::ApiError;
use wharf_engine::{Attach, Engine, LogsOptions, Status};

use super::api_error;
use crate::commands::{ps_row, state_name};

/// Starts the container through its monitor, a new process that outlives this one. The
/// monitor is this process's child until it ends: a thread reaps it then (and only it, so
/// that no other wait in this process loses its child).
pub fn start(engine: &Engine, name: &str) -> Result<(), ApiError> {
    let info = engine.find_container(name).map_err(api_error)?;
    if info.state.status.is_up() {
        return Err(ApiError::NotModified);
    }
    let child = engine
        .start_container(name, Attach::Detached)
        .map_err(api_error)?;
    let pid = rustix::process::Pid::from_child(&child);
    engine
        .await_detached_start(child, name)
        .map_err(api_error)?;
    std::thread::spawn(move || {
        let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
    });
    Ok(())
}

pub fn stop(
    engine: &Engine,
    name: &str,
    signal: Option<&str>,
    timeout: Option<u64>,
) -> Result<(), ApiError> {
    let info = engine.find_container(name).map_err(api_error)?;
    let starting = info.state.status == Status::Created && info.state.monitor_pid.is_some();
    if !info.state.status.is_up() && !starting {
        return Err(ApiError::NotModified);
    }
    engine
        .stop_container(name, signal, timeout)
        .map_err(api_error)
}

pub fn kill(engine: &Engine, name: &str, signal: &str) -> Result<(), ApiError> {
    engine
        .kill_container(name, signal)
        .map_err(|error| match error {
            wharf_engine::EngineError::ContainerNotRunning { name } => {
                ApiError::Conflict(format!("Container {name} is not running"))
            }
            other => api_error(other),
        })
}

pub fn wait(
    engine: &Engine,
    name: &str,
    condition: WaitCondition,
    registered: &mut dyn FnMut(),
    abandoned: &dyn Fn() -> bool,
) -> Result<i64, ApiError> {
    let condition = match condition {
        WaitCondition::NotRunning => wharf_engine::WaitCondition::NotRunning,
        WaitCondition::NextExit => wharf_engine::WaitCondition::NextExit,
        WaitCondition::Removed => wharf_engine::WaitCondition::Removed,
    };
    engine
        .wait_container_for(name, condition, registered, abandoned)
        .map(i64::from)
        .map_err(api_error)
}

/// Every container as `GET /containers/json` lists it; the ps row gives the status text.
pub fn list(engine: &Engine) -> Result<Vec<ContainerSummary>, ApiError> {
    let ports = engine.published_ports().map_err(api_error)?;
    let containers = engine.list_containers().map_err(api_error)?;
    Ok(containers
        .iter()
        .map(|c| {
            let bindings = ports.get(&c.record.id);
            let row = ps_row(c, true, bindings);
            let mut port_rows: Vec<PortSummary> = bindings
                .into_iter()
                .flatten()
                .map(|b| PortSummary {
                    ip: Some(b.host_ip.to_string()),
                    private_port: b.container_port,
                    public_port: Some(b.host_port),
                    protocol: b.protocol.to_string(),
                })
                .collect();
            for exposed in &c.record.net.exposed_ports {
                let (port, protocol) = exposed.split_once('/').unwrap_or((exposed, "tcp"));
                let port: u16 = port.parse().unwrap_or(0);
                if !port_rows.iter().any(|p| p.private_port == port) {
                    port_rows.push(PortSummary {
                        ip: None,
                        private_port: port,
                        public_port: None,
                        protocol: protocol.into(),
                    });
                }
            }
            // Networks (with addresses and gateway) and mounts as inspect has them: clients
            // such as testcontainers read them from the list.
            let inspect = engine.inspect_container(&c.record.id).unwrap_or_default();
            let networks: BTreeMap<String, serde_json::Value> = inspect["NetworkSettings"]
                ["Networks"]
                .as_object()
                .map(|n| n.clone().into_iter().collect())
                .unwrap_or_default();
            let mounts = inspect["Mounts"].as_array().cloned().unwrap_or_default();
            ContainerSummary {
                id: c.record.id.clone(),
                names: vec![format!("/{}", c.record.name)],
                image: c.record.image_name.clone(),
                image_id: c.record.image_id.to_string(),
                command: crate::commands::command_text(&c.record.run.process.args),
                created: OffsetDateTime::parse(&c.record.created, &Rfc3339)
                    .map_or(0, OffsetDateTime::unix_timestamp),
                ports: port_rows,
                labels: c.record.labels.clone(),
                state: state_name(c).into(),
                status: row["Status"].as_str().unwrap_or_default().into(),
                host_config: SummaryHostConfig {
                    network_mode: c.record.network_mode.clone(),
                },
                network_settings: SummaryNetworks { networks },
                mounts,
                size_rw: None,
                size_root_fs: None,
                health: crate::commands::health_status(c).into(),
            }
        })
        .collect())
}

pub fn logs(
    engine: &Engine,
    name: &str,
    query: &LogsQuery,
    each: &mut dyn FnMut(&LogEntry) -> bool,
) -> Result<(), ApiError> {
    let time = |seconds: Option<f64>| {
        seconds.and_then(|s| OffsetDateTime::from_unix_timestamp_nanos((s * 1e9) as i128).ok())
    };
    let options = LogsOptions {
        tail: query.tail,
        follow: query.follow,
        since: time(query.since),
        until: time(query.until),
    };
    engine
        .container_logs_while(name, &options, |line| {
            let entry = LogEntry {
                stderr: line.stream == "stderr",
                time: line.time.clone(),
                text: line.text.clone(),
            };
            if each(&entry) {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        })
        .map_err(api_error)
}
