//! Containers end to end: `run` attached and detached, exit codes, limits, security, the
//! lifecycle commands, and that nothing (mount, process, cgroup) outlives a container.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{await_output, wharf_with_busybox, Wharf};

fn code(output: &std::process::Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn container_ids(wharf: &Wharf) -> Vec<String> {
    wharf
        .ok(&["ps", "-a", "-q", "--no-trunc"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn run_prints_output_and_returns_the_exit_code() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let output = wharf.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(
        (code(&output), common::stdout(&output).as_str()),
        (0, "out\n")
    );
    assert_eq!(stderr(&output), "err\n");
    assert_eq!(
        code(&wharf.run(&["run", "--rm", "busybox", "sh", "-c", "exit 3"])),
        3
    );
    // A --rm container's writable layer is thrown away: mounted volatile (no sync of the
    // host's filesystem at exit); a kept container's is not.
    let root_options = "grep -o '^overlay / overlay [^ ]*' /proc/mounts | grep -c volatile";
    let rm_root = wharf.run(&["run", "--rm", "busybox", "sh", "-c", root_options]);
    assert_eq!(common::stdout(&rm_root), "1\n");
    let kept_root = wharf.run(&["run", "--name", "kept", "busybox", "sh", "-c", root_options]);
    assert_eq!(common::stdout(&kept_root), "0\n");
    wharf.ok(&["rm", "kept"]);

    // As in Docker, the program starts with SIGPIPE at its default (wharf, a Rust program,
    // ignores it; an ignored signal stays ignored across exec).
    let ignored = wharf.ok(&[
        "run",
        "--rm",
        "busybox",
        "grep",
        "SigIgn",
        "/proc/self/status",
    ]);
    let mask = ignored.split_whitespace().last().unwrap_or_default();
    let sigpipe = 1 << (13 - 1);
    assert_eq!(
        u64::from_str_radix(mask, 16).unwrap() & sigpipe,
        0,
        "{ignored}"
    );

    let missing = wharf.run(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(code(&missing), 127);
    assert!(
        stderr(&missing).contains("exec: \"no-such-command\": executable file not found in $PATH"),
        "{}",
        stderr(&missing)
    );
    let not_executable = wharf.run(&["run", "--rm", "busybox", "/etc/passwd"]);
    assert_eq!(code(&not_executable), 126, "{}", stderr(&not_executable));

    // `--pull never`: tests reach no registry but their own.
    let no_image = wharf.run(&["run", "--rm", "--pull", "never", "nope:1", "true"]);
    assert_eq!(code(&no_image), 125);
    assert!(
        stderr(&no_image).starts_with("error: no such image: nope:1\nhint:"),
        "{}",
        stderr(&no_image)
    );
    assert_eq!(
        wharf.ok(&["ps", "-a", "-q"]),
        "",
        "--rm leaves no container"
    );
    // Nor its cgroup: the hostname is the short id, which the cgroup's name starts with.
    let short_id = wharf.ok(&["run", "--rm", "busybox", "hostname"]);
    wharf.assert_nothing_leaked(&[short_id.trim().to_string()]);
}

#[test]
fn run_applies_env_workdir_user_hostname_and_mounts() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let host_dir = tempfile::tempdir().unwrap();
    std::fs::write(host_dir.path().join("in.txt"), "from host").unwrap();
    let env_file = host_dir.path().join("app.env");
    std::fs::write(&env_file, "# comment\nFROM_FILE=yes\n").unwrap();
    let volume = format!("{}:/data", host_dir.path().display());
    let output = wharf.ok(&[
        "run", "--rm", "-e", "A=1", "--env-file", env_file.to_str().unwrap(), "-w", "/tmp", "-u", "nobody",
        "--hostname", "box", "-v", &volume, "--tmpfs", "/scratch:size=1m",
        "busybox", "sh", "-c",
        "echo $A $FROM_FILE $(pwd) $(id -u) $(hostname) $(cat /data/in.txt); grep -c scratch /proc/mounts",
    ]);
    assert_eq!(output, "1 yes /tmp 65534 box from host\n1\n");

    let read_only = wharf.run(&["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert_ne!(code(&read_only), 0);
    assert!(
        stderr(&read_only).contains("Read-only file system"),
        "{}",
        stderr(&read_only)
    );
    let ro_volume = format!("{}:/data:ro", host_dir.path().display());
    assert_ne!(
        code(&wharf.run(&["run", "--rm", "-v", &ro_volume, "busybox", "touch", "/data/x"])),
        0
    );

    let limited = wharf.ok(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=100:200",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn",
    ]);
    assert_eq!(limited, "100\n200\n");
    let bad_ulimit = wharf.run(&["run", "--rm", "--ulimit", "nofiles=1", "busybox", "true"]);
    assert!(
        stderr(&bad_ulimit).starts_with("error: --ulimit nofiles=1: invalid ulimit"),
        "{}",
        stderr(&bad_ulimit)
    );

    let entrypoint = wharf.ok(&["run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"]);
    assert_eq!(entrypoint, "a b\n");
    let bad_user = wharf.run(&["run", "--rm", "-u", "nosuchuser", "busybox", "true"]);
    assert_eq!(code(&bad_user), 125);
    assert!(
        stderr(&bad_user).contains("unable to find user nosuchuser"),
        "{}",
        stderr(&bad_user)
    );
    let bad_volume = wharf.run(&["run", "--rm", "-v", "./relative:/data", "busybox", "true"]);
    assert!(
        stderr(&bad_volume).starts_with("error: --volume ./relative:/data:")
            && stderr(&bad_volume).contains("hint:")
    );
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn networks_none_and_host() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let none = wharf.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "cat",
        "/proc/net/dev",
    ]);
    let interfaces: Vec<&str> = none
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim())
        .collect();
    assert_eq!(interfaces, ["lo"]);
    let host = wharf.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "cat",
        "/proc/net/dev",
    ]);
    // The host's network namespace is the one this test's wharf runs in.
    let host_dev = wharf
        .host_command("cat")
        .arg("/proc/net/dev")
        .output()
        .unwrap();
    assert_eq!(
        host.lines().count(),
        common::stdout(&host_dev).lines().count()
    );
    // The default, Docker's `bridge`: loopback and eth0.
    for network in [&["--network", "bridge"][..], &[]] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(network);
        args.extend_from_slice(&["busybox", "cat", "/proc/net/dev"]);
        let bridge = wharf.ok(&args);
        let mut interfaces: Vec<&str> = bridge
            .lines()
            .skip(2)
            .map(|l| l.split(':').next().unwrap().trim())
            .collect();
        interfaces.sort_unstable();
        assert_eq!(interfaces, ["eth0", "lo"], "{network:?}");
    }
}

