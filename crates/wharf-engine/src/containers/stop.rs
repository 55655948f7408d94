//! `stop`: the stop signal, then SIGKILL after the timeout, as Docker. Several containers
//! stop side by side from this one process, as docker compose stops a project: each gets
//! its signal as soon as the containers it must outlive are stopped, their monitors clean
//! up in parallel, and this process only polls their states. No threads: the signal goes
//! through libcontainer, which wants a single-threaded caller.

use std::time::{Duration, Instant};

use super::lifecycle::{is_not_running, parse_signal, POLL};
use super::record::Status;
use crate::error::Result;
use crate::Engine;

/// A container for [`Engine::stop_containers`].
#[derive(Debug, Clone)]
pub struct StopRequest<'a> {
    pub name: &'a str,
    /// The requests (by index) that must be stopped, and handled by the caller, before this
    /// one gets its signal: compose stops dependents before what they depend on.
    pub after: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Waiting,
    Stopping { deadline: Instant, killed: bool },
    Done,
}

impl Engine {
    /// `signal` (default: the container's stop signal), then SIGKILL after `timeout` seconds
    /// (default: the container's own). A container waiting to restart just stays exited.
    pub fn stop_container(
        &self,
        name: &str,
        signal: Option<&str>,
        timeout: Option<u64>,
    ) -> Result<()> {
        let request = StopRequest {
            name,
            after: Vec::new(),
        };
        self.stop_containers(&[request], signal, timeout, &mut |_| Ok(()))
    }

    /// Stops every container of `requests` as [`Engine::stop_container`] does, in
    /// parallel, calling `stopped` with the index of each as soon as it is not running
    /// (stopped here or already).
    pub fn stop_containers(
        &self,
        requests: &[StopRequest],
        signal: Option<&str>,
        timeout: Option<u64>,
        stopped: &mut dyn FnMut(usize) -> Result<()>,
    ) -> Result<()> {
        if let Some(signal) = signal {
            parse_signal(signal)?;
        }
        let ids = requests
            .iter()
            .map(|r| Ok(self.find_container(r.name)?.record.id))
            .collect::<Result<Vec<String>>>()?;
        let mut phases = vec![Phase::Waiting; requests.len()];
        loop {
            let mut progressed = false;
            for (index, request) in requests.iter().enumerate() {
                let id = &ids[index];
                let next = match phases[index] {
                    Phase::Done => continue,
                    Phase::Waiting => {
                        let ready = request
                            .after
                            .iter()
                            .all(|&other| matches!(phases[other], Phase::Done));
                        if !ready {
                            continue;
                        }
                        let info = self.container_info(id)?;
                        let state = &info.state;
                        // A start under way (a policy restart, or `start` in another
                        // process) ends first: a stop in its middle found nothing running,
                        // and the container ran on.
                        if state.status == Status::Created && state.monitor_pid.is_some() {
                            continue;
                        }
                        if !state.status.is_up() {
                            Phase::Done
                        } else {
                            // Marked first, so that its restart policy does not start it again.
                            self.mark_stopped_by_user(id)?;
                            let signal = signal.unwrap_or(&info.record.stop_signal);
                            let _ = self.kill_container(id, signal);
                            let seconds = timeout.unwrap_or(info.record.stop_timeout);
                            Phase::Stopping {
                                deadline: Instant::now() + Duration::from_secs(seconds),
                                killed: false,
                            }
                        }
                    }
                    Phase::Stopping { deadline, killed } => {
                        let info = self.container_info(id)?;
                        if is_not_running(&info.state) {
                            self.record_event("stop", &info.record, &[]);
                            Phase::Done
                        } else {
                            if !killed && Instant::now() >= deadline {
                                let _ = self.kill_container(id, "SIGKILL");
                            }
                            Phase::Stopping {
                                deadline,
                                killed: killed || Instant::now() >= deadline,
                            }
                        }
                    }
                };
                if matches!(next, Phase::Done) {
                    stopped(index)?;
                    progressed = true;
                }
                phases[index] = next;
            }
            if phases.iter().all(|p| matches!(p, Phase::Done)) {
                return Ok(());
            }
            if !progressed {
                std::thread::sleep(POLL);
            }
        }
    }
}
