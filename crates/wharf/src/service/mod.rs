//! The engine behind `wharf system service`: [`wharf_api::Backend`] over [`Engine`], the API's
//! counterpart of the CLI's commands. It maps Docker's request types onto the engine's
//! options as `commands/container.rs` maps flags, and engine errors onto the API's.
//!
//! The server has threads, so nothing here may run libcontainer in this process: containers
//! start through their monitor (a new process), as with the CLI.

mod build;
mod containers;
mod create;
mod events;
mod exec;
mod images;
mod networks;
mod system;
mod volumes;

use std::path::PathBuf;

use serde_json::{json, Value};
use wharf_api::types::Version;
use wharf_api::ApiError;
use wharf_engine::{Engine, EngineError};

/// Opens the engine per call: it is cheap, and each call then sees the state other wharf
/// processes wrote (the CLI and the service work on the same state at once).
pub struct EngineBackend {
    pub root: PathBuf,
    pub run_root: PathBuf,
}

impl EngineBackend {
    fn engine(&self) -> Result<Engine, ApiError> {
        Engine::open(&self.root, &self.run_root).map_err(api_error)
    }

    fn version(&self) -> Version {
        Version {
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: wharf_api::API_VERSION.into(),
            min_api_version: wharf_api::MIN_API_VERSION.into(),
            git_commit: String::new(),
            go_version: String::new(),
            os: "linux".into(),
            arch: wharf_oci::config::host_architecture().into(),
            kernel_version: kernel_release(),
            build_time: String::new(),
        }
    }

    fn info(&self) -> Result<Value, ApiError> {
        let info = self.engine()?.host_info().map_err(api_error)?;
        let version = self.version();
        Ok(json!({
            "ID": "wharf",
            "Containers": info.containers,
            "ContainersRunning": info.containers_running,
            "ContainersPaused": info.containers_paused,
            "ContainersStopped": info.containers_stopped,
            "Images": info.images,
            "Driver": info.storage_driver,
            "DriverStatus": [],
            "DockerRootDir": info.root_dir,
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": info.cgroup_version.trim_start_matches('v'),
            "KernelVersion": info.kernel_version,
            "OperatingSystem": info.operating_system,
            "OSType": info.os_type,
            "Architecture": info.architecture,
            "NCPU": info.ncpu,
            "MemTotal": info.mem_total,
            "Name": hostname(),
            "ServerVersion": version.version,
            "Labels": [],
            "ExperimentalBuild": false,
            "LoggingDriver": "json-file",
            "Runtimes": { "wharf": { "path": "libcontainer" } },
            "DefaultRuntime": "wharf",
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "Swarm": { "LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "", "ControlAvailable": false, "Error": "", "RemoteManagers": null },
            "Plugins": { "Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["json-file", "none"] },
            "RegistryConfig": { "IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"] },
            "Warnings": [],
        }))
    }
}

fn kernel_release() -> String {
    rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned()
}

fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Engine errors as the API answers them: Docker's wording where clients read it.
pub fn api_error(error: EngineError) -> ApiError {
    let message = || wharf_engine::error_chain(&error);
    match &error {
        EngineError::ImageNotFound(name) => ApiError::NoSuchImage(name.clone()),
        EngineError::ContainerNotFound(name) => ApiError::NoSuchContainer(name.clone()),
        EngineError::ExecNotFound(id) => ApiError::NoSuchExec(id.clone()),
        EngineError::VolumeNotFound(_) => ApiError::NotFound(message()),
        EngineError::NameInUse { .. }
        | EngineError::ContainerRunning { .. }
        | EngineError::ContainerNotRunning { .. }
        | EngineError::ContainerPaused { .. }
        | EngineError::ImageHasSeveralTags { .. }
        | EngineError::VolumeInUse { .. }
        | EngineError::NetworkUsed { .. } => ApiError::Conflict(message()),
        EngineError::BadOption { .. }
        | EngineError::BadChange { .. }
        | EngineError::Reference(_)
        | EngineError::NoCommand(_) => ApiError::BadRequest(message()),
        _ => ApiError::Engine(message()),
    }
}

/// Copy errors as Docker answers them: a path that is not there is a 404, a bad one a 400.
fn copy_error(error: EngineError) -> ApiError {
    match &error {
        EngineError::Copy { message, .. } if message == "no such file or directory" => {
            ApiError::NotFound(wharf_engine::error_chain(&error))
        }
        EngineError::Copy { .. } => ApiError::BadRequest(wharf_engine::error_chain(&error)),
        _ => api_error(error),
    }
}

impl wharf_api::Backend for EngineBackend {
    fn version(&self) -> Version {
        EngineBackend::version(self)
    }

