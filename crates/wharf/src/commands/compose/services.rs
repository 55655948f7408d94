//! `compose ps`, `exec` and the verbs that act on the project's containers as they are
//! (`start`, `stop`, `restart`, `kill`, `pause`, `unpause`, `rm`), plus `version`.

use std::process::ExitCode;

use wharf_compose::labels::{COMPOSE_VERSION, SERVICE};
use wharf_engine::{ContainerInfo, Engine, ExecOptions};

use super::down::stop_in_parallel;
use super::{load_project, ordered_containers, service_container};
use crate::cli::{
    ComposeExecArgs, ComposeProjectArgs, ComposePsArgs, ComposeRmArgs, ComposeServicesArgs,
    ComposeStopArgs, ComposeVersionArgs,
};
use crate::commands::container::{add_mount_fields, health_status, ps_row, state_name};
use crate::commands::{print_rows, CommandError, CommandResult};
use crate::format::Format;
use crate::printer::Printer;

fn service_of(c: &ContainerInfo) -> String {
    c.record.labels.get(SERVICE).cloned().unwrap_or_default()
}

pub fn ps(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposePsArgs,
) -> CommandResult {
    let format = Format::parse(args.format.as_deref().filter(|f| *f != "table"))
        .map_err(|e| CommandError::new(format!("--format: {e}"), None))?;
    let project = load_project(printer, project)?;
    let mut containers = ordered_containers(engine, &project, &args.service_names)?;
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    containers.retain(|c| {
        let oneoff = c
            .record
            .labels
            .get(wharf_compose::labels::ONEOFF)
            .map(String::as_str)
            == Some("True");
        (args.all || (c.state.status.is_up() && !oneoff))
            && (args.status.is_empty() || args.status.iter().any(|s| s == state_name(c)))
    });
    if args.services {
        let mut services: Vec<String> = containers.iter().map(service_of).collect();
        services.dedup();
        services.iter().for_each(|s| printer.data(s));
        return Ok(ExitCode::SUCCESS);
    }
    if args.quiet {
        containers.iter().for_each(|c| printer.data(&c.record.id));
        return Ok(ExitCode::SUCCESS);
    }
    let ports = engine.published_ports()?;
    let rows: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| {
            let mut row = ps_row(c, false, ports.get(&c.record.id));
            row["Service"] = service_of(c).into();
            row["Name"] = c.record.name.clone().into();
            row["Project"] = project.name.clone().into();
            row["Health"] = match health_status(c) {
                "none" => "",
                health => health,
            }
            .into();
            row["ExitCode"] = c.state.exit_code.unwrap_or(0).into();
            row["Publishers"] = publishers(c, ports.get(&c.record.id)).into();
            add_mount_fields(c, false, &mut row);
            row
        })
        .collect();
    let columns = [
        ("NAME", "Name"),
        ("IMAGE", "Image"),
        ("COMMAND", "Command"),
        ("SERVICE", "Service"),
        ("CREATED", "RunningFor"),
        ("STATUS", "Status"),
        ("PORTS", "Ports"),
    ];
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// docker compose's `Publishers`: each exposed port, published or not (URL empty and port 0
/// then), by target port.
fn publishers(
    c: &ContainerInfo,
    bindings: Option<&Vec<wharf_engine::PortBinding>>,
) -> Vec<serde_json::Value> {
    let mut rows: Vec<(u16, String, u16, String)> = bindings
        .into_iter()
        .flatten()
        .map(|b| {
            let url = b.host_ip.to_string();
            (b.container_port, url, b.host_port, b.protocol.to_string())
        })
        .collect();
    for exposed in &c.record.net.exposed_ports {
        let (port, protocol) = exposed.split_once('/').unwrap_or((exposed, "tcp"));
        let port: u16 = port.parse().unwrap_or(0);
        if !rows.iter().any(|(target, ..)| *target == port) {
            rows.push((port, String::new(), 0, protocol.to_owned()));
        }
    }
    rows.sort();
    rows.into_iter()
        .map(|(target, url, published, protocol)| {
            serde_json::json!({"URL": url, "TargetPort": target, "PublishedPort": published, "Protocol": protocol})
        })
        .collect()
}

