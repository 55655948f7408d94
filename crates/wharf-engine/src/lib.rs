//! The engine: the operations the CLI offers, built from the store (and, as they land, the
//! runtime, builder and registry client). It parses no flags and prints nothing: it returns
//! what happened for the CLI to show.

mod archive;
mod build;
mod changes;
mod check;
mod compose;
mod containers;
mod disk_usage;
mod error;
mod events;
mod images;
mod import;
mod manifest_edit;
mod network;
mod registry;
mod reset;
mod signals;
mod size;
mod system;
mod times;
mod volumes;

pub use archive::{LoadReport, LoadedImage};
pub use build::{read_secret, BuildOptions, BuildOutcome, BuildSource, Secret, BUILD_STEP_COMMAND};
pub use compose::{
    create_options as compose_create_options, observed as compose_observed, ComposeBackend,
};
pub use containers::{
    mounts_json, parse_duration, signal_number, Attach, ChangeKind, CommitOptions, ContainerInfo,
    ContainerRecord, ContainerState, ContainerStats, CopyOptions, CreateOptions, ExecInstance,
    ExecOptions, Health, HealthLog, HealthOptions, Healthcheck, LogConfig, LogDriver, LogLine,
    LogOptionError, LogsOptions, PathStat, ProbeResult, ProcessTable, RestartPolicy, Status,
    StopRequest, UpdateOptions, VolumeMount, VolumeRequest, WaitCondition, EXEC_INSTANCE_COMMAND,
    HEALTHCHECK_COMMAND, MONITOR_COMMAND,
};
pub use disk_usage::{CacheUsage, ContainerUsage, DiskUsage, ImageUsage, Usage, VolumeUsage};
pub use error::{EngineError, Result};
pub use events::{Event as ContainerEvent, EventFilters, EventWindow, Watched as WatchedEvent};
pub use images::{HistoryRow, ImageSummary, PruneReport, RemovedImage};
pub use import::ImportOptions;
pub use network::{ConnectOptions, NetworkCreateOptions, NetworkSummary, DNS_COMMAND};
pub use registry::{LayerEvent, LayerProgress, NoProgress, PullReport, PushReport, PushedLayer};
pub use reset::ResetReport;
pub use signals::{end_by, with_all_blocked, Signals, TERMINATING};
pub use size::parse_bytes;
pub use system::HostInfo;
pub use times::parse_time;
pub use volumes::{Volume, VolumePruneReport, ANONYMOUS_LABEL};
pub use wharf_build::{
    Network as BuildNetwork, PlannedLine, Reporter as BuildReporter, StepId, StepOutcome,
};
pub use wharf_net::PortBinding;
pub use wharf_oci::error_chain;
pub use wharf_registry::BlobPushed;

use std::path::{Path, PathBuf};

use wharf_store::{SharedLock, Store};

/// The default state root, as Docker's `/var/lib/docker`.
pub const DEFAULT_ROOT: &str = "/var/lib/wharf";
/// The default root of runtime state (on tmpfs: it does not outlive a reboot).
pub const DEFAULT_RUN_ROOT: &str = "/run/wharf";

pub struct Engine {
    store: Store,
    run_root: PathBuf,
}

impl Engine {
    pub fn open(root: impl Into<PathBuf>, run_root: impl Into<PathBuf>) -> Result<Self> {
        Ok(Self {
            store: Store::open(root)?,
            run_root: run_root.into(),
        })
    }

    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// The root of runtime state (`WHARF_RUN`).
    pub fn run_root(&self) -> &Path {
        &self.run_root
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// After a failed operation, removes what it stored (now unreferenced) when no other
    /// process is busy; otherwise that waits, invisible, for the next gc. The original
    /// result is returned either way.
    fn clean_up_on_failure<T>(&self, held: SharedLock, result: Result<T>) -> Result<T> {
        if result.is_err() {
            drop(held);
            if let Ok(Some(exclusive)) = self.store.try_exclusive_lock() {
                let _ = self.store.gc(&exclusive);
            }
        }
        result
    }
}

/// The current time as Docker writes it in image configs.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current time formats")
}
