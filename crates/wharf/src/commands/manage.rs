//! `rename`, `update`, `pause`, `unpause`, `stats`, `top`, `diff` and `export`: a container
//! managed while it runs (or after).

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use wharf_engine::{ContainerInfo, ContainerStats, Engine, Status, UpdateOptions};

use super::{parse_format, print_rows, CommandError, CommandResult};
use crate::cli::{
    ContainerArgs, ExportArgs, NamesArgs, RenameArgs, StatsArgs, TopArgs, UpdateArgs,
};
use crate::format::{human_binary_size, human_size};
use crate::printer::Printer;

/// Docker's `stats` samples once a second; CPU % is the use between two samples.
const STATS_INTERVAL: Duration = Duration::from_secs(1);

pub fn rename(engine: &Engine, _printer: Printer, args: RenameArgs) -> CommandResult {
    engine.rename_container(&args.container, &args.new_name)?;
    Ok(ExitCode::SUCCESS)
}

/// `update`: the same change to each container, named as given once done.
pub fn update(engine: &Engine, printer: Printer, args: UpdateArgs) -> CommandResult {
    let restart_policy = args
        .restart
        .as_deref()
        .map(|text| {
            text.parse().map_err(|why: String| {
                CommandError::new(
                    format!("--restart {text}: {why}"),
                    Some("e.g. --restart on-failure:3 or --restart unless-stopped"),
                )
            })
        })
        .transpose()?;
    let options = UpdateOptions {
        restart_policy,
        resources: super::container::resources(&args.resources)?,
    };
    super::for_each_name(&printer, &args.containers, |name| {
        engine
            .update_container(name, &options)
            .map(|()| vec![name.to_string()])
    })
}

