//! The engine side of `wharf compose`: [`ComposeBackend`] carries out wharf-compose's plan
//! with the engine's own operations (the ones `create`, `start`, `network create`... use),
//! and maps each service onto [`CreateOptions`]. A service key the engine cannot honor is
//! refused, naming it (`services.web.sysctls`), never silently dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use wharf_compose::labels::{self as compose_labels};
use wharf_compose::model::{Project, Service, ServiceNetwork};
use wharf_compose::{Backend, BackendError, ContainerRequest, Observed, Readiness, Resource};
use wharf_runtime::{CapabilityChanges, DeviceRequest, Mount, Propagation, Resources, Ulimit};

use crate::build::{BuildOptions, BuildSource};
use crate::containers::{
    Attach, ContainerInfo, CreateOptions, HealthOptions, LogConfig, RestartPolicy, Status,
    VolumeRequest,
};
use crate::error::{EngineError, Result};
use crate::network::{ConnectOptions, NetworkCreateOptions};
use crate::registry::LayerProgress;
use crate::Engine;

/// The service keys the engine honors. Any other key set in a service is refused.
const HONORED_KEYS: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "container_name",
    "cpus",
    "depends_on",
    "deploy",
    "devices",
    "dns",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "labels",
    "logging",
    "mem_limit",
    "network_mode",
    "networks",
    "pids_limit",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "security_opt",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "volumes",
    "working_dir",
];

/// `deploy` keys honored (the rest are swarm's and refused).
const HONORED_DEPLOY_KEYS: &[&str] = &["replicas", "resources", "restart_policy"];

/// How often a wait for a dependency looks at its state.
const WAIT_POLL: Duration = Duration::from_millis(20);

/// The engine, as wharf-compose's [`Backend`].
pub struct ComposeBackend<'a> {
    pub engine: &'a Engine,
    /// The `init: true` binary (as `run --init`).
    pub init_path: PathBuf,
    pub build_reporter: &'a dyn wharf_build::Reporter,
    pub pull_progress: &'a dyn LayerProgress,
}

fn refuse(service: &Service, key: &str, message: impl Into<String>) -> EngineError {
    EngineError::ComposeKey {
        key: format!("services.{}.{key}", service.name),
        message: message.into(),
    }
}

/// Whether a key of the model's JSON says something: Go's value structs (`placement`)
/// are there even when empty.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(object) => object.values().any(is_set),
        _ => true,
    }
}

/// Refuses every key set in the service (present in its JSON) that wharf does not honor.
fn refuse_unknown_keys(service: &Service) -> Result<()> {
    let value = serde_json::to_value(service).unwrap_or(Value::Null);
    let object = value.as_object().cloned().unwrap_or_default();
    for (key, value) in &object {
        if is_set(value) && !HONORED_KEYS.contains(&key.as_str()) {
            return Err(refuse(service, key, "wharf cannot honor this key yet"));
        }
    }
    if let Some(deploy) = object.get("deploy").and_then(Value::as_object) {
        for (key, value) in deploy {
            if is_set(value) && !HONORED_DEPLOY_KEYS.contains(&key.as_str()) {
                return Err(refuse(
                    service,
                    &format!("deploy.{key}"),
                    "wharf cannot honor this key yet",
                ));
            }
        }
    }
    Ok(())
}

/// The service's networks in the order docker compose attaches them: by priority, then name.
fn ordered_networks(service: &Service) -> Vec<(&String, Option<&ServiceNetwork>)> {
    let mut networks: Vec<(&String, Option<&ServiceNetwork>)> = service
        .networks
        .iter()
        .map(|(key, network)| (key, network.as_ref()))
        .collect();
    networks.sort_by_key(|(key, network)| (-network.map_or(0, |n| n.priority), (*key).clone()));
    networks
}

/// Compose's aliases on each network: the service name (so that it resolves to every
/// replica), the container's name, and the aliases the file gives.
fn network_aliases(
    service: &Service,
    container: &ContainerRequest,
    network: Option<&ServiceNetwork>,
) -> Vec<String> {
    let mut aliases = vec![service.name.clone(), container.name.clone()];
    aliases.extend(network.map(|n| n.aliases.clone()).unwrap_or_default());
    aliases
}

