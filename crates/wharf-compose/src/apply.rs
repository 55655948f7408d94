//! The apply step of `up`: validate every selected service, make its networks, volumes and
//! images, then carry out the [`Plan`] through a [`Backend`] the engine implements. Nothing
//! is created when validation fails; on a failure midway the error says what failed and a
//! re-run converges from what exists.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::labels::{container_labels, image_name, resource_labels, NETWORK, VOLUME};
use crate::model::{Project, Service};
use crate::plan::{plan, selected_services, Action, Observed, Plan, PlanOptions};

/// An error of the engine, kept whole.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Whether a dependency met its condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    Ready,
    /// It never will: exited, unhealthy, exited non-zero. The text says how (the last
    /// health output for an unhealthy one).
    Failed(String),
}

/// A network, volume or container to create, with compose's name and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The key in the compose file.
    pub key: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// A container to create for a service.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRequest {
    pub name: String,
    pub number: u32,
    pub image: String,
    pub labels: BTreeMap<String, String>,
}

/// The engine's operations `up` needs. Containers are named by their (unique) names.
pub trait Backend {
    /// The project's containers, from their `com.docker.compose.project` label.
    fn observe(&self, project: &str) -> Result<Vec<Observed>, BackendError>;
    /// The id of a local image, `None` when it is not there.
    fn image_id(&self, image: &str) -> Result<Option<String>, BackendError>;
    /// Checks, touching nothing, that the service's containers can be created: every key is
    /// one the engine honors, its host ports are free (when `new_ports`).
    fn check(
        &self,
        project: &Project,
        service: &Service,
        new_ports: bool,
    ) -> Result<(), BackendError>;
    fn build(&self, project: &Project, service: &Service, image: &str) -> Result<(), BackendError>;
    fn pull(&self, image: &str) -> Result<(), BackendError>;
    /// Creates the network unless one by that name exists; true when it made one.
    fn ensure_network(&self, project: &Project, network: &Resource) -> Result<bool, BackendError>;
    fn ensure_volume(&self, project: &Project, volume: &Resource) -> Result<bool, BackendError>;
    fn create(
        &self,
        project: &Project,
        service: &Service,
        container: &ContainerRequest,
    ) -> Result<(), BackendError>;
    /// Starts the containers together and waits until each runs; one result per name.
    fn start(&self, names: &[String]) -> Vec<Result<(), BackendError>>;
    fn stop(&self, name: &str, timeout: Option<Duration>) -> Result<(), BackendError>;
    fn remove(&self, name: &str) -> Result<(), BackendError>;
    /// Replaces the container `container.name` with a new one. With `keep_volumes`, an
    /// engine gives the new one the old one's anonymous volumes, as docker compose does.
    fn recreate(
        &self,
        project: &Project,
        service: &Service,
        container: &ContainerRequest,
        timeout: Option<Duration>,
        _keep_volumes: bool,
    ) -> Result<(), BackendError> {
        self.stop(&container.name, timeout)?;
        self.remove(&container.name)?;
        self.create(project, service, container)
    }
    /// Waits until the container meets compose's `condition`, or never can.
    fn wait_for(&self, name: &str, condition: &str) -> Result<Readiness, BackendError>;
}

/// `--pull`: when `up` pulls the images of services that do not build theirs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Pull {
    /// Only those not present (docker compose's default).
    #[default]
    Missing,
    Always,
    /// A missing image is an error.
    Never,
}

impl std::str::FromStr for Pull {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "missing" | "policy" => Ok(Pull::Missing),
            "always" => Ok(Pull::Always),
            "never" => Ok(Pull::Never),
            other => Err(format!(
                "invalid pull policy {other:?}: expected always, missing or never"
            )),
        }
    }
}

