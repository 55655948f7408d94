//! Managing containers: `rename`, `pause`/`unpause`, `stats`, `top`, `logs --since/--until`,
//! json-file log rotation and `--log-driver none`, `--ulimit` in inspect.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{await_output, wharf_with_busybox, Wharf};

const TICKING: &str = "trap 'echo bye; exit 0' TERM; while true; do echo tick; sleep 0.05; done";

#[test]
fn rename_keeps_a_running_container_running() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let id = wharf
        .ok(&["run", "-d", "--name", "web", "busybox", "sh", "-c", TICKING])
        .trim()
        .to_string();
    wharf.ok(&["run", "-d", "--name", "db", "busybox", "sleep", "1000"]);
    // Compose's names: project-service-N (and project_service_N of compose v1).
    assert_eq!(wharf.ok(&["rename", "web", "shop-web-1"]), "");
    assert_eq!(
        wharf
            .ok(&[
                "ps",
                "--filter",
                "name=shop",
                "--format",
                "{{.Names}} {{.State}}"
            ])
            .trim(),
        "shop-web-1 running"
    );
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.Name}} {{.Id}}", "shop-web-1"])
            .trim(),
        format!("/shop-web-1 {id}")
    );
    assert!(wharf
        .fails(&["container", "inspect", "web"])
        .starts_with("error: no such container: web"));
    // The old name is free again, the new one taken.
    wharf.ok(&["container", "rename", "shop-web-1", "shop_web_1"]);
    wharf.ok(&["create", "--name", "shop-web-1", "busybox", "true"]);
    let taken = wharf.fails(&["rename", "db", "shop_web_1"]);
    assert!(
        taken.starts_with("error: the container name \"shop_web_1\" is already in use"),
        "{taken}"
    );
    let invalid = wharf.fails(&["rename", "db", "no/slashes"]);
    assert!(
        invalid.starts_with("error: rename no/slashes: a name is"),
        "{invalid}"
    );
    let same = wharf.fails(&["rename", "db", "db"]);
    assert!(same.contains("already has this name"), "{same}");
    assert!(wharf
        .fails(&["rename", "nope", "x1"])
        .starts_with("error: no such container: nope"));
    // On a user network, the new name resolves and the old one no longer does.
    wharf.ok(&["network", "create", "shop"]);
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "api",
        "--network",
        "shop",
        "busybox",
        "sleep",
        "1000",
    ]);
    wharf.ok(&["rename", "api", "shop-api-1"]);
    let ip = wharf.ok(&[
        "inspect",
        "-f",
        "{{.NetworkSettings.Networks.shop.IPAddress}}",
        "shop-api-1",
    ]);
    let lookup = wharf.run(&[
        "run",
        "--rm",
        "--network",
        "shop",
        "busybox",
        "sh",
        "-c",
        "nslookup shop-api-1; echo ---; nslookup api",
    ]);
    let lookup = common::stdout(&lookup);
    let (new, old) = lookup.split_once("---").unwrap();
    assert!(new.contains(&format!("Address: {}", ip.trim())), "{lookup}");
    assert!(!old.contains(ip.trim()), "{lookup}");
    wharf.ok(&["rm", "-f", "shop-api-1"]);
    wharf.ok(&["network", "rm", "shop"]);

    // Still the same process, still logging, and it stops under its new name.
    assert!(wharf.ok(&["logs", "shop_web_1"]).starts_with("tick\n"));
    wharf.ok(&["stop", "shop_web_1"]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.ExitCode}}", "shop_web_1"])
            .trim(),
        "0"
    );
    wharf.remove_all_containers_leaving_nothing();
}

fn log_lines(wharf: &Wharf, name: &str) -> usize {
    wharf.ok(&["logs", name]).lines().count()
}