/// Docker's `-p` text for a compose port.
fn publish_text(port: &wharf_compose::model::Port) -> String {
    let protocol = if port.protocol.is_empty() {
        "tcp"
    } else {
        &port.protocol
    };
    let container = format!("{}/{protocol}", port.target);
    match (port.host_ip.as_str(), port.published.as_str()) {
        ("", "") => container,
        ("", published) => format!("{published}:{container}"),
        (ip, published) => format!("{ip}:{published}:{container}"),
    }
}

/// The mounts of `volumes` and `tmpfs`.
fn mounts(
    project: &Project,
    service: &Service,
    create_paths: bool,
) -> Result<(Vec<Mount>, Vec<VolumeRequest>)> {
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for (index, volume) in service.volumes.iter().enumerate() {
        let key = format!("volumes[{index}]");
        match volume.kind.as_str() {
            "bind" => {
                let source = PathBuf::from(&volume.source);
                let create = volume.bind.as_ref().is_some_and(|b| b.create_host_path);
                if !source.exists() {
                    if !create {
                        return Err(refuse(
                            service,
                            &key,
                            format!("bind source path {} does not exist", source.display()),
                        ));
                    }
                    if create_paths {
                        std::fs::create_dir_all(&source).map_err(|error| {
                            refuse(
                                service,
                                &key,
                                format!("cannot create {}: {error}", source.display()),
                            )
                        })?;
                    }
                }
                let propagation = match volume.bind.as_ref().map(|b| b.propagation.as_str()) {
                    None | Some("") | Some("rprivate") => Propagation::Rprivate,
                    Some("private") => Propagation::Private,
                    Some("shared") => Propagation::Shared,
                    Some("rshared") => Propagation::Rshared,
                    Some(other) => {
                        return Err(refuse(
                            service,
                            &format!("{key}.bind.propagation"),
                            format!("{other} is not supported"),
                        ))
                    }
                };
                mounts.push(Mount::Bind {
                    source,
                    destination: volume.target.clone().into(),
                    read_only: volume.read_only,
                    propagation,
                });
            }
            "volume" => {
                let name = if volume.source.is_empty() {
                    None
                } else {
                    Some(
                        project
                            .volumes
                            .get(&volume.source)
                            .map_or_else(|| volume.source.clone(), |v| v.name.clone()),
                    )
                };
                volumes.push(VolumeRequest {
                    name,
                    destination: volume.target.clone().into(),
                    read_only: volume.read_only,
                    no_copy: volume.volume.as_ref().is_some_and(|v| v.nocopy),
                });
            }
            "tmpfs" => mounts.push(Mount::Tmpfs {
                destination: volume.target.clone().into(),
                size_bytes: volume
                    .tmpfs
                    .as_ref()
                    .map(|t| t.size.0)
                    .filter(|size| *size > 0)
                    .map(|size| size as u64),
                mode: volume.tmpfs.as_ref().map(|t| t.mode).filter(|m| *m != 0),
                read_only: volume.read_only,
                exec: false,
            }),
            other => {
                return Err(refuse(
                    service,
                    &format!("{key}.type"),
                    format!("{other} volumes are not supported yet"),
                ))
            }
        }
    }
    for (index, tmpfs) in service.tmpfs.iter().enumerate() {
        if tmpfs.contains(':') {
            return Err(refuse(
                service,
                &format!("tmpfs[{index}]"),
                "tmpfs options are not supported here yet: use a volume of type tmpfs",
            ));
        }
        mounts.push(Mount::Tmpfs {
            destination: tmpfs.into(),
            size_bytes: None,
            mode: None,
            read_only: false,
            exec: false,
        });
    }
    Ok((mounts, volumes))
}

fn restart_policy(service: &Service) -> Result<RestartPolicy> {
    if !service.restart.is_empty() {
        return service
            .restart
            .parse()
            .map_err(|why: String| refuse(service, "restart", why));
    }
    let Some(policy) = service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref())
    else {
        return Ok(RestartPolicy::No);
    };
    Ok(match policy.condition.as_str() {
        "none" => RestartPolicy::No,
        "on-failure" => RestartPolicy::OnFailure {
            max_retries: policy.max_attempts.unwrap_or(0) as u32,
        },
        "" | "any" => RestartPolicy::Always,
        other => {
            return Err(refuse(
                service,
                "deploy.restart_policy.condition",
                format!("{other} is not none, on-failure or any"),
            ))
        }
    })
}

