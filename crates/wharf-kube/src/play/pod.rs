//! A workload as pods, and each pod as compose services, as Podman plays them: an infra
//! holder (Kubernetes' pause container) owns the pod's network namespace, its
//! initContainers and containers join it (`network_mode: service:<pod>-infra`). A container
//! restarts on its own and finds the pod's address where it was; the holder carries what
//! belongs to the pod (networks, Service names, published ports, hostname, hosts, sysctls).
//!
//! Replicas are pods of their own: `<workload>-<n>` (from 1) for a Deployment, `<sts>-<n>`
//! (from 0) with stable names and claims `<template>-<sts>-<n>` for a StatefulSet, whose
//! pods start in order (each after the previous one's containers are healthy or started).
//!
//! compose applies its plan in order, waiting where a service waits for another; a pod's
//! initContainer that loops until a Service answers would wait forever for a pod the plan
//! starts later, so it depends (started) on the containers of the pods that Service
//! selects ([`Pod::named_pods`]).

use serde_json::{json, Map, Value};

use super::{name, unsupported, Manifest, World};
use crate::error::KubeError;

/// The compose document's parts that workloads fill.
#[derive(Default)]
pub(crate) struct Compose {
    pub services: Map<String, Value>,
    pub networks: Map<String, Value>,
    pub configs: Map<String, Value>,
    pub secrets: Map<String, Value>,
    /// Volumes of pods (emptyDirs, claims without a PersistentVolumeClaim object).
    pub pod_volumes: Vec<String>,
}

/// What an infra holder runs: busybox's `sleep`, as PID 1, which ignores SIGTERM (so it is
/// stopped with SIGKILL: it holds nothing to flush).
const INFRA_COMMAND: &[&str] = &["sleep", "2147483647"];

const WORKLOAD_SPEC: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "strategy",
    "serviceName",
    "revisionHistoryLimit",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "completions",
    "parallelism",
    "volumeClaimTemplates",
    "podManagementPolicy",
];
const POD_SPEC: &[&str] = &[
    "containers",
    "initContainers",
    "volumes",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "hostname",
    "hostAliases",
    "securityContext",
    "dnsPolicy",
    "serviceAccountName",
    "automountServiceAccountToken",
];
/// Refuses the first key of `object` that is not in `allowed`.
pub(super) fn check(
    manifest: &Manifest,
    path: &str,
    object: &Value,
    allowed: &[&str],
) -> Result<(), KubeError> {
    let Some(map) = object.as_object() else {
        return Ok(());
    };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(unsupported(
            manifest,
            &format!("{path}.{key}"),
            "is not supported by `wharf kube play`",
        )),
        None => Ok(()),
    }
}

/// One Deployment, StatefulSet, Job or Pod.
pub(crate) fn workload(
    manifest: &Manifest,
    world: &World,
    compose: &mut Compose,
) -> Result<(), KubeError> {
    let body = &manifest.body;
    let workload = name(manifest)?;
    let kind = body["kind"].as_str().unwrap_or_default();
    if kind != "Pod" {
        check(manifest, "spec", &body["spec"], WORKLOAD_SPEC)?;
        for key in ["completions", "parallelism"] {
            if body["spec"][key].as_u64().is_some_and(|n| n > 1) {
                return Err(unsupported(
                    manifest,
                    &format!("spec.{key}"),
                    "a Job runs one pod here",
                ));
            }
        }
    }
    let Shape {
        template,
        replicas,
        path,
        pods,
    } = shape(manifest, &workload);
    let claim_templates = claim_templates(manifest, kind)?;
    let spec = &template["spec"];
    check(manifest, path, spec, POD_SPEC)?;
    if let Some(account) = spec["serviceAccountName"].as_str() {
        if !world.accounts.iter().any(|a| a == account) {
            return Err(unsupported(
                manifest,
                &format!("{path}.serviceAccountName"),
                &format!("the ServiceAccount {account} is not among the manifests"),
            ));
        }
    }
    let labels = template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let containers = spec["containers"].as_array().cloned().unwrap_or_default();
    if containers.is_empty() {
        return Err(unsupported(
            manifest,
            &format!("{path}.containers"),
            "a pod needs a container",
        ));
    }
    let restart = match (kind, spec["restartPolicy"].as_str()) {
        ("Job", Some("OnFailure")) => "on-failure",
        ("Job", _) | (_, Some("Never")) => "no",
        (_, Some("OnFailure")) => "on-failure",
        _ => "always",
    };
    let mut previous: Vec<String> = Vec::new();
    for (pod_name, ordinal) in &pods {
        let pod = Pod {
            manifest,
            world,
            spec,
            path,
            kind,
            workload: &workload,
            name: pod_name,
            ordinal: *ordinal,
            labels: &labels,
            claim_templates: &claim_templates,
        };
        if replicas > 1 && !pod.published_ports()?.is_empty() {
            return Err(unsupported(
                manifest,
                "spec.replicas",
                "--publish binds each port of a LoadBalancer or NodePort Service to one host port, which one pod can hold: run one replica, or reach the replicas by the Service name on the play's network",
            ));
        }
        // A StatefulSet starts its pods in order (OrderedReady), each once the one before
        // is ready.
        let after =
            if kind == "StatefulSet" && body["spec"]["podManagementPolicy"] != json!("Parallel") {
                previous.as_slice()
            } else {
                &[]
            };
        previous = pod.services(&containers, restart, after, compose)?;
    }
    Ok(())
}