/// `up`'s flags beyond the plan's.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub plan: PlanOptions,
    /// `--build`: build what has a `build` section even when its image exists.
    pub build: bool,
    /// `--no-build`: never build; a missing image is an error.
    pub no_build: bool,
    /// `-t`.
    pub timeout: Option<Duration>,
    pub pull: Pull,
    /// `--renew-anon-volumes`: a recreated container gets new anonymous volumes.
    pub renew_anon_volumes: bool,
}

/// What happened, for the CLI to show as docker compose's progress lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    NetworkCreated(String),
    VolumeCreated(String),
    Built(String),
    Pulled(String),
    Created(String),
    Recreated(String),
    Started(String),
    Restarted(String),
    Running(String),
    Removed(String),
    Waited {
        container: String,
        condition: String,
    },
    /// An orphan container left alone.
    Orphan(String),
}

/// Why `up` stopped.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error("service {service}: {source}")]
    Invalid {
        service: String,
        #[source]
        source: BackendError,
    },
    #[error("service {service} has neither an image nor a build section")]
    NoImage { service: String },
    #[error("service {service}: image {image} is not present and --no-build was given")]
    NotBuilt { service: String, image: String },
    #[error("service {service}: image {image} is not present and --pull never was given")]
    NotPulled { service: String, image: String },
    #[error("{what} {name}: {source}")]
    Failed {
        what: &'static str,
        name: String,
        #[source]
        source: BackendError,
    },
    #[error("dependency failed to start: container {container} {reason}")]
    Dependency { container: String, reason: String },
}

impl UpError {
    pub fn hint(&self) -> Option<String> {
        match self {
            UpError::NotBuilt { .. } => Some("run without --no-build, or build it first".into()),
            UpError::NotPulled { .. } => Some("run without --pull never, or pull it first".into()),
            UpError::Failed { .. } => {
                Some("fix the cause and run `up` again: it carries on from what exists".into())
            }
            UpError::Dependency { .. } => {
                Some("`wharf compose logs` shows what the dependency printed".into())
            }
            _ => None,
        }
    }
}

pub(crate) fn failed<'a>(
    what: &'static str,
    name: &'a str,
) -> impl FnOnce(BackendError) -> UpError + 'a {
    move |source| UpError::Failed {
        what,
        name: name.to_string(),
        source,
    }
}

/// The networks and volumes the selected services use, with compose's names and labels;
/// external ones are not made (only looked up by the engine when used).
pub fn project_resources(project: &Project, services: &[String]) -> (Vec<Resource>, Vec<Resource>) {
    let mut networks = BTreeMap::new();
    let mut volumes = BTreeMap::new();
    for name in services {
        let service = &project.services[name];
        if service.network_mode.is_empty() {
            for key in service.networks.keys() {
                if let Some(network) = project.networks.get(key).filter(|n| !n.external) {
                    networks.insert(
                        key.clone(),
                        Resource {
                            key: key.clone(),
                            name: network.name.clone(),
                            labels: resource_labels(&project.name, NETWORK, key, &network.labels),
                        },
                    );
                }
            }
        }
        for mount in service.volumes.iter().filter(|v| v.kind == "volume") {
            if let Some(volume) = project.volumes.get(&mount.source).filter(|v| !v.external) {
                volumes.insert(
                    mount.source.clone(),
                    Resource {
                        key: mount.source.clone(),
                        name: volume.name.clone(),
                        labels: resource_labels(
                            &project.name,
                            VOLUME,
                            &mount.source,
                            &volume.labels,
                        ),
                    },
                );
            }
        }
    }
    (
        networks.into_values().collect(),
        volumes.into_values().collect(),
    )
}