#[test]
fn memory_limit_kills_with_137_and_reports_oom() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let (rootfs, _) = common::fixture("python-3.11-slim");
    wharf.ok(&[
        "import",
        "--change",
        "CMD [\"python3\"]",
        rootfs.to_str().unwrap(),
        "python:3.11-slim",
    ]);
    assert_eq!(
        wharf.ok(&[
            "run",
            "--rm",
            "python:3.11-slim",
            "python3",
            "-c",
            "print(42)"
        ]),
        "42\n"
    );
    let output = wharf.run(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "64m",
        "python:3.11-slim",
        "python3",
        "-c",
        "x = bytearray(256 * 1024 * 1024)",
    ]);
    assert_eq!(code(&output), 137, "{}", stderr(&output));
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}",
                "hog"
            ])
            .trim(),
        "true 137 67108864"
    );
    let ids = container_ids(&wharf);
    wharf.ok(&["rm", "hog"]);
    wharf.assert_nothing_leaked(&ids);
}

/// The file of a running container's memory cgroup, on v1 or v2.
fn memory_cgroup_file(id: &str, v1: &str, v2: &str) -> String {
    for (hierarchy, file) in [("memory/wharf", v1), ("wharf", v2)] {
        let Ok(entries) = std::fs::read_dir(Path::new("/sys/fs/cgroup").join(hierarchy)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(id) {
                return std::fs::read_to_string(entry.path().join(file)).unwrap();
            }
        }
    }
    panic!("no memory cgroup for {id}")
}