    fn info(&self) -> wharf_api::Result<Value> {
        EngineBackend::info(self)
    }

    fn events(
        &self,
        query: &wharf_api::types::EventsQuery,
        each: &mut dyn FnMut(Option<&Value>) -> bool,
    ) -> wharf_api::Result<()> {
        events::events(&self.engine()?, query, each)
    }

    fn container_stats(&self, name: &str) -> wharf_api::Result<wharf_api::types::StatsSample> {
        events::stats(&self.engine()?, name)
    }

    fn create_container(
        &self,
        name: Option<&str>,
        body: wharf_api::types::ContainerCreate,
    ) -> wharf_api::Result<String> {
        let options = create::options(name, body)?;
        self.engine()?.create_container(&options).map_err(api_error)
    }

    fn start_container(&self, name: &str) -> wharf_api::Result<()> {
        containers::start(&self.engine()?, name)
    }

    fn stop_container(
        &self,
        name: &str,
        signal: Option<&str>,
        timeout: Option<u64>,
    ) -> wharf_api::Result<()> {
        containers::stop(&self.engine()?, name, signal, timeout)
    }

    fn restart_container(
        &self,
        name: &str,
        signal: Option<&str>,
        timeout: Option<u64>,
    ) -> wharf_api::Result<()> {
        let engine = self.engine()?;
        match containers::stop(&engine, name, signal, timeout) {
            Ok(()) | Err(ApiError::NotModified) => containers::start(&engine, name),
            Err(error) => Err(error),
        }
    }

    fn kill_container(&self, name: &str, signal: &str) -> wharf_api::Result<()> {
        containers::kill(&self.engine()?, name, signal)
    }

    fn wait_container(
        &self,
        name: &str,
        condition: wharf_api::types::WaitCondition,
        registered: &mut dyn FnMut(),
        abandoned: &dyn Fn() -> bool,
    ) -> wharf_api::Result<i64> {
        containers::wait(&self.engine()?, name, condition, registered, abandoned)
    }

    fn remove_container(&self, name: &str, force: bool, volumes: bool) -> wharf_api::Result<()> {
        self.engine()?
            .remove_container(name, force, volumes)
            .map(drop)
            .map_err(api_error)
    }

    fn inspect_container(&self, name: &str) -> wharf_api::Result<Value> {
        self.engine()?.inspect_container(name).map_err(api_error)
    }

    fn list_containers(&self) -> wharf_api::Result<Vec<wharf_api::types::ContainerSummary>> {
        containers::list(&self.engine()?)
    }

    fn container_sizes(&self, id: &str) -> wharf_api::Result<(u64, u64)> {
        self.engine()?.container_sizes(id).map_err(api_error)
    }

    fn container_logs(
        &self,
        name: &str,
        query: &wharf_api::types::LogsQuery,
        each: &mut dyn FnMut(&wharf_api::types::LogEntry) -> bool,
    ) -> wharf_api::Result<()> {
        containers::logs(&self.engine()?, name, query, each)
    }

    fn attach_stdin(
        &self,
        name: &str,
        abandoned: &dyn Fn() -> bool,
    ) -> wharf_api::Result<Option<std::os::unix::net::UnixStream>> {
        self.engine()?
            .connect_stdin(name, abandoned)
            .map_err(api_error)
    }

    fn top_container(
        &self,
        name: &str,
        ps_args: &[String],
    ) -> wharf_api::Result<wharf_api::types::Top> {
        let table = self
            .engine()?
            .top_container(name, ps_args)
            .map_err(api_error)?;
        Ok(wharf_api::types::Top {
            titles: table.titles,
            processes: table.processes,
        })
    }

