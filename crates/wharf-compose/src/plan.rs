//! The plan of `up`: from the project and what exists (containers with their
//! `com.docker.compose.*` labels, image ids) to the actions that converge them, in
//! dependency order. It touches nothing, as docker compose's `pkg/compose/convergence.go`
//! decides per service: a container whose config hash or image changed is recreated, a
//! stopped one started, a running one kept; replicas are added or removed to the scale.

use std::collections::{BTreeMap, BTreeSet};

use crate::labels::{container_name, replicas};
use crate::model::{Project, Service};
use crate::output::service_hash;

/// A container of the project as it exists, read from its labels and state.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub config_hash: String,
    /// The `com.docker.compose.image` label: the image id it was created from.
    pub image_id: String,
    /// Running, restarting or paused.
    pub running: bool,
    /// A `compose run` container.
    pub oneoff: bool,
}

/// `up`'s flags that change the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Services named on the command line; empty for all.
    pub services: Vec<String>,
    /// `--no-deps`: only the named services, not what they depend on.
    pub no_deps: bool,
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub remove_orphans: bool,
    /// `--no-start`: create only.
    pub no_start: bool,
    /// `--scale SERVICE=N`.
    pub scale: BTreeMap<String, u32>,
}

/// One step of the plan, applied in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Wait until every container of `dependency` meets `condition` (compose's
    /// `service_started`, `service_healthy`, `service_completed_successfully`).
    Wait {
        service: String,
        dependency: String,
        condition: String,
        required: bool,
    },
    Create {
        service: String,
        number: u32,
        name: String,
    },
    /// Stop and remove the old container, then create its replacement under the same name.
    Recreate {
        service: String,
        number: u32,
        name: String,
    },
    Start {
        service: String,
        name: String,
    },
    /// A running container whose dependency was recreated with `restart: true`.
    Restart {
        service: String,
        name: String,
    },
    /// A replica beyond the scale, or an orphan with `--remove-orphans`.
    Remove {
        service: String,
        name: String,
    },
}

impl Action {
    pub fn service(&self) -> &str {
        match self {
            Action::Wait { service, .. }
            | Action::Create { service, .. }
            | Action::Recreate { service, .. }
            | Action::Start { service, .. }
            | Action::Restart { service, .. }
            | Action::Remove { service, .. } => service,
        }
    }
}

/// What `up` will do, and what it leaves alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Containers already as wanted.
    pub kept: Vec<String>,
    /// Containers of services no longer in the project, left alone (without
    /// `--remove-orphans`) and worth a warning.
    pub orphans: Vec<String>,
}

impl Plan {
    /// The services that get a new container (created or recreated).
    pub fn creating(&self) -> BTreeSet<&str> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Create { .. } | Action::Recreate { .. }))
            .map(Action::service)
            .collect()
    }
}

/// The services `up` works on, in dependency order (dependencies first, then by name):
/// the named ones and, unless `no_deps`, everything they depend on.
pub fn selected_services(project: &Project, named: &[String], no_deps: bool) -> Vec<String> {
    let mut wanted: BTreeSet<String> = if named.is_empty() {
        project.services.keys().cloned().collect()
    } else {
        named.iter().cloned().collect()
    };
    if !no_deps {
        let mut queue: Vec<String> = wanted.iter().cloned().collect();
        while let Some(name) = queue.pop() {
            if let Some(service) = project.services.get(&name) {
                for dependency in service.depends_on.keys() {
                    if project.services.contains_key(dependency)
                        && wanted.insert(dependency.clone())
                    {
                        queue.push(dependency.clone());
                    }
                }
            }
        }
    }
    project
        .dependency_order()
        .into_iter()
        .filter(|name| wanted.contains(name))
        .collect()
}