/// A workload's pod template and its pods.
pub(super) struct Shape {
    pub template: Value,
    replicas: u64,
    /// Where the pod spec is in the manifest.
    path: &'static str,
    /// Each pod's name and, in a StatefulSet, ordinal: `<workload>` for one replica,
    /// `<workload>-<n>` from 1 for more, `<sts>-<n>` from 0.
    pub pods: Vec<(String, Option<u64>)>,
}

pub(super) fn shape(manifest: &Manifest, workload: &str) -> Shape {
    let body = &manifest.body;
    let kind = body["kind"].as_str().unwrap_or_default();
    let (template, replicas, path) = match kind {
        "Pod" => (
            json!({ "metadata": body["metadata"], "spec": body["spec"] }),
            1,
            "spec",
        ),
        "Job" => (body["spec"]["template"].clone(), 1, "spec.template.spec"),
        _ => (
            body["spec"]["template"].clone(),
            body["spec"]["replicas"].as_u64().unwrap_or(1),
            "spec.template.spec",
        ),
    };
    let pods = match kind {
        "StatefulSet" => (0..replicas)
            .map(|n| (format!("{workload}-{n}"), Some(n)))
            .collect(),
        _ if replicas == 1 => vec![(workload.to_owned(), None)],
        _ => (1..=replicas)
            .map(|n| (format!("{workload}-{n}"), None))
            .collect(),
    };
    Shape {
        template,
        replicas,
        path,
        pods,
    }
}

/// A workload's pods as others wait for them: its pod labels and its containers' services.
pub(crate) struct Pods {
    kind: String,
    name: String,
    labels: Map<String, Value>,
    containers: Vec<String>,
}

pub(super) fn pods(manifest: &Manifest) -> Result<Pods, KubeError> {
    let workload = name(manifest)?;
    let shape = shape(manifest, &workload);
    let names: Vec<&str> = shape.template["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    Ok(Pods {
        kind: manifest.body["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        labels: shape.template["metadata"]["labels"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        containers: shape
            .pods
            .iter()
            .flat_map(|(pod, _)| names.iter().map(move |c| format!("{pod}-{c}")))
            .collect(),
        name: workload,
    })
}

/// The names of a StatefulSet's volumeClaimTemplates (each pod gets its own claims).
fn claim_templates(manifest: &Manifest, kind: &str) -> Result<Vec<String>, KubeError> {
    let Some(templates) = manifest.body["spec"]["volumeClaimTemplates"].as_array() else {
        return Ok(Vec::new());
    };
    if kind != "StatefulSet" {
        return Err(unsupported(
            manifest,
            "spec.volumeClaimTemplates",
            "only a StatefulSet has claim templates",
        ));
    }
    templates
        .iter()
        .enumerate()
        .map(|(index, template)| {
            let at = format!("spec.volumeClaimTemplates[{index}]");
            check(
                manifest,
                &at,
                template,
                &["apiVersion", "kind", "metadata", "spec"],
            )?;
            check(
                manifest,
                &format!("{at}.spec"),
                &template["spec"],
                &["accessModes", "resources", "storageClassName", "volumeMode"],
            )?;
            template["metadata"]["name"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| unsupported(manifest, &format!("{at}.metadata"), "has no name"))
        })
        .collect()
}