    fn stat_path(&self, name: &str, path: &str) -> wharf_api::Result<wharf_api::types::PathStat> {
        let stat = self
            .engine()?
            .stat_in_container(name, path)
            .map_err(copy_error)?;
        let mtime = time::OffsetDateTime::from_unix_timestamp(stat.mtime.0)
            .map(|t| t.replace_nanosecond(stat.mtime.1).unwrap_or(t))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Ok(wharf_api::types::PathStat {
            name: stat.name,
            size: stat.size,
            unix_mode: stat.mode,
            mtime: mtime
                .format(&time::format_description::well_known::Rfc3339)
                .expect("the time formats"),
            link_target: stat.link_target,
        })
    }

    fn get_archive(
        &self,
        name: &str,
        path: &str,
        out: &mut dyn std::io::Write,
    ) -> wharf_api::Result<()> {
        self.engine()?
            .copy_from_container_to_tar(name, path, out, Default::default())
            .map_err(copy_error)
    }

    fn put_archive(&self, name: &str, path: &str, archive: &[u8]) -> wharf_api::Result<()> {
        self.engine()?
            .copy_tar_into_container(archive, name, path)
            .map_err(copy_error)
    }

    fn rename_container(&self, name: &str, new_name: &str) -> wharf_api::Result<()> {
        self.engine()?
            .rename_container(name, new_name)
            .map_err(api_error)
    }

    fn update_container(
        &self,
        name: &str,
        body: wharf_api::types::HostConfig,
    ) -> wharf_api::Result<()> {
        let options = wharf_engine::UpdateOptions {
            restart_policy: create::restart_policy(&body)?,
            resources: create::resources(&body),
        };
        self.engine()?
            .update_container(name, &options)
            .map_err(api_error)
    }

    fn container_changes(&self, name: &str) -> wharf_api::Result<Vec<(String, u8)>> {
        let changes = self.engine()?.container_changes(name).map_err(api_error)?;
        Ok(changes
            .into_iter()
            .map(|(kind, path)| {
                let kind = match kind {
                    wharf_engine::ChangeKind::Modified => 0,
                    wharf_engine::ChangeKind::Added => 1,
                    wharf_engine::ChangeKind::Deleted => 2,
                };
                (path, kind)
            })
            .collect())
    }

    fn export_container(&self, name: &str, out: &mut dyn std::io::Write) -> wharf_api::Result<()> {
        self.engine()?
            .export_container(name, out)
            .map_err(api_error)
    }

    fn prune_containers(&self) -> wharf_api::Result<(Vec<String>, u64)> {
        self.engine()?.prune_containers().map_err(api_error)
    }

    fn pause_container(&self, name: &str) -> wharf_api::Result<()> {
        self.engine()?.pause_container(name).map_err(api_error)
    }

    fn unpause_container(&self, name: &str) -> wharf_api::Result<()> {
        self.engine()?.unpause_container(name).map_err(api_error)
    }

    fn create_exec(
        &self,
        container: &str,
        body: wharf_api::types::ExecCreate,
    ) -> wharf_api::Result<String> {
        exec::create(&self.engine()?, container, body)
    }

    fn start_exec(
        &self,
        id: &str,
        detach: bool,
    ) -> wharf_api::Result<Option<wharf_api::types::ExecProcess>> {
        exec::start(&self.engine()?, id, detach)
    }

    fn inspect_exec(&self, id: &str) -> wharf_api::Result<Value> {
        exec::inspect(&self.engine()?, id)
    }

    fn create_network(&self, body: wharf_api::types::NetworkCreate) -> wharf_api::Result<String> {
        networks::create_network(&self.engine()?, body)
    }

    fn list_networks(&self) -> wharf_api::Result<Vec<Value>> {
        networks::list_networks(&self.engine()?)
    }

    fn inspect_network(&self, name: &str) -> wharf_api::Result<Value> {
        self.engine()?
            .inspect_network(name)
            .map_err(networks::network_error)
    }