fn health(service: &Service) -> Result<HealthOptions> {
    let Some(check) = &service.healthcheck else {
        return Ok(HealthOptions::default());
    };
    if check.start_interval.is_some() {
        return Err(refuse(
            service,
            "healthcheck.start_interval",
            "wharf cannot honor start_interval yet",
        ));
    }
    if check.disable || check.test.first().map(String::as_str) == Some("NONE") {
        return Ok(HealthOptions {
            disable: true,
            ..HealthOptions::default()
        });
    }
    Ok(HealthOptions {
        test: (!check.test.is_empty()).then(|| check.test.clone()),
        interval: check.interval.map(|d| d.0),
        timeout: check.timeout.map(|d| d.0),
        start_period: check.start_period.map(|d| d.0),
        retries: check.retries.map(|r| r as u32),
        ..HealthOptions::default()
    })
}

fn resources(service: &Service) -> Resources {
    let limits = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.as_ref());
    let positive = |n: i64| (n > 0).then_some(n as u64);
    Resources {
        memory: limits
            .and_then(|l| positive(l.memory.0))
            .or_else(|| positive(service.mem_limit.0)),
        memory_swap: None,
        cpus: limits
            .map(|l| l.cpus.0)
            .filter(|c| *c > 0.0)
            .or((service.cpus.0 > 0.0).then_some(service.cpus.0))
            .map(f64::from),
        cpu_shares: None,
        pids_limit: limits
            .and_then(|l| positive(l.pids))
            .or_else(|| positive(service.pids_limit)),
    }
}