#[test]
fn pause_freezes_the_container_and_stop_thaws_it() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run", "-d", "--name", "ticker", "busybox", "sh", "-c", TICKING,
    ]);
    await_output(&wharf, &["logs", "--tail", "1", "ticker"], "tick");
    assert_eq!(wharf.ok(&["pause", "ticker"]).trim(), "ticker");
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.Paused}} {{.State.Running}}",
                "ticker"
            ])
            .trim(),
        "paused true true"
    );
    let status = wharf.ok(&["ps", "--format", "{{.Status}}|{{.State}}"]);
    assert!(status.trim().ends_with("(Paused)|paused"), "{status}");
    assert_eq!(
        wharf
            .ok(&["ps", "--filter", "status=paused", "--format", "{{.Names}}"])
            .trim(),
        "ticker"
    );
    // A copy into it (which freezes a running container while it works) leaves it paused.
    let host = tempfile::tempdir().unwrap();
    let file = host.path().join("note");
    std::fs::write(&file, "x").unwrap();
    wharf.ok(&["cp", file.to_str().unwrap(), "ticker:/tmp/"]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Status}}", "ticker"])
            .trim(),
        "paused"
    );
    // Frozen: no tick arrives, however long we look.
    let frozen_at = log_lines(&wharf, "ticker");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        log_lines(&wharf, "ticker"),
        frozen_at,
        "a paused container ran"
    );
    let again = wharf.fails(&["pause", "ticker"]);
    assert!(
        again.starts_with("error: container ticker is paused\nhint: unpause it first"),
        "{again}"
    );
    let exec = wharf.fails(&["exec", "ticker", "true"]);
    assert!(
        exec.starts_with("error: container ticker is paused"),
        "{exec}"
    );

    assert_eq!(wharf.ok(&["unpause", "ticker"]).trim(), "ticker");
    let thawed_at = log_lines(&wharf, "ticker");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while log_lines(&wharf, "ticker") == thawed_at {
        assert!(
            std::time::Instant::now() < deadline,
            "no tick after unpause"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let not_paused = wharf.fails(&["unpause", "ticker"]);
    assert!(
        not_paused.starts_with("error: container ticker is not paused"),
        "{not_paused}"
    );

    // As Docker: stop thaws a paused container so that it gets its stop signal.
    wharf.ok(&["pause", "ticker"]);
    wharf.ok(&["stop", "-t", "20", "ticker"]);
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}",
                "ticker"
            ])
            .trim(),
        "exited false 0"
    );
    assert_eq!(wharf.ok(&["logs", "--tail", "1", "ticker"]), "bye\n");
    let stopped = wharf.fails(&["pause", "ticker"]);
    assert!(
        stopped.starts_with("error: container ticker is not running"),
        "{stopped}"
    );

    // And kill of a paused container ends it too.
    wharf.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "1000"]);
    wharf.ok(&["pause", "sleeper"]);
    wharf.ok(&["kill", "sleeper"]);
    assert_eq!(wharf.ok(&["wait", "sleeper"]).trim(), "137");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn a_paused_container_is_not_healthchecked() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "checked",
        "--health-cmd",
        "exit 1",
        "--health-interval",
        "1s",
        "--health-timeout",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "1000",
    ]);
    wharf.ok(&["pause", "checked"]);
    // Long enough for a probe to start, hang in the frozen container, time out and be
    // given up on (its helper is killed 5 s after the timeout): it would make it unhealthy.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.State.Health.Status}} {{.State.Health.FailingStreak}}",
                "checked"
            ])
            .trim(),
        "starting 0"
    );
    wharf.ok(&["unpause", "checked"]);
    await_output(
        &wharf,
        &["inspect", "-f", "{{.State.Health.Status}}", "checked"],
        "unhealthy",
    );
    wharf.remove_all_containers_leaving_nothing();
}

/// A number from the start of a `stats` cell (`12.5%`, `1.2MiB`) and its unit.
fn number_and_unit(cell: &str) -> (f64, String) {
    let end = cell
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(cell.len());
    (cell[..end].parse().unwrap(), cell[end..].to_string())
}

fn bytes(cell: &str) -> f64 {
    let (number, unit) = number_and_unit(cell.trim());
    let scale = match unit.as_str() {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unexpected unit {other} in {cell}"),
    };
    number * scale
}