/// `diff`: Docker's `C /etc`, `A /etc/new`, `D /gone` lines.
pub fn diff(engine: &Engine, printer: Printer, args: ContainerArgs) -> CommandResult {
    for (kind, path) in engine.container_changes(&args.container)? {
        printer.data(format!("{} {path}", kind.letter()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `export`: the tar to `-o FILE` (whole or not at all), or to a stdout that is not a
/// terminal.
pub fn export(engine: &Engine, args: ExportArgs) -> CommandResult {
    use std::io::IsTerminal;
    match &args.output {
        Some(path) => engine.export_container_to_file(&args.container, path)?,
        None if std::io::stdout().is_terminal() => {
            return Err(CommandError::new(
                "cowardly refusing to save to a terminal",
                Some("use the -o flag or redirect"),
            ))
        }
        None => engine.export_container(&args.container, std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn pause(engine: &Engine, printer: Printer, args: NamesArgs) -> CommandResult {
    super::for_each_name(&printer, &args.containers, |name| {
        engine
            .pause_container(name)
            .map(|()| vec![name.to_string()])
    })
}

pub fn unpause(engine: &Engine, printer: Printer, args: NamesArgs) -> CommandResult {
    super::for_each_name(&printer, &args.containers, |name| {
        engine
            .unpause_container(name)
            .map(|()| vec![name.to_string()])
    })
}

pub fn top(engine: &Engine, printer: Printer, args: TopArgs) -> CommandResult {
    let table = engine.top_container(&args.container, &args.ps_args)?;
    let mut rows = vec![table.titles];
    rows.extend(table.processes);
    crate::format::table(&rows)
        .into_iter()
        .for_each(|line| printer.data(line.trim_end()));
    Ok(ExitCode::SUCCESS)
}

/// `stats`: two samples a second apart, then (unless `--no-stream`) one more each second
/// until interrupted; on a terminal each screenful replaces the last.
pub fn stats(engine: &Engine, printer: Printer, args: StatsArgs) -> CommandResult {
    let format = parse_format(args.format.as_deref())?;
    // Named containers must exist; unnamed, the running ones (all with -a) of each moment.
    for name in &args.containers {
        engine.find_container(name)?;
    }
    let mut previous = by_id(sample(engine, &args)?);
    loop {
        std::thread::sleep(STATS_INTERVAL);
        let current = sample(engine, &args)?;
        let rows: Vec<serde_json::Value> = current
            .iter()
            .map(|now| stats_row(previous.get(&now.id), now, args.no_trunc))
            .collect();
        if !args.no_stream {
            printer.redraw();
        }
        let columns = [
            ("CONTAINER ID", "ID"),
            ("NAME", "Name"),
            ("CPU %", "CPUPerc"),
            ("MEM USAGE / LIMIT", "MemUsage"),
            ("MEM %", "MemPerc"),
            ("NET I/O", "NetIO"),
            ("BLOCK I/O", "BlockIO"),
            ("PIDS", "PIDs"),
        ];
        print_rows(&printer, &format, &columns, &rows)?;
        if args.no_stream || printer.stdout_closed() {
            return Ok(ExitCode::SUCCESS);
        }
        previous = by_id(current);
    }
}

fn by_id(samples: Vec<ContainerStats>) -> HashMap<String, ContainerStats> {
    samples.into_iter().map(|s| (s.id.clone(), s)).collect()
}

/// The containers `stats` shows now, each read once, in order.
fn sample(engine: &Engine, args: &StatsArgs) -> Result<Vec<ContainerStats>, CommandError> {
    let containers: Vec<ContainerInfo> = if args.containers.is_empty() {
        engine
            .list_containers()?
            .into_iter()
            .filter(|c| args.all || c.state.status == Status::Running)
            .collect()
    } else {
        args.containers
            .iter()
            .map(|name| engine.find_container(name))
            .collect::<Result<_, _>>()?
    };
    containers
        .iter()
        .map(|c| engine.container_stats(c).map_err(CommandError::from))
        .collect()
}

/// Docker's CPU %: the container's share of the host's CPU time between the two samples,
/// times the CPUs online (one busy CPU on any host is 100%).
fn cpu_percent(before: Option<&ContainerStats>, now: &ContainerStats) -> f64 {
    let Some(before) = before.filter(|b| b.running && now.running) else {
        return 0.0;
    };
    let cpu = now.cpu_ns.saturating_sub(before.cpu_ns) as f64;
    let host = now.host_cpu_ns.saturating_sub(before.host_cpu_ns) as f64;
    if cpu > 0.0 && host > 0.0 {
        cpu / host * f64::from(now.online_cpus) * 100.0
    } else {
        0.0
    }
}

fn stats_row(
    before: Option<&ContainerStats>,
    now: &ContainerStats,
    no_trunc: bool,
) -> serde_json::Value {
    let id = if no_trunc { &now.id[..] } else { &now.id[..12] };
    let memory_percent = if now.memory_limit > 0 {
        now.memory_bytes as f64 / now.memory_limit as f64 * 100.0
    } else {
        0.0
    };
    json!({
        "Container": id,
        "ID": id,
        "Name": now.name,
        "CPUPerc": format!("{:.2}%", cpu_percent(before, now)),
        "MemUsage": format!("{} / {}", human_binary_size(now.memory_bytes), human_binary_size(now.memory_limit)),
        "MemPerc": format!("{memory_percent:.2}%"),
        "NetIO": format!("{} / {}", human_size(now.net_rx_bytes), human_size(now.net_tx_bytes)),
        "BlockIO": format!("{} / {}", human_size(now.block_read_bytes), human_size(now.block_write_bytes)),
        "PIDs": now.pids.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(cpu_ns: u64, host_cpu_ns: u64) -> ContainerStats {
        ContainerStats {
            id: "a".repeat(64),
            name: "web".into(),
            running: true,
            cpu_ns,
            host_cpu_ns,
            cpu_user_ns: cpu_ns,
            cpu_kernel_ns: 0,
            online_cpus: 2,
            memory_bytes: 16 << 20,
            memory_limit: 64 << 20,
            net_rx_bytes: 1234,
            net_tx_bytes: 0,
            block_read_bytes: 0,
            block_write_bytes: 4096,
            pids: 3,
        }
    }

    #[test]
    fn cpu_percent_is_dockers() {
        // Half of the host's time on a two-CPU host: one CPU busy, 100%.
        assert_eq!(cpu_percent(Some(&stats(0, 0)), &stats(1_000, 2_000)), 100.0);
        assert_eq!(cpu_percent(None, &stats(1_000, 2_000)), 0.0);
        let row = stats_row(Some(&stats(0, 0)), &stats(500, 2_000), false);
        assert_eq!(row["CPUPerc"], "50.00%");
        assert_eq!(row["MemUsage"], "16MiB / 64MiB");
        assert_eq!(row["MemPerc"], "25.00%");
        assert_eq!(row["NetIO"], "1.23kB / 0B");
        assert_eq!(row["BlockIO"], "0B / 4.1kB");
        assert_eq!(row["PIDs"], "3");
        assert_eq!(row["ID"], "aaaaaaaaaaaa");
    }
}