/// Makes the networks and volumes of `services` that do not exist yet.
pub(crate) fn ensure_resources(
    backend: &dyn Backend,
    project: &Project,
    services: &[String],
    report: &mut dyn FnMut(Event),
) -> Result<(), UpError> {
    let (networks, volumes) = project_resources(project, services);
    for network in &networks {
        if backend
            .ensure_network(project, network)
            .map_err(failed("network", &network.name))?
        {
            report(Event::NetworkCreated(network.name.clone()));
        }
    }
    for volume in &volumes {
        if backend
            .ensure_volume(project, volume)
            .map_err(failed("volume", &volume.name))?
        {
            report(Event::VolumeCreated(volume.name.clone()));
        }
    }
    Ok(())
}

/// `up`: validate, make networks, volumes and images, then converge the containers.
/// Events are reported as they happen; on error the events so far say what exists.
pub fn up(
    backend: &dyn Backend,
    project: &Project,
    options: &UpOptions,
    report: &mut dyn FnMut(Event),
) -> Result<Plan, UpError> {
    let selected = selected_services(project, &options.plan.services, options.plan.no_deps);
    let observed = backend
        .observe(&project.name)
        .map_err(failed("project", &project.name))?;

    // Validate: images obtainable, keys honored, ports of new containers free.
    let mut images = BTreeMap::new();
    let mut to_build = Vec::new();
    let mut to_pull = Vec::new();
    for name in &selected {
        let service = &project.services[name];
        let image = image_name(&project.name, service);
        let present = backend.image_id(&image).map_err(failed("image", &image))?;
        let has_build = service.build.is_some();
        match (&present, has_build) {
            (_, true) if options.build && !options.no_build => to_build.push(name.clone()),
            (None, true) if options.no_build => {
                return Err(UpError::NotBuilt {
                    service: name.clone(),
                    image,
                })
            }
            (None, true) => to_build.push(name.clone()),
            (None, false) if service.image.is_empty() => {
                return Err(UpError::NoImage {
                    service: name.clone(),
                })
            }
            (None, false) if options.pull == Pull::Never => {
                return Err(UpError::NotPulled {
                    service: name.clone(),
                    image,
                })
            }
            (None, false) => to_pull.push(image.clone()),
            (Some(_), false) if options.pull == Pull::Always => to_pull.push(image.clone()),
            (Some(_), _) => {}
        }
        if let Some(id) = present {
            images.insert(name.clone(), id);
        }
    }
    let preliminary = plan(project, &observed, &images, &options.plan);
    let creating = preliminary.creating();
    for name in &selected {
        let service = &project.services[name];
        let running = observed.iter().any(|c| &c.service == name && c.running);
        backend
            .check(
                project,
                service,
                creating.contains(name.as_str()) && !running,
            )
            .map_err(|source| UpError::Invalid {
                service: name.clone(),
                source,
            })?;
    }

    // Act: images first (the slow, failure-prone part), as docker compose does, then the
    // networks and volumes.
    to_pull.sort();
    to_pull.dedup();
    for image in to_pull {
        backend.pull(&image).map_err(failed("image", &image))?;
        report(Event::Pulled(image));
    }
    for name in to_build {
        let service = &project.services[&name];
        let image = image_name(&project.name, service);
        backend
            .build(project, service, &image)
            .map_err(failed("service", &name))?;
        report(Event::Built(image));
    }
    ensure_resources(backend, project, &selected, report)?;
    for name in &selected {
        let image = image_name(&project.name, &project.services[name]);
        if let Some(id) = backend.image_id(&image).map_err(failed("image", &image))? {
            images.insert(name.clone(), id);
        }
    }
    let plan = plan(project, &observed, &images, &options.plan);
    for orphan in &plan.orphans {
        report(Event::Orphan(orphan.clone()));
    }
    // Containers start together until something must wait for them (a dependency's
    // condition, a restart, a removal): each has a monitor of its own to set it up.
    let mut starting = Vec::new();
    for action in &plan.actions {
        if !matches!(
            action,
            Action::Create { .. } | Action::Recreate { .. } | Action::Start { .. }
        ) {
            start_together(backend, &mut starting, report)?;
        }
        apply_action(
            backend,
            project,
            &images,
            options,
            action,
            &mut starting,
            report,
        )?;
    }
    start_together(backend, &mut starting, report)?;
    for kept in &plan.kept {
        report(Event::Running(kept.clone()));
    }
    Ok(plan)
}