#[test]
fn sysctls_shm_size_and_memory_reservation_apply() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let output = wharf.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.core.somaxconn=1234",
        "--sysctl",
        "kernel.shmmni=999",
        "--shm-size",
        "3m",
        "busybox",
        "sh",
        "-c",
        "cat /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmni; grep ' /dev/shm ' /proc/mounts",
    ]);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines[..2], ["1234", "999"], "{output}");
    assert!(lines[2].contains("size=3072k"), "{output}");

    let id = wharf.ok(&[
        "run",
        "-d",
        "--memory-reservation",
        "32m",
        "busybox",
        "sleep",
        "100",
    ]);
    let id = id.trim();
    let reserved = memory_cgroup_file(id, "memory.soft_limit_in_bytes", "memory.low");
    assert_eq!(reserved.trim(), (32u64 << 20).to_string());
    assert_eq!(
        wharf.ok(&["inspect", "-f", "{{.HostConfig.MemoryReservation}}", id]),
        format!("{}\n", 32u64 << 20)
    );

    // What would change the host is refused, naming the flag, and nothing is created.
    for (network, sysctl, why) in [
        ("bridge", "vm.swappiness=1", ""),
        (
            "host",
            "net.core.somaxconn=1",
            ": the container uses the host's network",
        ),
    ] {
        let output = wharf.run(&[
            "run",
            "--rm",
            "--network",
            network,
            "--sysctl",
            sysctl,
            "busybox",
            "true",
        ]);
        assert_eq!(code(&output), 125);
        let name = sysctl.split('=').next().unwrap();
        assert!(
            stderr(&output).contains(&format!(
                "--sysctl {name}: sysctl \"{name}\" is not in a separate kernel namespace{why}"
            )),
            "{}",
            stderr(&output)
        );
    }
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn pids_limit_stops_a_fork_loop_and_seccomp_denies_unshare() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let forks = wharf.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "10",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 30); do sleep 1 & done; wait",
    ]);
    assert!(stderr(&forks).contains("can't fork"), "{}", stderr(&forks));
    let denied = wharf.run(&["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert_ne!(code(&denied), 0);
    assert!(
        stderr(&denied).contains("Operation not permitted"),
        "{}",
        stderr(&denied)
    );
    // Privileged drops the seccomp profile, as Docker's.
    assert_eq!(
        code(&wharf.run(&[
            "run",
            "--rm",
            "--privileged",
            "busybox",
            "unshare",
            "-U",
            "true"
        ])),
        0
    );
    let dropped = wharf.run(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "busybox",
        "chown",
        "nobody",
        "/tmp",
    ]);
    assert!(
        stderr(&dropped).contains("Operation not permitted"),
        "{}",
        stderr(&dropped)
    );
}

#[test]
fn ps_shows_mounts_and_sizes_as_docker_does() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let bind = tempfile::tempdir().unwrap();
    let source = bind.path().join("a-long-folder-name");
    std::fs::create_dir(&source).unwrap();
    let source = source.display().to_string();
    let bind_spec = format!("{source}:/host");
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "keeper",
        "-v",
        "psdata:/data",
        "-v",
        &bind_spec,
        "busybox",
        "sh",
        "-c",
        "echo hello > /data/f; sleep 100",
    ]);
    let row: serde_json::Value =
        serde_json::from_str(wharf.ok(&["ps", "--format", "json"]).trim()).unwrap();
    assert_eq!(row["LocalVolumes"], "1", "{row}");
    // Each mount by volume name or source, cut to 15 characters as Docker's `Ellipsis`.
    let cut: String = source.chars().take(14).collect::<String>() + "…";
    let mounts = row["Mounts"].as_str().unwrap();
    let mut names: Vec<&str> = mounts.split(',').collect();
    names.sort();
    let mut expected = vec!["psdata", cut.as_str()];
    expected.sort();
    assert_eq!(names, expected, "{row}");
    assert_eq!(row["Size"], "0B", "{row}");
    let untruncated = wharf.ok(&["ps", "--no-trunc", "--format", "{{.Mounts}}"]);
    assert!(untruncated.contains(&source), "{untruncated}");

    // `-s`: the writable layer, then with the image (`8.19kB (virtual 4.5MB)`).
    let size = wharf.ok(&["ps", "-s", "--format", "{{.Size}}"]);
    let (writable, rest) = size.trim().split_once(" (virtual ").expect(&size);
    let root = rest.strip_suffix(')').expect(&size);
    for value in [writable, root] {
        let number = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        assert!(number.parse::<f64>().is_ok(), "{size}");
        assert!(value.ends_with('B'), "{size}");
    }
    let table = wharf.ok(&["ps", "-s"]);
    assert!(table.lines().next().unwrap().ends_with("SIZE"), "{table}");
    wharf.ok(&["rm", "-f", "keeper"]);
    wharf.ok(&["volume", "rm", "psdata"]);
}