#[test]
fn stats_show_cpu_memory_and_pids_of_a_busy_container() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let id = wharf
        .ok(&[
            "run",
            "-d",
            "--name",
            "busy",
            "--memory",
            "64m",
            // Half a CPU: enough to measure, and parallel tests keep the rest.
            "--cpus",
            "0.5",
            "busybox",
            "sh",
            "-c",
            "sleep 1000 & while :; do :; done",
        ])
        .trim()
        .to_string();
    wharf.ok(&["create", "--name", "idle", "busybox", "true"]);

    let json = wharf.ok(&["stats", "--no-stream", "--format", "json"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "only running containers without -a: {json}");
    let row = &rows[0];
    assert_eq!(row["Name"], "busy");
    assert_eq!(row["ID"], &id[..12]);
    let (cpu, percent) = number_and_unit(row["CPUPerc"].as_str().unwrap());
    assert_eq!(percent, "%");
    assert!(cpu > 0.0, "a busy loop uses CPU: {row}");
    let memory = row["MemUsage"].as_str().unwrap();
    let (usage, limit) = memory.split_once(" / ").unwrap();
    assert_eq!(limit, "64MiB", "{row}");
    assert!(bytes(usage) > 0.0 && bytes(usage) <= bytes(limit), "{row}");
    assert_eq!(row["PIDs"], "2", "sh (looping) and sleep: {row}");
    assert!(row["NetIO"].as_str().unwrap().contains(" / "), "{row}");
    assert!(row["BlockIO"].as_str().unwrap().contains(" / "), "{row}");

    // The table, -a with a stopped container, --no-trunc and a template.
    let table = wharf.ok(&["stats", "--no-stream", "-a", "--no-trunc"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ]
    );
    let idle = lines
        .find(|l| l.contains(" idle "))
        .expect("idle is listed with -a");
    assert!(idle.contains("0.00%") && idle.contains("0B / 0B"), "{idle}");
    assert!(table.contains(&id), "--no-trunc shows whole ids: {table}");
    assert_eq!(
        wharf
            .ok(&[
                "stats",
                "--no-stream",
                "--format",
                "{{.Name}}:{{.PIDs}}",
                "busy"
            ])
            .trim(),
        "busy:2"
    );
    let missing = wharf.fails(&["stats", "--no-stream", "nope"]);
    assert!(
        missing.starts_with("error: no such container: nope"),
        "{missing}"
    );

    // Streaming: a new table every second until interrupted.
    let mut stream = wharf
        .command(&["stats", "busy"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Kept open until it has ended: a reader going away ends it too (below).
    let mut reader = BufReader::new(stream.stdout.take().unwrap());
    let mut headers = 0;
    let mut line = String::new();
    while headers < 2 && reader.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("CONTAINER ID") {
            headers += 1;
        }
        line.clear();
    }
    std::process::Command::new("kill")
        .args(["-INT", &stream.id().to_string()])
        .status()
        .unwrap();
    assert!(!stream.wait().unwrap().success(), "Ctrl-C ends the stream");
    drop(reader);
    assert_eq!(headers, 2);
    // So does its reader going away (`wharf stats | head -2`).
    let mut stream = wharf
        .command(&["stats", "busy"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(stream.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("CONTAINER ID"), "{first}");
    assert!(stream.wait().unwrap().success());

    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn top_shows_the_container_processes_through_ps() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "procs",
        "busybox",
        "sh",
        "-c",
        "sleep 1001 & sleep 1002; echo done",
    ]);
    let wanted = [
        "sh -c sleep 1001 & sleep 1002; echo done",
        "sleep 1001",
        "sleep 1002",
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let top = loop {
        let top = wharf.ok(&["top", "procs"]);
        // Once the shell's children have become the two sleeps.
        let started = wanted
            .iter()
            .all(|w| top.lines().filter(|l| l.ends_with(w)).count() == 1);
        if started || std::time::Instant::now() > deadline {
            break top;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut lines = top.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "the container's processes only: {top}");
    for want in wanted {
        assert!(rows.iter().any(|r| r.ends_with(want)), "{want} in {top}");
    }
    // Host pids: the init's is the one inspect gives.
    let pid = wharf.ok(&["inspect", "-f", "{{.State.Pid}}", "procs"]);
    assert!(
        rows.iter()
            .any(|r| r.split_whitespace().nth(1) == Some(pid.trim())),
        "{top}"
    );

    let custom = wharf.ok(&["top", "procs", "-o", "pid,comm"]);
    let mut custom_lines = custom.lines();
    assert_eq!(
        custom_lines
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["PID", "COMMAND"]
    );
    assert_eq!(
        custom_lines.filter(|l| l.ends_with("sleep")).count(),
        2,
        "{custom}"
    );

    wharf.ok(&["stop", "-t", "0", "procs"]);
    let stopped = wharf.fails(&["top", "procs"]);
    assert!(
        stopped.starts_with("error: container procs is not running"),
        "{stopped}"
    );
    wharf.remove_all_containers_leaving_nothing();
}

fn container_dir(wharf: &Wharf, name: &str) -> std::path::PathBuf {
    let id = wharf.ok(&["inspect", "-f", "{{.Id}}", name]);
    wharf.path().join("containers").join(id.trim())
}

#[test]
fn logs_rotate_and_read_across_files_with_since_and_until() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 1 200); do echo line $i; done",
    ]);
    let dir = container_dir(&wharf, "chatty");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("container.log"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["container.log", "container.log.1", "container.log.2"]
    );
    for file in &files {
        assert!(std::fs::metadata(dir.join(file)).unwrap().len() <= 1024);
    }
    // What is kept is the newest lines, in order, across the three files.
    let logs = wharf.ok(&["logs", "chatty"]);
    let numbers: Vec<u32> = logs
        .lines()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert!(numbers.len() > 20 && numbers.len() < 200, "{logs}");
    let first = numbers[0];
    assert_eq!(numbers, (first..=200).collect::<Vec<_>>());
    assert_eq!(
        wharf.ok(&["logs", "--tail", "2", "chatty"]),
        "line 199\nline 200\n"
    );
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "chatty"])
            .trim(),
        r#"{"Type":"json-file","Config":{"max-file":"3","max-size":"1k"}}"#
    );

    // --since and --until: relative, RFC 3339 and Unix times.
    assert_eq!(wharf.ok(&["logs", "--since", "10m", "chatty"]), logs);
    assert_eq!(wharf.ok(&["logs", "--until", "10m", "chatty"]), "");
    let stamped = wharf.ok(&["logs", "-t", "chatty"]);
    let times: Vec<&str> = stamped
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let middle = times[times.len() / 2];
    let since = wharf.ok(&["logs", "--since", middle, "chatty"]);
    let until = wharf.ok(&["logs", "--until", middle, "chatty"]);
    assert!(since.ends_with("line 200\n") && until.starts_with(&format!("line {first}\n")));
    assert!(
        since.lines().count() + until.lines().count() > numbers.len(),
        "the middle line is in both"
    );
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    assert_eq!(
        wharf.ok(&["logs", "--since", &later.to_string(), "chatty"]),
        ""
    );
    assert_eq!(
        wharf.ok(&["logs", "--until", &format!("{later}.5"), "chatty"]),
        logs
    );
    assert_eq!(
        wharf.ok(&["logs", "--since", "2000-01-02T15:04:05Z", "chatty"]),
        logs
    );
    let bad = wharf.fails(&["logs", "--since", "yesterday", "chatty"]);
    assert!(
        bad.starts_with("error: --since yesterday: not a time\nhint: "),
        "{bad}"
    );

    // Bad options create nothing.
    let before = wharf.container_ids();
    for (flag, value) in [
        ("--log-opt", "max-size=lots"),
        ("--log-opt", "max-file=0"),
        ("--log-opt", "compress=true"),
        ("--log-driver", "syslog"),
    ] {
        let error = wharf.fails(&["run", flag, value, "busybox", "true"]);
        assert!(
            error.starts_with(&format!("error: {flag} {value}: ")) && error.contains("\nhint: "),
            "{error}"
        );
    }
    assert_eq!(wharf.container_ids(), before);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn logs_follow_a_container_across_rotations() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        "sleep 0.2; for i in $(seq 1 80); do echo line $i; sleep 0.02; done",
    ]);
    let followed = wharf.run(&["logs", "-f", "slow"]);
    let expected: String = (1..=80).map(|n| format!("line {n}\n")).collect();
    assert_eq!(common::stdout(&followed), expected);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn the_none_log_driver_keeps_nothing() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // Attached, the output still reaches the terminal.
    let output = wharf.ok(&[
        "run",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(output, "hi\n");
    let error = wharf.fails(&["logs", "quiet"]);
    assert!(
        error.starts_with("error: container quiet keeps no logs: its log driver is none\nhint: "),
        "{error}"
    );
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.HostConfig.LogConfig.Type}}|{{.LogPath}}",
                "quiet"
            ])
            .trim(),
        "none|"
    );
    assert!(!container_dir(&wharf, "quiet")
        .join("container.log")
        .exists());
    let with_option = wharf.fails(&[
        "create",
        "--log-driver",
        "none",
        "--log-opt",
        "max-size=1m",
        "busybox",
    ]);
    assert!(
        with_option.contains("unknown log option for the none log driver"),
        "{with_option}"
    );
    wharf.remove_all_containers_leaving_nothing();
}

