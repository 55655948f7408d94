//! Waiting for a compose `depends_on` condition.

use std::time::{Duration, Instant};

use wharf_compose::model::CONDITION_RUNNING_OR_HEALTHY;
use wharf_compose::Readiness;

use crate::containers::Status;
use crate::error::Result;
use crate::Engine;

/// How often a wait for a dependency looks at its state.
const WAIT_POLL: Duration = Duration::from_millis(20);

impl Engine {
    /// Waits until the container meets a compose `depends_on` condition, or `up --wait`'s
    /// `running_or_healthy` (or `deadline` passes: then it has failed too).
    pub fn wait_condition(
        &self,
        name: &str,
        condition: &str,
        deadline: Option<Instant>,
    ) -> Result<Readiness> {
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
            std::thread::sleep(WAIT_POLL);
        }
    }
}
