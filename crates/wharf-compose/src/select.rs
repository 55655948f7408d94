//! Steps over the typed project, as compose-go's `types/project.go` and docker compose's
//! `ToProject` run them: profiles, services' `env_file`s read into `environment`, services
//! named on the command line (enabled whatever their profiles; the project keeps them and
//! their dependencies), and top-level resources no service uses left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use wharf_oci::PathIoContext;

use crate::dotenv;
use crate::error::ComposeError;
use crate::model::{Project, Service, VOLUME_TYPE_VOLUME};
use crate::tree::Position;

/// A secret with an `environment` source holds that variable's value as its content.
pub fn resolve_secrets(project: &mut Project) {
    for secret in project.secrets.values_mut() {
        if let Some(value) = project.environment.get(&secret.environment) {
            secret.content = value.clone();
        }
    }
}

/// Services with a profile and none of `profiles` (nor `*`) are disabled.
pub fn apply_profiles(project: &mut Project, profiles: &[String]) {
    let mut all = std::mem::take(&mut project.services);
    all.append(&mut project.disabled_services);
    for (name, service) in all {
        if has_profile(&service, profiles) {
            project.services.insert(name, service);
        } else {
            project.disabled_services.insert(name, service);
        }
    }
    project.profiles = profiles.to_vec();
}

fn has_profile(service: &Service, profiles: &[String]) -> bool {
    service.profiles.is_empty()
        || profiles
            .iter()
            .any(|profile| profile == "*" || service.profiles.contains(profile))
}

/// Services named on the command line enable their own profiles.
pub fn enable_services(project: &mut Project, names: &[String]) -> Result<(), ComposeError> {
    let mut profiles = project.profiles.clone();
    for name in names {
        if project.services.contains_key(name) {
            continue;
        }
        match project.disabled_services.get(name) {
            Some(service) => profiles.extend(service.profiles.iter().cloned()),
            None => return Err(no_such_service(name)),
        }
    }
    if profiles != project.profiles {
        apply_profiles(project, &profiles);
    }
    Ok(())
}

fn no_such_service(name: &str) -> ComposeError {
    ComposeError::project(format!("no such service: {name}"))
}

/// Keeps only the services named and what they depend on (transitively); dependencies on
/// services left out are dropped.
pub fn select_services(project: &mut Project, names: &[String]) -> Result<(), ComposeError> {
    if names.is_empty() {
        return Ok(());
    }
    let mut selected = BTreeSet::new();
    let mut pending: Vec<String> = names.to_vec();
    while let Some(name) = pending.pop() {
        let service = project
            .services
            .get(&name)
            .ok_or_else(|| no_such_service(&name))?;
        if selected.insert(name.clone()) {
            pending.extend(
                service
                    .depends_on
                    .iter()
                    .filter(|(dependency, settings)| {
                        settings.required || project.services.contains_key(*dependency)
                    })
                    .map(|(dependency, _)| dependency.clone()),
            );
        }
    }
    let services = std::mem::take(&mut project.services);
    for (name, mut service) in services {
        if selected.contains(&name) {
            service
                .depends_on
                .retain(|dependency, _| selected.contains(dependency));
            project.services.insert(name, service);
        } else {
            project.disabled_services.insert(name, service);
        }
    }
    Ok(())
}

/// Leaves out networks, volumes, secrets and configs that no enabled service uses.
pub fn drop_unused_resources(project: &mut Project) {
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    let mut configs = BTreeSet::new();
    let mut models = BTreeSet::new();
    for service in project.services.values() {
        if let Some(serde_json::Value::Object(used)) = &service.models {
            models.extend(used.keys().cloned());
        }
        networks.extend(service.networks.keys().cloned());
        volumes.extend(
            service
                .volumes
                .iter()
                .filter(|v| v.kind == VOLUME_TYPE_VOLUME && !v.source.is_empty())
                .map(|v| v.source.clone()),
        );
        secrets.extend(service.secrets.iter().map(|s| s.source.clone()));
        if let Some(build) = &service.build {
            secrets.extend(build.secrets.iter().map(|s| s.source.clone()));
        }
        configs.extend(service.configs.iter().map(|c| c.source.clone()));
    }
    project.networks.retain(|name, _| networks.contains(name));
    project.volumes.retain(|name, _| volumes.contains(name));
    project.secrets.retain(|name, _| secrets.contains(name));
    project.configs.retain(|name, _| configs.contains(name));
    project.models.retain(|name, _| models.contains(name));
}

