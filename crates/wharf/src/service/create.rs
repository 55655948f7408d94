//! `POST /containers/create`'s body onto the engine's [`CreateOptions`], as
//! `commands/container.rs` maps `run`'s flags. Errors name the field of the body.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wharf_api::types::{ContainerCreate, HealthConfig, HostConfig, MountSpec};
use wharf_api::ApiError;
use wharf_engine::{CreateOptions, HealthOptions, RestartPolicy, VolumeRequest};
use wharf_runtime::{CapabilityChanges, MemorySwap, Mount, Resources};

use crate::commands::{log_config, parse_caps, tmpfs_mount, volume_flag, Requested};

/// Where Docker's daemon finds `docker-init`; `--init` of the CLI reads the same variable.
const INIT_PATH: &str = "/usr/bin/tini-static";

pub fn options(name: Option<&str>, body: ContainerCreate) -> Result<CreateOptions, ApiError> {
    let bad = |field: &str, value: &str, why: &str| {
        ApiError::BadRequest(format!("{field}: {value:?}: {why}"))
    };
    let host = body.host_config.unwrap_or_default();
    let mut options = CreateOptions {
        image: body.image.unwrap_or_default(),
        name: name.map(str::to_string),
        env: body.env.unwrap_or_default(),
        workdir: body.working_dir.filter(|w| !w.is_empty()),
        user: body.user.filter(|u| !u.is_empty()),
        hostname: body.hostname.filter(|h| !h.is_empty()),
        labels: body.labels.unwrap_or_default(),
        stop_signal: body.stop_signal.filter(|s| !s.is_empty()),
        stop_timeout: body.stop_timeout,
        tty: body.tty.unwrap_or(false),
        open_stdin: body.open_stdin.unwrap_or(false),
        stdin_once: body.stdin_once.unwrap_or(false),
        health: health(body.healthcheck),
        expose: body.exposed_ports.unwrap_or_default().into_keys().collect(),
        ..CreateOptions::default()
    };
    // Docker's rule: an entrypoint given in the request drops the image's Cmd; its first word
    // is the program, the rest go before the command.
    let cmd = body.cmd.map(|c| c.into_vec()).filter(|c| !c.is_empty());
    match body
        .entrypoint
        .map(|e| e.into_vec())
        .filter(|e| !e.is_empty())
    {
        Some(mut entrypoint) => {
            let program = entrypoint.remove(0);
            entrypoint.extend(cmd.unwrap_or_default());
            options.entrypoint = Some(program);
            options.command = Some(entrypoint);
        }
        None => options.command = cmd,
    }
    host_options(&mut options, host, &bad)?;
    // An anonymous volume each, unless a bind or a mount already has the path.
    for path in body.volumes.unwrap_or_default().into_keys() {
        let taken = options
            .volumes
            .iter()
            .any(|v| v.destination == Path::new(&path))
            || options
                .mounts
                .iter()
                .any(|m| m.destination() == Path::new(&path));
        if taken {
            continue;
        }
        match volume_flag(&path).map_err(|why| bad("Volumes", &path, &why))? {
            Requested::Volume(volume) => options.volumes.push(volume),
            Requested::Mount(_) => {
                return Err(bad("Volumes", &path, "not a path in the container"))
            }
        }
    }
    if let Some(endpoints) = body.networking_config.and_then(|n| n.endpoints_config) {
        for (network, endpoint) in endpoints {
            if options.network.is_none() {
                options.network = Some(network);
            }
            let Some(endpoint) = endpoint else { continue };
            options
                .network_aliases
                .extend(endpoint.aliases.unwrap_or_default());
            if let Some(ip) = endpoint
                .ipam_config
                .and_then(|i| i.ipv4_address)
                .filter(|ip| !ip.is_empty())
            {
                options.ip = Some(ip);
            }
        }
    }
    Ok(options)
}

