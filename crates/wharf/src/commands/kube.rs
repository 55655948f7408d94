//! `kube play` and `kube down` (Podman's names): the YAML becomes a compose document
//! (wharf-kube), which compose's loader turns into a project that `compose up` and
//! `compose down` run. The project is named after the file (or folder), so that `kube
//! down` of the same YAML finds what `kube play` made.

use std::io::Read;
use std::path::{Path, PathBuf};

use wharf_compose::Project;
use wharf_engine::Engine;
use wharf_kube::play::{compose_document, parse, Manifest, PlayOptions};

use super::compose::{down_project, up_project};
use super::{CommandError, CommandResult};
use crate::cli::{ComposeDownArgs, ComposeProjectArgs, ComposeUpArgs, KubeCommand};
use crate::printer::Printer;

pub fn run(engine: &Engine, printer: Printer, command: KubeCommand) -> CommandResult {
    match command {
        KubeCommand::Play(args) if args.down => down(engine, printer, &args.file),
        KubeCommand::Play(args) => {
            let options = PlayOptions {
                publish: args.publish,
                infra_image: args.infra_image,
                ..PlayOptions::default()
            };
            let project = load(&args.file, options)?;
            let mut flags = vec!["up", "--detach"];
            if args.wait {
                flags.push("--wait");
            }
            up_project(
                engine,
                printer,
                &project,
                &compose_flags::<ComposeProjectArgs>(&["compose"]),
                compose_flags::<ComposeUpArgs>(&flags),
            )
        }
        KubeCommand::Down(args) => down(engine, printer, &args.file),
    }
}

/// Removes the containers, networks and volumes (claims and emptyDirs) the play made.
fn down(engine: &Engine, printer: Printer, file: &Path) -> CommandResult {
    let project = load(file, PlayOptions::default())?;
    down_project(
        engine,
        printer,
        &project,
        compose_flags::<ComposeDownArgs>(&["down", "--volumes"]),
    )
}

/// compose's own flags, with their defaults, as `wharf compose` would parse them.
fn compose_flags<T: clap::Args + clap::FromArgMatches>(flags: &[&str]) -> T {
    let command = T::augment_args(clap::Command::new("compose"));
    let matches = command.get_matches_from(flags);
    T::from_arg_matches(&matches).expect("compose's flags parse")
}

/// The YAML of `file` as a loaded compose project.
fn load(file: &Path, mut options: PlayOptions) -> Result<Project, CommandError> {
    let (name, manifests) = read(file)?;
    options.project.clone_from(&name);
    let document = compose_document(&manifests, &options).map_err(|error| CommandError {
        hint: error.hint(),
        message: error.to_string(),
        exit_code: 1,
    })?;
    let current_dir = std::env::current_dir()
        .map_err(|e| CommandError::new(format!("cannot read the current directory: {e}"), None))?;
    // compose's loader reads files: the document goes through one in a private folder.
    let folder = std::env::temp_dir().join(format!("wharf-kube-play-{}", std::process::id()));
    let compose_file = folder.join("compose.yaml");
    let write = std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&compose_file, wharf_compose::yaml_text(&document)));
    let loaded = write
        .map_err(|e| {
            CommandError::new(
                format!("cannot write {}: {e}", compose_file.display()),
                None,
            )
        })
        .and_then(|()| {
            let mut load = wharf_compose::LoadOptions::new(current_dir.clone(), Default::default());
            load.files = vec![compose_file.clone()];
            load.project_name = Some(name);
            load.project_directory = Some(current_dir);
            Ok(wharf_compose::load(&load)?)
        });
    let _ = std::fs::remove_dir_all(&folder);
    Ok(loaded?.project)
}

/// The manifests of a file, of a folder's `*.yaml`/`*.yml` files, or of stdin, and the
/// project name they play under.
fn read(file: &Path) -> Result<(String, Vec<Manifest>), CommandError> {
    let cannot = |path: &Path, e: std::io::Error| {
        CommandError::new(format!("cannot read {}: {e}", path.display()), None)
    };
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| cannot(file, e))?;
        return Ok(("kube".into(), manifests("-", &text)?));
    }
    let files: Vec<PathBuf> = if file.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(file)
            .map_err(|e| cannot(file, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        files
    } else {
        vec![file.to_path_buf()]
    };
    let mut all = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| cannot(path, e))?;
        all.extend(manifests(&path.display().to_string(), &text)?);
    }
    let stem = std::fs::canonicalize(file)
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "kube".into());
    Ok((wharf_compose::normalize_project_name(&stem), all))
}

fn manifests(file: &str, text: &str) -> Result<Vec<Manifest>, CommandError> {
    parse(file, text).map_err(|error| CommandError {
        hint: error.hint(),
        message: error.to_string(),
        exit_code: 1,
    })
}
