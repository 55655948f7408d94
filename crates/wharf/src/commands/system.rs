use std::process::ExitCode;

use serde_json::json;
use wharf_engine::{DiskUsage, Engine, ImageUsage, Usage};
use wharf_oci::Reference;

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{CheckArgs, CompletionArgs, FormatArgs, ResetArgs, SystemPruneArgs};
use crate::format::{human_size, Format};
use crate::printer::Printer;

/// `system prune`: what `container prune`, `network prune`, `image prune` (and `volume
/// prune`, `builder prune`) would each remove, in Docker's order and words.
pub fn prune(engine: &Engine, printer: Printer, args: SystemPruneArgs) -> CommandResult {
    let mut warning = vec![
        "  - all stopped containers",
        "  - all networks not used by at least one container",
    ];
    if args.volumes {
        warning.push("  - all anonymous volumes not used by at least one container");
    }
    warning.push(if args.all {
        "  - all images without at least one container associated to them"
    } else {
        "  - all dangling images"
    });
    if args.all {
        warning.push("  - all build cache");
    }
    let question = format!(
        "WARNING! This will remove:\n{}\n\nAre you sure you want to continue?",
        warning.join("\n")
    );
    if !args.force && !printer.confirm(&question) {
        return Ok(ExitCode::SUCCESS);
    }
    let section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            printer.data(title);
            lines.iter().for_each(|line| printer.data(line));
            printer.data("");
        }
    };
    let (containers, mut reclaimed) = engine.prune_containers()?;
    section("Deleted Containers:", containers);
    section("Deleted Networks:", engine.prune_networks()?);
    if args.volumes {
        let volumes = engine.prune_volumes(false)?;
        reclaimed += volumes.reclaimed;
        section("Deleted Volumes:", volumes.removed);
    }
    let images = engine.prune_images(args.all)?;
    reclaimed += images.reclaimed_bytes;
    let untagged = images
        .untagged
        .iter()
        .map(|t| format!("untagged: {}", t.familiar()));
    let deleted = images
        .deleted_images
        .iter()
        .map(|id| format!("deleted: {id}"));
    section("Deleted Images:", untagged.chain(deleted).collect());
    if args.all {
        let (records, bytes) = engine.prune_build_cache()?;
        reclaimed += bytes;
        if records > 0 {
            printer.data(format!("Deleted build cache objects: {records}"));
            printer.data("");
        }
    }
    printer.data(format!("Total reclaimed space: {}", human_size(reclaimed)));
    Ok(ExitCode::SUCCESS)
}