fn host_options(
    options: &mut CreateOptions,
    host: HostConfig,
    bad: &dyn Fn(&str, &str, &str) -> ApiError,
) -> Result<(), ApiError> {
    if let Some(policy) = restart_policy(&host)? {
        options.restart_policy = policy;
    }
    options.resources = resources(&host);
    for (i, bind) in host.binds.unwrap_or_default().iter().enumerate() {
        match volume_flag(bind).map_err(|why| bad(&format!("HostConfig.Binds[{i}]"), bind, &why))? {
            Requested::Mount(mount) => options.mounts.push(mount),
            Requested::Volume(volume) => options.volumes.push(volume),
        }
    }
    for (i, mount) in host.mounts.unwrap_or_default().into_iter().enumerate() {
        mount_spec(options, mount)
            .map_err(|why| ApiError::BadRequest(format!("HostConfig.Mounts[{i}]: {why}")))?;
    }
    for (destination, opts) in host.tmpfs.unwrap_or_default() {
        let spec = if opts.is_empty() {
            destination.clone()
        } else {
            format!("{destination}:{opts}")
        };
        options
            .mounts
            .push(tmpfs_mount(&spec).map_err(|why| bad("HostConfig.Tmpfs", &destination, &why))?);
    }
    let mut as_sent = serde_json::Map::new();
    for (port, bindings) in host.port_bindings.unwrap_or_default() {
        let port = if port.contains('/') {
            port
        } else {
            format!("{port}/tcp")
        };
        let bindings = bindings.unwrap_or_default();
        as_sent.insert(
            port.clone(),
            bindings
                .iter()
                .map(|b| {
                    let text = |field: &Option<String>| field.clone().unwrap_or_default();
                    serde_json::json!({"HostIp": text(&b.host_ip), "HostPort": text(&b.host_port)})
                })
                .collect(),
        );
        if bindings.is_empty() {
            options.publish.push(port.clone());
        }
        for binding in bindings {
            let ip = binding.host_ip.unwrap_or_default();
            // docker-py passes `8125/udp` through as a host port; Docker reads the number.
            let host_port = binding.host_port.unwrap_or_default();
            let host_port = host_port.split('/').next().unwrap_or_default();
            // An empty host port picks a free one, as `-p 80`.
            options
                .publish
                .push(match (ip.is_empty(), host_port.is_empty()) {
                    (true, true) => port.clone(),
                    (true, false) => format!("{host_port}:{port}"),
                    (false, _) => format!("{ip}:{host_port}:{port}"),
                });
        }
    }
    options.port_bindings_as_sent = Some(serde_json::Value::Object(as_sent));
    options.publish_all = host.publish_all_ports.unwrap_or(false);
    options.network = host
        .network_mode
        .filter(|m| !m.is_empty() && m != "default");
    options.auto_remove = host.auto_remove.unwrap_or(false);
    options.init = host.init.unwrap_or(false).then(|| {
        std::env::var_os("WHARF_INIT_PATH").map_or(PathBuf::from(INIT_PATH), PathBuf::from)
    });
    options.privileged = host.privileged.unwrap_or(false);
    options.read_only = host.read_only.unwrap_or(false);
    options.dns = host.dns.unwrap_or_default();
    options.add_hosts = host.extra_hosts.unwrap_or_default();
    options.capabilities = CapabilityChanges {
        add: parse_caps(&host.cap_add.unwrap_or_default())
            .map_err(|(c, e)| bad("HostConfig.CapAdd", &c, &e))?,
        drop: parse_caps(&host.cap_drop.unwrap_or_default())
            .map_err(|(c, e)| bad("HostConfig.CapDrop", &c, &e))?,
    };
    options.no_new_privileges = host.security_opt.unwrap_or_default().iter().any(|o| {
        matches!(
            o.as_str(),
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
        )
    });
    options.shm_size = host.shm_size.filter(|s| *s > 0);
    options.sysctls = host.sysctls.unwrap_or_default();
    if let Some(log) = host.log_config {
        let driver = log
            .driver
            .filter(|d| !d.is_empty())
            .unwrap_or("json-file".into());
        let opts: Vec<String> = log
            .config
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        options.log_config = log_config(&driver, &opts)
            .map_err(|e| ApiError::BadRequest(format!("HostConfig.LogConfig: {}", e.message)))?;
    }
    Ok(())
}

