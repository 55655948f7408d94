//! A workload's pod template as compose services: containers, their env, files, volumes,
//! probes and resources, and the pod's place on the play's networks.

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
];
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "workingDir",
    "env",
    "envFrom",
    "ports",
    "resources",
    "securityContext",
    "readinessProbe",
    "livenessProbe",
    "volumeMounts",
    "tty",
    "stdin",
    "terminationMessagePath",
    "terminationMessagePolicy",
];
const PROBE: &[&str] = &[
    "exec",
    "httpGet",
    "tcpSocket",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
];

/// Refuses the first key of `object` that is not in `allowed`.
fn check(
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
    let (template, replicas, path) = if kind == "Pod" {
        (
            json!({ "metadata": body["metadata"], "spec": body["spec"] }),
            1,
            "spec",
        )
    } else {
        check(manifest, "spec", &body["spec"], WORKLOAD_SPEC)?;
        if body["spec"]["volumeClaimTemplates"].is_array() {
            return Err(unsupported(
                manifest,
                "spec.volumeClaimTemplates",
                "is not supported by `wharf kube play`",
            ));
        }
        for key in ["completions", "parallelism"] {
            if body["spec"][key].as_u64().is_some_and(|n| n > 1) {
                return Err(unsupported(
                    manifest,
                    &format!("spec.{key}"),
                    "a Job runs one pod here",
                ));
            }
        }
        let replicas = if kind == "Job" {
            1
        } else {
            body["spec"]["replicas"].as_u64().unwrap_or(1)
        };
        (
            body["spec"]["template"].clone(),
            replicas,
            "spec.template.spec",
        )
    };
    let spec = &template["spec"];
    check(manifest, path, spec, POD_SPEC)?;
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
    if containers.len() > 1 && replicas > 1 {
        return Err(unsupported(
            manifest,
            "spec.replicas",
            "a pod of several containers runs one replica here",
        ));
    }
    let restart = match (kind, spec["restartPolicy"].as_str()) {
        ("Job", Some("OnFailure")) => "on-failure",
        ("Job", _) | (_, Some("Never")) => "no",
        (_, Some("OnFailure")) => "on-failure",
        _ => "always",
    };
    let pod = Pod {
        manifest,
        world,
        spec,
        path,
        workload: &workload,
    };
    // initContainers: one-shot services, each waiting for the one before.
    let mut before: Option<String> = None;
    for (index, init) in spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let service_name = format!(
            "{workload}-init-{}",
            init["name"].as_str().unwrap_or(&index.to_string())
        );
        let mut service =
            pod.container(&format!("{path}.initContainers[{index}]"), init, compose)?;
        service.insert("restart".into(), json!("no"));
        if let Some(previous) = &before {
            service.insert(
                "depends_on".into(),
                json!({ previous: { "condition": "service_completed_successfully" } }),
            );
        }
        pod.join_networks(&labels, &mut service, false)?;
        compose
            .services
            .insert(service_name.clone(), Value::Object(service));
        before = Some(service_name);
    }
    let holder = if containers.len() == 1 {
        workload.clone()
    } else {
        format!(
            "{workload}-{}",
            containers[0]["name"].as_str().unwrap_or("0")
        )
    };
    for (index, container) in containers.iter().enumerate() {
        let mut service =
            pod.container(&format!("{path}.containers[{index}]"), container, compose)?;
        let service_name = if containers.len() == 1 {
            workload.clone()
        } else {
            format!(
                "{workload}-{}",
                container["name"].as_str().unwrap_or(&index.to_string())
            )
        };
        service.insert("restart".into(), json!(restart));
        if replicas != 1 {
            service.insert("scale".into(), json!(replicas));
        }
        if let Some(grace) = spec["terminationGracePeriodSeconds"].as_u64() {
            service.insert("stop_grace_period".into(), json!(format!("{grace}s")));
        }
        if index == 0 {
            pod.holder_settings(&labels, &mut service)?;
            if replicas > 1 && service.contains_key("ports") {
                return Err(unsupported(
                    manifest,
                    "spec.replicas",
                    "--publish maps a Service port to one host port, so its pods run one replica",
                ));
            }
        } else {
            service.insert("network_mode".into(), json!(format!("service:{holder}")));
        }
        let mut depends = Map::new();
        if let Some(init) = &before {
            depends.insert(
                init.clone(),
                json!({ "condition": "service_completed_successfully" }),
            );
        }
        if index > 0 {
            depends.insert(holder.clone(), json!({ "condition": "service_started" }));
        }
        if !depends.is_empty() {
            service.insert("depends_on".into(), Value::Object(depends));
        }
        service.insert(
            "labels".into(),
            json!({ "io.wharf.kube.workload": format!("{kind}/{workload}") }),
        );
        compose
            .services
            .insert(service_name, Value::Object(service));
    }
    Ok(())
}

