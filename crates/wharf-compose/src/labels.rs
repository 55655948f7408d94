//! The names and `com.docker.compose.*` labels docker compose v2 gives what it creates, so
//! that wharf and docker compose find each other's containers, networks and volumes the same
//! way (`pkg/api/labels.go`, `pkg/compose/create.go`).

use std::collections::BTreeMap;

use crate::model::{Project, Service};
use crate::output::service_hash;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// The random id of a `compose run` container; its first 12 digits end its name.
pub const SLUG: &str = "com.docker.compose.slug";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const VERSION: &str = "com.docker.compose.version";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const IMAGE: &str = "com.docker.compose.image";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

/// The docker compose version whose behaviour wharf follows, written in `VERSION` labels.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// `container_name`, else `<project>-<service>-<n>` as docker compose v2 names replicas.
pub fn container_name(project: &str, service: &Service, number: u32) -> String {
    if service.container_name.is_empty() {
        format!("{project}-{}-{number}", service.name)
    } else {
        service.container_name.clone()
    }
}

/// The image a service runs: `image`, else `<project>-<service>` for what it builds.
pub fn image_name(project: &str, service: &Service) -> String {
    if service.image.is_empty() {
        format!("{project}-{}", service.name)
    } else {
        service.image.clone()
    }
}

/// How many containers a service wants: `--scale`, else the service's own count.
pub fn replicas(service: &Service, scale: &BTreeMap<String, u32>) -> u32 {
    scale
        .get(&service.name)
        .copied()
        .unwrap_or_else(|| u32::try_from(service.replicas().max(0)).unwrap_or(u32::MAX))
}

/// The labels of a service's container: the service's own, then compose's over them.
pub fn container_labels(
    project: &Project,
    service: &Service,
    number: u32,
    image_id: &str,
) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    let files: Vec<String> = project
        .compose_files
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    let depends_on: Vec<String> = service
        .depends_on
        .iter()
        .map(|(name, dependency)| format!("{name}:{}:{}", dependency.condition, dependency.restart))
        .collect();
    for (key, value) in [
        (PROJECT, project.name.clone()),
        (SERVICE, service.name.clone()),
        (CONTAINER_NUMBER, number.to_string()),
        (ONEOFF, "False".to_string()),
        (CONFIG_FILES, files.join(",")),
        (WORKING_DIR, project.working_dir.display().to_string()),
        (CONFIG_HASH, service_hash(service)),
        (VERSION, COMPOSE_VERSION.to_string()),
        (DEPENDS_ON, depends_on.join(",")),
        (IMAGE, image_id.to_string()),
    ] {
        labels.insert(key.to_string(), value);
    }
    labels
}

/// The labels of a network or volume the project creates (`kind` is `NETWORK` or `VOLUME`).
pub fn resource_labels(
    project: &str,
    kind: &str,
    key: &str,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = own.clone();
    labels.insert(PROJECT.into(), project.into());
    labels.insert(kind.into(), key.into());
    labels.insert(VERSION.into(), COMPOSE_VERSION.into());
    labels
}
