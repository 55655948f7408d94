//! `kube play`: Kubernetes YAML as a compose project, which compose's own loader, plan and
//! apply then run. No I/O: the caller reads the files and loads the compose document this
//! returns (so every compose rule, name and label applies, and `kube down` is `compose
//! down` of the same project).
//!
//! - Deployments, StatefulSets, Jobs and Pods: each replica is a pod, and each pod an
//!   infra holder that owns its network namespace plus a service per initContainer and
//!   container, joined to it (`pod.rs`). initContainers are one-shot services the pod's
//!   containers wait for, one after the other; `kubectl wait --for=condition=complete
//!   job/NAME` among them (how convert waits for a Job) waits for that Job's containers to
//!   complete, as compose's `service_completed_successfully`.
//! - Services: their names are network aliases of the pods they select, so a Service
//!   name resolves to its pods (a Service without ports too, as a headless one); with
//!   `publish` their ports are published on the host. Target ports may be containerPort
//!   names. A ClusterIP Service whose port differs from its target is refused: its name
//!   resolves to the pods, which answer on their own ports.
//! - ConfigMaps and Secrets: `env`/`envFrom` values, and files (compose configs and
//!   secrets with their content) where pods mount them.
//! - PersistentVolumeClaims are named volumes; emptyDirs are volumes of the pod (memory
//!   ones tmpfs); probes are healthchecks.
//! - ServiceAccounts, Roles and RoleBindings grant access to a cluster's API, which a
//!   play's pods have not: they are accepted and change nothing (a pod's
//!   `serviceAccountName` must name one of the manifests, as a cluster checks).
//! - NetworkPolicies of the shape `compose bridge convert` writes (a network's members
//!   talk to each other) are compose networks; other shapes are refused.
//!
//! Any kind or field not in these lists is an error naming it, never skipped.

mod container;
mod pod;

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::KubeError;

/// The choices of `kube play`.
#[derive(Debug, Clone)]
pub struct PlayOptions {
    /// The compose project the play runs as (its containers are `<project>-<pod>-<name>`).
    pub project: String,
    /// Publish Services' ports on the host (`--publish`).
    pub publish: bool,
    /// The image of each pod's infra holder (`--infra-image`); it runs `sleep`.
    pub infra_image: String,
}

/// busybox: one static binary with `sleep`, and the image `compose bridge convert`
/// already uses for its wait loops (as a cluster's nodes keep a pause image).
pub const DEFAULT_INFRA_IMAGE: &str = "busybox:1.36";

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            project: "kube".into(),
            publish: false,
            infra_image: DEFAULT_INFRA_IMAGE.into(),
        }
    }
}

/// One object of a manifest file, with where it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub file: String,
    pub document: usize,
    pub body: Value,
}

/// The objects of one YAML file (a `List`'s items each count as an object).
pub fn parse(file: &str, text: &str) -> Result<Vec<Manifest>, KubeError> {
    let documents = YamlLoader::load_from_str(text).map_err(|error| KubeError::Manifest {
        file: file.to_owned(),
        document: 1,
        message: error.to_string(),
    })?;
    let mut manifests = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        let body = to_json(document);
        if body.is_null() {
            continue;
        }
        let error = |message: &str| KubeError::Manifest {
            file: file.to_owned(),
            document: index + 1,
            message: message.to_owned(),
        };
        if !body.is_object() {
            return Err(error("is not a mapping"));
        }
        let items = match body["kind"].as_str() {
            Some("List") => body["items"].as_array().cloned().unwrap_or_default(),
            Some(_) => vec![body],
            None => return Err(error("has no kind")),
        };
        for body in items {
            manifests.push(Manifest {
                file: file.to_owned(),
                document: index + 1,
                body,
            });
        }
    }
    Ok(manifests)
}

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Integer(n) => json!(n),
        Yaml::Real(text) => text
            .parse::<f64>()
            .map_or_else(|_| json!(text), |f| json!(f)),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(n) => n.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// The data of the ConfigMaps and Secrets (decoded), by name.
#[derive(Default)]
pub(crate) struct Data {
    pub config_maps: BTreeMap<String, BTreeMap<String, String>>,
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
}

/// A compose network from a NetworkPolicy: the pods whose labels include `members`.
pub(crate) struct Network {
    pub name: String,
    pub members: Map<String, Value>,
    pub internal: bool,
}

/// What the pods of the play need to know of the other objects.
pub(crate) struct World<'a> {
    pub data: Data,
    pub services: Vec<&'a Manifest>,
    pub networks: Vec<Network>,
    /// Every workload's pods, to wait for.
    pub pods: Vec<pod::Pods>,
    /// The ServiceAccounts (pods may name them; nothing else follows from them here).
    pub accounts: Vec<String>,
    pub options: &'a PlayOptions,
}

impl World<'_> {
    /// A StatefulSet's governing Service (`spec.serviceName`), when it is among the
    /// manifests: its pods resolve as `<pod>.<service>`.
    pub fn statefulset_service<'m>(&self, manifest: &'m Manifest) -> Option<&'m str> {
        let governing = manifest.body["spec"]["serviceName"].as_str()?;
        self.services
            .iter()
            .any(|s| s.body["metadata"]["name"] == governing)
            .then_some(governing)
    }
}

