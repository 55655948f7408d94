//! Waiting for a compose `depends_on` condition.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wharf_compose::model::CONDITION_RUNNING_OR_HEALTHY;
use wharf_compose::Readiness;

use crate::containers::{container_dir, Status};
use crate::error::Result;
use crate::Engine;

/// The longest a wait for a dependency goes without reading its state whole.
const WAIT_POLL: Duration = Duration::from_millis(100);
/// How often a wait looks whether the monitor has written a new state.
const STATE_LOOK: Duration = Duration::from_millis(1);

/// The monitor's writes of a container's state: each renames a new `state.json` into the
/// container's folder, so a new inode there is a new state (and none, a removed container).
/// Looked for with a `statx` every [`STATE_LOOK`], nothing read. Not with inotify, which
/// would tell at once: closing an inotify descriptor that watched a folder waits for an SRCU
/// grace period (15 ms here), when the wait ends or at the latest when the process exits.
struct StateWrites {
    path: PathBuf,
    seen: Option<(u64, u64)>,
}

impl StateWrites {
    fn watch(dir: &Path) -> Self {
        let path = dir.join("state.json");
        let seen = Self::identity(&path);
        Self { path, seen }
    }

    fn identity(path: &Path) -> Option<(u64, u64)> {
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }

    /// Returns after a write, or after [`WAIT_POLL`].
    fn wait(&mut self) {
        let deadline = Instant::now() + WAIT_POLL;
        while Instant::now() < deadline {
            std::thread::sleep(STATE_LOOK);
            let now = Self::identity(&self.path);
            if now != self.seen {
                self.seen = now;
                return;
            }
        }
    }
}

impl Engine {
    /// Waits until the container meets a compose `depends_on` condition, or `up --wait`'s
    /// `running_or_healthy` (or `deadline` passes: then it has failed too).
    pub fn wait_condition(
        &self,
        name: &str,
        condition: &str,
        deadline: Option<Instant>,
    ) -> Result<Readiness> {
        // Watched before the state is first read: every write after a look wakes the wait.
        let id = self.find_container(name)?.record.id;
        let mut writes = StateWrites::watch(&container_dir(self.root(), &id));
        loop {
            let info = self.find_container(name)?;
            let state = &info.state;
            let exited = state.status == Status::Exited;
            let code = state.exit_code.unwrap_or(0);
            let condition = match condition {
                // `up --wait`: healthy when there is a healthcheck, else running.
                CONDITION_RUNNING_OR_HEALTHY if exited => {
                    return Ok(Readiness::Failed(format!("exited ({code})")))
                }
                CONDITION_RUNNING_OR_HEALTHY if info.record.healthcheck.is_some() => {
                    "service_healthy"
                }
                CONDITION_RUNNING_OR_HEALTHY => "service_started",
                other => other,
            };
            let verdict = match condition {
                "service_completed_successfully" if exited && code == 0 => Some(Readiness::Ready),
                "service_completed_successfully" if exited => {
                    Some(Readiness::Failed(format!("exited ({code})")))
                }
                "service_completed_successfully" => None,
                "service_healthy" => match &state.health {
                    _ if exited => Some(Readiness::Failed(format!("exited ({code})"))),
                    _ if info.record.healthcheck.is_none() => {
                        Some(Readiness::Failed("has no healthcheck".into()))
                    }
                    // Just started: the monitor has not recorded a first probe yet.
                    None => None,
                    Some(health) if health.status == "healthy" => Some(Readiness::Ready),
                    Some(health) if health.status == "unhealthy" => {
                        let output = health
                            .log
                            .last()
                            .map(|entry| entry.output.trim().to_string())
                            .unwrap_or_default();
                        Some(Readiness::Failed(format!(
                            "is unhealthy: last health output: {output}"
                        )))
                    }
                    Some(_) => None,
                },
                // service_started: compose only needs it started.
                _ => Some(Readiness::Ready),
            };
            if let Some(verdict) = verdict {
                return Ok(verdict);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Readiness::Failed("did not get ready in time".into()));
            }
            writes.wait();
        }
    }
}
