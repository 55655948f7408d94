//! Compose's `secrets` and `configs` as docker compose gives them to a container without
//! swarm: a `file:` source is bind-mounted read-only; an `environment:` or `content:` source
//! is written into the container once it is created and before it starts, owned by the
//! `uid`:`gid` given (root by default) with the `mode` given (0444 by default). A secret
//! lands at `/run/secrets/<target or name>`, a config at `/<target or name>`; an absolute
//! target is used as it is.

use std::path::PathBuf;

use wharf_compose::model::{FileObject, FileReference, Project, Service};
use wharf_runtime::{Mount, Propagation};

use super::options::refuse;
use crate::error::Result;

/// One `secrets:` or `configs:` entry of a service, with what it refers to.
struct Reference<'a> {
    key: String,
    reference: &'a FileReference,
    object: &'a FileObject,
    target: String,
}

/// Content written into a created container.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Injected {
    /// Absolute, in the container.
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

fn references<'a>(project: &'a Project, service: &'a Service) -> Result<Vec<Reference<'a>>> {
    let kinds = [
        (
            "secrets",
            &service.secrets,
            &project.secrets,
            "/run/secrets/",
        ),
        ("configs", &service.configs, &project.configs, "/"),
    ];
    let mut all = Vec::new();
    for (kind, references, objects, base) in kinds {
        for (index, reference) in references.iter().enumerate() {
            let key = format!("{kind}[{index}]");
            let object = objects.get(&reference.source).ok_or_else(|| {
                refuse(
                    service,
                    &key,
                    format!(
                        "{} is not defined in the top-level {kind}",
                        reference.source
                    ),
                )
            })?;
            if object.external {
                return Err(refuse(
                    service,
                    &key,
                    format!(
                        "{} is external: external {kind} are swarm's",
                        reference.source
                    ),
                ));
            }
            let target = match reference.target.as_str() {
                "" => format!("{base}{}", reference.source),
                absolute if absolute.starts_with('/') => absolute.to_owned(),
                relative => format!("{base}{relative}"),
            };
            all.push(Reference {
                key,
                reference,
                object,
                target,
            });
        }
    }
    Ok(all)
}

/// The read-only binds of the `file:` sources.
pub(super) fn file_mounts(project: &Project, service: &Service) -> Result<Vec<Mount>> {
    let mut mounts = Vec::new();
    for entry in references(project, service)? {
        if entry.object.file.is_empty() {
            continue;
        }
        let source = PathBuf::from(&entry.object.file);
        if !source.exists() {
            return Err(refuse(
                service,
                &entry.key,
                format!("{} does not exist", source.display()),
            ));
        }
        mounts.push(Mount::Bind {
            source,
            destination: entry.target.into(),
            read_only: true,
            propagation: Propagation::Rprivate,
        });
    }
    Ok(mounts)
}

/// The `environment:` and `content:` sources, as files to write into the container.
pub(super) fn injected(project: &Project, service: &Service) -> Result<Vec<Injected>> {
    let mut files = Vec::new();
    for entry in references(project, service)? {
        let content = if !entry.object.environment.is_empty() {
            let variable = &entry.object.environment;
            project.environment.get(variable).cloned().ok_or_else(|| {
                refuse(
                    service,
                    &entry.key,
                    format!("the environment variable {variable} is not set"),
                )
            })?
        } else if !entry.object.content.is_empty() {
            entry.object.content.clone()
        } else {
            continue;
        };
        let id = |text: &str, what: &str| -> Result<u64> {
            match text {
                "" => Ok(0),
                text => text.parse().map_err(|_| {
                    refuse(
                        service,
                        &format!("{}.{what}", entry.key),
                        format!("{text} is not a number"),
                    )
                }),
            }
        };
        files.push(Injected {
            path: entry.target,
            content: content.into_bytes(),
            mode: entry.reference.mode.map_or(0o444, |mode| mode.0),
            uid: id(&entry.reference.uid, "uid")?,
            gid: id(&entry.reference.gid, "gid")?,
        });
    }
    Ok(files)
}

/// `files` as a tar whose entry names are their paths from the root, for
/// [`Engine::copy_tar_into_container`](crate::Engine::copy_tar_into_container) at `/`.
pub(super) fn tar(files: &[Injected]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.content.len() as u64);
        header.set_mode(file.mode);
        header.set_uid(file.uid);
        header.set_gid(file.gid);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(
            &mut header,
            file.path.trim_start_matches('/'),
            file.content.as_slice(),
        )?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The project, and the folder its file sources live in (kept while the test runs).
    fn project(yaml: &str, environment: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        std::fs::write(dir.path().join("token.txt"), "t0ken").unwrap();
        let environment: BTreeMap<String, String> = environment
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut options = wharf_compose::LoadOptions::new(dir.path().into(), environment);
        options.project_name = Some("app".into());
        let project = wharf_compose::load(&options).unwrap().project;
        (dir, project)
    }

    const YAML: &str = r#"
services:
  web:
    image: i
    secrets:
      - token
      - source: password
        target: db_password
        uid: "1000"
        mode: 0400
    configs:
      - source: settings
        target: /etc/app/settings.ini
      - greeting
secrets:
  token: {file: ./token.txt}
  password: {environment: DB_PASSWORD}
configs:
  settings: {content: "[app]\ndebug = false\n"}
  greeting: {environment: GREETING}
"#;

    #[test]
    fn sources_land_where_docker_compose_puts_them() {
        let (_dir, project) = project(YAML, &[("DB_PASSWORD", "s3cret"), ("GREETING", "hi")]);
        let web = &project.services["web"];
        let mounts = file_mounts(&project, web).unwrap();
        assert!(matches!(
            &mounts[..],
            [Mount::Bind { source, destination, read_only: true, .. }]
                if source.ends_with("token.txt") && destination == &PathBuf::from("/run/secrets/token")
        ));
        let files = injected(&project, web).unwrap();
        let summary: Vec<(&str, &[u8], u32, u64)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.content.as_slice(), f.mode, f.uid))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "/run/secrets/db_password",
                    b"s3cret".as_slice(),
                    0o400,
                    1000
                ),
                (
                    "/etc/app/settings.ini",
                    b"[app]\ndebug = false\n".as_slice(),
                    0o444,
                    0
                ),
                ("/greeting", b"hi".as_slice(), 0o444, 0),
            ]
        );
    }

    #[test]
    fn an_unset_variable_is_named() {
        let (_dir, project) = project(YAML, &[("GREETING", "hi")]);
        let error = injected(&project, &project.services["web"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "services.web.secrets[1]: the environment variable DB_PASSWORD is not set"
        );
    }
}