struct Pod<'a> {
    manifest: &'a Manifest,
    world: &'a World<'a>,
    spec: &'a Value,
    path: &'a str,
    workload: &'a str,
}

impl Pod<'_> {
    fn refuse(&self, field: &str, message: &str) -> KubeError {
        unsupported(self.manifest, field, message)
    }

    /// The pod's networks (by the policies' member labels, else the default one), with the
    /// names of the Services that select it as aliases when `aliases`.
    fn join_networks(
        &self,
        labels: &Map<String, Value>,
        service: &mut Map<String, Value>,
        aliases: bool,
    ) -> Result<(), KubeError> {
        let matches = |selector: &Map<String, Value>| {
            !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        };
        let mut names: Vec<String> = Vec::new();
        if aliases {
            for (manifest, kind) in self.selecting(labels) {
                if kind != "ClusterIP" {
                    continue;
                }
                for port in manifest.body["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let target = port.get("targetPort").unwrap_or(&port["port"]);
                    if target != &port["port"] {
                        return Err(unsupported(manifest, "spec.ports", "a ClusterIP Service whose port differs from its targetPort cannot be played (containers are reached on their own ports)"));
                    }
                }
                names.push(name(manifest)?);
            }
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

    /// The Services whose selector picks a pod with `labels`, with their types.
    fn selecting(&self, labels: &Map<String, Value>) -> Vec<(&Manifest, &str)> {
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

    /// What the container holding the pod's network namespace carries for the pod.
    fn holder_settings(
        &self,
        labels: &Map<String, Value>,
        service: &mut Map<String, Value>,
    ) -> Result<(), KubeError> {
        self.join_networks(labels, service, true)?;
        if self.world.options.publish {
            let mut ports = Vec::new();
            for (manifest, kind) in self.selecting(labels) {
                if !matches!(kind, "LoadBalancer" | "NodePort") {
                    continue;
                }
                for port in manifest.body["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let published = port["port"].as_u64().unwrap_or_default();
                    let Some(target) = port.get("targetPort").unwrap_or(&port["port"]).as_u64()
                    else {
                        return Err(unsupported(
                            manifest,
                            "spec.ports",
                            "named target ports cannot be published",
                        ));
                    };
                    let protocol = port["protocol"]
                        .as_str()
                        .unwrap_or("TCP")
                        .to_ascii_lowercase();
                    ports.push(json!(format!("{published}:{target}/{protocol}")));
                }
            }
            if !ports.is_empty() {
                service.insert("ports".into(), Value::Array(ports));
            }
        }
        let spec = self.spec;
        if let Some(hostname) = spec["hostname"].as_str() {
            service.insert("hostname".into(), json!(hostname));
        }
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

    /// One container as a compose service (without the pod-level keys).
    fn container(
        &self,
        path: &str,
        container: &Value,
        compose: &mut Compose,
    ) -> Result<Map<String, Value>, KubeError> {
        check(self.manifest, path, container, CONTAINER)?;
        let mut service = Map::new();
        let image = container["image"]
            .as_str()
            .ok_or_else(|| self.refuse(&format!("{path}.image"), "is required"))?;
        service.insert("image".into(), json!(image));
        if let Some(policy) = container["imagePullPolicy"].as_str() {
            let policy = match policy {
                "Always" => "always",
                "Never" => "never",
                _ => "missing",
            };
            service.insert("pull_policy".into(), json!(policy));
        }
        // Kubernetes' command is compose's entrypoint; its args are compose's command.
        if container["command"].is_array() {
            service.insert("entrypoint".into(), container["command"].clone());
        }
        if container["args"].is_array() {
            service.insert("command".into(), container["args"].clone());
        }
        if let Some(dir) = container["workingDir"].as_str() {
            service.insert("working_dir".into(), json!(dir));
        }
        let environment = self.environment(path, container)?;
        if !environment.is_empty() {
            service.insert("environment".into(), Value::Object(environment));
        }
        let expose: Vec<Value> = container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(json!(format!(
                    "{}/{}",
                    p["containerPort"].as_u64()?,
                    p["protocol"].as_str().unwrap_or("TCP").to_ascii_lowercase()
                )))
            })
            .collect();
        if !expose.is_empty() {
            service.insert("expose".into(), Value::Array(expose));
        }
        if let Some(resources) = self.resources(path, &container["resources"])? {
            service.insert("deploy".into(), json!({ "resources": resources }));
        }
        self.security(path, &container["securityContext"], &mut service)?;
        let probe = [&container["readinessProbe"], &container["livenessProbe"]]
            .into_iter()
            .find(|p| p.is_object());
        if let Some(probe) = probe {
            service.insert("healthcheck".into(), self.healthcheck(path, probe)?);
        }
        self.mounts(path, container, &mut service, compose)?;
        if container["tty"] == json!(true) {
            service.insert("tty".into(), json!(true));
        }
        if container["stdin"] == json!(true) {
            service.insert("stdin_open".into(), json!(true));
        }
        Ok(service)
    }

    fn environment(&self, path: &str, container: &Value) -> Result<Map<String, Value>, KubeError> {
        let data = &self.world.data;
        let mut environment = Map::new();
        for (index, from) in container["envFrom"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.envFrom[{index}]");
            let prefix = from["prefix"].as_str().unwrap_or_default();
            let (map, name) = if let Some(name) = from["configMapRef"]["name"].as_str() {
                (data.config_maps.get(name), name)
            } else if let Some(name) = from["secretRef"]["name"].as_str() {
                (data.secrets.get(name), name)
            } else {
                return Err(self.refuse(&at, "only configMapRef and secretRef are supported"));
            };
            let optional = from["configMapRef"]["optional"] == json!(true)
                || from["secretRef"]["optional"] == json!(true);
            match map {
                Some(map) => {
                    environment.extend(map.iter().map(|(k, v)| (format!("{prefix}{k}"), json!(v))))
                }
                None if optional => {}
                None => return Err(self.refuse(&at, &format!("{name} is not among the manifests"))),
            }
        }
        for (index, variable) in container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.env[{index}]");
            let name = variable["name"]
                .as_str()
                .ok_or_else(|| self.refuse(&at, "has no name"))?;
            let value = if let Some(value) = variable.get("value") {
                value
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| value.to_string())
            } else if let Some(from) = variable.get("valueFrom") {
                let (map, reference) = if from["configMapKeyRef"].is_object() {
                    (&data.config_maps, &from["configMapKeyRef"])
                } else if from["secretKeyRef"].is_object() {
                    (&data.secrets, &from["secretKeyRef"])
                } else {
                    return Err(self.refuse(
                        &format!("{at}.valueFrom"),
                        "only configMapKeyRef and secretKeyRef are supported",
                    ));
                };
                let object = reference["name"].as_str().unwrap_or_default();
                let key = reference["key"].as_str().unwrap_or_default();
                match map.get(object).and_then(|m| m.get(key)) {
                    Some(value) => value.clone(),
                    None if reference["optional"] == json!(true) => continue,
                    None => {
                        return Err(self.refuse(
                            &format!("{at}.valueFrom"),
                            &format!("{object} has no key {key} among the manifests"),
                        ))
                    }
                }
            } else {
                String::new()
            };
            environment.insert(name.to_owned(), json!(value));
        }
        Ok(environment)
    }

    fn resources(&self, path: &str, resources: &Value) -> Result<Option<Value>, KubeError> {
        check(
            self.manifest,
            &format!("{path}.resources"),
            resources,
            &["limits", "requests"],
        )?;
        let mut out = Map::new();
        for (from, to) in [("limits", "limits"), ("requests", "reservations")] {
            let at = format!("{path}.resources.{from}");
            let values = &resources[from];
            check(self.manifest, &at, values, &["cpu", "memory"])?;
            let mut entry = Map::new();
            if let Some(cpu) = quantity_text(&values["cpu"]) {
                let cpus = cpu_quantity(&cpu).ok_or_else(|| {
                    self.refuse(
                        &format!("{at}.cpu"),
                        &format!("{cpu} is not a CPU quantity"),
                    )
                })?;
                entry.insert("cpus".into(), json!(cpus.to_string()));
            }
            if let Some(memory) = quantity_text(&values["memory"]) {
                let bytes = memory_quantity(&memory).ok_or_else(|| {
                    self.refuse(
                        &format!("{at}.memory"),
                        &format!("{memory} is not a memory quantity"),
                    )
                })?;
                entry.insert("memory".into(), json!(format!("{bytes}b")));
            }
            if !entry.is_empty() {
                out.insert(to.into(), Value::Object(entry));
            }
        }
        Ok((!out.is_empty()).then_some(Value::Object(out)))
    }

    fn security(
        &self,
        path: &str,
        security: &Value,
        service: &mut Map<String, Value>,
    ) -> Result<(), KubeError> {
        let at = format!("{path}.securityContext");
        check(
            self.manifest,
            &at,
            security,
            &[
                "runAsUser",
                "runAsGroup",
                "readOnlyRootFilesystem",
                "capabilities",
                "privileged",
                "allowPrivilegeEscalation",
            ],
        )?;
        match (
            security["runAsUser"].as_u64(),
            security["runAsGroup"].as_u64(),
        ) {
            (Some(user), Some(group)) => {
                service.insert("user".into(), json!(format!("{user}:{group}")));
            }
            (Some(user), None) => {
                service.insert("user".into(), json!(user.to_string()));
            }
            (None, Some(_)) => {
                return Err(self.refuse(&format!("{at}.runAsGroup"), "needs runAsUser here"))
            }
            (None, None) => {}
        }
        if security["readOnlyRootFilesystem"] == json!(true) {
            service.insert("read_only".into(), json!(true));
        }
        if security["privileged"] == json!(true) {
            service.insert("privileged".into(), json!(true));
        }
        if security["allowPrivilegeEscalation"] == json!(false) {
            service.insert("security_opt".into(), json!(["no-new-privileges"]));
        }
        for (from, to) in [("add", "cap_add"), ("drop", "cap_drop")] {
            if let Some(list) = security["capabilities"][from].as_array() {
                service.insert(to.into(), Value::Array(list.clone()));
            }
        }
        Ok(())
    }

    /// A probe as a healthcheck: exec runs as is; httpGet and tcpSocket run curl (or wget)
    /// and nc in the container, which the image must have.
    fn healthcheck(&self, path: &str, probe: &Value) -> Result<Value, KubeError> {
        check(self.manifest, &format!("{path}.probe"), probe, PROBE)?;
        let test = if let Some(command) = probe["exec"]["command"].as_array() {
            let mut test = vec![json!("CMD")];
            test.extend(command.iter().cloned());
            Value::Array(test)
        } else if probe["httpGet"].is_object() {
            let get = &probe["httpGet"];
            let port = get["port"].as_u64().ok_or_else(|| {
                self.refuse(
                    &format!("{path}.probe.httpGet.port"),
                    "named ports are not supported",
                )
            })?;
            if get["scheme"].as_str().is_some_and(|s| s != "HTTP") {
                return Err(self.refuse(
                    &format!("{path}.probe.httpGet.scheme"),
                    "only HTTP is supported",
                ));
            }
            let url = format!(
                "http://127.0.0.1:{port}{}",
                get["path"].as_str().unwrap_or("/")
            );
            json!([
                "CMD-SHELL",
                format!("curl -fsS -o /dev/null {url} || wget -q -O /dev/null {url}")
            ])
        } else if let Some(port) = probe["tcpSocket"]["port"].as_u64() {
            json!(["CMD-SHELL", format!("nc -z 127.0.0.1 {port}")])
        } else {
            return Err(self.refuse(
                &format!("{path}.probe"),
                "needs exec, httpGet or tcpSocket with a numbered port",
            ));
        };
        let seconds =
            |key: &str, default: u64| format!("{}s", probe[key].as_u64().unwrap_or(default));
        let mut check = json!({
            "test": test,
            "interval": seconds("periodSeconds", 10),
            "timeout": seconds("timeoutSeconds", 1),
            "retries": probe["failureThreshold"].as_u64().unwrap_or(3),
        });
        if let Some(delay) = probe["initialDelaySeconds"].as_u64() {
            check["start_period"] = json!(format!("{delay}s"));
        }
        Ok(check)
    }

    fn mounts(
        &self,
        path: &str,
        container: &Value,
        service: &mut Map<String, Value>,
        compose: &mut Compose,
    ) -> Result<(), KubeError> {
        let mut volumes = Vec::new();
        let mut configs = Vec::new();
        let mut secrets = Vec::new();
        for (index, mount) in container["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{path}.volumeMounts[{index}]");
            check(
                self.manifest,
                &at,
                mount,
                &["name", "mountPath", "readOnly", "subPath"],
            )?;
            let volume_name = mount["name"].as_str().unwrap_or_default();
            let target = mount["mountPath"]
                .as_str()
                .ok_or_else(|| self.refuse(&at, "has no mountPath"))?;
            let read_only = mount["readOnly"] == json!(true);
            let sub_path = mount["subPath"].as_str();
            let volume = self.spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == volume_name)
                .ok_or_else(|| {
                    self.refuse(&at, &format!("no pod volume is named {volume_name}"))
                })?;
            let mut long = json!({ "target": target, "read_only": read_only });
            if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                long["type"] = json!("volume");
                long["source"] = json!(claim);
                if let Some(sub) = sub_path {
                    long["volume"] = json!({ "subpath": sub });
                }
                if !compose.pod_volumes.iter().any(|v| v == claim) {
                    compose.pod_volumes.push(claim.to_owned());
                }
            } else if volume["emptyDir"].is_object() {
                if volume["emptyDir"]["medium"] == json!("Memory") {
                    long["type"] = json!("tmpfs");
                } else {
                    // Shared by the pod's containers, gone with `kube down`.
                    let name = format!("{}-{volume_name}", self.workload);
                    long["type"] = json!("volume");
                    long["source"] = json!(name);
                    if !compose.pod_volumes.contains(&name) {
                        compose.pod_volumes.push(name);
                    }
                }
            } else if let Some(host) = volume["hostPath"]["path"].as_str() {
                long["type"] = json!("bind");
                long["source"] = json!(host);
            } else if volume["configMap"].is_object() || volume["secret"].is_object() {
                let secret = volume["secret"].is_object();
                let (object, source) = if secret {
                    (
                        volume["secret"]["secretName"].as_str().unwrap_or_default(),
                        &self.world.data.secrets,
                    )
                } else {
                    (
                        volume["configMap"]["name"].as_str().unwrap_or_default(),
                        &self.world.data.config_maps,
                    )
                };
                let data = source.get(object).ok_or_else(|| {
                    self.refuse(&at, &format!("{object} is not among the manifests"))
                })?;
                let source_volume = if secret {
                    &volume["secret"]
                } else {
                    &volume["configMap"]
                };
                let items: Vec<(String, String)> = match source_volume["items"].as_array() {
                    Some(items) => items
                        .iter()
                        .map(|i| {
                            (
                                i["key"].as_str().unwrap_or_default().to_owned(),
                                i["path"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect(),
                    None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
                };
                for (key, file) in items {
                    let file_target = match sub_path {
                        Some(sub) if sub == file => target.to_owned(),
                        Some(_) => continue,
                        None => format!("{}/{file}", target.trim_end_matches('/')),
                    };
                    let content = data
                        .get(&key)
                        .ok_or_else(|| self.refuse(&at, &format!("{object} has no key {key}")))?;
                    let name = format!("{object}-{}", key.replace('.', "-"));
                    let (objects, list) = if secret {
                        (&mut compose.secrets, &mut secrets)
                    } else {
                        (&mut compose.configs, &mut configs)
                    };
                    objects.insert(name.clone(), json!({ "content": content }));
                    list.push(json!({ "source": name, "target": file_target }));
                }
                continue;
            } else {
                return Err(self.refuse(&at, "its volume is not a persistentVolumeClaim, emptyDir, hostPath, configMap or secret"));
            }
            volumes.push(long);
        }
        for (key, list) in [
            ("volumes", volumes),
            ("configs", configs),
            ("secrets", secrets),
        ] {
            if !list.is_empty() {
                service.insert(key.into(), Value::Array(list));
            }
        }
        Ok(())
    }
}

fn quantity_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `500m` → 0.5, `2` → 2.
fn cpu_quantity(text: &str) -> Option<f64> {
    match text.strip_suffix('m') {
        Some(millis) => Some(millis.parse::<f64>().ok()? / 1000.0),
        None => text.parse().ok(),
    }
}

/// `512Mi`, `1G`, `1e9`... in bytes.
fn memory_quantity(text: &str) -> Option<u64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
    ];
    for (suffix, scale) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return Some((number.parse::<f64>().ok()? * scale) as u64);
        }
    }
    text.parse::<f64>().ok().map(|n| n as u64)
}