pub fn exec(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeExecArgs,
) -> CommandResult {
    let project = load_project(printer, project)?;
    let container = service_container(engine, &project, &args.service, args.index)?;
    let tty = !args.no_tty && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let options = ExecOptions {
        command: args.command,
        env: args.env,
        user: args.user,
        workdir: args.workdir,
        interactive: !args.detach,
        detach: args.detach,
        tty,
    };
    let code = engine.exec_in_container(&container.record.id, &options)?;
    Ok(ExitCode::from(code as u8))
}

/// Runs `act` on each container of the services, reporting docker compose's line.
fn each(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    services: &[String],
    reverse: bool,
    done: &str,
    mut act: impl FnMut(&ContainerInfo) -> Result<(), CommandError>,
) -> CommandResult {
    let project = load_project(printer, project)?;
    let mut containers = ordered_containers(engine, &project, services)?;
    if reverse {
        containers.reverse();
    }
    for container in &containers {
        act(container)?;
        printer.info(format!(" ✔ Container {}  {done}", container.record.name));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn start(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeServicesArgs,
) -> CommandResult {
    engine.warm_up_container_start();
    each(
        engine,
        printer,
        project,
        &args.services,
        false,
        "Started",
        |c| {
            if !c.state.status.is_up() {
                engine.start_detached(&c.record.id)?;
            }
            Ok(())
        },
    )
}

pub fn stop(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeStopArgs,
    restart: bool,
) -> CommandResult {
    if !restart {
        let project = load_project(printer, project)?;
        let containers = ordered_containers(engine, &project, &args.services)?;
        stop_in_parallel(engine, printer, &project, &containers, args.timeout, |_| {
            Ok(())
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    each(
        engine,
        printer,
        project,
        &args.services,
        false,
        "Restarted",
        |c| {
            engine.stop_container(&c.record.id, None, args.timeout)?;
            engine.start_detached(&c.record.id)?;
            Ok(())
        },
    )
}

pub fn kill(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeServicesArgs,
) -> CommandResult {
    each(
        engine,
        printer,
        project,
        &args.services,
        true,
        "Killed",
        |c| {
            if c.state.status.is_up() {
                engine.kill_container(&c.record.id, "SIGKILL")?;
            }
            Ok(())
        },
    )
}

pub fn pause(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeServicesArgs,
    pause: bool,
) -> CommandResult {
    let done = if pause { "Paused" } else { "Unpaused" };
    each(engine, printer, project, &args.services, false, done, |c| {
        if pause {
            engine.pause_container(&c.record.id)?;
        } else {
            engine.unpause_container(&c.record.id)?;
        }
        Ok(())
    })
}

pub fn remove(
    engine: &Engine,
    printer: Printer,
    project: &ComposeProjectArgs,
    args: ComposeRmArgs,
) -> CommandResult {
    each(
        engine,
        printer,
        project,
        &args.services,
        true,
        "Removed",
        |c| {
            if c.state.status.is_up() {
                if !args.stop {
                    return Ok(());
                }
                engine.stop_container(&c.record.id, None, None)?;
            }
            engine.remove_container(&c.record.id, false, args.volumes)?;
            Ok(())
        },
    )
}

pub fn version(printer: Printer, args: ComposeVersionArgs) -> CommandResult {
    if args.short {
        printer.data(COMPOSE_VERSION);
    } else {
        printer.data(format!(
            "Docker Compose version v{COMPOSE_VERSION} (wharf {})",
            env!("CARGO_PKG_VERSION")
        ));
    }
    Ok(ExitCode::SUCCESS)
}
