//! `compose run`: its service as the one-off container sees it (docker compose's
//! `applyRunOptions`), and what runs before it: the services it depends on brought up as
//! `up` would, their `depends_on` conditions met, its own image built or pulled.

use std::collections::BTreeMap;

use crate::apply::{
    ensure_resources, failed, up, wait_dependency, Backend, ContainerRequest, Event, Pull, UpError,
    UpOptions,
};
use crate::labels::{container_labels, image_name, CONTAINER_NUMBER, ONEOFF, SLUG};
use crate::model::{Port, Project, Service, ServiceVolume};
use crate::plan::{selected_services, PlanOptions};

/// `compose run`'s flags that change its service.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The command; empty keeps the service's.
    pub command: Vec<String>,
    /// `--entrypoint`, split into words; it clears the service's command unless one is given.
    pub entrypoint: Option<Vec<String>>,
    /// `-e NAME=VALUE`, or `-e NAME` for the value of the project's environment (left out
    /// when it has none).
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    /// `--name`; else `<project>-<service>-run-<slug>`.
    pub name: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    /// `--service-ports`: the service's ports; else only `publish`.
    pub service_ports: bool,
    pub publish: Vec<Port>,
    /// `-v`, added to the service's.
    pub volumes: Vec<ServiceVolume>,
    /// `-l KEY=VALUE`.
    pub labels: BTreeMap<String, String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--no-deps`: nothing but run's own container (and its networks and volumes).
    pub no_deps: bool,
    /// `--build`: build the images (its own and its dependencies') even when present.
    pub build: bool,
    /// `--pull`.
    pub pull: Pull,
}

/// The service as run's container runs it, and that container's name and labels. `slug`
/// is a random hex id; its first 12 digits end the name.
pub fn one_off(
    project: &Project,
    service: &Service,
    options: &RunOptions,
    slug: &str,
    image_id: &str,
) -> (Service, ContainerRequest) {
    let mut service = service.clone();
    service.tty = options.tty;
    service.stdin_open = options.interactive;
    if !options.command.is_empty() {
        service.command = Some(options.command.clone());
    }
    if let Some(entrypoint) = &options.entrypoint {
        service.entrypoint = Some(entrypoint.clone());
        if options.command.is_empty() {
            service.command = Some(Vec::new());
        }
    }
    if let Some(user) = &options.user {
        service.user = user.clone();
    }
    if let Some(workdir) = &options.workdir {
        service.working_dir = workdir.clone();
    }
    for variable in &options.env {
        match variable.split_once('=') {
            Some((name, value)) => {
                service
                    .environment
                    .insert(name.to_owned(), Some(value.to_owned()));
            }
            None => {
                if let Some(value) = project.environment.get(variable) {
                    service
                        .environment
                        .insert(variable.clone(), Some(value.clone()));
                }
            }
        }
    }
    service.labels.extend(options.labels.clone());
    // As docker compose: an added capability is no longer dropped, and the other way round.
    service
        .cap_add
        .retain(|cap| !options.cap_drop.contains(cap));
    service.cap_add.extend(options.cap_add.iter().cloned());
    service
        .cap_drop
        .retain(|cap| !options.cap_add.contains(cap));
    service.cap_drop.extend(options.cap_drop.iter().cloned());
    if !options.service_ports {
        service.ports = options.publish.clone();
    }
    service.volumes.extend(options.volumes.iter().cloned());
    // One container that is never restarted.
    service.scale = Some(1);
    service.restart.clear();
    if let Some(deploy) = &mut service.deploy {
        deploy.restart_policy = None;
    }
    // Named before the hash is taken, as docker compose does.
    service.container_name = options.name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}-run-{}",
            project.name,
            service.name,
            &slug[..slug.len().min(12)]
        )
    });
    let mut labels = container_labels(project, &service, 0, image_id);
    labels.remove(CONTAINER_NUMBER);
    labels.insert(ONEOFF.into(), "True".into());
    labels.insert(SLUG.into(), slug.into());
    let request = ContainerRequest {
        name: service.container_name.clone(),
        number: 0,
        image: image_name(&project.name, &service),
        labels,
    };
    (service, request)
}

/// Before run's container: unless `no_deps`, the services it depends on come up (and
/// their own dependencies), and their `depends_on` conditions are met; then its image is
/// built or pulled as `up` would (with `--build` and `--pull`). Returns the image's id.
pub fn prepare_run(
    backend: &dyn Backend,
    project: &Project,
    service: &Service,
    options: &RunOptions,
    report: &mut dyn FnMut(Event),
) -> Result<String, UpError> {
    if !options.no_deps {
        let dependencies: Vec<String> =
            selected_services(project, std::slice::from_ref(&service.name), false)
                .into_iter()
                .filter(|name| name != &service.name)
                .collect();
        if !dependencies.is_empty() {
            let options = UpOptions {
                plan: PlanOptions {
                    services: dependencies,
                    ..PlanOptions::default()
                },
                build: options.build,
                pull: options.pull,
                ..UpOptions::default()
            };
            up(backend, project, &options, report)?;
        }
        // Its own dependencies' conditions (`up` met those between the others).
        for (dependency, settings) in &service.depends_on {
            let condition = if settings.condition.is_empty() {
                "service_started"
            } else {
                settings.condition.as_str()
            };
            wait_dependency(
                backend,
                project,
                dependency,
                condition,
                settings.required,
                report,
            )?;
        }
    }
    ensure_resources(
        backend,
        project,
        std::slice::from_ref(&service.name),
        report,
    )?;
    let image = image_name(&project.name, service);
    let present = backend
        .image_id(&image)
        .map_err(failed("image", &image))?
        .is_some();
    if service.build.is_some() && (!present || options.build) {
        backend
            .build(project, service, &image)
            .map_err(failed("service", &service.name))?;
        report(Event::Built(image.clone()));
    } else if service.build.is_none() && (!present || options.pull == Pull::Always) {
        if service.image.is_empty() {
            return Err(UpError::NoImage {
                service: service.name.clone(),
            });
        }
        if options.pull == Pull::Never {
            return Err(UpError::NotPulled {
                service: service.name.clone(),
                image,
            });
        }
        backend.pull(&image).map_err(failed("image", &image))?;
        report(Event::Pulled(image.clone()));
    }
    Ok(backend
        .image_id(&image)
        .map_err(failed("image", &image))?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests;