/// The service as `create` options for one container. `create_paths`: make missing bind
/// sources (`create_host_path`), off while only checking.
pub fn create_options(
    project: &Project,
    service: &Service,
    container: &ContainerRequest,
    init_path: &Path,
    create_paths: bool,
) -> Result<CreateOptions> {
    refuse_unknown_keys(service)?;
    if let Some(deploy) = &service.deploy {
        if deploy.resources.reservations.is_some() {
            return Err(refuse(
                service,
                "deploy.resources.reservations",
                "wharf cannot honor reservations yet",
            ));
        }
    }
    let network = match service.network_mode.as_str() {
        "" => None,
        mode @ ("host" | "none" | "bridge") => Some(mode.to_string()),
        other => {
            return Err(refuse(
                service,
                "network_mode",
                format!("{other} is not supported yet"),
            ))
        }
    };
    let mut no_new_privileges = false;
    for (index, option) in service.security_opt.iter().enumerate() {
        match option.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                no_new_privileges = true
            }
            _ => {
                return Err(refuse(
                    service,
                    &format!("security_opt[{index}]"),
                    "wharf supports no-new-privileges only",
                ))
            }
        }
    }
    let log_config = match &service.logging {
        Some(logging)
            if !(logging.driver.is_empty() || logging.driver == "json-file")
                || !logging.options.is_empty() =>
        {
            return Err(refuse(
                service,
                "logging",
                "wharf supports the json-file driver without options here yet",
            ))
        }
        _ => LogConfig::default(),
    };
    let caps = |key: &str, names: &[String]| {
        names
            .iter()
            .map(|name| {
                name.parse()
                    .map_err(|e: wharf_runtime::ConfigError| refuse(service, key, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()
    };
    let ulimits = service
        .ulimits
        .iter()
        .map(|(name, limit)| {
            let (soft, hard) = match limit {
                wharf_compose::model::Ulimit::Single(n) => (*n, *n),
                wharf_compose::model::Ulimit::Pair { soft, hard } => (*soft, *hard),
            };
            format!("{name}={soft}:{hard}")
                .parse::<Ulimit>()
                .map_err(|e| refuse(service, &format!("ulimits.{name}"), e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let (mounts, volumes) = mounts(project, service, create_paths)?;
    let first_network = ordered_networks(service)
        .into_iter()
        .next()
        .filter(|_| network.is_none());
    let (entrypoint, command) = match (&service.entrypoint, &service.command) {
        (Some(entrypoint), command) if entrypoint.len() > 1 => (
            Some(entrypoint[0].clone()),
            Some(
                entrypoint[1..]
                    .iter()
                    .chain(command.iter().flatten())
                    .cloned()
                    .collect(),
            ),
        ),
        (Some(entrypoint), command) => (
            Some(entrypoint.first().cloned().unwrap_or_default()),
            command.clone(),
        ),
        (None, command) => (None, command.clone()),
    };
    Ok(CreateOptions {
        image: container.image.clone(),
        name: Some(container.name.clone()),
        command,
        entrypoint,
        env: service
            .environment
            .iter()
            .filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}={v}")))
            .collect(),
        workdir: (!service.working_dir.is_empty()).then(|| service.working_dir.clone()),
        user: (!service.user.is_empty()).then(|| service.user.clone()),
        hostname: (!service.hostname.is_empty()).then(|| service.hostname.clone()),
        auto_remove: false,
        network: network
            .or_else(|| first_network.map(|(key, _)| project.networks[key].name.clone())),
        publish: service.ports.iter().map(publish_text).collect(),
        publish_all: false,
        expose: Vec::new(),
        ip: first_network
            .and_then(|(_, n)| n)
            .map(|n| n.ipv4_address.clone())
            .filter(|ip| !ip.is_empty()),
        network_aliases: first_network
            .map(|(_, n)| network_aliases(service, container, n))
            .unwrap_or_default(),
        add_hosts: service
            .extra_hosts
            .iter()
            .flat_map(|(name, ips)| ips.iter().map(move |ip| format!("{name}:{ip}")))
            .collect(),
        dns: service.dns.clone(),
        mounts,
        volumes,
        read_only: service.read_only,
        resources: resources(service),
        ulimits,
        devices: service
            .devices
            .iter()
            .map(|device| DeviceRequest {
                host: PathBuf::from(&device.source),
                container: PathBuf::from(if device.target.is_empty() {
                    &device.source
                } else {
                    &device.target
                }),
                permissions: if device.permissions.is_empty() {
                    "rwm".to_owned()
                } else {
                    device.permissions.clone()
                },
            })
            .collect(),
        capabilities: CapabilityChanges {
            add: caps("cap_add", &service.cap_add)?,
            drop: caps("cap_drop", &service.cap_drop)?,
        },
        privileged: service.privileged,
        no_new_privileges,
        labels: container.labels.clone(),
        stop_signal: (!service.stop_signal.is_empty()).then(|| service.stop_signal.clone()),
        stop_timeout: service.stop_grace_period.map(|d| d.0.as_secs()),
        restart_policy: restart_policy(service)?,
        health: health(service)?,
        log_config,
        tty: service.tty,
        open_stdin: service.stdin_open,
        init: service
            .init
            .unwrap_or(false)
            .then(|| init_path.to_path_buf()),
    })
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
        let child = self.start_container(name, Attach::Detached)?;
        self.await_detached_start(child, name)
    }
}

impl ComposeBackend<'_> {
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
            host_ca_certs: false,
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
        let options =
            create_options(project, service, container, &self.init_path, true).map_err(boxed)?;
        let id = self.engine.create_container(&options).map_err(boxed)?;
        let extra = ordered_networks(service).into_iter().skip(1);
        for (key, network) in extra.filter(|_| service.network_mode.is_empty()) {
            let connect = ConnectOptions {
                aliases: network_aliases(service, container, network),
                ip: network
                    .map(|n| n.ipv4_address.clone())
                    .filter(|ip| !ip.is_empty()),
            };
            if let Err(error) =
                self.engine
                    .connect_network(&project.networks[key].name, &id, &connect)
            {
                let _ = self.engine.remove_container(&id, true, false);
                return Err(boxed(error));
            }
        }
        Ok(())
    }

    fn start(&self, name: &str) -> Result<(), BackendError> {
        self.engine.start_detached(name).map_err(boxed)
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

    fn wait_for(&self, name: &str, condition: &str) -> Result<Readiness, BackendError> {
        self.engine
            .wait_condition(name, condition, None)
            .map_err(boxed)
    }
}

impl Engine {
    /// Waits until the container meets a compose `depends_on` condition (or `deadline`
    /// passes: then it has failed too).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn project(yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        let mut options = wharf_compose::LoadOptions::new(dir.path().into(), BTreeMap::new());
        options.project_name = Some("app".into());
        wharf_compose::load(&options).unwrap().project
    }

    fn options_for(yaml: &str, service: &str) -> Result<CreateOptions> {
        let project = project(yaml);
        let service = &project.services[service];
        let request = ContainerRequest {
            name: format!("app-{}-1", service.name),
            number: 1,
            image: service.image.clone(),
            labels: BTreeMap::new(),
        };
        create_options(&project, service, &request, Path::new("/tini"), false)
    }

    #[test]
    fn a_service_maps_onto_create_options() {
        let yaml = r#"
services:
  web:
    image: web
    entrypoint: [python3, -u]
    command: [app.py]
    environment: {A: "1", UNSET: null}
    ports: ["8000:80", "127.0.0.1::53/udp"]
    networks:
      back: {aliases: [api]}
      front: {priority: 10}
    volumes: [data:/data, {type: tmpfs, target: /cache}]
    user: "1000"
    working_dir: /srv
    init: true
    read_only: true
    stop_signal: SIGINT
    stop_grace_period: 3s
    cap_add: [NET_ADMIN]
    ulimits: {nofile: {soft: 100, hard: 200}}
    deploy:
      resources: {limits: {cpus: "0.5", memory: 64M, pids: 50}}
      restart_policy: {condition: on-failure, max_attempts: 3}
    healthcheck: {test: [CMD, "true"], interval: 2s, retries: 4}
networks: {front: {}, back: {}}
volumes: {data: {}}
"#;
        let options = options_for(yaml, "web").unwrap();
        assert_eq!(options.entrypoint.as_deref(), Some("python3"));
        assert_eq!(
            options.command,
            Some(vec!["-u".to_string(), "app.py".to_string()])
        );
        assert_eq!(options.env, ["A=1"]);
        assert_eq!(options.publish, ["8000:80/tcp", "127.0.0.1::53/udp"]);
        // front has the higher priority: it is the first network, with compose's aliases.
        assert_eq!(options.network.as_deref(), Some("app_front"));
        assert_eq!(options.network_aliases, ["web", "app-web-1"]);
        assert_eq!(options.volumes[0].name.as_deref(), Some("app_data"));
        assert!(matches!(options.mounts[0], Mount::Tmpfs { .. }));
        assert_eq!(options.init.as_deref(), Some(Path::new("/tini")));
        assert_eq!(options.stop_timeout, Some(3));
        assert_eq!(options.resources.memory, Some(64 << 20));
        assert_eq!(options.resources.cpus, Some(0.5));
        assert_eq!(options.resources.pids_limit, Some(50));
        assert_eq!(
            options.restart_policy,
            RestartPolicy::OnFailure { max_retries: 3 }
        );
        assert_eq!(options.health.test, Some(vec!["CMD".into(), "true".into()]));
        assert_eq!(options.health.retries, Some(4));
        assert_eq!(options.ulimits.len(), 1);
    }

    #[test]
    fn keys_the_engine_cannot_honor_are_refused_by_name() {
        let refused = |service: &str| {
            let yaml = format!("services:\n  s:\n    image: i\n{service}");
            options_for(&yaml, "s").unwrap_err().to_string()
        };
        assert_eq!(
            refused("    sysctls: {net.core.somaxconn: '1'}\n"),
            "services.s.sysctls: wharf cannot honor this key yet"
        );
        assert_eq!(
            refused("    deploy: {placement: {constraints: [a]}}\n"),
            "services.s.deploy.placement: wharf cannot honor this key yet"
        );
        assert_eq!(
            refused("    network_mode: container:db\n"),
            "services.s.network_mode: container:db is not supported yet"
        );
        assert_eq!(
            refused("    security_opt: [seccomp:unconfined]\n"),
            "services.s.security_opt[0]: wharf supports no-new-privileges only"
        );
        assert!(
            refused("    healthcheck: {test: [CMD, 'true'], start_interval: 1s}\n")
                .starts_with("services.s.healthcheck.start_interval")
        );
    }

    #[test]
    fn ports_become_dockers_publish_text() {
        let port = |host_ip: &str, published: &str, target: u32, protocol: &str| {
            wharf_compose::model::Port {
                host_ip: host_ip.into(),
                published: published.into(),
                target,
                protocol: protocol.into(),
                ..Default::default()
            }
        };
        assert_eq!(publish_text(&port("", "8000", 80, "tcp")), "8000:80/tcp");
        assert_eq!(publish_text(&port("", "", 80, "")), "80/tcp");
        assert_eq!(
            publish_text(&port("127.0.0.1", "5432", 5432, "tcp")),
            "127.0.0.1:5432:5432/tcp"
        );
        assert_eq!(
            publish_text(&port("127.0.0.1", "", 53, "udp")),
            "127.0.0.1::53/udp"
        );
    }
}
