//! Checks across the typed project, as compose-go's `checkConsistency` makes them: every
//! network, volume, secret, config and service a service names exists, settings that
//! cannot go together are not together, and `depends_on` has no cycle. Errors point at the
//! line of the key at fault.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::ComposeError;
use crate::model::{Project, Service, VOLUME_TYPE_VOLUME};
use crate::tree::{KeyPath, Node};

/// The first inconsistency of `project` (loaded from `tree`), if any.
pub fn check_consistency(project: &mut Project, tree: &Node) -> Result<(), ComposeError> {
    let mut refs = project_refs(tree);
    refs.services = project.services.keys().cloned().collect();
    for (name, service) in project.services.iter_mut() {
        check_service(name, service, &refs, tree)?;
        if let (Some(scale), Some(deploy)) = (service.scale, service.deploy.as_mut()) {
            deploy.replicas = Some(scale);
        }
    }
    for (name, secret) in &project.secrets {
        if !secret.external && secret.file.is_empty() && secret.environment.is_empty() {
            let path = KeyPath::root().join("secrets").join(name.clone());
            return Err(ComposeError::invalid(
                &tree.position_of(&path),
                &path,
                "must declare either `file` or `environment`",
            ));
        }
    }
    check_cycles(project)
}

/// Two services cannot name their containers alike. docker compose checks it before it
/// prints the project or runs it, not for `--hash` or the lists.
pub fn check_container_names(project: &Project) -> Result<(), ComposeError> {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, service) in &project.services {
        if service.container_name.is_empty() {
            continue;
        }
        if let Some(existing) = names.insert(&service.container_name, name) {
            return Err(ComposeError::project(format!(
                "services.{name}.container_name: container name {:?} is already in use by service {existing}",
                service.container_name
            ))
            .with_hint("give each service its own container_name, or none"));
        }
    }
    Ok(())
}

/// The names a service may refer to: the enabled services, and the resources of the tree
/// (the project's maps are borrowed while services are checked).
struct Refs {
    services: BTreeSet<String>,
    all_services: BTreeSet<String>,
    networks: BTreeSet<String>,
    volumes: BTreeSet<String>,
    secrets: BTreeSet<String>,
    configs: BTreeSet<String>,
}

fn project_refs(tree: &Node) -> Refs {
    let keys = |kind: &str| -> BTreeSet<String> {
        tree.get(kind)
            .and_then(Node::as_map)
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default()
    };
    Refs {
        services: keys("services"),
        all_services: keys("services"),
        networks: keys("networks"),
        volumes: keys("volumes"),
        secrets: keys("secrets"),
        configs: keys("configs"),
    }
}