#[test]
fn detached_lifecycle_logs_stop_and_remove() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let script =
        "echo start; echo warn >&2; trap 'echo bye; exit 0' TERM; while true; do sleep 0.05; done";
    let id = wharf
        .ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "--label",
            "tier=front",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    assert_eq!(
        wharf
            .ok(&["ps", "--format", "{{.Names}} {{.State}} {{.Labels}}"])
            .trim(),
        "web running tier=front"
    );
    let name_taken = wharf.run(&["run", "-d", "--name", "web", "busybox", "true"]);
    assert!(
        stderr(&name_taken).contains("the container name \"web\" is already in use"),
        "{}",
        stderr(&name_taken)
    );
    let running_rm = wharf.run(&["rm", "web"]);
    assert!(stderr(&running_rm).contains("is running") && stderr(&running_rm).contains("hint:"));

    // Follow the log while the container runs; it ends when the container stops.
    let follower = wharf
        .command(&["logs", "-f", "web"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(wharf.ok(&["stop", "web"]).trim(), "web");
    let followed = follower.wait_with_output().unwrap();
    assert_eq!(common::stdout(&followed), "start\nbye\n");
    assert_eq!(wharf.ok(&["logs", "--tail", "1", "web"]), "bye\n");
    let stamped = wharf.ok(&["logs", "-t", "web"]);
    assert!(stamped.starts_with(&time_prefix()), "{stamped}");

    assert_eq!(wharf.ok(&["ps", "-q"]), "");
    assert_eq!(
        wharf
            .ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
            .trim(),
        "web exited"
    );
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.ExitCode}} {{.Name}}",
                "web"
            ])
            .trim(),
        "exited 0 /web"
    );
    assert_eq!(wharf.ok(&["wait", "web"]).trim(), "0");

    // Started again, the same container runs its command again.
    assert_eq!(wharf.ok(&["start", "web"]).trim(), "web");
    assert_eq!(wharf.ok(&["ps", "--format", "{{.Names}}"]).trim(), "web");
    let busy = wharf.run(&["rmi", "busybox"]);
    assert!(
        !busy.status.success() || wharf.ok(&["images", "-q"]).lines().count() == 1,
        "an image in use keeps existing"
    );
    wharf.ok(&["kill", "web"]);
    assert_eq!(wharf.ok(&["wait", "web"]).trim(), "137");
    let ids = container_ids(&wharf);
    assert_eq!(wharf.ok(&["rm", &id[..12]]).trim(), &id[..12]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    wharf.assert_nothing_leaked(&ids);
}

/// The year (`2026-`) that RFC 3339 log timestamps start with.
fn time_prefix() -> String {
    let output = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-")
        .output()
        .unwrap();
    common::stdout(&output).trim().to_string()
}

#[test]
fn stop_kills_after_the_timeout_and_kill_sends_signals() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; trap 'echo got usr1' USR1; echo ready; while true; do sleep 0.05; done",
    ]);
    // A pid 1 without a handler ignores USR1: send it once the trap is set.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !wharf.ok(&["logs", "stubborn"]).contains("ready") {
        assert!(Instant::now() < deadline, "the traps were never set");
        std::thread::sleep(Duration::from_millis(20));
    }
    wharf.ok(&["kill", "-s", "USR1", "stubborn"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !wharf.ok(&["logs", "stubborn"]).contains("got usr1") {
        assert!(Instant::now() < deadline, "USR1 never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    wharf.ok(&["stop", "-t", "1", "stubborn"]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "stop waited for the timeout"
    );
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.ExitCode}}", "stubborn"])
            .trim(),
        "137"
    );
    let not_running = wharf.run(&["kill", "stubborn"]);
    assert!(
        stderr(&not_running).contains("is not running"),
        "{}",
        stderr(&not_running)
    );
    let ids = container_ids(&wharf);
    wharf.ok(&["rm", "stubborn"]);
    wharf.assert_nothing_leaked(&ids);
}

/// SIGKILL to every container monitor of this wharf's root, as a power cut would end them.
fn kill_monitors(wharf: &Wharf) {
    let root = wharf.path().display().to_string();
    let monitors: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.contains(&root) && c.contains("__monitor")
                })
                .unwrap_or(false)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!monitors.is_empty(), "no monitor runs");
    let mut kill = std::process::Command::new("kill");
    kill.arg("-9").args(&monitors);
    assert!(kill.status().unwrap().success());
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn start_all_restartable_brings_back_what_dockerd_would_at_boot() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let run = |name: &str, policy: &str, command: &[&str]| {
        let mut args = vec!["run", "-d", "--name", name, "--restart", policy, "busybox"];
        args.extend_from_slice(command);
        wharf.ok(&args);
    };
    let sleep = ["sleep", "1000"];
    run("always", "always", &sleep);
    run("unless", "unless-stopped", &sleep);
    run("unless-user-stopped", "unless-stopped", &sleep);
    run("always-user-stopped", "always", &sleep);
    run("failure", "on-failure", &sleep);
    run("failure-done", "on-failure", &["true"]);
    run("never", "no", &sleep);
    wharf.ok(&[
        "stop",
        "-t",
        "0",
        "unless-user-stopped",
        "always-user-stopped",
    ]);
    wharf.ok(&["wait", "failure-done"]);
    // The machine goes down: the monitors die with what they watch.
    kill_monitors(&wharf);
    assert_eq!(wharf.ok(&["ps", "-q"]), "");

    let started = wharf.ok(&["start", "--all-restartable"]);
    let mut started: Vec<&str> = started.lines().collect();
    started.sort_unstable();
    assert_eq!(
        started,
        ["always", "always-user-stopped", "failure", "unless"]
    );
    let running = wharf.ok(&["ps", "--format", "{{.Names}}"]);
    let mut running: Vec<&str> = running.lines().collect();
    running.sort_unstable();
    assert_eq!(running, started);
    // Nothing more to start the second time.
    assert_eq!(wharf.ok(&["start", "--all-restartable"]), "");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn a_killed_monitor_is_seen_and_cleaned_up() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let id = wharf
        .ok(&["run", "-d", "busybox", "sleep", "1000"])
        .trim()
        .to_string();
    kill_monitors(&wharf);
    assert_eq!(
        wharf.ok(&["ps", "-a", "--format", "{{.State}}"]).trim(),
        "exited"
    );
    assert!(wharf
        .ok(&["inspect", "-f", "{{.State.Error}}", &id])
        .contains("monitor was killed"));
    wharf.ok(&["rm", &id]);
    wharf.assert_nothing_leaked(&[id]);
}

