//! Exec instances, as Docker's API has them: created first (`POST /containers/{id}/exec`),
//! started later, inspected for their exit code after. Each is a record in
//! `WHARF_RUN/execs/<id>.json`, written by whichever process acts on it: the API service
//! creates it, the process that runs the exec (`wharf __exec ID`, single-threaded as
//! libcontainer needs) records its start and its exit code.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::create::random_id;
use super::exec::ExecOptions;
use super::record::{read_json, write_state, Status};
use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

/// The hidden subcommand that runs an exec instance.
pub const EXEC_INSTANCE_COMMAND: &str = "__exec";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecInstance {
    pub id: String,
    pub container_id: String,
    pub options: ExecOptions,
    /// Whether its process has started and not ended.
    pub running: bool,
    /// Once it has ended.
    pub exit_code: Option<i32>,
    pub pid: Option<u32>,
}

impl Engine {
    fn execs_dir(&self) -> PathBuf {
        self.run_root.join("execs")
    }

    fn exec_path(&self, id: &str) -> PathBuf {
        self.execs_dir().join(format!("{id}.json"))
    }

    /// Records an exec of `options` in running container `name`; nothing runs yet. Records
    /// of containers that are gone are removed meanwhile.
    pub fn create_exec(&self, name: &str, options: ExecOptions) -> Result<ExecInstance> {
        let info = self.find_container(name)?;
        if info.state.status != Status::Running {
            return Err(EngineError::ContainerNotRunning {
                name: info.record.name,
            });
        }
        if info.paused {
            return Err(EngineError::ContainerPaused {
                name: info.record.name,
            });
        }
        if options.command.is_empty() {
            return Err(EngineError::BadOption {
                flag: "Cmd",
                value: String::new(),
                message: "no command given".into(),
            });
        }
        self.forget_execs_of_removed_containers();
        let dir = self.execs_dir();
        std::fs::create_dir_all(&dir).at("create", &dir)?;
        let instance = ExecInstance {
            id: random_id()?,
            container_id: info.record.id,
            options,
            running: false,
            exit_code: None,
            pid: None,
        };
        write_state(&self.exec_path(&instance.id), &instance)?;
        Ok(instance)
    }

    /// The exec instance `id` (full, or a unique prefix).
    pub fn exec_instance(&self, id: &str) -> Result<ExecInstance> {
        let not_found = || EngineError::ExecNotFound(id.to_string());
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut matches = std::fs::read_dir(self.execs_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".json")
                    .map(str::to_string)
            })
            .filter(|name| name.starts_with(id));
        match (matches.next(), matches.next()) {
            (Some(full), None) => read_json(&self.exec_path(&full)).map_err(|_| not_found()),
            _ => Err(not_found()),
        }
    }

    /// Runs exec instance `id` in this process and records how it ended; returns its exit
    /// code. **Call only from a single-threaded process** (see `exec_in_container`).
    pub fn run_exec_instance(&self, id: &str) -> Result<i32> {
        let mut instance = self.exec_instance(id)?;
        instance.running = true;
        instance.pid = Some(std::process::id());
        write_state(&self.exec_path(&instance.id), &instance)?;
        let result = self.exec_in_container(&instance.container_id, &instance.options);
        instance.running = false;
        instance.exit_code = Some(match &result {
            Ok(code) => *code,
            Err(EngineError::Runtime { exit_code, .. }) => *exit_code,
            Err(_) => 126,
        });
        write_state(&self.exec_path(&instance.id), &instance)?;
        result
    }

    fn forget_execs_of_removed_containers(&self) {
        for entry in std::fs::read_dir(self.execs_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let gone = read_json::<ExecInstance>(&entry.path())
                .is_ok_and(|e| self.container_info(&e.container_id).is_err());
            if gone {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