fn check_service(
    name: &str,
    service: &Service,
    refs: &Refs,
    tree: &Node,
) -> Result<(), ComposeError> {
    let base = KeyPath::root().join("services").join(name.to_owned());
    let error = |key: &str, message: String| {
        let path = if key.is_empty() {
            base.clone()
        } else {
            base.join(key)
        };
        ComposeError::invalid(&tree.position_of(&path), &path, message)
    };
    if service.build.is_none() && service.image.is_empty() && service.provider.is_none() {
        return Err(error(
            "",
            "has neither an image nor a build context specified".into(),
        )
        .with_hint("add `image:` or `build:` to the service"));
    }
    let reserved = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref())
        .and_then(|r| r.devices.as_ref());
    let requests = [("gpus", service.gpus.as_ref()), ("deploy", reserved)];
    for (key, requests) in requests {
        if requests
            .into_iter()
            .flatten()
            .any(|r| r.count != 0 && !r.device_ids.is_empty())
        {
            return Err(error(
                key,
                "a device request gives both \"count\" and \"device_ids\", which are exclusive"
                    .into(),
            )
            .with_hint("keep one of them"));
        }
    }
    if let Some(build) = &service.build {
        if !build.dockerfile_inline.is_empty() && !build.dockerfile.is_empty() {
            return Err(error(
                "build",
                "declares mutually exclusive dockerfile and dockerfile_inline".into(),
            ));
        }
        if !build.platforms.is_empty()
            && !service.platform.is_empty()
            && !build.platforms.contains(&service.platform)
        {
            return Err(error(
                "build",
                format!(
                    "build.platforms MUST include service.platform {:?}",
                    service.platform
                ),
            ));
        }
        for secret in &build.secrets {
            if !refs.secrets.contains(&secret.source) {
                return Err(error(
                    "build",
                    format!("refers to undefined build secret {}", secret.source),
                ));
            }
        }
    }
    if !service.network_mode.is_empty() && !service.networks.is_empty() {
        return Err(error(
            "network_mode",
            "declares mutually exclusive `network_mode` and `networks`".into(),
        ));
    }
    for network in service.networks.keys() {
        if !refs.networks.contains(network) {
            return Err(
                error("networks", format!("refers to undefined network {network}"))
                    .with_hint("declare it under the top-level `networks:` key"),
            );
        }
    }
    if let Some(test) = service.healthcheck.as_ref().and_then(|h| h.test.first()) {
        if !matches!(test.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
            return Err(error(
                "healthcheck",
                "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\"".into(),
            ));
        }
    }
    for (dependency, settings) in &service.depends_on {
        let disabled = !refs.services.contains(dependency);
        if disabled && (settings.required || !refs.all_services.contains(dependency)) {
            return Err(error(
                "depends_on",
                format!("depends on undefined service {dependency:?}"),
            ));
        }
    }
    if let Some(shared) = service.network_mode.strip_prefix("service:") {
        if !refs.services.contains(shared) {
            return Err(error(
                "network_mode",
                format!("service {shared:?} not found for network_mode 'service:{shared}'"),
            ));
        }
    }
    for volume in &service.volumes {
        if volume.kind == VOLUME_TYPE_VOLUME
            && !volume.source.is_empty()
            && !refs.volumes.contains(&volume.source)
        {
            return Err(error("volumes", format!("refers to undefined volume {}", volume.source))
                .with_hint(format!("declare it under the top-level `volumes:` key, or use a path such as ./{} for a bind mount", volume.source)));
        }
    }
    for config in &service.configs {
        if !refs.configs.contains(&config.source) {
            return Err(error(
                "configs",
                format!("refers to undefined config {}", config.source),
            ));
        }
    }
    for secret in &service.secrets {
        if !refs.secrets.contains(&secret.source) {
            return Err(error(
                "secrets",
                format!("refers to undefined secret {}", secret.source),
            ));
        }
    }
    if let (Some(scale), Some(replicas)) = (
        service.scale,
        service.deploy.as_ref().and_then(|d| d.replicas),
    ) {
        if scale != replicas {
            return Err(error(
                "",
                "can't set distinct values on 'scale' and 'deploy.replicas'".into(),
            ));
        }
    }
    if service.scale.is_some_and(|s| s < 0) {
        return Err(error("scale", "must be greater than or equal to 0".into()));
    }
    if service
        .deploy
        .as_ref()
        .and_then(|d| d.replicas)
        .is_some_and(|r| r < 0)
    {
        return Err(error(
            "deploy",
            "deploy.replicas: must be greater than or equal to 0".into(),
        ));
    }
    let limits = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.limits.as_ref());
    let reservations = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    if let Some(limits) = limits {
        if !service.cpus.is_zero() && limits.cpus != service.cpus {
            return Err(error(
                "",
                "can't set distinct values on 'cpus' and 'deploy.resources.limits.cpus'".into(),
            ));
        }
        if !service.mem_limit.is_zero() && limits.memory != service.mem_limit {
            return Err(error(
                "",
                "can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'"
                    .into(),
            ));
        }
        if service.pids_limit != 0 && limits.pids != service.pids_limit {
            return Err(error(
                "",
                "can't set distinct values on 'pids_limit' and 'deploy.resources.limits.pids'"
                    .into(),
            ));
        }
    }
    if let Some(reservations) = reservations {
        if !service.mem_reservation.is_zero() && reservations.memory != service.mem_reservation {
            return Err(error("", "can't set distinct values on 'mem_reservation' and 'deploy.resources.reservations.memory'".into()));
        }
    }
    if service.replicas() > 1 && !service.container_name.is_empty() {
        let attribute = if service.scale.is_some() {
            "scale"
        } else {
            "deploy.replicas"
        };
        return Err(error(
            "container_name",
            format!("can't set container_name and {attribute} as container name must be unique"),
        ));
    }
    let mut mounts: Vec<(String, String)> = Vec::new();
    let targets = service
        .tmpfs
        .iter()
        .enumerate()
        .map(|(i, tmpfs)| {
            (
                format!("tmpfs[{i}]"),
                tmpfs.split(':').next().unwrap_or_default().to_owned(),
            )
        })
        .chain(
            service
                .volumes
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("volumes[{i}]"), v.target.clone())),
        );
    for (location, target) in targets {
        if let Some((earlier, _)) = mounts.iter().find(|(_, t)| *t == target) {
            return Err(error(
                location.split('[').next().unwrap_or_default(),
                format!("{location}: target {target} already mounted as services.{name}.{earlier}"),
            ));
        }
        mounts.push((location, target));
    }
    Ok(())
}

/// `depends_on` must not loop; the error names the loop.
fn check_cycles(project: &Project) -> Result<(), ComposeError> {
    fn visit(
        project: &Project,
        name: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Result<(), ComposeError> {
        if let Some(start) = path.iter().position(|n| n == name) {
            return Err(ComposeError::project(format!(
                "dependency cycle detected: {} -> {name}",
                path[start..].join(" -> ")
            ))
            .with_hint("remove one of these depends_on entries"));
        }
        if done.contains(name) {
            return Ok(());
        }
        path.push(name.to_owned());
        if let Some(service) = project.services.get(name) {
            for dependency in service.depends_on.keys() {
                visit(project, dependency, path, done)?;
            }
        }
        path.pop();
        done.insert(name.to_owned());
        Ok(())
    }
    let mut done = BTreeSet::new();
    for name in project.services.keys() {
        visit(project, name, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}