#[test]
fn images_in_use_are_kept_by_rmi_and_prune() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let image = wharf.ok(&["images", "-q", "--no-trunc"]).trim().to_string();
    wharf.ok(&["create", "--name", "keeper", "busybox", "true"]);
    let refused = wharf.run(&["rmi", &image]);
    assert!(
        stderr(&refused).contains("it is used by container keeper"),
        "{}",
        stderr(&refused)
    );
    // By tag: untagged, but kept for the container.
    wharf.ok(&["rmi", "busybox"]);
    wharf.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(wharf.ok(&["images", "-q", "--no-trunc"]).trim(), image);
    assert_eq!(code(&wharf.run(&["start", "-a", "keeper"])), 0);
    wharf.ok(&["rm", "keeper"]);
    wharf.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    wharf.assert_consistent();
}

#[test]
fn exec_runs_in_the_container_namespaces_with_its_env() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let id = wharf
        .ok(&[
            "run",
            "-d",
            "--name",
            "box",
            "--network",
            "none",
            "-e",
            "FROM_RUN=1",
            "-w",
            "/tmp",
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    // Same pid namespace (the init is pid 1 and runs sleep), same cgroup, same root, the
    // container's env, user and working directory.
    let seen = wharf.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '; echo; [ \"$(cat /proc/1/cgroup)\" = \"$(cat /proc/self/cgroup)\" ] && echo same-cgroup; echo $FROM_RUN $(id -u) $(pwd) $(hostname)",
    ]);
    assert_eq!(
        seen,
        format!("sleep 1000 \nsame-cgroup\n1 0 /tmp {}\n", &id[..12])
    );
    // As Docker: HOSTNAME and HOME are the runtime's, in the processes but not in the
    // container's Config.Env.
    assert_eq!(
        wharf.ok(&["inspect", "-f", "{{json .Config.Env}}", "box"]),
        "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"FROM_RUN=1\"]\n"
    );
    assert_eq!(
        wharf.ok(&["exec", "box", "sh", "-c", "echo $HOSTNAME $HOME"]),
        format!("{} /root\n", &id[..12])
    );
    let overridden = wharf.ok(&[
        "exec",
        "-e",
        "FROM_RUN=2",
        "-e",
        "NEW=x",
        "-u",
        "nobody",
        "-w",
        "/",
        "box",
        "sh",
        "-c",
        "echo $FROM_RUN $NEW $(id -u) $(pwd)",
    ]);
    assert_eq!(overridden, "2 x 65534 /\n");
    // A file written by exec is seen by the next one: the same root.
    wharf.ok(&["exec", "box", "sh", "-c", "echo kept > /tmp/f"]);
    assert_eq!(wharf.ok(&["exec", "box", "cat", "/tmp/f"]), "kept\n");

    // The container's seccomp filter and capabilities, as for its init (Docker's default
    // set is 0xa80425fb); also as another user.
    for user in ["root", "nobody"] {
        let confined = wharf.run(&[
            "exec",
            "-u",
            user,
            "box",
            "sh",
            "-c",
            "grep -E '^(Seccomp|CapBnd):' /proc/self/status; unshare -U true",
        ]);
        assert_eq!(
            common::stdout(&confined)
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["CapBnd:", "00000000a80425fb", "Seccomp:", "2"],
            "{user}"
        );
        assert_ne!(code(&confined), 0);
        assert!(stderr(&confined).contains("Operation not permitted"));
    }
    let init_caps = wharf.ok(&[
        "exec",
        "box",
        "grep",
        "-E",
        "^Cap(Prm|Eff)",
        "/proc/1/status",
    ]);
    assert_eq!(
        init_caps.split_whitespace().collect::<Vec<_>>(),
        ["CapPrm:", "00000000a80425fb", "CapEff:", "00000000a80425fb"]
    );

    let piped = wharf.run_with_stdin(&["exec", "-i", "box", "cat"], b"through stdin\n");
    assert_eq!(common::stdout(&piped), "through stdin\n");
    let no_stdin = wharf.run_with_stdin(&["exec", "box", "cat"], b"ignored\n");
    assert_eq!(
        common::stdout(&no_stdin),
        "",
        "without -i stdin is /dev/null"
    );

    assert_eq!(code(&wharf.run(&["exec", "box", "sh", "-c", "exit 7"])), 7);
    // Docker's exec exits 126 for any process that could not start (start_errors.rs).
    let missing = wharf.run(&["exec", "box", "no-such-command"]);
    assert_eq!(code(&missing), 126);
    assert!(
        stderr(&missing).contains("exec: \"no-such-command\": executable file not found in $PATH"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(code(&wharf.run(&["exec", "box", "/etc/passwd"])), 126);
    let bad_user = wharf.run(&["exec", "-u", "nosuchuser", "box", "true"]);
    assert_eq!(code(&bad_user), 126);
    assert!(stderr(&bad_user).contains("unable to find user nosuchuser"));

    // Detached: returns at once, the process runs on in the container.
    wharf.ok(&[
        "exec",
        "-d",
        "box",
        "sh",
        "-c",
        "sleep 0.2; echo late > /tmp/late",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while code(&wharf.run(&["exec", "box", "test", "-e", "/tmp/late"])) != 0 {
        assert!(Instant::now() < deadline, "the detached exec never ran");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Nothing of the execs is left in the runtime state.
    let state_dir = wharf.path().join("run/runtime").join(&id);
    let mut left: Vec<String> = std::fs::read_dir(&state_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notify.sock", "state.json", "youki_config.json"]);

    wharf.ok(&["stop", "-t", "0", "box"]);
    let stopped = wharf.run(&["exec", "box", "true"]);
    assert_eq!(code(&stopped), 125);
    assert!(
        stderr(&stopped).starts_with("error: container box is not running\nhint:"),
        "{}",
        stderr(&stopped)
    );
    let nobody = wharf.run(&["exec", "nope", "true"]);
    assert!(stderr(&nobody).starts_with("error: no such container: nope"));
    wharf.ok(&["rm", "box"]);
    wharf.assert_nothing_leaked(&[id]);
}

/// Polls `inspect -f FORMAT NAME` until it prints `want`.
fn await_inspect(wharf: &Wharf, name: &str, format: &str, want: &str) {
    await_output(wharf, &["inspect", "-f", format, name], want);
}

#[test]
fn restart_on_failure_runs_the_container_again_up_to_the_limit() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // Attached, `run` returns at the first exit while the container goes on restarting.
    let first = wharf.run(&[
        "run",
        "--name",
        "flaky",
        "--network",
        "none",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo ran; exit 1",
    ]);
    assert_eq!(code(&first), 1);
    assert_eq!(common::stdout(&first), "ran\n");
    await_inspect(
        &wharf,
        "flaky",
        "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}",
        "exited 2 1",
    );
    assert_eq!(
        wharf.ok(&["logs", "flaky"]),
        "ran\nran\nran\n",
        "three runs"
    );
    assert_eq!(
        wharf
            .ok(&[
                "inspect",
                "-f",
                "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                "flaky"
            ])
            .trim(),
        "on-failure 2"
    );
    // A success is not a failure: no restart.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "fine",
        "--network",
        "none",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ]);
    await_inspect(&wharf, "fine", "{{.State.Status}}", "exited");
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.RestartCount}}", "fine"])
            .trim(),
        "0"
    );

    // A user start counts anew.
    assert_eq!(code(&wharf.run(&["start", "-a", "flaky"])), 1);
    await_inspect(
        &wharf,
        "flaky",
        "{{.State.Status}} {{.RestartCount}}",
        "exited 2",
    );
    assert_eq!(wharf.ok(&["logs", "flaky"]).lines().count(), 6);

    let bad = wharf.run(&["run", "--restart", "sometimes", "busybox", "true"]);
    assert_eq!(code(&bad), 125);
    assert!(
        stderr(&bad).starts_with("error: --restart sometimes: expected no, on-failure[:N], always or unless-stopped\nhint:"),
        "{}",
        stderr(&bad)
    );
    let conflict = wharf.run(&["run", "--rm", "--restart", "always", "busybox", "true"]);
    assert_eq!(code(&conflict), 125);
    assert!(
        stderr(&conflict).contains("conflicts with --rm"),
        "{}",
        stderr(&conflict)
    );
    let ids = container_ids(&wharf);
    wharf.ok(&["rm", "flaky", "fine"]);
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn a_container_stopped_or_killed_by_the_user_is_not_restarted() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // `always`, exiting at once: it spends its time waiting for the next restart.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "looping",
        "--network",
        "none",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "exit 3",
    ]);
    await_inspect(&wharf, "looping", "{{.State.Status}}", "restarting");
    // ps lists a restarting container without -a (awaited: between two restarts it is up
    // for a moment, and ps says so, as Docker's).
    await_ps(
        &wharf,
        &["--format", "{{.Names}} {{.State}}"],
        "looping restarting",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !wharf.ok(&["ps"]).contains("Restarting (3)") {
        assert!(
            std::time::Instant::now() < deadline,
            "ps never said Restarting (3)"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    wharf.ok(&["stop", "looping"]);
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Status}}", "looping"])
            .trim(),
        "exited"
    );

    // `unless-stopped`, killed while it runs.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "server",
        "--network",
        "none",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "1000",
    ]);
    wharf.ok(&["kill", "server"]);
    assert_eq!(wharf.ok(&["wait", "server"]).trim(), "137");
    // `on-failure`, stopped: the stop signal's 143 is a failure, but the user's.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "worker",
        "--network",
        "none",
        "--restart",
        "on-failure",
        "busybox",
        "sleep",
        "1000",
    ]);
    wharf.ok(&["stop", "-t", "1", "worker"]);
    // No monitor is left that could restart any of them.
    let ids = container_ids(&wharf);
    for name in ["looping", "server", "worker"] {
        assert_eq!(
            wharf
                .ok(&["inspect", "-f", "{{.State.Status}}", name])
                .trim(),
            "exited",
            "{name}"
        );
    }
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.RestartCount}}", "server"])
            .trim(),
        "0"
    );
    let root = wharf.path().display().to_string();
    let monitors = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&root))
        })
        .count();
    assert_eq!(monitors, 0, "no monitor is left");

    // Started again by the user, the policy applies again; rm -f ends it for good.
    wharf.ok(&["start", "looping"]);
    await_inspect(&wharf, "looping", "{{.State.Status}}", "restarting");
    wharf.ok(&["rm", "-f", "looping", "server", "worker"]);
    wharf.assert_nothing_leaked(&ids);
}

