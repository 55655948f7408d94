//! `volume create|ls|inspect|rm|prune`.

use std::process::ExitCode;

use serde_json::{json, Value};
use wharf_engine::{Engine, EngineError, Volume};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{
    InspectArgs, PruneArgs, VolumeCommand, VolumeCreateArgs, VolumeLsArgs, VolumeRmArgs,
};
use crate::format::human_size;
use crate::printer::Printer;

/// One `--filter` of `volume ls`.
type Keep<'a> = Box<dyn Fn(&Volume) -> Result<bool, EngineError> + 'a>;

pub fn run(engine: &Engine, printer: Printer, command: VolumeCommand) -> CommandResult {
    match command {
        VolumeCommand::Create(args) => create(engine, printer, args),
        VolumeCommand::Ls(args) => list(engine, printer, args),
        VolumeCommand::Inspect(args) => inspect(engine, printer, args),
        VolumeCommand::Rm(args) => remove(engine, printer, args),
        VolumeCommand::Prune(args) => prune(engine, printer, args),
    }
}

fn create(engine: &Engine, printer: Printer, args: VolumeCreateArgs) -> CommandResult {
    if args.driver != "local" {
        return Err(CommandError::new(
            format!("--driver {}: unknown volume driver", args.driver),
            Some("wharf has the `local` driver only"),
        ));
    }
    if let Some(opt) = args.opts.first() {
        return Err(CommandError::new(
            format!(
                "--opt {opt}: the local driver's options (type, device, o) are not supported yet"
            ),
            Some("create the volume without --opt; mount a device or tmpfs with --mount instead"),
        ));
    }
    let labels = super::parse_labels(&args.labels);
    printer.data(engine.create_volume(args.name.as_deref(), &labels)?);
    Ok(ExitCode::SUCCESS)
}

fn list(engine: &Engine, printer: Printer, args: VolumeLsArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut volumes = engine.list_volumes()?;
    for filter in &args.filters {
        let (key, value) = filter.split_once('=').unwrap_or((filter, ""));
        let keep: Keep =
            match (key, value) {
                ("name", _) => Box::new(|v| Ok(v.name.contains(value))),
                ("driver", _) => Box::new(|_| Ok(value == "local")),
                ("label", _) => Box::new(|v| Ok(super::has_label(&v.labels, value))),
                ("dangling", "true" | "1") => {
                    Box::new(|v| Ok(engine.volume_users(&v.name)?.is_empty()))
                }
                ("dangling", "false" | "0") => {
                    Box::new(|v| Ok(!engine.volume_users(&v.name)?.is_empty()))
                }
                _ => return Err(CommandError::new(
                    format!("--filter {filter}: unsupported filter"),
                    Some("wharf volume ls supports name=, label=, driver= and dangling=true|false"),
                )),
            };
        let mut kept = Vec::new();
        for volume in volumes {
            if keep(&volume)? {
                kept.push(volume);
            }
        }
        volumes = kept;
    }
    if args.quiet {
        volumes.iter().for_each(|v| printer.data(&v.name));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Value> = volumes
        .iter()
        .map(|v| {
            json!({
                "Driver": "local",
                "Name": v.name,
                "Mountpoint": v.mountpoint,
                "Scope": "local",
                "CreatedAt": v.created_at,
                "Labels": v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            })
        })
        .collect();
    print_rows(
        &printer,
        &format,
        &[("DRIVER", "Driver"), ("VOLUME NAME", "Name")],
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn inspect(engine: &Engine, printer: Printer, args: InspectArgs) -> CommandResult {
    super::inspect_each(&printer, &args, |name| engine.inspect_volume(name))
}

fn remove(engine: &Engine, printer: Printer, args: VolumeRmArgs) -> CommandResult {
    super::for_each_name(&printer, &args.volumes, |name| {
        match engine.remove_volume(name) {
            Ok(()) => Ok(vec![name.to_string()]),
            Err(EngineError::VolumeNotFound(_)) if args.force => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    })
}

fn prune(engine: &Engine, printer: Printer, args: PruneArgs) -> CommandResult {
    let question = if args.all {
        "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"
    };
    if !args.force && !printer.confirm(question) {
        return Ok(ExitCode::SUCCESS);
    }
    let report = engine.prune_volumes(args.all)?;
    if !report.removed.is_empty() {
        printer.data("Deleted Volumes:");
        report.removed.iter().for_each(|name| printer.data(name));
        printer.data("");
    }
    printer.data(format!(
        "Total reclaimed space: {}",
        human_size(report.reclaimed)
    ));
    Ok(ExitCode::SUCCESS)
}
