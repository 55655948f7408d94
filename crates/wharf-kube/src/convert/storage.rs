//! Volumes: named volumes are PersistentVolumeClaims, tmpfs and anonymous volumes are
//! emptyDirs, compose secrets and configs are Secrets and ConfigMaps mounted at compose's
//! paths, read-only binds of files are ConfigMaps. Other binds are refused: a cluster has
//! no project folder (hostPath behind `--host-path`, for a one-node cluster).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Map, Value};
use wharf_compose::model::{
    FileReference, ServiceVolume, VOLUME_TYPE_BIND, VOLUME_TYPE_TMPFS, VOLUME_TYPE_VOLUME,
};
use wharf_compose::{Project, Service};

use super::context::Context;
use super::{metadata, ConvertOptions, Out, Sources, SIZE_LABEL};
use crate::error::Refusal;
use crate::names::{dns_label, path_label};

pub(crate) fn uses_claims(service: &Service) -> bool {
    service
        .volumes
        .iter()
        .any(|v| v.kind == VOLUME_TYPE_VOLUME && !v.source.is_empty())
}

/// The container's volumeMounts and the pod's volumes.
pub(crate) fn mounts(context: &Context, out: &mut Out) -> (Vec<Value>, Vec<Value>) {
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    let mut add = |mount: Value, volume: Value| {
        let name = &volume["name"];
        if !volumes.iter().any(|v: &Value| &v["name"] == name) {
            volumes.push(volume);
        }
        mounts.push(mount);
    };
    for (index, volume) in context.service.volumes.iter().enumerate() {
        if let Some((mount, pod_volume)) = volume_mount(context, out, index, volume) {
            add(mount, pod_volume);
        }
    }
    for (index, tmpfs) in context.service.tmpfs.iter().enumerate() {
        let target = tmpfs.split(':').next().unwrap_or(tmpfs);
        let name = format!("tmpfs-{index}");
        add(
            json!({ "name": name, "mountPath": target }),
            json!({ "name": name, "emptyDir": { "medium": "Memory" } }),
        );
    }
    for (kind, references) in [
        ("secret", &context.service.secrets),
        ("config", &context.service.configs),
    ] {
        for reference in references {
            let (mount, volume) = file_mount(kind, reference);
            add(mount, volume);
        }
    }
    (mounts, volumes)
}

fn volume_mount(
    context: &Context,
    out: &mut Out,
    index: usize,
    volume: &ServiceVolume,
) -> Option<(Value, Value)> {
    let key = format!("volumes[{index}]");
    let mut mount = Map::new();
    let pod_volume = match volume.kind.as_str() {
        VOLUME_TYPE_VOLUME if volume.source.is_empty() => {
            let name = format!("anonymous-{index}");
            context.note(
                out,
                &key,
                format!(
                    "an anonymous volume at {} becomes an emptyDir, emptied with its pod",
                    volume.target
                ),
            );
            json!({ "name": name, "emptyDir": {} })
        }
        VOLUME_TYPE_VOLUME => {
            let name = dns_label(&volume.source);
            let claim = match context.project.volumes.get(&volume.source) {
                Some(v) if v.external => v.name.clone(),
                _ => name.clone(),
            };
            if let Some(subpath) = volume
                .volume
                .as_ref()
                .map(|v| &v.subpath)
                .filter(|s| !s.is_empty())
            {
                mount.insert("subPath".into(), json!(subpath));
            }
            json!({ "name": name, "persistentVolumeClaim": { "claimName": claim } })
        }
        VOLUME_TYPE_TMPFS => {
            let name = format!("tmpfs-v{index}");
            let mut empty = Map::new();
            empty.insert("medium".into(), json!("Memory"));
            if let Some(size) = volume
                .tmpfs
                .as_ref()
                .map(|t| t.size)
                .filter(|s| !s.is_zero())
            {
                empty.insert("sizeLimit".into(), json!(super::quantity::memory(size)));
            }
            json!({ "name": name, "emptyDir": empty })
        }
        VOLUME_TYPE_BIND => return bind_mount(context, out, &key, volume),
        other => {
            context.refuse(
                out,
                &key,
                format!(
                    "a mount of type {other} has no Kubernetes equivalent in wharf's conversion"
                ),
            );
            return None;
        }
    };
    mount.insert("name".into(), pod_volume["name"].clone());
    mount.insert("mountPath".into(), json!(volume.target));
    if volume.read_only {
        mount.insert("readOnly".into(), json!(true));
    }
    Some((Value::Object(mount), pod_volume))
}

/// A read-only bind of a file becomes a ConfigMap holding it; others are refused unless
/// `--host-path`.
fn bind_mount(
    context: &Context,
    out: &mut Out,
    key: &str,
    volume: &ServiceVolume,
) -> Option<(Value, Value)> {
    let content = context.sources.files.get(Path::new(&volume.source));
    if let (true, Some(content)) = (volume.read_only, content) {
        let name = format!("{}-{}", context.name(), path_label(&volume.target));
        let name = dns_label(&name);
        let file = file_key(&volume.target);
        out.add(
            "ConfigMap",
            &name,
            config_map(context.project, &name, &file, content),
        );
        let mount =
            json!({ "name": name, "mountPath": volume.target, "subPath": file, "readOnly": true });
        return Some((
            mount,
            json!({ "name": name, "configMap": { "name": name } }),
        ));
    }
    if context.options.host_path {
        let name = format!("bind-{}", path_label(&volume.target));
        let mut mount = json!({ "name": name, "mountPath": volume.target });
        if volume.read_only {
            mount["readOnly"] = json!(true);
        }
        return Some((
            mount,
            json!({ "name": name, "hostPath": { "path": volume.source } }),
        ));
    }
    let why = if content.is_some() {
        "binds a host file read-write: a cluster has no project folder"
    } else {
        "binds a host folder: a cluster has no project folder"
    };
    context.refuse(out, key, format!("{why} (read-only file binds become ConfigMaps; --host-path makes hostPath volumes for a one-node cluster)"));
    None
}