/// Reads each service's `env_file`s into its `environment` (which wins over them) and
/// forgets the files, as docker compose does before it prints or runs a service.
pub fn resolve_env_files(
    project: &mut Project,
    environment: &BTreeMap<String, String>,
) -> Result<(), ComposeError> {
    for service in project.services.values_mut() {
        for (key, value) in service.environment.iter_mut() {
            if value.is_none() {
                *value = environment.get(key).cloned();
            }
        }
        let mut from_files: BTreeMap<String, String> = service
            .environment
            .iter()
            .filter_map(|(key, value)| value.clone().map(|value| (key.clone(), value)))
            .collect();
        for env_file in &service.env_file {
            let path = Path::new(&env_file.path);
            if !path.exists() {
                if env_file.required {
                    return Err(ComposeError::project(format!(
                        "env file {} not found: stat {}: no such file or directory",
                        env_file.path, env_file.path
                    ))
                    .with_hint(format!(
                        "create it, or mark it `required: false` in services.{}.env_file",
                        service.name
                    )));
                }
                continue;
            }
            let text = std::fs::read_to_string(path).at("read", path)?;
            let vars = if env_file.format == "raw" {
                dotenv::parse_raw(&text)
            } else {
                let service_environment = &service.environment;
                let lookup = |name: &str| {
                    environment
                        .get(name)
                        .cloned()
                        .or_else(|| service_environment.get(name).cloned().flatten())
                };
                dotenv::parse(&text, &lookup).map_err(|error| ComposeError::EnvFile {
                    at: Position {
                        file: env_file.path.as_str().into(),
                        line: error.line,
                    },
                    message: error.message,
                })?
            };
            from_files.extend(vars);
        }
        let mut resolved: BTreeMap<String, Option<String>> =
            from_files.into_iter().map(|(k, v)| (k, Some(v))).collect();
        resolved.extend(std::mem::take(&mut service.environment));
        service.environment = resolved;
        service.env_file.clear();
    }
    Ok(())
}

/// Reads each service's `label_file`s into its `labels` (what the service sets itself wins
/// over the files, a later file over an earlier one) and forgets the files, as docker
/// compose does for every use of the model (`config --hash` included).
pub fn resolve_label_files(
    project: &mut Project,
    environment: &BTreeMap<String, String>,
) -> Result<(), ComposeError> {
    project
        .services
        .values_mut()
        .try_for_each(|service| resolve_service_label_files(service, environment))
}

fn resolve_service_label_files(
    service: &mut Service,
    environment: &BTreeMap<String, String>,
) -> Result<(), ComposeError> {
    let mut from_files = BTreeMap::new();
    for label_file in &service.label_file {
        let path = Path::new(label_file);
        if !path.exists() {
            return Err(ComposeError::project(format!(
                "label file {label_file} not found: stat {label_file}: no such file or directory"
            ))
            .with_hint(format!(
                "create it, or remove it from services.{}.label_file",
                service.name
            )));
        }
        let text = std::fs::read_to_string(path).at("read", path)?;
        let lookup = |name: &str| environment.get(name).cloned();
        let labels = dotenv::parse(&text, &lookup).map_err(|error| ComposeError::EnvFile {
            at: Position {
                file: label_file.as_str().into(),
                line: error.line,
            },
            message: error.message,
        })?;
        from_files.extend(labels);
    }
    from_files.extend(std::mem::take(&mut service.labels));
    service.labels = from_files;
    service.label_file.clear();
    Ok(())
}
