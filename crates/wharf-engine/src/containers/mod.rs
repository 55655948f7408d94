//! Containers: created from an image and flags, run by one monitor process each.

mod attach;
mod commit;
mod copy;
mod create;
mod diff;
mod exec;
mod exec_record;
mod freeze;
mod health;
mod leftovers;
mod lifecycle;
mod logfile;
mod manage;
mod monitor;
mod names;
mod record;
mod stdin_relay;
mod stop;
mod sync;
mod update;
mod wait;

pub use commit::CommitOptions;
pub use copy::{CopyOptions, PathStat};
pub(crate) use create::{random_id, resolve_user, validate_name};
pub use create::{CreateOptions, VolumeRequest};
pub use diff::ChangeKind;
pub use exec::ExecOptions;
pub use exec_record::{ExecInstance, EXEC_INSTANCE_COMMAND};
pub use health::{
    parse_duration, Health, HealthLog, HealthOptions, Healthcheck, ProbeResult, HEALTHCHECK_COMMAND,
};
pub use lifecycle::{mounts_json, signal_number, ContainerInfo, LogLine, LogsOptions};
pub use logfile::{LogConfig, LogDriver, LogOptionError};
pub use manage::{ContainerStats, ProcessTable};
pub(crate) use monitor::{announce, is_alive, now_rfc3339_nanos, process_start_time};
pub use monitor::{Attach, MONITOR_COMMAND};
pub(crate) use record::{
    container_dir, read_json, write_json, write_state, NetConfig, NetworkAttachment, PublishedPort,
    RECORD_FILE,
};
pub use record::{ContainerRecord, ContainerState, RestartPolicy, Status, VolumeMount};
pub use stop::StopRequest;
pub use update::UpdateOptions;
pub use wait::WaitCondition;