/// A compose secret or config mounted where compose puts it: secrets under
/// `/run/secrets/`, configs at `/<name>`, unless `target` says otherwise.
fn file_mount(kind: &str, reference: &FileReference) -> (Value, Value) {
    let object = dns_label(&reference.source);
    let target = match (kind, reference.target.as_str()) {
        ("secret", "") => format!("/run/secrets/{}", reference.source),
        ("secret", t) if !t.starts_with('/') => format!("/run/secrets/{t}"),
        (_, "") => format!("/{}", reference.source),
        (_, t) => t.to_owned(),
    };
    let name = format!("{kind}-{object}");
    let key = file_key(&reference.source);
    let mount = json!({ "name": name, "mountPath": target, "subPath": key, "readOnly": true });
    let mut source = Map::new();
    let items = json!([{ "key": key, "path": key }]);
    if kind == "secret" {
        source.insert("secretName".into(), json!(object));
    } else {
        source.insert("name".into(), json!(object));
    }
    source.insert("items".into(), items);
    if let Some(mode) = reference.mode {
        source.insert("defaultMode".into(), json!(mode.0));
    }
    let field = if kind == "secret" {
        "secret"
    } else {
        "configMap"
    };
    (mount, json!({ "name": name, field: source }))
}

/// A ConfigMap or Secret key: the last part of a path, in the characters keys allow.
fn file_key(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    let key: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() {
        "content".into()
    } else {
        key
    }
}

fn config_map(project: &Project, name: &str, key: &str, content: &[u8]) -> Value {
    let mut body = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(project, name, None) });
    match std::str::from_utf8(content) {
        Ok(text) => body["data"] = json!({ key: text }),
        Err(_) => body["binaryData"] = json!({ key: crate::base64(content) }),
    }
    body
}

/// The claims, Secrets and ConfigMaps of the project's top-level objects that services use.
pub(crate) fn project_objects(
    project: &Project,
    sources: &Sources,
    options: &ConvertOptions,
    out: &mut Out,
) {
    let used_volumes: BTreeSet<&String> = project
        .services
        .values()
        .flat_map(|s| &s.volumes)
        .filter(|v| v.kind == VOLUME_TYPE_VOLUME)
        .map(|v| &v.source)
        .collect();
    for (key, volume) in project
        .volumes
        .iter()
        .filter(|(k, _)| used_volumes.contains(k))
    {
        if volume.external {
            out.note(Refusal {
                key: format!("volumes.{key}"),
                reason: format!(
                    "is external: the claim {} must exist in the namespace",
                    volume.name
                ),
            });
            continue;
        }
        if !volume.driver.is_empty() || !volume.driver_opts.is_empty() {
            out.refuse(Refusal {
                key: format!("volumes.{key}.driver"),
                reason: "volume drivers have no Kubernetes equivalent: claims take a storage class"
                    .into(),
            });
        }
        let name = dns_label(key);
        let size = volume
            .labels
            .get(SIZE_LABEL)
            .unwrap_or(&options.volume_size);
        out.add(
            "PersistentVolumeClaim",
            &name,
            json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": metadata(project, &name, None),
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": { "requests": { "storage": size } },
                },
            }),
        );
    }
    let used = |pick: fn(&Service) -> &Vec<FileReference>| -> BTreeSet<String> {
        project
            .services
            .values()
            .flat_map(pick)
            .map(|r| r.source.clone())
            .collect()
    };
    let (secrets, configs) = (used(|s| &s.secrets), used(|s| &s.configs));
    for (kind, objects, names) in [
        ("secrets", &project.secrets, secrets),
        ("configs", &project.configs, configs),
    ] {
        for (key, object) in objects.iter().filter(|(k, _)| names.contains(*k)) {
            let at = format!("{kind}.{key}");
            if object.external {
                out.note(Refusal {
                    key: at,
                    reason: "is external: it must exist in the namespace".into(),
                });
                continue;
            }
            let content: Option<Vec<u8>> = if !object.file.is_empty() {
                sources.files.get(Path::new(&object.file)).cloned()
            } else if !object.environment.is_empty() {
                project
                    .environment
                    .get(&object.environment)
                    .map(|v| v.clone().into_bytes())
            } else {
                Some(object.content.clone().into_bytes())
            };
            let Some(content) = content else {
                out.refuse(Refusal {
                    key: at,
                    reason: "its file or variable cannot be read".into(),
                });
                continue;
            };
            let name = dns_label(key);
            let file = file_key(key);
            if kind == "secrets" {
                out.add(
                    "Secret",
                    &name,
                    super::secret(
                        project,
                        &name,
                        None,
                        json!({ file: crate::base64(&content) }),
                    ),
                );
            } else {
                out.add(
                    "ConfigMap",
                    &name,
                    config_map(project, &name, &file, &content),
                );
            }
        }
    }
}