/// One pod of a workload.
pub(super) struct Pod<'a> {
    pub manifest: &'a Manifest,
    pub world: &'a World<'a>,
    pub spec: &'a Value,
    pub path: &'a str,
    kind: &'a str,
    workload: &'a str,
    /// The pod's name: its hostname and the prefix of its services.
    pub name: &'a str,
    /// A StatefulSet pod's ordinal.
    ordinal: Option<u64>,
    labels: &'a Map<String, Value>,
    pub claim_templates: &'a [String],
}

impl Pod<'_> {
    pub fn refuse(&self, field: &str, message: &str) -> KubeError {
        unsupported(self.manifest, field, message)
    }

    /// The infra holder, the initContainers and the containers of the pod, as services;
    /// returns the names of the containers' services. `after`: services the pod starts
    /// after (ready when they have a healthcheck, started otherwise).
    fn services(
        &self,
        containers: &[Value],
        restart: &str,
        after: &[String],
        compose: &mut Compose,
    ) -> Result<Vec<String>, KubeError> {
        let infra = format!("{}-infra", self.name);
        let mut holder = Map::new();
        holder.insert("image".into(), json!(self.world.options.infra_image));
        holder.insert("entrypoint".into(), json!(INFRA_COMMAND));
        holder.insert("stop_signal".into(), json!("SIGKILL"));
        holder.insert("restart".into(), json!("always"));
        self.holder_settings(&mut holder)?;
        let mut first = Map::new();
        for service in after {
            let healthy = compose.services[service].get("healthcheck").is_some();
            let condition = if healthy {
                "service_healthy"
            } else {
                "service_started"
            };
            first.insert(service.clone(), json!({ "condition": condition }));
        }
        if !first.is_empty() {
            holder.insert("depends_on".into(), Value::Object(first));
        }
        self.insert(compose, &infra, "infra", holder)?;

        // Each container waits for the holder and for the initContainers before it.
        let mut waits = Map::new();
        waits.insert(infra.clone(), json!({ "condition": "service_started" }));
        for (index, init) in self.spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{}.initContainers[{index}]", self.path);
            if let Some(job) = self.job_wait(&at, init)? {
                for service in job {
                    waits.insert(
                        service.clone(),
                        json!({ "condition": "service_completed_successfully" }),
                    );
                }
                continue;
            }
            let container_name = init["name"].as_str().unwrap_or_default();
            let service_name = format!("{}-init-{container_name}", self.name);
            let mut service = self.container(&at, init, compose)?;
            service.insert("restart".into(), json!("no"));
            let mut init_waits = waits.clone();
            for other in self.named_pods(init) {
                init_waits.insert(other, json!({ "condition": "service_started" }));
            }
            self.join(&infra, &init_waits, &mut service);
            self.insert(
                compose,
                &service_name,
                &format!("init-{container_name}"),
                service,
            )?;
            waits.insert(
                service_name,
                json!({ "condition": "service_completed_successfully" }),
            );
        }
        let mut names = Vec::new();
        for (index, container) in containers.iter().enumerate() {
            let at = format!("{}.containers[{index}]", self.path);
            let container_name = container["name"]
                .as_str()
                .ok_or_else(|| self.refuse(&format!("{at}.name"), "is required"))?;
            let mut service = self.container(&at, container, compose)?;
            service.insert("restart".into(), json!(restart));
            if let Some(grace) = self.spec["terminationGracePeriodSeconds"].as_u64() {
                service.insert("stop_grace_period".into(), json!(format!("{grace}s")));
            }
            self.join(&infra, &waits, &mut service);
            let service_name = format!("{}-{container_name}", self.name);
            self.insert(compose, &service_name, container_name, service)?;
            names.push(service_name);
        }
        Ok(names)
    }

    /// A container of the pod joins the holder's network namespace after `waits`.
    fn join(&self, infra: &str, waits: &Map<String, Value>, service: &mut Map<String, Value>) {
        service.insert("network_mode".into(), json!(format!("service:{infra}")));
        service.insert("depends_on".into(), Value::Object(waits.clone()));
    }

    /// Adds a service of the pod, its container named `<project>-<pod>-<container>` as
    /// Podman names them (`<pod>-<container>`) within the play's project.
    fn insert(
        &self,
        compose: &mut Compose,
        service: &str,
        container: &str,
        mut body: Map<String, Value>,
    ) -> Result<(), KubeError> {
        // Pods are named after their workloads, and containers after their pods: two
        // workloads (or a container named `infra`) may meet on one name.
        if compose.services.contains_key(service) {
            return Err(self.refuse(
                "metadata.name",
                &format!("its pod {} would run a container {service}, as another pod of the play does: rename one of them", self.name),
            ));
        }
        body.insert(
            "container_name".into(),
            json!(format!(
                "{}-{}-{container}",
                self.world.options.project, self.name
            )),
        );
        body.insert(
            "labels".into(),
            json!({
                "io.wharf.kube.workload": format!("{}/{}", self.kind, self.workload),
                "io.wharf.kube.pod": self.name,
            }),
        );
        compose
            .services
            .insert(service.to_owned(), Value::Object(body));
        Ok(())
    }

    /// `kubectl wait --for=condition=complete job/NAME` (how `compose bridge convert` makes
    /// a pod wait for a Job): the services of that Job's pod, which compose waits for with
    /// `service_completed_successfully`. Other uses of kubectl need a cluster.
    fn job_wait(&self, at: &str, init: &Value) -> Result<Option<Vec<String>>, KubeError> {
        let mut words: Vec<&str> = init["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(init["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        // kubectl named in the command, or the image's entrypoint (registry.k8s.io/kubectl).
        let image = init["image"].as_str().unwrap_or_default();
        let repository = image.split('@').next().unwrap_or_default();
        let name = repository.rsplit('/').next().unwrap_or_default();
        let kubectl_image = name.split(':').next() == Some("kubectl");
        if words
            .first()
            .is_some_and(|w| *w == "kubectl" || w.ends_with("/kubectl"))
        {
            words.remove(0);
        } else if init["command"].is_array() || !kubectl_image {
            return Ok(None);
        }
        let job = words
            .iter()
            .find_map(|word| word.strip_prefix("job/"))
            .filter(|_| {
                words.first() == Some(&"wait") && words.contains(&"--for=condition=complete")
            });
        let Some(job) = job else {
            return Err(self.refuse(&format!("{at}.command"), "kubectl needs a cluster's API: only `kubectl wait --for=condition=complete job/NAME` runs here (as waiting for the Job's containers)"));
        };
        let pods = self.world.pods.iter();
        match pods.into_iter().find(|p| p.kind == "Job" && p.name == job) {
            Some(pods) => Ok(Some(pods.containers.clone())),
            None => Err(self.refuse(
                &format!("{at}.command"),
                &format!("waits for the Job {job}, which is not among the manifests"),
            )),
        }
    }

    /// The containers of the pods selected by the Services an initContainer names (as
    /// `until nslookup db` or `nc db 5432` do): it waits for them on its own, but compose
    /// starts services in its plan's order, which must put those pods first.
    fn named_pods(&self, init: &Value) -> Vec<String> {
        let words: Vec<&str> = init["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(init["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .flat_map(|w| w.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')))
            .filter_map(|w| w.split('.').next())
            .collect();
        let own: Vec<&Manifest> = self.selecting().into_iter().map(|(m, _)| m).collect();
        let mut containers = Vec::new();
        for service in &self.world.services {
            let named = service.body["metadata"]["name"]
                .as_str()
                .is_some_and(|n| words.contains(&n));
            let Some(selector) = service.body["spec"]["selector"].as_object() else {
                continue;
            };
            if !named || own.iter().any(|m| std::ptr::eq(*m, *service)) || selector.is_empty() {
                continue;
            }
            for pods in &self.world.pods {
                if selector.iter().all(|(k, v)| pods.labels.get(k) == Some(v)) {
                    containers.extend(pods.containers.iter().cloned());
                }
            }
        }
        containers
    }

    /// A port of the pod's containers: a number, or the name of a `containerPort`.
    pub fn port(&self, value: &Value) -> Option<u64> {
        if let Some(number) = value.as_u64() {
            return Some(number);
        }
        let name = value.as_str()?;
        if let Ok(number) = name.parse() {
            return Some(number);
        }
        self.spec["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|p| p["name"] == name)
            .and_then(|p| p["containerPort"].as_u64())
    }

    /// The pod's networks (by the policies' member labels, else the default one), with the
    /// names of the ClusterIP Services that select it as aliases, and in a StatefulSet its
    /// stable name `<pod>.<serviceName>`.
    fn join_networks(&self, service: &mut Map<String, Value>) -> Result<(), KubeError> {
        let labels = self.labels;
        let matches = |selector: &Map<String, Value>| {
            !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        };
        let mut names: Vec<String> = Vec::new();
        for (manifest, kind) in self.selecting() {
            if kind != "ClusterIP" {
                continue;
            }
            for (index, port) in manifest.body["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let target = port.get("targetPort").unwrap_or(&port["port"]);
                let Some(target) = self.port(target) else {
                    return Err(unsupported(
                        manifest,
                        &format!("spec.ports[{index}].targetPort"),
                        &format!(
                            "{target} is not a containerPort name of the pod {}",
                            self.name
                        ),
                    ));
                };
                if Some(target) != port["port"].as_u64() {
                    return Err(unsupported(manifest, &format!("spec.ports[{index}]"), "a ClusterIP Service whose port differs from its targetPort cannot be played: its name resolves to the pods themselves, which answer on their own ports (a cluster's kube-proxy rewrites the port; use the container's port as the Service's)"));
                }
            }
            names.push(name(manifest)?);
        }
        if let (Some(_), Some(governing)) =
            (self.ordinal, self.world.statefulset_service(self.manifest))
        {
            names.push(format!("{}.{governing}", self.name));
        }
        let mut networks = Map::new();
        for network in &self.world.networks {
            if matches(&network.members) {
                networks.insert(network.name.clone(), json!({ "aliases": names }));
            }
        }
        if networks.is_empty() {
            networks.insert("default".into(), json!({ "aliases": names }));
        }
        service.insert("networks".into(), Value::Object(networks));
        Ok(())
    }

    /// The Services whose selector picks the pod, with their types.
    fn selecting(&self) -> Vec<(&Manifest, &str)> {
        let labels = self.labels;
        self.world
            .services
            .iter()
            .copied()
            .filter(|manifest| {
                let selector = manifest.body["spec"]["selector"].as_object();
                selector.is_some_and(|s| {
                    !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v))
                })
            })
            .map(|m| (m, m.body["spec"]["type"].as_str().unwrap_or("ClusterIP")))
            .collect()
    }

    /// With `--publish`, the ports of the LoadBalancer and NodePort Services that select
    /// the pod, as compose's `ports`.
    fn published_ports(&self) -> Result<Vec<Value>, KubeError> {
        let mut ports = Vec::new();
        if !self.world.options.publish {
            return Ok(ports);
        }
        for (manifest, kind) in self.selecting() {
            if !matches!(kind, "LoadBalancer" | "NodePort") {
                continue;
            }
            for (index, port) in manifest.body["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let published = port["port"].as_u64().unwrap_or_default();
                let target = port.get("targetPort").unwrap_or(&port["port"]);
                let Some(target) = self.port(target) else {
                    return Err(unsupported(
                        manifest,
                        &format!("spec.ports[{index}].targetPort"),
                        &format!(
                            "{target} is not a containerPort name of the pod {}",
                            self.name
                        ),
                    ));
                };
                let protocol = port["protocol"]
                    .as_str()
                    .unwrap_or("TCP")
                    .to_ascii_lowercase();
                ports.push(json!(format!("{published}:{target}/{protocol}")));
            }
        }
        Ok(ports)
    }

    /// What the infra holder carries for the pod.
    fn holder_settings(&self, service: &mut Map<String, Value>) -> Result<(), KubeError> {
        self.join_networks(service)?;
        let ports = self.published_ports()?;
        if !ports.is_empty() {
            service.insert("ports".into(), Value::Array(ports));
        }
        let spec = self.spec;
        // Kubernetes names a pod's host after the pod.
        let hostname = spec["hostname"].as_str().unwrap_or(self.name);
        service.insert("hostname".into(), json!(hostname));
        let mut hosts = Vec::new();
        for alias in spec["hostAliases"].as_array().into_iter().flatten() {
            for host in alias["hostnames"].as_array().into_iter().flatten() {
                hosts.push(json!(format!(
                    "{}={}",
                    host.as_str().unwrap_or_default(),
                    alias["ip"].as_str().unwrap_or_default()
                )));
            }
        }
        if !hosts.is_empty() {
            service.insert("extra_hosts".into(), Value::Array(hosts));
        }
        check(
            self.manifest,
            &format!("{}.securityContext", self.path),
            &spec["securityContext"],
            &["sysctls"],
        )?;
        let sysctls: Map<String, Value> = spec["securityContext"]["sysctls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["name"].as_str().unwrap_or_default().to_owned(),
                    json!(s["value"].as_str().unwrap_or_default()),
                )
            })
            .collect();
        if !sysctls.is_empty() {
            service.insert("sysctls".into(), Value::Object(sysctls));
        }
        Ok(())
    }
}