fn apply_action(
    backend: &dyn Backend,
    project: &Project,
    images: &BTreeMap<String, String>,
    options: &UpOptions,
    action: &Action,
    starting: &mut Vec<String>,
    report: &mut dyn FnMut(Event),
) -> Result<(), UpError> {
    let request = |service: &Service, number: u32, name: &str| ContainerRequest {
        name: name.to_string(),
        number,
        image: image_name(&project.name, service),
        labels: container_labels(
            project,
            service,
            number,
            images.get(&service.name).map_or("", String::as_str),
        ),
    };
    match action {
        Action::Wait {
            dependency,
            condition,
            required,
            ..
        } => wait_dependency(backend, project, dependency, condition, *required, report)?,
        Action::Create {
            service,
            number,
            name,
        } => {
            let service = &project.services[service];
            backend
                .create(project, service, &request(service, *number, name))
                .map_err(failed("container", name))?;
            report(Event::Created(name.clone()));
        }
        Action::Recreate {
            service,
            number,
            name,
        } => {
            let service = &project.services[service];
            backend
                .recreate(
                    project,
                    service,
                    &request(service, *number, name),
                    options.timeout,
                    !options.renew_anon_volumes,
                )
                .map_err(failed("container", name))?;
            report(Event::Recreated(name.clone()));
        }
        Action::Start { name, .. } => starting.push(name.clone()),
        Action::Restart { name, .. } => {
            backend
                .stop(name, options.timeout)
                .map_err(failed("container", name))?;
            for started in backend.start(std::slice::from_ref(name)) {
                started.map_err(failed("container", name))?;
            }
            report(Event::Restarted(name.clone()));
        }
        Action::Remove { name, .. } => {
            backend
                .stop(name, options.timeout)
                .map_err(failed("container", name))?;
            backend.remove(name).map_err(failed("container", name))?;
            report(Event::Removed(name.clone()));
        }
    }
    Ok(())
}

/// Starts the `pending` containers together and empties it; the first that failed is the
/// error, once every other has started or failed too.
fn start_together(
    backend: &dyn Backend,
    pending: &mut Vec<String>,
    report: &mut dyn FnMut(Event),
) -> Result<(), UpError> {
    let names = std::mem::take(pending);
    if names.is_empty() {
        return Ok(());
    }
    let mut first_failure = None;
    for (name, started) in names.iter().zip(backend.start(&names)) {
        match started {
            Ok(()) => report(Event::Started(name.clone())),
            Err(source) => {
                first_failure.get_or_insert_with(|| failed("container", name)(source));
            }
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// Waits until every container of `dependency` (but `run`'s) meets `condition`; one that
/// never will fails the wait when the dependency is `required`.
pub(crate) fn wait_dependency(
    backend: &dyn Backend,
    project: &Project,
    dependency: &str,
    condition: &str,
    required: bool,
    report: &mut dyn FnMut(Event),
) -> Result<(), UpError> {
    let containers: Vec<String> = backend
        .observe(&project.name)
        .map_err(failed("project", &project.name))?
        .into_iter()
        .filter(|c| c.service == dependency && !c.oneoff)
        .map(|c| c.name)
        .collect();
    for container in containers {
        match backend
            .wait_for(&container, condition)
            .map_err(failed("container", &container))?
        {
            // docker compose shows no line for service_started (the start order already
            // says it), one for the other conditions.
            Readiness::Ready if condition == "service_started" => {}
            Readiness::Ready => report(Event::Waited {
                container,
                condition: condition.to_owned(),
            }),
            Readiness::Failed(_) if !required => {}
            Readiness::Failed(reason) => return Err(UpError::Dependency { container, reason }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
