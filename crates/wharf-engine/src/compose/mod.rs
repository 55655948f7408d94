//! The engine side of `wharf compose`: [`ComposeBackend`] carries out wharf-compose's plan
//! with the engine's own operations (the ones `create`, `start`, `network create`... use);
//! [`options`] maps each service onto [`CreateOptions`](crate::CreateOptions).

mod files;
mod options;
mod run;
mod wait;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use wharf_compose::labels::{self as compose_labels};
use wharf_compose::model::{Project, Service};
use wharf_compose::{Backend, BackendError, ContainerRequest, Observed, Readiness, Resource};

pub use options::create_options;
use options::{network_aliases, ordered_networks, publish_text, refuse};

use crate::build::{BuildOptions, BuildSource};
use crate::containers::{Attach, ContainerInfo};
use crate::error::{EngineError, Result};
use crate::network::{ConnectOptions, NetworkCreateOptions};
use crate::registry::{LayerProgress, NoProgress};
use crate::Engine;

/// The engine, as wharf-compose's [`Backend`].
pub struct ComposeBackend<'a> {
    pub engine: &'a Engine,
    /// The `init: true` binary (as `run --init`).
    pub init_path: PathBuf,
    /// Builds' RUN steps trust the host's CA certificates (`--host-ca-certs`).
    pub host_ca_certs: bool,
    pub build_reporter: &'a dyn wharf_build::Reporter,
    pub pull_progress: &'a dyn LayerProgress,
    /// The cgroup warm-up ([`Engine::warm_up_container_start`]) runs once, at the first
    /// create or start: an `up` with nothing to do does not wait for it at exit.
    warmed_up: std::sync::Once,
}
/// A container of a compose project, from its labels.
pub fn observed(info: &ContainerInfo) -> Option<Observed> {
    let labels = &info.record.labels;
    Some(Observed {
        id: info.record.id.clone(),
        name: info.record.name.clone(),
        service: labels.get(compose_labels::SERVICE)?.clone(),
        number: labels
            .get(compose_labels::CONTAINER_NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
        config_hash: labels
            .get(compose_labels::CONFIG_HASH)
            .cloned()
            .unwrap_or_default(),
        image_id: labels
            .get(compose_labels::IMAGE)
            .cloned()
            .unwrap_or_default(),
        running: info.state.status.is_up(),
        oneoff: labels.get(compose_labels::ONEOFF).map(String::as_str) == Some("True"),
    })
}

impl Engine {
    /// The containers of compose project `project`, newest first.
    pub fn project_containers(&self, project: &str) -> Result<Vec<ContainerInfo>> {
        Ok(self
            .list_containers()?
            .into_iter()
            .filter(|c| {
                c.record
                    .labels
                    .get(compose_labels::PROJECT)
                    .map(String::as_str)
                    == Some(project)
            })
            .collect())
    }

    /// Starts a created or stopped container in the background and waits until it runs.
    pub fn start_detached(&self, name: &str) -> Result<()> {
        self.start_detached_together(&[name.to_owned()]).remove(0)
    }

    /// Starts the containers in the background, all at once (each monitor sets up and starts
    /// its own container, in parallel), and waits until each runs; one result per name.
    pub fn start_detached_together(&self, names: &[String]) -> Vec<Result<()>> {
        let children: Vec<Result<std::process::Child>> = names
            .iter()
            .map(|name| self.start_container(name, Attach::Detached))
            .collect();
        children
            .into_iter()
            .zip(names)
            .map(|(child, name)| self.await_detached_start(child?, name))
            .collect()
    }
}

impl<'a> ComposeBackend<'a> {
    pub fn new(
        engine: &'a Engine,
        init_path: PathBuf,
        host_ca_certs: bool,
        build_reporter: &'a dyn wharf_build::Reporter,
    ) -> Self {
        Self {
            engine,
            init_path,
            host_ca_certs,
            build_reporter,
            pull_progress: &NoProgress,
            warmed_up: std::sync::Once::new(),
        }
    }

    fn warm_up_container_start(&self) {
        self.warmed_up
            .call_once(|| self.engine.warm_up_container_start());
    }
}

impl ComposeBackend<'_> {
    /// Creates the container, joins it to the service's other networks (with compose's
    /// aliases when `aliases`) and puts its secrets and configs in; returns its id.
    fn create_on_networks(
        &self,
        project: &Project,
        service: &Service,
        container: &ContainerRequest,
        options: &crate::CreateOptions,
        aliases: bool,
    ) -> Result<String> {
        let id = self.engine.create_container(options)?;
        let extra = ordered_networks(service).into_iter().skip(1);
        for (key, network) in extra.filter(|_| service.network_mode.is_empty()) {
            let connect = ConnectOptions {
                aliases: if aliases {
                    network_aliases(service, container, network)
                } else {
                    Vec::new()
                },
                ip: network
                    .map(|n| n.ipv4_address.clone())
                    .filter(|ip| !ip.is_empty()),
            };
            if let Err(error) =
                self.engine
                    .connect_network(&project.networks[key].name, &id, &connect)
            {
                let _ = self.engine.remove_container(&id, true, false);
                return Err(error);
            }
        }
        if let Err(error) = self.inject_files(project, service, &id) {
            let _ = self.engine.remove_container(&id, true, false);
            return Err(error);
        }
        Ok(id)
    }

    fn ports_in_use(&self, service: &Service) -> Result<()> {
        let taken = self.engine.published_ports()?;
        for (index, port) in service.ports.iter().enumerate() {
            let text = publish_text(port);
            let specs = wharf_net::parse_publish(&text)
                .map_err(|e| refuse(service, &format!("ports[{index}]"), e.to_string()))?;
            for spec in specs {
                let Some((first, last)) = spec.host_ports else {
                    continue;
                };
                let host_ip = match spec.host_ip {
                    Some(std::net::IpAddr::V4(ip)) => ip,
                    _ => std::net::Ipv4Addr::UNSPECIFIED,
                };
                for host_port in first..=last {
                    let binding = wharf_net::PortBinding {
                        protocol: spec.protocol,
                        host_ip,
                        host_port,
                        container_port: spec.container_port,
                    };
                    if let Some((holder, _)) = taken
                        .iter()
                        .find(|(_, bindings)| bindings.iter().any(|b| b.conflicts_with(&binding)))
                    {
                        return Err(wharf_net::NetError::PortAllocated {
                            port: binding.host_side(),
                            container: holder.clone(),
                        }
                        .into());
                    }
                    wharf_net::check_port_free(&binding)?;
                }
            }
        }
        Ok(())
    }
}

