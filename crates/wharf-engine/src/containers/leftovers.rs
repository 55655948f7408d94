//! What a killed `create`, `run` or `cp` leaves of containers, for `system check`: folders
//! without a record (a create cut short before its record, perhaps with its root still
//! mounted for a volume fill), names claimed for no container,
//! and the root of a container that nothing runs still mounted (a volume fill or a `cp` cut
//! short). Only under the store's exclusive lock are they known to be dead: `create` and
//! `cp` hold it shared.

use super::lifecycle::is_mounted;
use super::monitor::is_alive;
use super::record::{container_dir, RECORD_FILE};
use crate::check::Leftover;
use crate::error::Result;
use crate::Engine;

impl Engine {
    pub(crate) fn container_leftovers(&self) -> Result<Vec<Leftover>> {
        let dir = self.root().join("containers");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && !entry.path().join(RECORD_FILE).exists() {
                // A create killed while it filled a volume left the root mounted.
                let merged = entry.path().join("merged");
                if is_mounted(&merged) {
                    found.push(Leftover::Mount(merged));
                }
                found.push(Leftover::Path(entry.path()));
            }
        }
        if let Ok(names) = std::fs::read_dir(self.names_dir()) {
            for claim in names.flatten() {
                let name = claim.file_name().to_string_lossy().into_owned();
                let owner = self.id_by_name(&name);
                if !owner
                    .is_some_and(|id| container_dir(self.root(), &id).join(RECORD_FILE).exists())
                {
                    found.push(Leftover::Path(claim.path()));
                }
            }
        }
        for info in self.list_containers()? {
            let monitor_alive = info
                .state
                .monitor_pid
                .is_some_and(|pid| is_alive(pid, info.state.monitor_start_time));
            let merged = info.record.run.merged_dir();
            if !info.state.status.is_up() && !monitor_alive && is_mounted(&merged) {
                found.push(Leftover::Mount(merged));
            }
        }
        Ok(found)
    }
}
