//! `wait` with Docker's conditions. A container removed while waited for (`run --rm`) still
//! has its exit code: removal leaves it in `WHARF_RUN/exits/<id>` for a while, as Docker's
//! daemon keeps it in memory for the waiters it has.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::record::Status;
use crate::error::{EngineError, Result};
use crate::Engine;

/// A wait looks often for its first moments (short containers end at once, and `run --rm`
/// waits for them), then less: a long wait costs little CPU.
const POLL: Duration = Duration::from_millis(5);
const POLL_FAST_FOR: Duration = Duration::from_millis(500);
const POLL_MAX: Duration = Duration::from_millis(50);
/// How long the exit code of a removed container is kept for late waiters.
const EXIT_RECORD_KEPT: Duration = Duration::from_secs(60);

/// What a wait waits for, as Docker's `condition=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// Exited, or created and not starting (at once for such a container).
    NotRunning,
    /// The next exit after the wait began (`docker run` waits so before it starts).
    NextExit,
    /// Removed (`docker run --rm`).
    Removed,
}

impl Engine {
    /// `wharf wait`: blocks until the container is not running, returns its exit code.
    pub fn wait_container(&self, name: &str) -> Result<i32> {
        self.wait_container_for(name, WaitCondition::NotRunning, || {}, || false)
    }

    /// Blocks until `condition` holds and returns the exit code. `registered` is called once
    /// the container is found and the wait counts from that moment; the wait stops early,
    /// with the last code seen, once `abandoned` says nobody waits any more.
    pub fn wait_container_for(
        &self,
        name: &str,
        condition: WaitCondition,
        registered: impl FnOnce(),
        abandoned: impl Fn() -> bool,
    ) -> Result<i32> {
        let info = self.find_container(name)?;
        let id = info.record.id;
        let finished_before = info.state.finished_at.clone();
        let mut last_code = info.state.exit_code;
        registered();
        let mut pause = POLL;
        let began = std::time::Instant::now();
        loop {
            let state = match self.container_info(&id) {
                Ok(info) => info.state,
                Err(EngineError::ContainerNotFound(_)) => {
                    return Ok(self.exit_of_removed(&id).or(last_code).unwrap_or(0));
                }
                Err(error) => return Err(error),
            };
            let exited = state.status == Status::Exited;
            let done = match condition {
                WaitCondition::NotRunning => {
                    exited || (state.status == Status::Created && state.monitor_pid.is_none())
                }
                WaitCondition::NextExit => exited && state.finished_at != finished_before,
                WaitCondition::Removed => false,
            };
            if done {
                return Ok(state.exit_code.unwrap_or(0));
            }
            if abandoned() {
                return Ok(state.exit_code.or(last_code).unwrap_or(0));
            }
            last_code = state.exit_code.or(last_code);
            std::thread::sleep(pause);
            if began.elapsed() > POLL_FAST_FOR {
                pause = (pause * 2).min(POLL_MAX);
            }
        }
    }

    fn exits_dir(&self) -> PathBuf {
        self.run_root.join("exits")
    }

    /// Keeps the exit code of container `id`, being removed, for waiters; forgets old ones.
    /// Best effort: a waiter without it reports the last code it saw.
    pub(crate) fn keep_exit_of_removed(&self, id: &str, code: Option<i32>) {
        let dir = self.exits_dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let now = SystemTime::now();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > EXIT_RECORD_KEPT);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        if let Some(code) = code {
            let _ = std::fs::write(dir.join(id), code.to_string());
        }
    }

    fn exit_of_removed(&self, id: &str) -> Option<i32> {
        std::fs::read_to_string(self.exits_dir().join(id))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}