impl ComposeBackend<'_> {
    /// The secrets and configs given as content, written into the created container.
    fn inject_files(&self, project: &Project, service: &Service, id: &str) -> Result<()> {
        let files = files::injected(project, service)?;
        if files.is_empty() {
            return Ok(());
        }
        let tar = files::tar(&files).map_err(|e| EngineError::Copy {
            path: files[0].path.clone(),
            message: e.to_string(),
        })?;
        self.engine.copy_tar_into_container(tar.as_slice(), id, "/")
    }
}

fn boxed(error: EngineError) -> BackendError {
    Box::new(error)
}

impl Backend for ComposeBackend<'_> {
    fn observe(&self, project: &str) -> Result<Vec<Observed>, BackendError> {
        Ok(self
            .engine
            .project_containers(project)
            .map_err(boxed)?
            .iter()
            .filter_map(observed)
            .collect())
    }

    fn image_id(&self, image: &str) -> Result<Option<String>, BackendError> {
        let index = self.engine.store.index().map_err(|e| boxed(e.into()))?;
        Ok(index.resolve(image).map(|id| id.to_string()))
    }

    fn check(
        &self,
        project: &Project,
        service: &Service,
        new_ports: bool,
    ) -> Result<(), BackendError> {
        let request = ContainerRequest {
            name: compose_labels::container_name(&project.name, service, 1),
            number: 1,
            image: compose_labels::image_name(&project.name, service),
            labels: BTreeMap::new(),
        };
        create_options(project, service, &request, &self.init_path, false).map_err(boxed)?;
        files::injected(project, service).map_err(boxed)?;
        if let Some(build) = &service.build {
            if !build.ssh.is_empty() {
                return Err(boxed(refuse(
                    service,
                    "build.ssh",
                    "ssh forwarding is not supported",
                )));
            }
        }
        if new_ports {
            self.ports_in_use(service).map_err(boxed)?;
        }
        Ok(())
    }

    fn build(&self, project: &Project, service: &Service, image: &str) -> Result<(), BackendError> {
        let build = service
            .build
            .as_ref()
            .expect("only services with build are built");
        let context = project.working_dir.join(&build.context);
        let dockerfile = (!build.dockerfile.is_empty()).then(|| context.join(&build.dockerfile));
        let options = BuildOptions {
            source: BuildSource::Dir(context),
            dockerfile,
            dockerfile_text: (!build.dockerfile_inline.is_empty())
                .then(|| build.dockerfile_inline.clone()),
            tags: vec![wharf_oci::Reference::parse_normalized(image).map_err(|e| boxed(e.into()))?],
            build_args: build
                .args
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
                .collect(),
            target: (!build.target.is_empty()).then(|| build.target.clone()),
            no_cache: build.no_cache,
            pull: build.pull,
            labels: build.labels.clone(),
            secrets: Vec::new(),
            network: wharf_build::Network::Default,
            extra_hosts: Vec::new(),
            host_ca_certs: self.host_ca_certs,
            compression: wharf_store::LayerCompression::default(),
            force_compression: false,
        };
        self.engine
            .build(options, self.build_reporter)
            .map_err(boxed)?;
        Ok(())
    }

    fn pull(&self, image: &str) -> Result<(), BackendError> {
        self.engine
            .pull(image, None, self.pull_progress)
            .map_err(boxed)?;
        Ok(())
    }

    fn ensure_network(&self, project: &Project, network: &Resource) -> Result<bool, BackendError> {
        if self.engine.find_network(&network.name).is_ok() {
            return Ok(false);
        }
        let spec = &project.networks[&network.key];
        let pool = spec.ipam.config.first();
        self.engine
            .create_network(&NetworkCreateOptions {
                name: network.name.clone(),
                driver: (!spec.driver.is_empty()).then(|| spec.driver.clone()),
                subnet: pool.map(|p| p.subnet.clone()).filter(|s| !s.is_empty()),
                gateway: pool.map(|p| p.gateway.clone()).filter(|g| !g.is_empty()),
                internal: spec.internal,
                labels: network.labels.clone(),
            })
            .map_err(boxed)?;
        Ok(true)
    }

    fn ensure_volume(&self, _project: &Project, volume: &Resource) -> Result<bool, BackendError> {
        Ok(self
            .engine
            .ensure_volume(&volume.name, &volume.labels)
            .map_err(boxed)?
            .1)
    }

    fn create(
        &self,
        project: &Project,
        service: &Service,
        container: &ContainerRequest,
    ) -> Result<(), BackendError> {
        self.warm_up_container_start();
        let options =
            create_options(project, service, container, &self.init_path, true).map_err(boxed)?;
        self.create_on_networks(project, service, container, &options, true)
            .map(drop)
            .map_err(boxed)
    }

    fn start(&self, names: &[String]) -> Vec<Result<(), BackendError>> {
        self.warm_up_container_start();
        self.engine
            .start_detached_together(names)
            .into_iter()
            .map(|started| started.map_err(boxed))
            .collect()
    }

    fn stop(&self, name: &str, timeout: Option<Duration>) -> Result<(), BackendError> {
        self.engine
            .stop_container(name, None, timeout.map(|t| t.as_secs()))
            .map_err(boxed)
    }

    fn remove(&self, name: &str) -> Result<(), BackendError> {
        self.engine
            .remove_container(name, true, false)
            .map(drop)
            .map_err(boxed)
    }

    fn recreate(
        &self,
        project: &Project,
        service: &Service,
        container: &ContainerRequest,
        timeout: Option<Duration>,
        keep_volumes: bool,
    ) -> Result<(), BackendError> {
        self.warm_up_container_start();
        let name = &container.name;
        self.stop(name, timeout)?;
        let old = self.engine.find_container(name).map_err(boxed)?;
        let mut options =
            create_options(project, service, container, &self.init_path, true).map_err(boxed)?;
        if keep_volumes {
            options.inherited_volumes = old.record.volumes;
        }
        // The anonymous volumes stay: for the new container, or dangling (as docker
        // compose leaves them with --renew-anon-volumes).
        self.remove(name)?;
        self.create_on_networks(project, service, container, &options, true)
            .map(drop)
            .map_err(boxed)
    }

    fn wait_for(&self, name: &str, condition: &str) -> Result<Readiness, BackendError> {
        self.engine
            .wait_condition(name, condition, None)
            .map_err(boxed)
    }
}
