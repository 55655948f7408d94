//! The service's container: image, command, env, ports, resources, securityContext, probes.

use serde_json::{json, Map, Value};
use wharf_compose::model::Resource;

use super::quantity::memory;
use wharf_compose::{Project, Service};

use super::context::Context;
use super::{env, network, probe, storage, Out};

/// The container and the pod volumes its mounts need.
pub(crate) fn container(context: &Context, out: &mut Out) -> (Value, Vec<Value>) {
    let service = context.service;
    let mut c = Map::new();
    c.insert("name".into(), json!(context.name()));
    c.insert("image".into(), json!(image(context, out)));
    if let Some(policy) = pull_policy(context, out) {
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    // compose's entrypoint is Kubernetes' command; compose's command is its args.
    if let Some(entrypoint) = &service.entrypoint {
        c.insert("command".into(), json!(entrypoint));
    }
    if let Some(command) = &service.command {
        c.insert("args".into(), json!(command));
    }
    if !service.working_dir.is_empty() {
        c.insert("workingDir".into(), json!(service.working_dir));
    }
    let (vars, from) = env::env(context, out);
    if !vars.is_empty() {
        c.insert("env".into(), Value::Array(vars));
    }
    if !from.is_empty() {
        c.insert("envFrom".into(), Value::Array(from));
    }
    let ports: Vec<Value> = network::service_ports(service, context.sources)
        .iter()
        .map(|p| json!({ "containerPort": p.target, "protocol": p.protocol }))
        .collect();
    if !ports.is_empty() {
        c.insert("ports".into(), Value::Array(ports));
    }
    if let Some(resources) = resources(service) {
        c.insert("resources".into(), resources);
    }
    if let Some(security) = security_context(context, out) {
        c.insert("securityContext".into(), security);
    }
    if let Some(probe) = probe::probe(context, out, false) {
        c.insert("readinessProbe".into(), probe);
        c.insert(
            "livenessProbe".into(),
            probe::probe(context, out, true).unwrap_or_default(),
        );
    }
    let (mounts, volumes) = storage::mounts(context, out);
    if !mounts.is_empty() {
        c.insert("volumeMounts".into(), Value::Array(mounts));
    }
    if service.tty {
        c.insert("tty".into(), json!(true));
    }
    if service.stdin_open {
        c.insert("stdin".into(), json!(true));
    }
    (Value::Object(c), volumes)
}

/// The image reference; a built service without `image:` gets compose's name for it
/// under `--registry`.
fn image(context: &Context, out: &mut Out) -> String {
    let service = context.service;
    let registry = context.options.registry.as_deref();
    image_reference(context.project, service, registry).unwrap_or_else(|| {
        context.refuse(out, "build", "a cluster pulls images: a built service needs `image:` naming where it is pushed, or --registry");
        format!("{}-{}", context.project.name, service.name)
    })
}

/// The image a cluster pulls for `service`: its `image:`, else (built services)
/// `REGISTRY/<project>-<service>:latest`; `None` when it has neither.
pub fn image_reference(
    project: &Project,
    service: &Service,
    registry: Option<&str>,
) -> Option<String> {
    if !service.image.is_empty() {
        return Some(service.image.clone());
    }
    registry.map(|registry| {
        format!(
            "{}/{}-{}:latest",
            registry.trim_end_matches('/'),
            project.name,
            service.name
        )
    })
}

fn pull_policy(context: &Context, out: &mut Out) -> Option<&'static str> {
    match context.service.pull_policy.as_str() {
        "" => None,
        "always" => Some("Always"),
        "never" => Some("Never"),
        "missing" | "if_not_present" => Some("IfNotPresent"),
        other => {
            context.refuse(
                out,
                "pull_policy",
                format!("{other} has no imagePullPolicy equivalent"),
            );
            None
        }
    }
}

/// `deploy.resources`: limits and reservations (requests), CPU in millicores, memory in
/// Mi/Gi when it divides, else bytes.
fn resources(service: &Service) -> Option<Value> {
    let resources = &service.deploy.as_ref()?.resources;
    let mut out = Map::new();
    for (key, resource) in [
        ("limits", &resources.limits),
        ("requests", &resources.reservations),
    ] {
        if let Some(quantities) = resource.as_ref().and_then(quantities) {
            out.insert(key.into(), quantities);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn quantities(resource: &Resource) -> Option<Value> {
    let mut out = Map::new();
    if !resource.cpus.is_zero() {
        let millis = (f64::from(resource.cpus.0) * 1000.0).round() as u64;
        out.insert("cpu".into(), json!(format!("{millis}m")));
    }
    if !resource.memory.is_zero() {
        out.insert("memory".into(), json!(memory(resource.memory)));
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// `user`, `read_only`, `cap_add`/`cap_drop`, `privileged`.
fn security_context(context: &Context, out: &mut Out) -> Option<Value> {
    let service = context.service;
    let mut security = Map::new();
    if !service.user.is_empty() {
        let (user, group) = match service.user.split_once(':') {
            Some((user, group)) => (user, Some(group)),
            None => (service.user.as_str(), None),
        };
        match (user.parse::<u64>(), group.map(str::parse::<u64>)) {
            (Ok(uid), None) => {
                security.insert("runAsUser".into(), json!(uid));
            }
            (Ok(uid), Some(Ok(gid))) => {
                security.insert("runAsUser".into(), json!(uid));
                security.insert("runAsGroup".into(), json!(gid));
            }
            _ => context.refuse(
                out,
                "user",
                format!(
                    "{} is not numeric: Kubernetes' runAsUser takes a uid (and runAsGroup a gid)",
                    service.user
                ),
            ),
        }
    }
    if service.read_only {
        security.insert("readOnlyRootFilesystem".into(), json!(true));
    }
    if service.privileged {
        security.insert("privileged".into(), json!(true));
    }
    let caps = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|c| c.trim_start_matches("CAP_").to_ascii_uppercase())
            .collect()
    };
    let mut capabilities = Map::new();
    if !service.cap_add.is_empty() {
        capabilities.insert("add".into(), json!(caps(&service.cap_add)));
    }
    if !service.cap_drop.is_empty() {
        capabilities.insert("drop".into(), json!(caps(&service.cap_drop)));
    }
    if !capabilities.is_empty() {
        security.insert("capabilities".into(), Value::Object(capabilities));
    }
    (!security.is_empty()).then_some(Value::Object(security))
}
