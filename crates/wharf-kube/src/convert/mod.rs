//! Conversion of a loaded compose project into Kubernetes objects, as `wharf compose bridge
//! convert` writes them. No I/O: the contents of the files it needs (secret and config
//! files, read-only file binds) come in [`Sources`], which the caller reads.
//!
//! The mapping, one file per part:
//! - `workload`: a service is a Deployment (replicas from `scale`/`deploy.replicas`), or a
//!   Job when another service waits for it with `service_completed_successfully` (compose's
//!   one-shot; the waiting pods run `kubectl wait` for it in an initContainer). No StatefulSet: compose replicas share their named volumes, which a
//!   StatefulSet's volumeClaimTemplates would split into one volume per replica; a
//!   Deployment that mounts a claim is rolled out with `strategy: Recreate` instead, so the
//!   old pod lets go of a ReadWriteOnce volume before the new one mounts it.
//! - `container`: command, entrypoint, resources, securityContext, probes (`probe`).
//! - `env`: inline `environment` stays in the pod spec; variables from `env_file` go to a
//!   ConfigMap; variables whose names or values look secret go to a Secret, never inline.
//! - `storage`: named volumes are PersistentVolumeClaims, tmpfs are memory emptyDirs,
//!   compose secrets and configs are Secrets and ConfigMaps mounted where compose mounts
//!   them, read-only file binds are ConfigMaps; other binds are refused (or hostPath).
//! - `network`: a Service per service with ports or `expose` (named after the service so
//!   its name still resolves), a second one for published ports (LoadBalancer or
//!   NodePort), and a NetworkPolicy per compose network.
//!
//! Anything without an equivalent is a [`Refusal`] naming the service and key: all of them
//! fail the conversion together, or with `skip_unsupported` come back as notes.

mod container;
mod context;
mod env;
mod keys;
mod network;
mod probe;
mod quantity;
mod storage;
mod workload;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use wharf_compose::Project;

pub use container::image_reference;

use crate::error::{KubeError, Refusal};

/// How published ports leave the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishType {
    #[default]
    LoadBalancer,
    NodePort,
}

/// The choices `compose bridge convert` takes as flags.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Where built images are pushed: `REGISTRY/<project>-<service>:latest`.
    pub registry: Option<String>,
    pub publish: PublishType,
    /// The size of a claim whose volume has no `wharf.kube.size` label.
    pub volume_size: String,
    /// Binds become hostPath volumes (for a one-node cluster) instead of refusals.
    pub host_path: bool,
    /// Refusals become notes and their keys are left out.
    pub skip_unsupported: bool,
    /// The image of the initContainers that wait for a healthy dependency.
    pub wait_image: String,
    /// The image of the initContainers that wait for a Job (`kubectl wait`).
    pub kubectl_image: String,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            registry: None,
            publish: PublishType::LoadBalancer,
            volume_size: DEFAULT_VOLUME_SIZE.to_owned(),
            host_path: false,
            skip_unsupported: false,
            wait_image: DEFAULT_WAIT_IMAGE.to_owned(),
            kubectl_image: DEFAULT_KUBECTL_IMAGE.to_owned(),
        }
    }
}

/// The claim size when neither the volume's label nor `--volume-size` gives one.
pub const DEFAULT_VOLUME_SIZE: &str = "1Gi";
/// busybox has `nc`, which the wait loops use.
pub const DEFAULT_WAIT_IMAGE: &str = "busybox:1.36";
/// Kubernetes' own kubectl image (registry.k8s.io has one since 1.28; its entrypoint is
/// kubectl).
pub const DEFAULT_KUBECTL_IMAGE: &str = "registry.k8s.io/kubectl:v1.30.0";
/// The volume label that sets its claim's size.
pub const SIZE_LABEL: &str = "wharf.kube.size";

/// What the conversion reads besides the project, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Contents of the files [`files_to_read`] named (those that are regular files).
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Per service, the variables of its `environment` that came from its `env_file`s
    /// (the project is loaded with env files resolved, compose's precedence applied).
    pub from_env_files: BTreeMap<String, BTreeSet<String>>,
    /// Per service, the ports (`5432/tcp`) its image `EXPOSE`s, from the local store or
    /// the Dockerfile it is built from: a compose service is reachable on them without
    /// `expose:`, so its Service opens them too.
    pub image_ports: BTreeMap<String, Vec<String>>,
}

/// One Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub kind: &'static str,
    pub name: String,
    pub body: Value,
}

/// The objects, in a stable order (kind, then name), and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Conversion {
    pub objects: Vec<Object>,
    pub notes: Vec<Refusal>,
}