/// The plan of `up`. `image_ids` holds the id each selected service's image has now.
pub fn plan(
    project: &Project,
    observed: &[Observed],
    image_ids: &BTreeMap<String, String>,
    options: &PlanOptions,
) -> Plan {
    let mut plan = Plan::default();
    let selected = selected_services(project, &options.services, options.no_deps);
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for name in &selected {
        let service = &project.services[name];
        let steps = converge_service(project, service, observed, image_ids, options);
        let starting = steps.iter().any(|a| {
            matches!(
                a,
                Action::Create { .. } | Action::Recreate { .. } | Action::Start { .. }
            )
        });
        let restart_for: Vec<&String> = service
            .depends_on
            .iter()
            .filter(|(dependency, d)| d.restart && recreated.contains(*dependency))
            .map(|(dependency, _)| dependency)
            .collect();
        if (starting || !restart_for.is_empty()) && !options.no_start {
            plan.actions.extend(waits(project, service, &selected));
        }
        if steps.iter().any(|a| matches!(a, Action::Recreate { .. })) {
            recreated.insert(name.clone());
        }
        for step in steps {
            match step {
                Action::Start { .. } if options.no_start => {}
                other => plan.actions.push(other),
            }
        }
        for container in containers_of(observed, name) {
            let untouched = !plan.actions.iter().any(|a| match a {
                Action::Recreate { name, .. }
                | Action::Start { name, .. }
                | Action::Remove { name, .. } => name == &container.name,
                _ => false,
            });
            if untouched {
                if !restart_for.is_empty() && container.running {
                    plan.actions.push(Action::Restart {
                        service: name.clone(),
                        name: container.name.clone(),
                    });
                } else {
                    plan.kept.push(container.name.clone());
                }
            }
        }
    }
    for container in observed.iter().filter(|c| !c.oneoff) {
        if !project.services.contains_key(&container.service)
            && !project.disabled_services.contains_key(&container.service)
        {
            if options.remove_orphans {
                plan.actions.push(Action::Remove {
                    service: container.service.clone(),
                    name: container.name.clone(),
                });
            } else {
                plan.orphans.push(container.name.clone());
            }
        }
    }
    plan
}

/// A service's containers other than `run`'s, by number.
fn containers_of<'a>(observed: &'a [Observed], service: &str) -> Vec<&'a Observed> {
    let mut containers: Vec<&Observed> = observed
        .iter()
        .filter(|c| c.service == service && !c.oneoff)
        .collect();
    containers.sort_by_key(|c| c.number);
    containers
}

/// Waits on the dependencies `up` handles too (a dependency not selected, with `--no-deps`,
/// is not waited for, as docker compose).
fn waits(project: &Project, service: &Service, selected: &[String]) -> Vec<Action> {
    service
        .depends_on
        .iter()
        .filter(|(dependency, _)| {
            selected.contains(dependency) && project.services.contains_key(*dependency)
        })
        .map(|(dependency, d)| Action::Wait {
            service: service.name.clone(),
            dependency: dependency.clone(),
            condition: if d.condition.is_empty() {
                "service_started".into()
            } else {
                d.condition.clone()
            },
            required: d.required,
        })
        .collect()
}

/// One service: keep, start, recreate or remove each container, create what is missing.
fn converge_service(
    project: &Project,
    service: &Service,
    observed: &[Observed],
    image_ids: &BTreeMap<String, String>,
    options: &PlanOptions,
) -> Vec<Action> {
    let wanted = replicas(service, &options.scale);
    let hash = service_hash(service);
    let image_id = image_ids.get(&service.name);
    let containers = containers_of(observed, &service.name);
    let mut steps = Vec::new();
    let mut numbers = BTreeSet::new();
    for (index, container) in containers.iter().enumerate() {
        if index as u32 >= wanted {
            steps.push(Action::Remove {
                service: service.name.clone(),
                name: container.name.clone(),
            });
            continue;
        }
        numbers.insert(container.number);
        let changed =
            container.config_hash != hash || image_id.is_some_and(|id| id != &container.image_id);
        if options.force_recreate || (changed && !options.no_recreate) {
            steps.push(Action::Recreate {
                service: service.name.clone(),
                number: container.number,
                name: container.name.clone(),
            });
            steps.push(Action::Start {
                service: service.name.clone(),
                name: container.name.clone(),
            });
        } else if !container.running {
            steps.push(Action::Start {
                service: service.name.clone(),
                name: container.name.clone(),
            });
        }
    }
    let mut next = 1;
    for _ in containers.len().min(wanted as usize)..wanted as usize {
        while numbers.contains(&next) {
            next += 1;
        }
        numbers.insert(next);
        let name = container_name(&project.name, service, next);
        steps.push(Action::Create {
            service: service.name.clone(),
            number: next,
            name: name.clone(),
        });
        steps.push(Action::Start {
            service: service.name.clone(),
            name,
        });
    }
    steps
}

#[cfg(test)]
pub(crate) mod tests;