/// The compose document (as YAML data) that runs `manifests`; `$` is escaped so that
/// interpolation leaves values as written.
pub fn compose_document(manifests: &[Manifest], options: &PlayOptions) -> Result<Value, KubeError> {
    let mut data = Data::default();
    let mut volumes = Map::new();
    let mut workloads = Vec::new();
    let mut services = Vec::new();
    let mut networks = Vec::new();
    let mut accounts = Vec::new();
    for manifest in manifests {
        let body = &manifest.body;
        let kind = body["kind"].as_str().unwrap_or_default();
        let name = name(manifest)?;
        match kind {
            "ConfigMap" => {
                let map = string_map(manifest, "data")?;
                data.config_maps.insert(name, map);
            }
            "Secret" => {
                let mut map = string_map(manifest, "stringData")?;
                for (key, value) in string_map(manifest, "data")? {
                    let decoded = decode(&value).ok_or_else(|| unsupported(manifest, &format!("data.{key}"), "is not base64 of UTF-8 text"))?;
                    map.entry(key).or_insert(decoded);
                }
                data.secrets.insert(name, map);
            }
            "PersistentVolumeClaim" => {
                volumes.insert(name, json!({}));
            }
            "Service" => services.push(manifest),
            "NetworkPolicy" => {
                if let Some(network) = network_policy(manifest)? {
                    networks.push(network);
                }
            }
            "Pod" | "Deployment" | "StatefulSet" | "Job" => workloads.push(manifest),
            // They grant access to a cluster's API, which no pod of a play has.
            "Role" | "RoleBinding" => {}
            "ServiceAccount" => accounts.push(name),
            other => {
                return Err(unsupported(manifest, "kind", &format!("{other} is not a kind `wharf kube play` runs (Pod, Deployment, StatefulSet, Job, Service, ConfigMap, Secret, PersistentVolumeClaim, NetworkPolicy, ServiceAccount, Role, RoleBinding)")))
            }
        }
    }
    let world = World {
        data,
        services,
        networks,
        pods: workloads
            .iter()
            .map(|manifest| pod::pods(manifest))
            .collect::<Result<_, _>>()?,
        accounts,
        options,
    };
    let mut compose = pod::Compose::default();
    for manifest in workloads {
        pod::workload(manifest, &world, &mut compose)?;
    }
    for network in &world.networks {
        compose.networks.insert(
            network.name.clone(),
            if network.internal {
                json!({ "internal": true })
            } else {
                json!({})
            },
        );
    }
    for volume in compose.pod_volumes.drain(..) {
        volumes.insert(volume, json!({}));
    }
    let mut document = Map::new();
    document.insert("services".into(), Value::Object(compose.services));
    for (key, map) in [
        ("networks", compose.networks),
        ("volumes", volumes),
        ("configs", compose.configs),
        ("secrets", compose.secrets),
    ] {
        if !map.is_empty() {
            document.insert(key.into(), Value::Object(map));
        }
    }
    Ok(escape_dollars(Value::Object(document)))
}

/// A NetworkPolicy of the shape `compose bridge convert` writes: members (by labels) that
/// take traffic from each other → a network (internal when egress is limited to members
/// and DNS). A policy that only opens ports to anyone changes nothing here (the play's
/// pods are reachable as they are).
fn network_policy(manifest: &Manifest) -> Result<Option<Network>, KubeError> {
    let spec = &manifest.body["spec"];
    let members = spec["podSelector"]["matchLabels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let ingress = spec["ingress"].as_array().cloned().unwrap_or_default();
    let open_ports = ingress.iter().all(|rule| rule.get("from").is_none());
    let egress_limited = spec["policyTypes"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "Egress"));
    if open_ports && !egress_limited {
        return Ok(None);
    }
    let peers = |rule: &Value, key: &str| -> bool {
        rule[key].as_array().is_some_and(|peers| {
            peers
                .iter()
                .all(|p| p["podSelector"]["matchLabels"].as_object() == Some(&members))
        })
    };
    let talks = ingress.len() == 1 && peers(&ingress[0], "from");
    let egress = spec["egress"].as_array().cloned().unwrap_or_default();
    let dns_only = |rule: &Value| {
        rule.get("to").is_none()
            && rule["ports"]
                .as_array()
                .is_some_and(|p| p.iter().all(|p| p["port"] == 53))
    };
    let internal = egress_limited
        && egress
            .iter()
            .all(|rule| peers(rule, "to") || dns_only(rule));
    if members.is_empty() || !talks || (egress_limited && !internal) {
        return Err(unsupported(
            manifest,
            "spec",
            "only policies whose members take traffic from each other (a network) run here",
        ));
    }
    Ok(Some(Network {
        name: name(manifest)?,
        members,
        internal,
    }))
}

pub(crate) fn name(manifest: &Manifest) -> Result<String, KubeError> {
    manifest.body["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| KubeError::Manifest {
            file: manifest.file.clone(),
            document: manifest.document,
            message: format!(
                "{} has no metadata.name",
                manifest.body["kind"].as_str().unwrap_or("object")
            ),
        })
}

pub(crate) fn unsupported(manifest: &Manifest, field: &str, message: &str) -> KubeError {
    KubeError::Unsupported {
        file: manifest.file.clone(),
        kind: manifest.body["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        name: manifest.body["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn string_map(manifest: &Manifest, key: &str) -> Result<BTreeMap<String, String>, KubeError> {
    let Some(map) = manifest.body.get(key).and_then(Value::as_object) else {
        return Ok(BTreeMap::new());
    };
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(unsupported(
                manifest,
                &format!("{key}.{k}"),
                "is not a string",
            )),
        })
        .collect()
}

fn decode(text: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn escape_dollars(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, escape_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests;