/// `HostConfig.RestartPolicy` (also the body of `update`); `None` when not given.
pub fn restart_policy(host: &HostConfig) -> Result<Option<RestartPolicy>, ApiError> {
    let Some(policy) = &host.restart_policy else {
        return Ok(None);
    };
    let text = match (
        policy.name.as_deref().unwrap_or(""),
        policy.maximum_retry_count,
    ) {
        ("on-failure", Some(n)) if n > 0 => format!("on-failure:{n}"),
        (name, _) => name.to_string(),
    };
    text.parse().map(Some).map_err(|why: String| {
        ApiError::BadRequest(format!("HostConfig.RestartPolicy.Name: {text:?}: {why}"))
    })
}

/// The limits of `HostConfig` (also the body of `update`): zero is not set, as Docker reads
/// them.
pub fn resources(host: &HostConfig) -> Resources {
    Resources {
        memory: host.memory.filter(|m| *m > 0),
        memory_swap: match host.memory_swap {
            Some(-1) => Some(MemorySwap::Unlimited),
            Some(n) if n > 0 => Some(MemorySwap::Limit(n as u64)),
            _ => None,
        },
        cpus: host.nano_cpus.filter(|n| *n > 0).map(|n| n as f64 / 1e9),
        cpu_shares: host.cpu_shares.filter(|n| *n > 0),
        pids_limit: host.pids_limit.filter(|n| *n > 0).map(|n| n as u64),
        memory_reservation: host.memory_reservation.filter(|m| *m > 0),
    }
}

/// One of `HostConfig.Mounts`: bind, volume or tmpfs.
fn mount_spec(options: &mut CreateOptions, mount: MountSpec) -> Result<(), String> {
    let target = mount
        .target
        .filter(|t| t.starts_with('/'))
        .ok_or("Target must be an absolute path")?;
    let read_only = mount.read_only.unwrap_or(false);
    let source = mount.source.unwrap_or_default();
    match mount.kind.as_deref().unwrap_or("volume") {
        "bind" => {
            let source = PathBuf::from(&source);
            if !source.is_absolute() || !source.exists() {
                return Err(format!(
                    "bind source path does not exist: {}",
                    source.display()
                ));
            }
            options.mounts.push(Mount::Bind {
                source,
                destination: target.into(),
                read_only,
                propagation: Default::default(),
            });
        }
        "volume" => options.volumes.push(VolumeRequest {
            name: (!source.is_empty()).then_some(source),
            destination: target.into(),
            read_only,
            no_copy: false,
        }),
        "tmpfs" => options.mounts.push(tmpfs_mount(&target)?),
        other => {
            return Err(format!(
                "mount type {other:?} is not supported: use bind, volume or tmpfs"
            ))
        }
    }
    Ok(())
}

/// `Healthcheck`: `[]` inherits the image's, `["NONE"]` disables; durations in nanoseconds,
/// 0 inherits.
fn health(config: Option<HealthConfig>) -> HealthOptions {
    let Some(config) = config else {
        return HealthOptions::default();
    };
    let duration = |ns: Option<u64>| ns.filter(|n| *n > 0).map(Duration::from_nanos);
    let test = config.test.unwrap_or_default();
    HealthOptions {
        disable: test.first().is_some_and(|t| t == "NONE"),
        test: (!test.is_empty() && test[0] != "NONE").then_some(test),
        interval: duration(config.interval),
        timeout: duration(config.timeout),
        start_period: duration(config.start_period),
        start_interval: duration(config.start_interval),
        retries: config.retries.filter(|r| *r > 0),
        cmd: None,
    }
}