    fn remove_network(&self, name: &str) -> wharf_api::Result<()> {
        self.engine()?
            .remove_network(name)
            .map(drop)
            .map_err(networks::network_error)
    }

    fn connect_network(
        &self,
        network: &str,
        body: wharf_api::types::NetworkConnect,
    ) -> wharf_api::Result<()> {
        networks::connect(&self.engine()?, network, body)
    }

    fn disconnect_network(&self, network: &str, container: &str) -> wharf_api::Result<()> {
        self.engine()?
            .disconnect_network(network, container)
            .map_err(networks::network_error)
    }

    fn prune_networks(&self) -> wharf_api::Result<Vec<String>> {
        self.engine()?
            .prune_networks()
            .map_err(networks::network_error)
    }

    fn create_volume(&self, body: wharf_api::types::VolumeCreate) -> wharf_api::Result<Value> {
        volumes::create_volume(&self.engine()?, body)
    }

    fn list_volumes(&self) -> wharf_api::Result<Vec<Value>> {
        volumes::list_volumes(&self.engine()?)
    }

    fn inspect_volume(&self, name: &str) -> wharf_api::Result<Value> {
        self.engine()?.inspect_volume(name).map_err(api_error)
    }

    fn remove_volume(&self, name: &str, force: bool) -> wharf_api::Result<()> {
        volumes::remove_volume(&self.engine()?, name, force)
    }

    fn prune_volumes(&self, all: bool) -> wharf_api::Result<(Vec<String>, u64)> {
        let report = self.engine()?.prune_volumes(all).map_err(api_error)?;
        Ok((report.removed, report.reclaimed))
    }

    fn build_image(
        &self,
        context: Vec<u8>,
        query: wharf_api::types::BuildQuery,
        progress: &mut (dyn FnMut(String) + Send),
    ) -> wharf_api::Result<String> {
        build::build(&self.engine()?, context, query, progress)
    }

    fn list_images(&self) -> wharf_api::Result<Vec<wharf_api::types::ImageSummary>> {
        images::list(&self.engine()?)
    }

    fn inspect_image(&self, name: &str) -> wharf_api::Result<Value> {
        self.engine()?.inspect_image(name).map_err(api_error)
    }

    fn pull_image(
        &self,
        reference: &str,
        progress: &mut (dyn FnMut(wharf_api::types::PullProgress) + Send),
    ) -> wharf_api::Result<()> {
        images::pull(&self.engine()?, reference, progress)
    }

    fn push_image(
        &self,
        reference: &str,
        progress: &mut (dyn FnMut(wharf_api::types::PullProgress) + Send),
    ) -> wharf_api::Result<()> {
        images::push(&self.engine()?, reference, progress)
    }

    fn save_images(&self, names: &[String], out: &mut dyn std::io::Write) -> wharf_api::Result<()> {
        self.engine()?.save(names, out).map_err(api_error)
    }

    fn load_images(&self, archive: &[u8]) -> wharf_api::Result<Vec<String>> {
        images::load(&self.engine()?, archive)
    }

    fn image_history(&self, name: &str) -> wharf_api::Result<Vec<Value>> {
        images::history(&self.engine()?, name)
    }

    fn commit_container(&self, commit: wharf_api::types::Commit) -> wharf_api::Result<String> {
        images::commit(&self.engine()?, commit)
    }

    fn tag_image(&self, name: &str, target: &str) -> wharf_api::Result<()> {
        self.engine()?.tag(name, target).map_err(api_error)
    }

    fn remove_image(
        &self,
        name: &str,
        force: bool,
    ) -> wharf_api::Result<Vec<wharf_api::types::ImageDeleted>> {
        images::remove(&self.engine()?, name, force)
    }

    fn prune_images(
        &self,
        all: bool,
    ) -> wharf_api::Result<(Vec<wharf_api::types::ImageDeleted>, u64)> {
        system::prune_images(&self.engine()?, all)
    }

    fn disk_usage(&self) -> wharf_api::Result<Value> {
        system::disk_usage(&self.engine()?)
    }

    fn check_auth(&self, body: wharf_api::types::AuthConfig) -> wharf_api::Result<()> {
        system::check_auth(&self.engine()?, body)
    }
}
