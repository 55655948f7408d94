//! A service as a Deployment or a Job, around the pod template the other parts fill.

use serde_json::{json, Map, Value};
use wharf_compose::model::{CONDITION_COMPLETED_SUCCESSFULLY, CONDITION_HEALTHY};
use wharf_compose::Service;

use super::context::{is_job, Context};
use super::{container, metadata, network, storage, Out, SERVICE_LABEL};
use crate::names::dns_label;

pub(crate) fn convert(context: &Context, out: &mut Out) {
    let name = context.name();
    let pod = pod_template(context, out);
    let selector = json!({ "matchLabels": { SERVICE_LABEL: name } });
    if is_job(context) {
        let spec = json!({ "backoffLimit": backoff_limit(context.service), "template": pod });
        let body = object(
            "batch/v1",
            "Job",
            metadata(context.project, &name, Some(&context.service.name)),
            spec,
        );
        out.add("Job", &name, body);
        return;
    }
    let replicas = context.service.replicas();
    let mut spec = Map::new();
    spec.insert("replicas".into(), json!(replicas));
    spec.insert("selector".into(), selector);
    if storage::uses_claims(context.service) {
        spec.insert("strategy".into(), json!({ "type": "Recreate" }));
        if replicas > 1 {
            context.note(out, "volumes", "its replicas share ReadWriteOnce claims: they must run on one node (or give the claims a ReadWriteMany storage class)");
        }
    }
    spec.insert("template".into(), pod);
    let body = object(
        "apps/v1",
        "Deployment",
        metadata(context.project, &name, Some(&context.service.name)),
        Value::Object(spec),
    );
    out.add("Deployment", &name, body);
}

fn object(api_version: &str, kind: &str, metadata: Value, spec: Value) -> Value {
    json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec })
}

/// `on-failure:N` tries N times; `no` once.
fn backoff_limit(service: &Service) -> u64 {
    let policy = service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref());
    if let Some(attempts) = policy.and_then(|p| p.max_attempts) {
        return attempts;
    }
    match service.restart.split_once(':') {
        Some(("on-failure", n)) => n.parse().unwrap_or(6),
        _ if service.restart == "on-failure" => 6,
        _ => 0,
    }
}

/// compose restarts a job on failure only when told to; Kubernetes Jobs need one or the
/// other.
fn restart_policy(context: &Context) -> &'static str {
    if !is_job(context) {
        return "Always";
    }
    let condition = context
        .service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref())
        .map(|p| p.condition.as_str());
    if context.service.restart.starts_with("on-failure") || condition == Some("on-failure") {
        "OnFailure"
    } else {
        "Never"
    }
}

fn pod_template(context: &Context, out: &mut Out) -> Value {
    let service = context.service;
    let mut labels = Map::new();
    labels.insert(SERVICE_LABEL.into(), json!(context.name()));
    for network in network::service_networks(service) {
        labels.insert(network::label(&network), json!("true"));
    }
    let mut pod_metadata = Map::new();
    pod_metadata.insert("labels".into(), Value::Object(labels));
    let annotations: Map<String, Value> = service
        .labels
        .iter()
        .chain(&service.annotations)
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !annotations.is_empty() {
        pod_metadata.insert("annotations".into(), Value::Object(annotations));
    }

    let mut spec = Map::new();
    let (waits, waits_for_jobs) = wait_containers(context, out);
    if !waits.is_empty() {
        spec.insert("initContainers".into(), Value::Array(waits));
    }
    if waits_for_jobs {
        spec.insert("serviceAccountName".into(), json!(JOB_WAITER));
    }
    let (main, volumes) = container::container(context, out);
    spec.insert("containers".into(), json!([main]));
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Value::Array(volumes));
    }
    spec.insert("restartPolicy".into(), json!(restart_policy(context)));
    if let Some(grace) = service.stop_grace_period {
        spec.insert(
            "terminationGracePeriodSeconds".into(),
            json!(grace.0.as_secs()),
        );
    }
    if !service.hostname.is_empty() {
        spec.insert("hostname".into(), json!(service.hostname));
    }
    if !service.extra_hosts.is_empty() {
        let mut by_ip: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (host, ips) in &service.extra_hosts {
            for ip in ips {
                by_ip.entry(ip).or_default().push(host);
            }
        }
        let aliases: Vec<Value> = by_ip
            .into_iter()
            .map(|(ip, hosts)| json!({ "ip": ip, "hostnames": hosts }))
            .collect();
        spec.insert("hostAliases".into(), Value::Array(aliases));
    }
    if !service.sysctls.is_empty() {
        let sysctls: Vec<Value> = service
            .sysctls
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        spec.insert("securityContext".into(), json!({ "sysctls": sysctls }));
    }
    json!({ "metadata": pod_metadata, "spec": spec })
}

/// `depends_on: {db: {condition: service_healthy}}`: an initContainer that waits until
/// db's Service answers. A Service routes only to ready pods, and readiness is db's
/// healthcheck, so this is Kubernetes' form of waiting for healthy. `nc` without `-z`, with
/// stdin closed: Debian's busybox has no `-z`. A dependency without ports has a headless
/// Service, whose name resolves once a pod is ready: the loop waits for that.
///
/// `service_completed_successfully`: the dependency is a Job, and an initContainer waits
/// for it with `kubectl wait --for=condition=complete` (the pod runs as [`JOB_WAITER`],
/// which may read Jobs); `kube play` reads this back as compose's condition.
fn wait_containers(context: &Context, out: &mut Out) -> (Vec<Value>, bool) {
    let mut waits = Vec::new();
    let mut waits_for_jobs = false;
    for (dependency, condition) in &context.service.depends_on {
        let host = dns_label(dependency);
        match condition.condition.as_str() {
            CONDITION_HEALTHY => {
                let Some(other) = context.project.services.get(dependency) else {
                    continue;
                };
                let check = match network::service_ports(other, context.sources).first() {
                    Some(port) => format!("nc -w 2 {host} {} </dev/null", port.target),
                    None => format!("nslookup {host} >/dev/null 2>&1"),
                };
                waits.push(json!({
                    "name": format!("wait-for-{host}"),
                    "image": context.options.wait_image,
                    "command": ["sh", "-c", format!("until {check}; do sleep 1; done")],
                }));
            }
            CONDITION_COMPLETED_SUCCESSFULLY => {
                waits_for_jobs = true;
                waits.push(json!({
                    "name": format!("wait-for-{host}"),
                    "image": context.options.kubectl_image,
                    "args": ["wait", "--for=condition=complete", format!("job/{host}"), "--timeout=-1s"],
                }));
            }
            _ => {}
        }
    }
    if waits_for_jobs {
        job_waiter(context.project, out);
    }
    (waits, waits_for_jobs)
}

/// The ServiceAccount of pods that wait for Jobs, allowed to read them.
pub const JOB_WAITER: &str = "wait-for-jobs";

fn job_waiter(project: &wharf_compose::Project, out: &mut Out) {
    let meta = || metadata(project, JOB_WAITER, None);
    out.add(
        "ServiceAccount",
        JOB_WAITER,
        json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta() }),
    );
    out.add(
        "Role",
        JOB_WAITER,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(),
            "rules": [{ "apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch"] }],
        }),
    );
    out.add(
        "RoleBinding",
        JOB_WAITER,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": JOB_WAITER },
            "subjects": [{ "kind": "ServiceAccount", "name": JOB_WAITER }],
        }),
    );
}
