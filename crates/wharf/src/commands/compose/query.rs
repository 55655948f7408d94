//! `compose images`, `top` and `port`: views of the project's containers, with docker
//! compose's columns and messages.

use std::process::ExitCode;

use serde_json::json;
use wharf_compose::labels::{CONTAINER_NUMBER, SERVICE};
use wharf_engine::Engine;

use super::{load_project, named_services, ordered_containers, service_container};
use crate::cli::{ComposeImagesArgs, ComposePortArgs, ComposeProjectArgs, ComposeServicesArgs};
use crate::commands::{print_rows, CommandError, CommandResult};
use crate::format::{human_size, since, Format};
use crate::printer::Printer;

pub fn images(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeImagesArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    let mut containers = ordered_containers(engine, &project, &args.services)?;
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let images = engine.list_images()?;
    let mut rows = Vec::new();
    for container in &containers {
        let id = &container.record.image_id;
        let image = images.iter().find(|i| &i.id == id);
        // The tag the container was made from, else the image's first.
        let tag = image.and_then(|i| {
            i.tags
                .iter()
                .find(|t| t.to_string().ends_with(&container.record.image_name))
                .or(i.tags.first())
        });
        let (repository, tag) = match tag {
            Some(tag) => {
                let text = tag.to_string();
                let (repository, tag) = text.rsplit_once(':').unwrap_or((&text, ""));
                let repository = repository
                    .strip_prefix("docker.io/library/")
                    .or_else(|| repository.strip_prefix("docker.io/"))
                    .unwrap_or(repository);
                (repository.to_owned(), tag.to_owned())
            }
            None => ("<none>".to_owned(), "<none>".to_owned()),
        };
        rows.push(json!({
            "ID": id.to_string(),
            "ContainerName": container.record.name,
            "Repository": repository,
            "Tag": tag,
            "Platform": "linux/amd64",
            "Size": image.map_or(0, |i| i.size),
            "ShortID": id.hex().chars().take(12).collect::<String>(),
            "HumanSize": human_size(image.map_or(0, |i| i.size)),
            "CreatedSince": since(image.and_then(|i| i.created.as_deref())),
        }));
    }
    if args.quiet {
        let mut ids: Vec<&str> = rows.iter().filter_map(|r| r["ID"].as_str()).collect();
        ids.dedup();
        ids.iter().for_each(|id| printer.data(id));
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == "json" {
        // docker compose prints one JSON array.
        let rows: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|mut row| {
                let object = row.as_object_mut().expect("a row is an object");
                object.remove("ShortID");
                object.remove("HumanSize");
                object.remove("CreatedSince");
                row
            })
            .collect();
        printer.data(serde_json::Value::Array(rows).to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        ("CONTAINER", "ContainerName"),
        ("REPOSITORY", "Repository"),
        ("TAG", "Tag"),
        ("PLATFORM", "Platform"),
        ("IMAGE ID", "ShortID"),
        ("SIZE", "HumanSize"),
        ("CREATED", "CreatedSince"),
    ];
    print_rows(&printer, &Format::Table, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

pub fn top(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeServicesArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    named_services(&project, &args.services)?;
    let mut rows = Vec::new();
    let mut titles: Vec<String> = Vec::new();
    for container in ordered_containers(engine, &project, &args.services)? {
        if !container.state.status.is_up() {
            continue;
        }
        let table = engine.top_container(&container.record.id, &[])?;
        titles = table.titles.clone();
        let labels = &container.record.labels;
        for process in table.processes {
            let mut row = serde_json::Map::new();
            row.insert("SERVICE".into(), json!(labels.get(SERVICE)));
            row.insert("#".into(), json!(labels.get(CONTAINER_NUMBER)));
            for (title, value) in table.titles.iter().zip(process) {
                row.insert(title.clone(), json!(value));
            }
            rows.push(serde_json::Value::Object(row));
        }
    }
    if rows.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut columns: Vec<(&str, &str)> = vec![("SERVICE", "SERVICE"), ("#", "#")];
    columns.extend(titles.iter().map(|t| (t.as_str(), t.as_str())));
    print_rows(&printer, &Format::Table, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

pub fn port(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposePortArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    let container = service_container(engine, &project, &args.service, args.index)?;
    let ports = engine.published_ports()?;
    let bindings = ports
        .get(&container.record.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let found = bindings
        .iter()
        .find(|b| b.container_port == args.private_port && b.protocol.as_str() == args.protocol);
    match found {
        Some(binding) => {
            printer.data(format!("{}:{}", binding.host_ip, binding.host_port));
            Ok(ExitCode::SUCCESS)
        }
        None => Err(CommandError::new(
            format!(
                "no port {}/{} for container {}",
                args.private_port, args.protocol, container.record.name
            ),
            None,
        )),
    }
}
