//! `compose bridge convert`: the project loaded as `compose config` loads it, converted by
//! wharf-kube, written as one file per object (or one stream with `-o -`).
//!
//! The output folder is written whole or not at all: the files go to a staging folder
//! beside it, which then replaces it. A folder that a previous conversion wrote (it holds
//! [`MARKER`]) is replaced; any other non-empty folder is refused, so that `-o .` cannot
//! wipe a project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wharf_kube::convert::image_reference;
use wharf_kube::{
    convert, env_file_variables, files_to_read, output, ConvertOptions, Format, PublishType,
    Sources,
};

use wharf_compose::Backend;
use wharf_engine::{Engine, NoProgress};

use super::load_options;
use super::up::backend;
use crate::cli::{ComposeBridgeCommand, ComposeBridgeConvertArgs, ComposeProjectArgs};
use crate::commands::build::plain_progress;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

/// The file that marks a folder as this command's output.
const MARKER: &str = ".wharf-bridge";

pub fn run(
    open: &dyn Fn() -> Result<Engine, CommandError>,
    printer: Printer,
    project: &ComposeProjectArgs,
    command: ComposeBridgeCommand,
) -> CommandResult {
    match command {
        ComposeBridgeCommand::Convert(args) => convert_project(open, printer, project, args),
    }
}

