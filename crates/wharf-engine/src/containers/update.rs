//! `wharf update`: a container's restart policy and limits, changed in its record and, while
//! it runs, in its cgroup. The monitor reads the restart policy from the record when the
//! container exits, so a new policy counts from the next exit.

use wharf_runtime::config::ConfigError;
use wharf_runtime::Resources;

use super::record::{container_dir, write_json, RestartPolicy, Status, RECORD_FILE};
use crate::error::{EngineError, Result};
use crate::Engine;

/// What `update` changes; `None` keeps what the container has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateOptions {
    pub restart_policy: Option<RestartPolicy>,
    /// Each limit given replaces the container's; those not given stay.
    pub resources: Resources,
}

impl Engine {
    pub fn update_container(&self, name: &str, options: &UpdateOptions) -> Result<()> {
        let info = self.find_container(name)?;
        let mut record = info.record;
        let old = record.run.resources;
        let new = &options.resources;
        let resources = Resources {
            memory: new.memory.or(old.memory),
            memory_swap: new.memory_swap.or(old.memory_swap),
            cpus: new.cpus.or(old.cpus),
            cpu_shares: new.cpu_shares.or(old.cpu_shares),
            pids_limit: new.pids_limit.or(old.pids_limit),
            memory_reservation: new.memory_reservation.or(old.memory_reservation),
        };
        resources.validate().map_err(resource_error)?;
        if let Some(policy) = options.restart_policy {
            // Docker's rule: a container removed when it exits is never restarted.
            if record.auto_remove && policy != RestartPolicy::No {
                return Err(EngineError::BadOption {
                    flag: "--restart",
                    value: policy.name().into(),
                    message: "Restart policy cannot be updated because AutoRemove is enabled for the container".into(),
                });
            }
            record.restart_policy = policy;
        }
        let running = info.state.status == Status::Running;
        let set = |resources: &Resources| {
            wharf_runtime::cgroup::set_resources(&record.run.cgroups_path(), &record.id, resources)
                .map_err(|e| EngineError::Runtime {
                    name: record.name.clone(),
                    message: wharf_oci::error_chain(&e),
                    exit_code: 125,
                })
        };
        if running && resources != old {
            set(&resources)?;
        }
        let mut updated = record.clone();
        updated.run.resources = resources;
        let path = container_dir(self.root(), &record.id).join(RECORD_FILE);
        if let Err(error) = write_json(&path, &updated) {
            // Undo: the cgroup keeps the limits the record says.
            if running && resources != old {
                let _ = set(&old);
            }
            return Err(error);
        }
        Ok(())
    }
}

/// A limit the runtime refuses, named by the flag that gave it.
fn resource_error(error: ConfigError) -> EngineError {
    let (flag, value) = match error {
        ConfigError::MemoryTooLow(bytes) => ("--memory", format!("{bytes} bytes")),
        ConfigError::ReservationAboveMemory { reservation, .. } => {
            ("--memory-reservation", format!("{reservation} bytes"))
        }
        _ => ("update", String::new()),
    };
    EngineError::BadOption {
        flag,
        value,
        message: error.to_string(),
    }
}