/// Polls `ps ARGS` (running containers) until it prints `want`.
fn await_ps(wharf: &Wharf, args: &[&str], want: &str) {
    let mut all = vec!["ps"];
    all.extend_from_slice(args);
    await_output(wharf, &all, want);
}

#[test]
fn the_start_interval_probes_often_until_healthy_then_the_interval_takes_over() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    // An hour's interval: only the start interval can make it healthy within the wait.
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "quick",
        "--network",
        "none",
        "--health-cmd",
        "true",
        "--health-interval",
        "1h",
        "--health-start-period",
        "1h",
        "--health-start-interval",
        "50ms",
        "busybox",
        "sleep",
        "1000",
    ]);
    await_ps(
        &wharf,
        &["--filter", "health=healthy", "--format", "{{.Names}}"],
        "quick",
    );
    // Healthy: back to the hour's interval, so no second probe (at 50 ms there would be ~10).
    std::thread::sleep(Duration::from_millis(500));
    let log: Vec<serde_json::Value> =
        serde_json::from_str(&wharf.ok(&["inspect", "-f", "{{json .State.Health.Log}}", "quick"]))
            .unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn healthchecks_turn_healthy_or_unhealthy() {
    let Some(wharf) = wharf_with_busybox() else {
        return;
    };
    let run = |name: &str, health: &[&str]| {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        args.extend_from_slice(health);
        args.extend_from_slice(&["busybox", "sleep", "1000"]);
        wharf.ok(&args);
    };
    run(
        "sick",
        &[
            "--health-cmd",
            "echo bad; false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
        ],
    );
    run("well", &["--health-cmd", "true", "--health-interval", "1s"]);
    run(
        "slow",
        &[
            "--health-cmd",
            "sleep 100",
            "--health-interval",
            "100ms",
            "--health-timeout",
            "200ms",
            "--health-retries",
            "1",
        ],
    );
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{.State.Health.Status}}", "well"])
            .trim(),
        "starting"
    );
    await_ps(
        &wharf,
        &["--filter", "health=unhealthy", "--format", "{{.Names}}"],
        "slow\nsick",
    );
    await_ps(
        &wharf,
        &["--filter", "health=healthy", "--format", "{{.Names}}"],
        "well",
    );
    assert!(wharf
        .ok(&["ps", "--filter", "name=sick"])
        .contains("(unhealthy)"));
    assert!(wharf
        .ok(&["ps", "--filter", "name=well"])
        .contains("(healthy)"));
    let first_log = |name: &str| {
        let log: serde_json::Value =
            serde_json::from_str(&wharf.ok(&["inspect", "-f", "{{json .State.Health.Log}}", name]))
                .unwrap();
        (
            log[0]["ExitCode"].as_i64().unwrap(),
            log[0]["Output"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(first_log("sick"), (1, "bad\n".to_string()));
    assert_eq!(
        first_log("slow"),
        (-1, "Health check exceeded timeout (200ms)".to_string())
    );
    assert_eq!(
        wharf
            .ok(&["inspect", "-f", "{{json .Config.Healthcheck}}", "sick"])
            .trim(),
        r#"{"Test":["CMD-SHELL","echo bad; false"],"Interval":1000000000,"Timeout":0,"StartPeriod":0,"Retries":1}"#
    );

    let bad = wharf.run(&["run", "--health-interval", "5", "busybox", "true"]);
    assert_eq!(code(&bad), 125);
    assert!(
        stderr(&bad).starts_with("error: --health-interval 5: `5` is not a duration"),
        "{}",
        stderr(&bad)
    );
    let ids = container_ids(&wharf);
    wharf.ok(&["rm", "-f", "sick", "well", "slow"]);
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn the_image_healthcheck_runs_unless_disabled() {
    if !common::is_root() {
        common::skip("containers need root");
        return;
    }
    let wharf = Wharf::isolated();
    let (rootfs, _) = common::fixture("busybox");
    let layer = std::fs::read(rootfs).unwrap();
    let archive = common::docker_save_archive(
        &[layer],
        r#","Env":["PATH=/bin"],"Healthcheck":{"Test":["CMD-SHELL","test -e /tmp/ready"],"Interval":100000000,"Retries":1}"#,
        Some("checked:1"),
    );
    let loaded = wharf.run_with_stdin(&["load"], &archive);
    common::assert_success(&loaded, &["load"]);
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "app",
        "--network",
        "none",
        "checked:1",
        "sleep",
        "1000",
    ]);
    await_inspect(&wharf, "app", "{{.State.Health.Status}}", "unhealthy");
    // The probe runs in the container: a file made there makes it healthy.
    wharf.ok(&["exec", "app", "touch", "/tmp/ready"]);
    await_inspect(
        &wharf,
        "app",
        "{{.State.Health.Status}} {{.State.Health.FailingStreak}}",
        "healthy 0",
    );

    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "unchecked",
        "--network",
        "none",
        "--no-healthcheck",
        "checked:1",
        "sleep",
        "1000",
    ]);
    let state: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["inspect", "-f", "{{json .State}}", "unchecked"]))
            .unwrap();
    assert!(state.get("Health").is_none(), "{state}");
    await_ps(
        &wharf,
        &["--filter", "health=none", "--format", "{{.Names}}"],
        "unchecked",
    );
    let ids = container_ids(&wharf);
    wharf.ok(&["rm", "-f", "app", "unchecked"]);
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn an_unknown_flag_before_the_image_is_named_not_pulled() {
    let wharf = Wharf::new();
    for command in ["run", "create"] {
        let output = wharf.run(&[command, "--group-ad", "10", "busybox", "true"]);
        assert_eq!(code(&output), 125);
        let stderr = stderr(&output);
        assert!(
            stderr.starts_with("error: unknown flag: --group-ad\nhint: "),
            "{stderr}"
        );
    }
    // After the image, a dash word is the command's own.
    let output = wharf.run(&[
        "run",
        "--rm",
        "--pull",
        "never",
        "nosuchimage:x",
        "--group-ad",
    ]);
    assert!(
        !stderr(&output).contains("unknown flag"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn removing_containers_in_the_middle_of_their_probes_leaves_no_cgroup() {
    if !common::is_root() {
        common::skip("containers need root");
        return;
    }
    let wharf = Wharf::isolated();
    wharf.import_busybox();
    // Probes start every 10 ms: the removal finds one starting, running or timing out.
    for round in 0..3 {
        let names: Vec<String> = (0..4).map(|i| format!("probed{round}{i}")).collect();
        for name in &names {
            wharf.ok(&[
                "run",
                "-d",
                "--name",
                name,
                "--network",
                "none",
                "--health-cmd",
                "sleep 1",
                "--health-interval",
                "10ms",
                "--health-timeout",
                "20ms",
                "busybox",
                "sleep",
                "1000",
            ]);
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
        let ids = container_ids(&wharf);
        let mut args = vec!["rm", "-f"];
        args.extend(names.iter().map(String::as_str));
        wharf.ok(&args);
        wharf.assert_nothing_leaked(&ids);
    }
}
