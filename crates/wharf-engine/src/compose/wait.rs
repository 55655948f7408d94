//! Waiting for a compose `depends_on` condition.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use wharf_compose::model::CONDITION_RUNNING_OR_HEALTHY;
use wharf_compose::Readiness;

use crate::containers::{container_dir, Status};
use crate::error::Result;
use crate::Engine;

/// The longest a wait for a dependency goes without looking at its state; a new state
/// written by the monitor wakes it at once.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// The monitor's writes of a container's state (a new `state.json` renamed into its folder,
/// or the folder removed), watched with inotify; `None` where inotify cannot watch it, and
/// a wait then looks every [`WAIT_POLL`].
struct StateWrites(Option<OwnedFd>);

impl StateWrites {
    fn watch(dir: &Path) -> Self {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok();
        let watched = |fd: &OwnedFd| {
            let flags = WatchFlags::MOVED_TO | WatchFlags::DELETE_SELF;
            inotify::add_watch(fd, dir, flags).is_ok()
        };
        Self(fd.filter(watched))
    }

    /// Returns after a write, or after [`WAIT_POLL`].
    fn wait(&self) {
        let Some(fd) = &self.0 else {
            std::thread::sleep(WAIT_POLL);
            return;
        };
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: WAIT_POLL.as_nanos() as _,
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        let _ = poll(&mut fds, Some(&timeout));
        let mut events = [0u8; 4096];
        while rustix::io::read(fd, &mut events).is_ok_and(|n| n > 0) {}
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
        let writes = StateWrites::watch(&container_dir(self.root(), &id));
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
