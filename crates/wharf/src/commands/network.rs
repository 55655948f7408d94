//! `network ...`, `port`, and the hidden DNS helper (`__dns`).

use std::process::ExitCode;

use serde_json::{json, Value};
use wharf_engine::{ConnectOptions, Engine, EngineError, NetworkCreateOptions, NetworkSummary};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{
    DnsArgs, InspectArgs, NetworkCommand, NetworkConnectArgs, NetworkCreateArgs,
    NetworkDisconnectArgs, NetworkLsArgs, NetworkPruneArgs, NetworkRmArgs, PortArgs,
};
use crate::printer::Printer;

/// Networks that exist without `network create`.
const BUILTIN: [&str; 3] = ["bridge", "host", "none"];

pub fn run(engine: &Engine, printer: Printer, command: NetworkCommand) -> CommandResult {
    match command {
        NetworkCommand::Create(args) => create(engine, printer, args),
        NetworkCommand::Ls(args) => list(engine, printer, args),
        NetworkCommand::Inspect(args) => inspect(engine, printer, args),
        NetworkCommand::Rm(args) => remove(engine, printer, args),
        NetworkCommand::Prune(args) => prune(engine, printer, args),
        NetworkCommand::Connect(args) => connect(engine, args),
        NetworkCommand::Disconnect(args) => disconnect(engine, args),
    }
}

fn create(engine: &Engine, printer: Printer, args: NetworkCreateArgs) -> CommandResult {
    let labels = super::parse_labels(&args.labels);
    let id = engine.create_network(&NetworkCreateOptions {
        name: args.name,
        driver: args.driver,
        subnet: args.subnet,
        gateway: args.gateway,
        internal: args.internal,
        labels,
    })?;
    printer.data(id);
    Ok(ExitCode::SUCCESS)
}

fn list(engine: &Engine, printer: Printer, args: NetworkLsArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    let mut networks = engine.list_networks()?;
    for filter in &args.filters {
        let (key, value) = filter.split_once('=').unwrap_or((filter, ""));
        let keep: Box<dyn Fn(&NetworkSummary) -> bool> = match key {
            "name" => Box::new(|n| n.name.contains(value)),
            "id" => Box::new(|n| n.id.starts_with(value)),
            "driver" => Box::new(|n| n.driver == value),
            "label" => Box::new(|n| super::has_label(&n.labels, value)),
            "type" if value == "custom" => Box::new(|n| !BUILTIN.contains(&n.name.as_str())),
            "type" if value == "builtin" => Box::new(|n| BUILTIN.contains(&n.name.as_str())),
            _ => return Err(CommandError::new(
                format!("--filter {filter}: unsupported filter"),
                Some(
                    "wharf network ls supports name=, id=, driver=, label= and type=custom|builtin",
                ),
            )),
        };
        networks.retain(|n| keep(n));
    }
    let short = |id: &str| {
        if args.no_trunc {
            id.to_string()
        } else {
            id[..12].to_string()
        }
    };
    if args.quiet {
        networks.iter().for_each(|n| printer.data(short(&n.id)));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Value> = networks
        .iter()
        .map(|n| {
            json!({
                "ID": short(&n.id),
                "Name": n.name,
                "Driver": n.driver,
                "Scope": "local",
                "IPv6": "false",
                "Internal": n.internal.to_string(),
                "CreatedAt": n.created,
                "Labels": n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            })
        })
        .collect();
    let columns = [
        ("NETWORK ID", "ID"),
        ("NAME", "Name"),
        ("DRIVER", "Driver"),
        ("SCOPE", "Scope"),
    ];
    print_rows(&printer, &format, &columns, &rows)?;
    Ok(ExitCode::SUCCESS)
}

fn inspect(engine: &Engine, printer: Printer, args: InspectArgs) -> CommandResult {
    super::inspect_each(&printer, &args, |name| engine.inspect_network(name))
}

fn remove(engine: &Engine, printer: Printer, args: NetworkRmArgs) -> CommandResult {
    super::for_each_name(&printer, &args.networks, |name| {
        match engine.remove_network(name) {
            Ok(_) => Ok(vec![name.to_string()]),
            Err(error) if args.force && error.is_network_not_found() => Ok(Vec::new()),
            Err(error) => Err(error),
        }
    })
}

fn prune(engine: &Engine, printer: Printer, args: NetworkPruneArgs) -> CommandResult {
    if !args.force
        && !printer.confirm(
            "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?",
        )
    {
        return Ok(ExitCode::SUCCESS);
    }
    let removed = engine.prune_networks()?;
    if !removed.is_empty() {
        printer.data("Deleted Networks:");
        removed.iter().for_each(|name| printer.data(name));
    }
    Ok(ExitCode::SUCCESS)
}

fn connect(engine: &Engine, args: NetworkConnectArgs) -> CommandResult {
    engine.connect_network(
        &args.network,
        &args.container,
        &ConnectOptions {
            aliases: args.aliases,
            ip: args.ip,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn disconnect(engine: &Engine, args: NetworkDisconnectArgs) -> CommandResult {
    let _ = args.force;
    engine.disconnect_network(&args.network, &args.container)?;
    Ok(ExitCode::SUCCESS)
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`, printed like Docker's.
pub fn port(engine: &Engine, printer: Printer, args: PortArgs) -> CommandResult {
    let (name, mut bindings) = engine.container_ports(&args.container)?;
    bindings.sort_by_key(|b| (b.container_port, b.protocol, b.host_port));
    let Some(wanted) = args.port.as_deref() else {
        for binding in &bindings {
            printer.data(format!(
                "{}/{} -> {}:{}",
                binding.container_port, binding.protocol, binding.host_ip, binding.host_port
            ));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (number, protocol) = wanted.split_once('/').unwrap_or((wanted, "tcp"));
    let number: u16 = number.parse().map_err(|_| {
        CommandError::new(
            format!("invalid port {wanted}: expected PRIVATE_PORT[/PROTO]"),
            Some("for example `wharf port web 8000/tcp`"),
        )
    })?;
    let matching: Vec<_> = bindings
        .iter()
        .filter(|b| b.container_port == number && b.protocol.as_str() == protocol)
        .collect();
    if matching.is_empty() {
        return Err(EngineError::NoPublicPort {
            port: format!("{number}/{protocol}"),
            container: name,
        }
        .into());
    }
    for binding in matching {
        printer.data(format!("{}:{}", binding.host_ip, binding.host_port));
    }
    Ok(ExitCode::SUCCESS)
}

/// The hidden DNS helper process of one network.
pub fn dns(engine: &Engine, args: DnsArgs) -> CommandResult {
    engine.serve_dns(&args.network)?;
    Ok(ExitCode::SUCCESS)
}