fn convert_project(
    open: &dyn Fn() -> Result<Engine, CommandError>,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeBridgeConvertArgs,
) -> CommandResult {
    let mut options = load_options(project_args, &[])?;
    let loaded = wharf_compose::load(&options)?;
    for warning in &loaded.warnings {
        printer.info(format!("warning: {warning}"));
    }
    options.resolve_env_files = false;
    let unresolved = wharf_compose::load(&options)?.project;
    let project = loaded.project;
    // Files that are not there (or are folders) are left out: the conversion names them.
    let files: BTreeMap<PathBuf, Vec<u8>> = files_to_read(&project)
        .into_iter()
        .filter(|path| path.is_file())
        .map(|path| {
            let content = std::fs::read(&path).map_err(|error| {
                CommandError::new(format!("cannot read {}: {error}", path.display()), None)
            })?;
            Ok((path, content))
        })
        .collect::<Result<_, CommandError>>()?;
    let sources = Sources {
        files,
        from_env_files: env_file_variables(&unresolved, &project),
        image_ports: image_ports(open, &project),
    };
    let convert_options = ConvertOptions {
        registry: args.registry.clone(),
        publish: match args.publish_type.as_str() {
            "nodeport" => PublishType::NodePort,
            _ => PublishType::LoadBalancer,
        },
        volume_size: args.volume_size.clone(),
        host_path: args.host_path,
        skip_unsupported: args.skip_unsupported,
        wait_image: args.wait_image.clone(),
        kubectl_image: args.kubectl_image.clone(),
    };
    let converted =
        convert(&project, &sources, &convert_options).map_err(|error| CommandError {
            hint: error.hint(),
            message: error.to_string(),
            exit_code: 1,
        })?;
    for note in &converted.notes {
        printer.info(format!("warning: {note}"));
    }
    if args.push {
        let engine = open()?;
        build_and_push(
            &engine,
            printer,
            &project,
            args.registry.as_deref(),
            project_args.host_ca_certs,
        )?;
    }
    if args.output == Path::new("-") {
        printer.raw("stdout", &output::stream(&converted.objects));
        return Ok(ExitCode::SUCCESS);
    }
    let format = match args.format.as_str() {
        "kustomize" => Format::Kustomize,
        "helm" => Format::Helm,
        _ => Format::Kubernetes,
    };
    let files = output::files(&converted.objects, format, &project.name);
    write_folder(&args.output, &files)?;
    printer.info(format!(
        "Kubernetes resources written to {} ({} files)",
        args.output.display(),
        files.len()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `--push`: each built service's image, built as `compose build` builds it (the same
/// backend call) under the name the manifests pull, then pushed.
fn build_and_push(
    engine: &Engine,
    printer: Printer,
    project: &wharf_compose::Project,
    registry: Option<&str>,
    host_ca_certs: bool,
) -> Result<(), CommandError> {
    let reporter = plain_progress(printer, false);
    let backend = backend(engine, &reporter, host_ca_certs);
    for service in project.services.values().filter(|s| s.build.is_some()) {
        // The conversion refused built services without a reference already.
        let Some(image) = image_reference(project, service, registry) else {
            continue;
        };
        let failed = |what: &str, message: String| CommandError {
            message: format!("service {}: {what} {image}: {message}", service.name),
            hint: None,
            exit_code: 1,
        };
        backend
            .build(project, service, &image)
            .map_err(|error| failed("build", wharf_engine::error_chain(&*error)))?;
        engine
            .push(&image, &NoProgress)
            .map_err(|error| failed("push", wharf_engine::error_chain(&error)))?;
        printer.info(format!(" ✔ Image {image}  Pushed"));
    }
    Ok(())
}

/// The ports each service's image exposes: for a built service, its Dockerfile's EXPOSE in
/// the target stage; else the image's config when it is in the local store (without an
/// engine there are none, and the conversion asks for `expose:`).
fn image_ports(
    open: &dyn Fn() -> Result<Engine, CommandError>,
    project: &wharf_compose::Project,
) -> BTreeMap<String, Vec<String>> {
    let engine = open().ok();
    project
        .services
        .values()
        .filter_map(|s| {
            let ports = match (&s.build, &engine) {
                (Some(build), _) => dockerfile_ports(build)?,
                (None, Some(engine)) => {
                    let inspect = engine.inspect_image(&s.image).ok()?;
                    let ports = inspect["Config"]["ExposedPorts"].as_object()?;
                    ports.keys().cloned().collect()
                }
                (None, None) => return None,
            };
            Some((s.name.clone(), ports))
        })
        .collect()
}

/// The EXPOSE values of the target stage of a build's Dockerfile (those without variables).
fn dockerfile_ports(build: &wharf_compose::model::Build) -> Option<Vec<String>> {
    let text = if build.dockerfile_inline.is_empty() {
        let name = if build.dockerfile.is_empty() {
            "Dockerfile"
        } else {
            &build.dockerfile
        };
        std::fs::read_to_string(Path::new(&build.context).join(name)).ok()?
    } else {
        build.dockerfile_inline.clone()
    };
    let dockerfile = wharf_dockerfile::parse(&text).ok()?;
    let stages = wharf_dockerfile::BuildStages::from_dockerfile(&dockerfile).ok()?;
    let target = (!build.target.is_empty()).then_some(build.target.as_str());
    let stage = &stages.stages[stages.target(target).ok()?];
    let ports = stage.instructions.iter().filter_map(|i| match &i.value {
        wharf_dockerfile::Instruction::Expose(ports) => Some(ports.clone()),
        _ => None,
    });
    Some(ports.flatten().filter(|p| !p.contains('$')).collect())
}

/// Writes `files` as the whole content of `folder`.
fn write_folder(folder: &Path, files: &[(String, String)]) -> Result<(), CommandError> {
    let at = |what: &str, path: &Path, error: std::io::Error| {
        CommandError::new(
            format!(
                "-o {}: cannot {what} {}: {error}",
                folder.display(),
                path.display()
            ),
            None,
        )
    };
    let replaced = match std::fs::read_dir(folder) {
        Ok(mut entries) => {
            if entries.next().is_some() && !folder.join(MARKER).exists() {
                return Err(CommandError::new(
                    format!("-o {}: the folder is not empty and was not written by `compose bridge convert`", folder.display()),
                    Some("name a new or empty folder, or remove this one"),
                ));
            }
            true
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        Err(error) => return Err(at("read", folder, error)),
    };
    let name = folder
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let parent = folder
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staging = parent.join(format!(".{name}.wharf-staging-{}", std::process::id()));
    let write = || -> Result<(), CommandError> {
        std::fs::create_dir_all(&staging).map_err(|e| at("create", &staging, e))?;
        std::fs::write(staging.join(MARKER), "")
            .map_err(|e| at("write", &staging.join(MARKER), e))?;
        for (path, text) in files {
            let file = staging.join(path);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| at("create", dir, e))?;
            }
            std::fs::write(&file, text).map_err(|e| at("write", &file, e))?;
        }
        if replaced {
            std::fs::remove_dir_all(folder).map_err(|e| at("remove", folder, e))?;
        }
        std::fs::rename(&staging, folder).map_err(|e| at("rename", &staging, e))
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&staging);
    })
}
