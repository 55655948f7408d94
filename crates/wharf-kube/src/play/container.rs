//! One container of a pod as a compose service: image, command, env from ConfigMaps and
//! Secrets, resources, securityContext, probes as healthchecks, and volume mounts.

use serde_json::{json, Map, Value};

use super::pod::{check, Compose, Pod};
use crate::error::KubeError;

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

impl Pod<'_> {
    /// One container as a compose service (without the pod-level keys).
    pub(super) fn container(
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

    /// A probe as a healthcheck: exec runs as is; httpGet and tcpSocket run in the
    /// container (see [`http_probe`]).
    fn healthcheck(&self, path: &str, probe: &Value) -> Result<Value, KubeError> {
        let at = format!("{path}.probe");
        check(self.manifest, &at, probe, PROBE)?;
        let port = |key: &str| -> Result<u64, KubeError> {
            let value = &probe[key]["port"];
            self.port(value).ok_or_else(|| {
                self.refuse(
                    &format!("{at}.{key}.port"),
                    &format!("{value} is not a number nor a containerPort name of the pod"),
                )
            })
        };
        let test = if let Some(command) = probe["exec"]["command"].as_array() {
            let mut test = vec![json!("CMD")];
            test.extend(command.iter().cloned());
            Value::Array(test)
        } else if probe["httpGet"].is_object() {
            let get = &probe["httpGet"];
            check(
                self.manifest,
                &format!("{at}.httpGet"),
                get,
                &["path", "port", "scheme"],
            )?;
            if get["scheme"].as_str().is_some_and(|s| s != "HTTP") {
                return Err(self.refuse(&format!("{at}.httpGet.scheme"), "only HTTP is supported"));
            }
            let url = format!(
                "http://127.0.0.1:{}{}",
                port("httpGet")?,
                get["path"].as_str().unwrap_or("/")
            );
            json!(["CMD-SHELL", http_probe(&url)])
        } else if probe["tcpSocket"].is_object() {
            check(
                self.manifest,
                &format!("{at}.tcpSocket"),
                &probe["tcpSocket"],
                &["port"],
            )?;
            json!(["CMD-SHELL", tcp_probe(port("tcpSocket")?)])
        } else {
            return Err(self.refuse(&at, "needs exec, httpGet or tcpSocket"));
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
            let mut long = json!({ "target": target, "read_only": read_only });
            if self.claim_templates.iter().any(|t| t == volume_name) {
                // A StatefulSet's claim, as Kubernetes names it: <template>-<pod>.
                let claim = format!("{volume_name}-{}", self.name);
                long["type"] = json!("volume");
                long["source"] = json!(claim);
                if let Some(sub) = sub_path {
                    long["volume"] = json!({ "subpath": sub });
                }
                if !compose.pod_volumes.contains(&claim) {
                    compose.pod_volumes.push(claim);
                }
                volumes.push(long);
                continue;
            }
            let volume = self.spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == volume_name)
                .ok_or_else(|| {
                    self.refuse(&at, &format!("no pod volume is named {volume_name}"))
                })?;
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
                    let name = format!("{}-{volume_name}", self.name);
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

/// A kubelet probes from the node, into the pod's network; a healthcheck runs in the
/// container, so it uses what the image has: curl, wget (busybox's too), else Python
/// (the images this is for have it), and says so when there is none of them.
fn http_probe(url: &str) -> String {
    let python = format!(
        "-c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' {url}"
    );
    format!(
        "if command -v curl >/dev/null; then curl -fsS -o /dev/null {url}; \
elif command -v wget >/dev/null; then wget -q -O /dev/null {url}; \
elif command -v python3 >/dev/null; then python3 {python}; \
elif command -v python >/dev/null; then python {python}; \
else echo 'no curl, wget or python in the image to probe {url}' >&2; exit 1; fi"
    )
}

/// A tcpSocket probe: nc (busybox's has no `-z`: stdin closed instead), else Python.
fn tcp_probe(port: u64) -> String {
    let python =
        format!("-c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 5)'");
    format!(
        "if command -v nc >/dev/null; then nc -w 2 127.0.0.1 {port} </dev/null; \
elif command -v python3 >/dev/null; then python3 {python}; \
elif command -v python >/dev/null; then python {python}; \
else echo 'no nc or python in the image to probe port {port}' >&2; exit 1; fi"
    )
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
