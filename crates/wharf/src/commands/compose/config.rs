//! `compose config`: the loaded project as docker compose prints it, or one of its lists
//! (`--services`, `--volumes`, `--networks`, `--profiles`, `--images`, `--hash`).

use std::collections::BTreeSet;
use std::process::ExitCode;

use wharf_compose::{
    check_container_names, load, load_model, service_hash, to_json, to_yaml, write_go_json, Project,
};

use super::load_options;
use crate::cli::{ComposeConfigArgs, ComposeProjectArgs};
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

pub fn config(
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeConfigArgs,
) -> CommandResult {
    if !matches!(args.format.as_str(), "yaml" | "json") {
        return Err(CommandError::new(
            format!("--format {}: unsupported format", args.format),
            Some("use --format yaml or --format json"),
        ));
    }
    let mut options = load_options(project, &args.service_names)?;
    options.interpolate = !args.no_interpolate;
    options.normalize = !args.no_normalize;
    let lists = args.services || args.volumes || args.networks || args.list_profiles || args.images;
    if lists || args.hash.is_some() {
        // docker compose leaves env files unread for these.
        options.resolve_env_files = false;
    }
    if let Some(selection) = &args.hash {
        options.services.clear();
        let loaded = load(&options)?;
        report_warnings(printer, &loaded.warnings);
        return print_hashes(printer, &loaded.project, selection);
    }
    if args.list_profiles {
        let loaded = load(&options)?;
        report_warnings(printer, &loaded.warnings);
        let profiles: BTreeSet<&String> = loaded
            .project
            .services
            .values()
            .chain(loaded.project.disabled_services.values())
            .flat_map(|service| &service.profiles)
            .collect();
        profiles.iter().for_each(|profile| printer.data(profile));
        return Ok(ExitCode::SUCCESS);
    }
    if lists {
        // Like docker compose, --images keeps the services named (and enables them).
        if !args.images {
            options.services.clear();
        }
        let loaded = load(&options)?;
        report_warnings(printer, &loaded.warnings);
        let project = &loaded.project;
        let names: Vec<String> = if args.services {
            project.dependency_order()
        } else if args.volumes {
            project.volumes.keys().cloned().collect()
        } else if args.networks {
            project.networks.keys().cloned().collect()
        } else {
            project
                .services
                .values()
                .map(|service| image_name(project, service))
                .collect()
        };
        names.iter().for_each(|name| printer.data(name));
        return Ok(ExitCode::SUCCESS);
    }

    let text = if args.no_interpolate {
        let (model, warnings) = load_model(&options)?;
        report_warnings(printer, &warnings);
        model_text(&model, &args.format)
    } else {
        let loaded = load(&options)?;
        report_warnings(printer, &loaded.warnings);
        check_container_names(&loaded.project)?;
        let text = match args.format.as_str() {
            "json" => to_json(&loaded.project),
            _ => to_yaml(&loaded.project),
        };
        // docker compose escapes `$` again so that the output loads back the same.
        text.replace('$', "$$")
    };
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|error| {
            CommandError::new(
                format!("-o {}: cannot write: {error}", path.display()),
                None,
            )
        })?,
        None => printer.raw("stdout", &text),
    }
    Ok(ExitCode::SUCCESS)
}

fn report_warnings(printer: Printer, warnings: &[String]) {
    for warning in warnings {
        printer.info(format!("warning: {warning}"));
    }
}

/// The model of `--no-interpolate`, as docker compose writes a plain map.
fn model_text(model: &serde_json::Value, format: &str) -> String {
    let sorted = sort_keys(model);
    let mut out = String::new();
    if format == "json" {
        write_go_json(&sorted, Some(0), &mut out);
    } else {
        out = wharf_compose::yaml_text(&sorted);
    }
    out
}

fn sort_keys(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sort_keys).collect())
        }
        other => other.clone(),
    }
}

/// `name hash` for the services asked (`*`: all), sorted by name.
fn print_hashes(printer: Printer, project: &Project, selection: &str) -> CommandResult {
    let mut names: Vec<String> = if selection == "*" {
        project.services.keys().cloned().collect()
    } else {
        selection.split(',').map(str::to_owned).collect()
    };
    names.sort();
    for name in names {
        let service = project.services.get(&name).ok_or_else(|| {
            CommandError::new(
                format!("no such service: {name}"),
                Some("wharf compose config --services lists them"),
            )
        })?;
        printer.data(format!("{name} {}", service_hash(service)));
    }
    Ok(ExitCode::SUCCESS)
}

/// The image a service runs: its `image`, or `<project>-<service>` for one that is built.
fn image_name(project: &Project, service: &wharf_compose::Service) -> String {
    if service.image.is_empty() {
        format!("{}-{}", project.name, service.name)
    } else {
        service.image.clone()
    }
}
