//! Containers: created from an image and flags, run by one monitor process each.

mod attach;
mod create;
mod exec;
mod health;
mod lifecycle;
mod monitor;
mod names;
mod record;

pub(crate) use create::resolve_user;
pub use create::CreateOptions;
pub use exec::ExecOptions;
pub use health::{
    parse_duration, Health, HealthLog, HealthOptions, Healthcheck, ProbeResult, HEALTHCHECK_COMMAND,
};
pub use lifecycle::{signal_number, ContainerInfo, LogLine};
pub(crate) use monitor::{announce, is_alive, process_start_time};
pub use monitor::{Attach, MONITOR_COMMAND};
pub(crate) use record::{
    container_dir, write_json, write_state, NetConfig, NetworkAttachment, PublishedPort,
    RECORD_FILE,
};
pub use record::{ContainerRecord, ContainerState, RestartPolicy, Status};