/// This process's hard limit of open files: wharf cannot raise it for a container.
fn hard_nofile() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(4).unwrap().parse().unwrap()
}

#[test]
fn ulimits_show_in_inspect_and_above_the_host_are_refused() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "create",
        "--name",
        "limited",
        "--ulimit",
        "nofile=100:200",
        "--ulimit",
        "nproc=50",
        "busybox",
        "true",
    ]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{json .HostConfig.Ulimits}}", "limited"])
            .trim(),
        r#"[{"Name":"nofile","Soft":100,"Hard":200},{"Name":"nproc","Soft":50,"Hard":50}]"#
    );
    let above = format!("nofile=10:{}", hard_nofile() + 1);
    let before = wharf.container_ids();
    let refused = wharf.run(&["run", "--rm", "--ulimit", &above, "busybox", "true"]);
    assert_eq!(refused.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: --ulimit {above}: ulimit nofile: hard limit"
        )) && stderr.contains("CAP_SYS_RESOURCE\nhint: "),
        "{stderr}"
    );
    assert_eq!(wharf.container_ids(), before, "no container was created");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn stop_and_restart_send_the_signal_given_and_ps_filters_look_at_running_containers() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // TERM, the stop signal, is ignored: only USR1 ends it, after saying so.
    let script =
        "trap '' TERM; trap 'echo got USR1; exit 7' USR1; echo up; while :; do sleep 0.1; done";
    wharf.ok(&["run", "-d", "--name", "sig", "busybox", "sh", "-c", script]);
    await_output(&wharf, &["logs", "sig"], "up");
    wharf.ok(&["restart", "-s", "USR1", "-t", "600", "sig"]);
    assert!(wharf.ok(&["logs", "sig"]).contains("got USR1"));
    await_output(&wharf, &["logs", "sig"], "up\ngot USR1\nup");
    wharf.ok(&["stop", "--signal", "SIGUSR1", "-t", "600", "sig"]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.ExitCode}}", "sig"])
            .trim(),
        "7"
    );
    let bad = wharf.fails(&["stop", "-s", "SIGNOPE", "sig"]);
    assert!(bad.contains("--signal") && bad.contains("SIGNOPE"), "{bad}");

    // Without -a, a filter other than status= sees only running containers, as Docker's.
    assert_eq!(wharf.ok(&["ps", "-q", "--filter", "name=sig"]), "");
    assert_eq!(
        wharf.ok(&["ps", "--filter", "status=exited", "--format", "{{.Names}}"]),
        "sig\n"
    );
    assert_eq!(
        wharf.ok(&["ps", "-a", "--filter", "name=sig", "--format", "{{.Names}}"]),
        "sig\n"
    );
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn inspect_shows_the_user_entrypoint_and_cmd_as_given() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&["create", "--name", "plain", "busybox", "echo", "hi"]);
    wharf.ok(&[
        "create",
        "--name",
        "shaped",
        "-u",
        "nobody",
        "--entrypoint",
        "/bin/echo",
        "busybox",
        "hello",
    ]);
    let config = |name: &str| -> serde_json::Value {
        serde_json::from_str(&wharf.ok(&["inspect", "-f", "{{json .Config}}", name])).unwrap()
    };
    let plain = config("plain");
    assert_eq!(plain["User"], "");
    assert_eq!(plain["Entrypoint"], serde_json::Value::Null);
    assert_eq!(plain["Cmd"], serde_json::json!(["echo", "hi"]));
    let shaped = config("shaped");
    assert_eq!(shaped["User"], "nobody");
    assert_eq!(shaped["Entrypoint"], serde_json::json!(["/bin/echo"]));
    assert_eq!(shaped["Cmd"], serde_json::json!(["hello"]));
    // What runs is the two together, as the user the name resolves to.
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.Path}} {{json .Args}}", "shaped"])
            .trim(),
        "/bin/echo [\"hello\"]"
    );
    assert_eq!(wharf.ok(&["start", "-a", "shaped"]), "hello\n");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn a_user_gets_the_groups_that_list_it_as_a_member() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM busybox\n\
         RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd \\\n\
          && printf 'app:x:1000:\\nteam:x:2000:app\\nops:x:2001:root,app\\n' >> /etc/group\n\
         USER app\n\
         RUN id -G > /tmp/groups-in-build\n",
    )
    .unwrap();
    wharf.ok(&[
        "build",
        "-q",
        "-t",
        "grouped",
        context.path().to_str().unwrap(),
    ]);
    let groups = |user: &[&str], command: &[&str]| {
        let mut args = vec!["run", "--rm"];
        args.extend(user);
        args.push("grouped");
        args.extend(command);
        wharf.ok(&args).trim().to_owned()
    };
    assert_eq!(groups(&[], &["id", "-G"]), "1000 2000 2001");
    assert_eq!(
        groups(&[], &["cat", "/tmp/groups-in-build"]),
        "1000 2000 2001"
    );
    // A group given replaces them, as runc's.
    assert_eq!(groups(&["-u", "app:app"], &["id", "-G"]), "1000");
    let root = groups(&["-u", "root"], &["id", "-G"]);
    assert!(root.split(' ').any(|g| g == "2001"), "{root}");
    // exec -u resolves the same way.
    wharf.ok(&["run", "-d", "--name", "grp", "grouped", "sleep", "1000"]);
    assert_eq!(
        wharf.ok(&["exec", "-u", "app", "grp", "id", "-G"]).trim(),
        "1000 2000 2001"
    );
    wharf.remove_all_containers_leaving_nothing();
}