/// Files whose contents the conversion needs: secret and config files, bind sources.
pub fn files_to_read(project: &Project) -> Vec<PathBuf> {
    let objects = project.secrets.values().chain(project.configs.values());
    let binds = project
        .services
        .values()
        .flat_map(|s| &s.volumes)
        .filter(|v| v.kind == wharf_compose::model::VOLUME_TYPE_BIND);
    let mut files: Vec<PathBuf> = objects
        .filter(|o| !o.file.is_empty())
        .map(|o| PathBuf::from(&o.file))
        .chain(binds.map(|v| PathBuf::from(&v.source)))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Converts `project`; see the module doc for the mapping.
pub fn convert(
    project: &Project,
    sources: &Sources,
    options: &ConvertOptions,
) -> Result<Conversion, KubeError> {
    let mut out = Out::default();
    for (name, service) in &project.services {
        out.refuse_many(keys::check(service));
        let context = context::Context {
            project,
            service,
            sources,
            options,
        };
        if let Some(label) = crate::names::renamed(name) {
            out.note(Refusal::service(
                name,
                "name",
                format!("Kubernetes names are DNS labels: its objects and Service are named {label}, so other services must use that name"),
            ));
        }
        workload::convert(&context, &mut out);
        network::services(&context, &mut out);
    }
    storage::project_objects(project, sources, options, &mut out);
    network::policies(project, &mut out);
    out.finish(options.skip_unsupported)
}

/// Objects and refusals as the parts add them.
#[derive(Default)]
pub(crate) struct Out {
    objects: Vec<Object>,
    refusals: Vec<Refusal>,
    notes: Vec<Refusal>,
}

impl Out {
    pub fn add(&mut self, kind: &'static str, name: &str, body: Value) {
        if !self
            .objects
            .iter()
            .any(|o| o.kind == kind && o.name == name)
        {
            self.objects.push(Object {
                kind,
                name: name.to_owned(),
                body,
            });
        }
    }

    pub fn refuse(&mut self, refusal: Refusal) {
        self.refusals.push(refusal);
    }

    pub fn refuse_many(&mut self, refusals: Vec<Refusal>) {
        self.refusals.extend(refusals);
    }

    /// Something converted with a change the user should know about.
    pub fn note(&mut self, note: Refusal) {
        self.notes.push(note);
    }

    fn finish(mut self, skip_unsupported: bool) -> Result<Conversion, KubeError> {
        if !self.refusals.is_empty() && !skip_unsupported {
            return Err(KubeError::Unconvertible(self.refusals));
        }
        self.notes.append(&mut self.refusals);
        self.objects
            .sort_by(|a, b| (kind_rank(a.kind), &a.name).cmp(&(kind_rank(b.kind), &b.name)));
        Ok(Conversion {
            objects: self.objects,
            notes: self.notes,
        })
    }
}

/// Objects that others use come first, as `kubectl apply -f` of one stream wants them.
fn kind_rank(kind: &str) -> usize {
    [
        "NetworkPolicy",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "Service",
        "Deployment",
        "Job",
    ]
    .iter()
    .position(|k| *k == kind)
    .unwrap_or(usize::MAX)
}

/// `metadata` with the labels every object of the project carries.
pub(crate) fn metadata(project: &Project, name: &str, service: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert(
        "app.kubernetes.io/part-of".into(),
        json!(crate::names::dns_label(&project.name)),
    );
    labels.insert("app.kubernetes.io/managed-by".into(), json!("wharf"));
    if let Some(service) = service {
        labels.insert(
            SERVICE_LABEL.into(),
            json!(crate::names::dns_label(service)),
        );
    }
    json!({ "name": name, "labels": labels })
}

/// An Opaque Secret holding `data` (values in base64).
pub(crate) fn secret(project: &Project, name: &str, service: Option<&str>, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(project, name, service),
        "type": "Opaque",
        "data": data,
    })
}

/// The label that selects a service's pods.
pub const SERVICE_LABEL: &str = "app.kubernetes.io/name";
/// The label prefix of a pod's compose networks (`wharf.network/<name>: "true"`).
pub const NETWORK_LABEL_PREFIX: &str = "wharf.network/";

/// Per service, the variables that came from its `env_file`s: those of `resolved` (loaded
/// with env files read) that `unresolved` (loaded without) does not set inline.
pub fn env_file_variables(
    unresolved: &Project,
    resolved: &Project,
) -> BTreeMap<String, BTreeSet<String>> {
    resolved
        .services
        .iter()
        .filter_map(|(name, service)| {
            let inline = &unresolved.services.get(name)?.environment;
            let from_files: BTreeSet<String> = service
                .environment
                .keys()
                .filter(|key| !inline.contains_key(*key))
                .cloned()
                .collect();
            (!from_files.is_empty()).then(|| (name.clone(), from_files))
        })
        .collect()
}