pub fn df(engine: &Engine, printer: Printer, args: crate::cli::DfArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let usage = engine.disk_usage()?;
    if args.verbose {
        return df_verbose(&printer, &format, &usage);
    }
    let rows = [
        ("Images", &usage.images),
        ("Containers", &usage.containers),
        ("Local Volumes", &usage.volumes),
        ("Build Cache", &usage.build_cache),
    ]
    .map(|(kind, usage)| {
        json!({
            "Type": kind,
            "TotalCount": usage.total.to_string(),
            "Active": usage.active.to_string(),
            "Size": human_size(usage.size),
            "Reclaimable": reclaimable(usage),
        })
    });
    let columns = [
        ("TYPE", "Type"),
        ("TOTAL", "TotalCount"),
        ("ACTIVE", "Active"),
        ("SIZE", "Size"),
        ("RECLAIMABLE", "Reclaimable"),
    ];
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// `system df -v`: Docker's four sections (one JSON object of four lists with `--format
/// json`). Sizes are bytes on disk; a container's is its whole folder (writable layer, log).
fn df_verbose(printer: &Printer, format: &Format, usage: &DiskUsage) -> CommandResult {
    let images: Vec<_> = usage.image_rows.iter().flat_map(image_rows).collect();
    let containers: Vec<_> = usage
        .container_rows
        .iter()
        .map(|row| {
            let mut value = super::ps_row(&row.info, false, None);
            value["LocalVolumes"] = json!(row.info.record.volumes.len().to_string());
            value["Size"] = json!(human_size(row.size));
            value
        })
        .collect();
    let volumes: Vec<_> = usage
        .volume_rows
        .iter()
        .map(|row| {
            json!({
                "Name": row.volume.name,
                "Links": row.links.to_string(),
                "Size": human_size(row.size),
            })
        })
        .collect();
    let cache: Vec<_> = usage
        .cache_rows
        .iter()
        .map(|row| {
            json!({
                "ID": &row.id[..12.min(row.id.len())],
                "CacheType": "regular",
                "Size": human_size(row.size),
                "CreatedSince": crate::format::since(Some(&row.created)),
                "LastUsedSince": crate::format::since(Some(&row.created)),
                "UsageCount": "0",
                "Shared": row.shared.to_string(),
            })
        })
        .collect();
    if matches!(format, Format::Template { .. }) {
        // Each section has fields of its own: one template cannot print them all.
        return Err(CommandError::new(
            "--format: system df -v prints a table or json, not a template",
            Some("use --format json, or a template without -v"),
        ));
    }
    if matches!(format, Format::Json) {
        let all = json!({
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": cache,
        });
        printer.data(all.to_string());
        return Ok(ExitCode::SUCCESS);
    }
    printer.data("Images space usage:\n");
    let columns = [
        ("REPOSITORY", "Repository"),
        ("TAG", "Tag"),
        ("IMAGE ID", "ID"),
        ("CREATED", "CreatedSince"),
        ("SIZE", "Size"),
        ("SHARED SIZE", "SharedSize"),
        ("UNIQUE SIZE", "UniqueSize"),
        ("CONTAINERS", "Containers"),
    ];
    print_rows(printer, format, &columns, &images)?;
    printer.data("\nContainers space usage:\n");
    let columns = [
        ("CONTAINER ID", "ID"),
        ("IMAGE", "Image"),
        ("COMMAND", "Command"),
        ("LOCAL VOLUMES", "LocalVolumes"),
        ("SIZE", "Size"),
        ("CREATED", "RunningFor"),
        ("STATUS", "Status"),
        ("NAMES", "Names"),
    ];
    print_rows(printer, format, &columns, &containers)?;
    printer.data("\nLocal Volumes space usage:\n");
    let columns = [
        ("VOLUME NAME", "Name"),
        ("LINKS", "Links"),
        ("SIZE", "Size"),
    ];
    print_rows(printer, format, &columns, &volumes)?;
    printer.data(format!(
        "\nBuild cache usage: {}\n",
        human_size(usage.build_cache.size)
    ));
    let columns = [
        ("CACHE ID", "ID"),
        ("CACHE TYPE", "CacheType"),
        ("SIZE", "Size"),
        ("CREATED", "CreatedSince"),
        ("LAST USED", "LastUsedSince"),
        ("USAGE", "UsageCount"),
        ("SHARED", "Shared"),
    ];
    print_rows(printer, format, &columns, &cache)?;
    Ok(ExitCode::SUCCESS)
}

/// An image's `-v` rows: one per tag, or one `<none>` row, as Docker's.
fn image_rows(image: &ImageUsage) -> Vec<serde_json::Value> {
    let tags: Vec<Option<&Reference>> = if image.tags.is_empty() {
        vec![None]
    } else {
        image.tags.iter().map(Some).collect()
    };
    tags.into_iter()
        .map(|tag| {
            json!({
                "Repository": tag.map_or("<none>".to_string(), Reference::familiar_repository),
                "Tag": tag.and_then(|t| t.tag()).unwrap_or("<none>"),
                "ID": image.id.short().to_string(),
                "CreatedSince": crate::format::since(image.created.as_deref()),
                "Size": human_size(image.size),
                "SharedSize": human_size(image.shared_size),
                "UniqueSize": human_size(image.size - image.shared_size),
                "Containers": image.containers.to_string(),
            })
        })
        .collect()
}

/// Docker's RECLAIMABLE: the bytes, and their share of the size when there is any.
fn reclaimable(usage: &Usage) -> String {
    if usage.size == 0 {
        return human_size(0);
    }
    // Whole percents, rounded down as Docker does.
    let percent = u128::from(usage.reclaimable) * 100 / u128::from(usage.size);
    format!("{} ({percent}%)", human_size(usage.reclaimable))
}

/// `completion SHELL`, as `docker completion`: the script on stdout, for the shell to source
/// or to install (`wharf completion bash > /etc/bash_completion.d/wharf`).
pub fn completion(printer: Printer, args: CompletionArgs) -> CommandResult {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wharf", &mut script);
    printer.raw("stdout", &String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}

/// `system reset`, as Podman's.
pub fn reset(engine: &Engine, printer: Printer, args: ResetArgs) -> CommandResult {
    let question = format!(
        "WARNING! This will remove:\n\
         \t- all containers\n\
         \t- all images\n\
         \t- all networks, with their bridges and firewall rules\n\
         \t- all build cache\n\
         \t- all volumes\n\
         \t- everything in the state root {}\n\
         \t- everything in the runtime root {}\n\
         Are you sure you want to continue?",
        engine.root().display(),
        engine.run_root().display()
    );
    if !args.force && !printer.confirm(&question) {
        return Ok(ExitCode::SUCCESS);
    }
    let report = engine.reset()?;
    for (title, names) in [
        ("Deleted Containers:", &report.containers),
        ("Deleted Networks:", &report.networks),
    ] {
        if !names.is_empty() {
            printer.data(title);
            names.iter().for_each(|name| printer.data(name));
        }
    }
    for orphan in &report.orphaned_roots {
        printer.info(format!(
            "removed what the gone state root {} left on the host: table ip {}{}",
            orphan.root.display(),
            orphan.table,
            if orphan.interfaces.is_empty() {
                String::new()
            } else {
                format!(", interfaces {}", orphan.interfaces.join(" "))
            }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(engine: &Engine, printer: Printer, args: CheckArgs) -> CommandResult {
    let report = engine.check(args.repair, args.thorough)?;
    for problem in &report.problems {
        printer.data(format!("problem: {problem}"));
    }
    for repair in &report.repairs {
        printer.data(format!("repaired: {repair}"));
    }
    if args.repair {
        // Network leftovers of containers whose monitor is gone (a crash, a SIGKILL).
        if let Some(reconciled) = engine.reconcile_networks(false)? {
            for (network, container) in &reconciled.endpoints {
                printer.data(format!(
                    "repaired: released the address and ports of container {container} on network {network}"
                ));
            }
            for interface in &reconciled.interfaces {
                printer.data(format!("repaired: removed stray interface {interface}"));
            }
        }
    }
    let state = if report.problems.is_empty() {
        "consistent"
    } else if args.repair {
        "repaired"
    } else {
        "INCONSISTENT"
    };
    printer.data(format!(
        "{} images, {} blobs verified, {} layers checked by their tar-split record{}: {state}",
        report.images,
        report.blobs_verified,
        report.records_checked,
        if args.thorough { " (rebuilt)" } else { "" }
    ));
    if !args.repair {
        printer.data(format!(
            "reclaimable: {} leftovers of interrupted operations, {} unreferenced blobs, {} unreferenced layers",
            report.leftovers.len(),
            report.unreferenced_blobs,
            report.unreferenced_layers
        ));
        if report.former_layout_layers > 0 {
            printer.data(format!(
                "{} layers keep their blob beside their tree (the former layout); `--repair` moves them",
                report.former_layout_layers
            ));
        }
    }
    if report.problems.is_empty() || args.repair {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CommandError::new(
            format!("the store at {} has {} problems", engine.root().display(), report.problems.len()),
            Some("`wharf system check --repair` re-unpacks damaged layers and drops images whose content is lost"),
        ))
    }
}

pub fn info(engine: &Engine, printer: Printer, args: FormatArgs) -> CommandResult {
    let info = engine.host_info()?;
    let value = serde_json::to_value(&info).expect("host info serializes");
    let text = [
        "Engine: wharf (no daemon)".to_string(),
        format!(" Containers: {}", info.containers),
        format!("  Running: {}", info.containers_running),
        format!("  Paused: {}", info.containers_paused),
        format!("  Stopped: {}", info.containers_stopped),
        format!(" Images: {}", info.images),
        format!(" Storage Driver: {}", info.storage_driver),
        format!(" Cgroup Version: {}", info.cgroup_version),
        format!(" Kernel Version: {}", info.kernel_version),
        format!(" Operating System: {}", info.operating_system),
        format!(" OSType: {}", info.os_type),
        format!(" Architecture: {}", info.architecture),
        format!(" CPUs: {}", info.ncpu),
        format!(" Total Memory: {}", human_size(info.mem_total)),
        format!(" Wharf Root Dir: {}", info.root_dir),
    ];
    print_value(&printer, args.format.as_deref(), &value, &text)
}

pub fn version(printer: Printer, args: FormatArgs) -> CommandResult {
    let arch = wharf_oci::config::host_architecture();
    let value = json!({
        "Client": {
            "Version": env!("CARGO_PKG_VERSION"),
            "Os": "linux",
            "Arch": arch,
            "Daemon": "none: wharf runs each command itself",
        }
    });
    let text = [
        "Client: wharf".to_string(),
        format!(" Version:           {}", env!("CARGO_PKG_VERSION")),
        format!(" OS/Arch:           linux/{arch}"),
        " Daemon:            none (each command does its own work)".to_string(),
    ];
    print_value(&printer, args.format.as_deref(), &value, &text)
}

/// One object: as JSON, through a template, or as its text form.
fn print_value(
    printer: &Printer,
    format: Option<&str>,
    value: &serde_json::Value,
    text: &[String],
) -> CommandResult {
    match parse_format(format)? {
        Format::Json => printer.data(value.to_string()),
        Format::Template { template, .. } => printer.data(
            template
                .render(value)
                .map_err(|e| CommandError::new(format!("--format: {e}"), None))?,
        ),
        Format::Table => text.iter().for_each(|line| printer.data(line)),
    }
    Ok(ExitCode::SUCCESS)
}
