//! One compose service as the engine's [`CreateOptions`]. A service key the engine cannot
//! honor is refused, naming it (`services.web.sysctls`), never silently dropped.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wharf_compose::labels as compose_labels;
use wharf_compose::model::{Project, Service, ServiceNetwork};
use wharf_compose::ContainerRequest;
use wharf_runtime::{CapabilityChanges, DeviceRequest, Mount, Propagation, Resources, Ulimit};

use crate::containers::{CreateOptions, HealthOptions, LogConfig, RestartPolicy, VolumeRequest};
use crate::error::{EngineError, Result};

/// The service keys the engine honors (`develop` by `compose watch`). Any other key set
/// in a service is refused.
const HONORED_KEYS: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "configs",
    "container_name",
    "cpus",
    "depends_on",
    "deploy",
    "develop",
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
    "mem_reservation",
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
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "volumes",
    "working_dir",
];

/// `deploy` keys honored (the rest are swarm's and refused).
const HONORED_DEPLOY_KEYS: &[&str] = &["replicas", "resources", "restart_policy"];

pub(super) fn refuse(service: &Service, key: &str, message: impl Into<String>) -> EngineError {
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
pub(super) fn ordered_networks(service: &Service) -> Vec<(&String, Option<&ServiceNetwork>)> {
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
pub(super) fn network_aliases(
    service: &Service,
    container: &ContainerRequest,
    network: Option<&ServiceNetwork>,
) -> Vec<String> {
    let mut aliases = vec![service.name.clone(), container.name.clone()];
    aliases.extend(network.map(|n| n.aliases.clone()).unwrap_or_default());
    aliases
}

/// Docker's `-p` text for a compose port.
pub(super) fn publish_text(port: &wharf_compose::model::Port) -> String {
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
    mounts.extend(super::files::file_mounts(project, service)?);
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
        start_interval: check.start_interval.map(|d| d.0),
        retries: check.retries.map(|r| r as u32),
        ..HealthOptions::default()
    })
}

fn positive_bytes(n: i64) -> Option<u64> {
    u64::try_from(n).ok().filter(|&n| n > 0)
}

/// `deploy.resources` (and the older `mem_limit`, `cpus`, `pids_limit`). Of the
/// reservations, as docker compose: memory only (a cpus reservation is swarm's).
fn resources(service: &Service) -> Resources {
    let resources = service.deploy.as_ref().map(|d| &d.resources);
    let limits = resources.and_then(|r| r.limits.as_ref());
    let reservations = resources.and_then(|r| r.reservations.as_ref());
    Resources {
        memory: limits
            .and_then(|l| positive_bytes(l.memory.0))
            .or_else(|| positive_bytes(service.mem_limit.0)),
        memory_swap: None,
        cpus: limits
            .map(|l| l.cpus.0)
            .filter(|c| *c > 0.0)
            .or((service.cpus.0 > 0.0).then_some(service.cpus.0))
            .map(f64::from),
        cpu_shares: None,
        pids_limit: limits
            .and_then(|l| positive_bytes(l.pids))
            .or_else(|| positive_bytes(service.pids_limit)),
        // As docker compose: a memory reservation is a soft limit; reserved cpus and pids
        // are swarm's scheduling hints, which a single host has no use for.
        memory_reservation: reservations
            .and_then(|r| positive_bytes(r.memory.0))
            .or_else(|| positive_bytes(service.mem_reservation.0)),
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
    let reservations = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    if reservations.is_some_and(|r| r.devices.is_some() || r.generic_resources.is_some()) {
        return Err(refuse(
            service,
            "deploy.resources.reservations.devices",
            "wharf cannot reserve devices",
        ));
    }
    let network = match service.network_mode.as_str() {
        "" => None,
        mode @ ("host" | "none" | "bridge") => Some(mode.to_string()),
        mode => match mode.split_once(':') {
            // The first container of the service, as docker compose.
            Some(("service", name)) => {
                let other = project.services.get(name).ok_or_else(|| {
                    refuse(
                        service,
                        "network_mode",
                        format!("no service {name} in the project"),
                    )
                })?;
                Some(format!(
                    "container:{}",
                    compose_labels::container_name(&project.name, other, 1)
                ))
            }
            Some(("container", _)) => Some(mode.to_string()),
            _ => {
                return Err(refuse(
                    service,
                    "network_mode",
                    format!("{mode} is not host, none, bridge, service:NAME or container:NAME"),
                ))
            }
        },
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
        Some(logging) => LogConfig::parse(
            &logging.driver,
            logging
                .options
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| refuse(service, "logging", format!("{}: {e}", e.value())))?,
        None => LogConfig::default(),
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
        port_bindings_as_sent: None,
        expose: service.expose.clone(),
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
        inherited_volumes: Vec::new(),
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
        stdin_once: false,
        init: service
            .init
            .unwrap_or(false)
            .then(|| init_path.to_path_buf()),
        sysctls: service.sysctls.clone(),
        shm_size: positive_bytes(service.shm_size.0),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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
      resources:
        limits: {cpus: "0.5", memory: 64M, pids: 50}
        reservations: {cpus: "0.25", memory: 32M}
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
        assert_eq!(options.resources.memory_reservation, Some(32 << 20));
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
    fn kernel_parameters_shm_reservations_logs_and_shared_networks() {
        let yaml = r#"
services:
  db: {image: postgres}
  web:
    image: i
    network_mode: service:db
    sysctls: [net.core.somaxconn=1024]
    shm_size: 128m
    deploy: {resources: {reservations: {cpus: "0.5", memory: 32M}}}
    logging: {driver: json-file, options: {max-size: 1m, max-file: "2"}}
"#;
        let options = options_for(yaml, "web").unwrap();
        assert_eq!(options.network.as_deref(), Some("container:app-db-1"));
        assert_eq!(options.sysctls["net.core.somaxconn"], "1024");
        assert_eq!(options.shm_size, Some(128 << 20));
        // As docker compose: memory is reserved, a cpus reservation is swarm's.
        assert_eq!(options.resources.memory_reservation, Some(32 << 20));
        assert_eq!(options.resources.cpus, None);
        assert_eq!(
            (options.log_config.max_size, options.log_config.max_file),
            (Some(1 << 20), 2)
        );
    }

    #[test]
    fn keys_the_engine_cannot_honor_are_refused_by_name() {
        let refused = |service: &str| {
            let yaml = format!("services:\n  s:\n    image: i\n{service}");
            options_for(&yaml, "s").unwrap_err().to_string()
        };
        assert_eq!(
            refused("    userns_mode: host\n"),
            "services.s.userns_mode: wharf cannot honor this key yet"
        );
        assert_eq!(
            refused("    deploy: {placement: {constraints: [a]}}\n"),
            "services.s.deploy.placement: wharf cannot honor this key yet"
        );
        assert_eq!(
            refused("    logging: {options: {max-file: '0'}}\n"),
            "services.s.logging: max-file=0: max-file is a number of files, at least 1"
        );
        assert_eq!(
            refused("    logging: {driver: syslog}\n"),
            "services.s.logging: syslog: unsupported log driver"
        );
        assert_eq!(
            refused(
                "    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n"
            ),
            "services.s.deploy.resources.reservations.devices: wharf cannot reserve devices"
        );
        assert_eq!(
            refused("    security_opt: [seccomp:unconfined]\n"),
            "services.s.security_opt[0]: wharf supports no-new-privileges only"
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
