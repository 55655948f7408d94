//! Networks end to end: user networks with name resolution and aliases, internal networks,
//! isolation between networks, published ports on the host's loopback, the `network`
//! commands, `port`, and that nothing (veth, firewall rule, lease, DNS helper) outlives its
//! container or network, even after a monitor is killed.
//!
//! Each test's wharf runs in a network namespace of its own that plays the host (see
//! `common::TestNetns`), with no route out: all traffic goes to loopback or to the bridges
//! and containers the test makes. Servers are `python3 -m http.server` from the python
//! fixture; clients are busybox `wget` (without `-T`, which crashes the static busybox;
//! `timeout` bounds the calls that must fail) and the host's `curl` and python `urllib`.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Wharf;

/// A test's wharf with busybox and python (with `EXPOSE 8000`) imported, or `None` (after
/// printing SKIPPED) when networks cannot be tested here.
fn setup() -> Option<Wharf> {
    if !common::is_root() {
        common::skip("networks need root (CAP_NET_ADMIN)");
        return None;
    }
    for (tool, package) in [
        ("nft", "nftables"),
        ("ip", "iproute2"),
        ("nsenter", "util-linux"),
        ("curl", "curl"),
        ("python3", "python3"),
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            common::skip(&format!("`{tool}` is missing (apt-get install {package})"));
            return None;
        }
    }
    let wharf = Wharf::isolated();
    if wharf.netns.is_none() {
        common::skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    wharf.import_busybox();
    let (tar, changes) = common::fixture("python-3.11-slim");
    let mut args: Vec<String> = vec!["import".into()];
    for change in changes
        .into_iter()
        .chain(std::iter::once("EXPOSE 8000".to_string()))
    {
        args.push("--change".into());
        args.push(change);
    }
    args.push(tar.display().to_string());
    args.push("python:3.11-slim".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wharf.ok(&args);
    Some(wharf)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

/// Starts `python3 -m http.server 8000` serving `marker` as `/`, detached, with the extra
/// flags (`--network ...`), and waits until it listens. Returns the container id.
fn serve(wharf: &Wharf, name: &str, flags: &[&str], marker: &str) -> String {
    let script = format!(
        "mkdir -p /srv && echo {marker} > /srv/index.html && cd /srv && exec python3 -u -m http.server 8000"
    );
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["python:3.11-slim", "sh", "-c", &script]);
    let id = wharf.ok(&args).trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if wharf.ok(&["logs", name]).contains("Serving HTTP") {
            return id;
        }
        assert!(
            Instant::now() < deadline,
            "server {name} did not start: {}",
            wharf.ok(&["ps", "-a"])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `busybox sh -c script` in a new container with the extra flags.
fn busybox(wharf: &Wharf, flags: &[&str], script: &str) -> Output {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    wharf.run(&args)
}

/// What `wget -qO- url` prints in a busybox container, or its error.
fn fetch(wharf: &Wharf, flags: &[&str], url: &str) -> Result<String, String> {
    // Not the container's pid 1, which would ignore timeout's signal.
    let output = busybox(wharf, flags, &format!("timeout 3 wget -qO- {url}; exit $?"));
    if output.status.success() {
        Ok(common::stdout(&output))
    } else {
        Err(stderr(&output))
    }
}

fn inspect(wharf: &Wharf, name: &str, template: &str) -> String {
    wharf
        .ok(&["inspect", "-f", template, name])
        .trim()
        .to_string()
}

/// A TCP port that nothing uses in the test's host namespace.
fn free_port(wharf: &Wharf) -> u16 {
    let output = wharf
        .host_command("python3")
        .args([
            "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
        ])
        .output()
        .unwrap();
    common::stdout(&output).trim().parse().unwrap()
}

/// `curl` from the test's host to `url` (loopback only).
fn curl(wharf: &Wharf, url: &str) -> String {
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let output = wharf
        .host_command("curl")
        .args(["-sS", "--max-time", "5", url])
        .output()
        .unwrap();
    common::assert_success(&output, &["curl", url]);
    common::stdout(&output)
}

/// `wharf ARGS` with another state root, `root`, in this test's host namespace; must succeed.
fn ok_in_root(wharf: &Wharf, root: &std::path::Path, args: &[&str]) {
    let output = wharf
        .host_command(env!("CARGO_BIN_EXE_wharf"))
        .args(args)
        .env("WHARF_ROOT", root)
        .env("WHARF_RUN", root.join("run"))
        .output()
        .unwrap();
    common::assert_success(&output, args);
}

/// The bridge of user network `name` on the host: `wh-<first 12 digits of its id>`.
fn bridge_of(wharf: &Wharf, name: &str) -> String {
    let id = wharf.ok(&["network", "inspect", "-f", "{{.Id}}", name]);
    format!("wh-{}", &id.trim()[..12])
}

/// Processes started with this test's root (monitors, DNS helpers).
fn processes_of(wharf: &Wharf, needle: &str) -> Vec<String> {
    let root = wharf.path().display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&root) && c.contains(needle))
        .collect()
}

#[test]
fn containers_find_each_other_by_name_and_alias_on_a_user_network() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "app"]);
    wharf.ok(&["network", "create", "other"]);
    let server = serve(
        &wharf,
        "srv",
        &["--network", "app", "--network-alias", "api"],
        "hello-from-srv",
    );
    let on_app = ["--network", "app"];
    assert_eq!(
        fetch(&wharf, &on_app, "http://srv:8000/").unwrap(),
        "hello-from-srv\n"
    );
    assert_eq!(
        fetch(&wharf, &on_app, "http://api:8000/").unwrap(),
        "hello-from-srv\n"
    );
    assert_eq!(
        fetch(&wharf, &on_app, &format!("http://{}:8000/", &server[..12])).unwrap(),
        "hello-from-srv\n"
    );
    // The container's own files: its address in /etc/hosts, the network's DNS in resolv.conf.
    let ip = inspect(&wharf, "srv", "{{.NetworkSettings.Networks.app.IPAddress}}");
    let gateway = inspect(&wharf, "srv", "{{.NetworkSettings.Networks.app.Gateway}}");
    assert!(ip.starts_with("172.") || ip.starts_with("192.168."), "{ip}");
    assert_eq!(
        inspect(
            &wharf,
            "srv",
            "{{json .NetworkSettings.Networks.app.Aliases}}"
        ),
        r#"["api"]"#
    );
    let files = busybox(&wharf, &on_app, "cat /etc/resolv.conf");
    assert!(
        common::stdout(&files).starts_with(&format!("nameserver {gateway}\n")),
        "{}",
        common::stdout(&files)
    );
    assert_eq!(
        wharf
            .ok(&["ps", "--format", "{{.Names}} {{.Networks}}"])
            .trim(),
        "srv app"
    );

    // Another network can neither resolve nor reach it.
    let on_other = ["--network", "other"];
    let unresolved = fetch(&wharf, &on_other, "http://srv:8000/").unwrap_err();
    assert!(unresolved.contains("bad address"), "{unresolved}");
    assert!(fetch(&wharf, &on_other, &format!("http://{ip}:8000/")).is_err());
    // Nor can the default bridge reach it.
    assert!(fetch(&wharf, &[], &format!("http://{ip}:8000/")).is_err());

    // One DNS helper per user network, gone with its network.
    assert_eq!(processes_of(&wharf, "__dns").len(), 2);
    wharf.ok(&["rm", "-f", "srv"]);
    wharf.ok(&["network", "rm", "app", "other"]);
    assert_eq!(processes_of(&wharf, "__dns"), Vec::<String>::new());
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[server]);
}

#[test]
fn an_internal_network_talks_inside_but_not_out() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "--internal", "inside"]);
    wharf.ok(&["network", "create", "public"]);
    let inner = serve(&wharf, "inner", &["--network", "inside"], "inner-page");
    let outer = serve(&wharf, "outer", &["--network", "public"], "outer-page");
    let outer_ip = inspect(
        &wharf,
        "outer",
        "{{.NetworkSettings.Networks.public.IPAddress}}",
    );
    let inside = ["--network", "inside"];
    assert_eq!(
        fetch(&wharf, &inside, "http://inner:8000/").unwrap(),
        "inner-page\n"
    );
    // No route out of an internal network, and its DNS knows only its own containers.
    let unreachable = fetch(&wharf, &inside, &format!("http://{outer_ip}:8000/")).unwrap_err();
    assert!(unreachable.contains("unreachable"), "{unreachable}");
    let unresolved = fetch(&wharf, &inside, "http://outer:8000/").unwrap_err();
    assert!(unresolved.contains("bad address"), "{unresolved}");
    // Internal networks publish no ports.
    let refused = wharf.run(&[
        "run",
        "--rm",
        "--network",
        "inside",
        "-p",
        "8000",
        "busybox",
        "true",
    ]);
    assert_eq!(code(&refused), 125);
    assert!(
        stderr(&refused).contains("cannot publish ports on network inside: it is internal"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        wharf
            .ok(&["network", "inspect", "-f", "{{.Internal}}", "inside"])
            .trim(),
        "true"
    );
    wharf.ok(&["rm", "-f", "inner", "outer"]);
    wharf.ok(&["network", "rm", "inside", "public"]);
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[inner, outer]);
}

#[test]
fn published_ports_answer_on_the_hosts_loopback() {
    let Some(wharf) = setup() else {
        return;
    };
    let port = free_port(&wharf);
    let published = format!("{port}:8000");
    let web = serve(&wharf, "web", &["-p", &published], "published-page");
    let url = format!("http://127.0.0.1:{port}/");
    assert_eq!(curl(&wharf, &url), "published-page\n");
    let urllib = wharf
        .host_command("python3")
        .args([
            "-c",
            "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end='')",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(
        common::stdout(&urllib),
        "published-page\n",
        "{}",
        stderr(&urllib)
    );
    assert_eq!(
        wharf.ok(&["port", "web"]),
        format!("8000/tcp -> 0.0.0.0:{port}\n")
    );
    assert_eq!(
        wharf.ok(&["port", "web", "8000/tcp"]),
        format!("0.0.0.0:{port}\n")
    );
    let missing = wharf.run(&["port", "web", "9000"]);
    assert!(
        stderr(&missing).contains("no public port 9000/tcp published for container web"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        wharf.ok(&["ps", "--format", "{{.Ports}}"]).trim(),
        format!("0.0.0.0:{port}->8000/tcp")
    );
    assert_eq!(
        inspect(&wharf, "web", "{{json .NetworkSettings.Ports}}"),
        format!(r#"{{"8000/tcp":[{{"HostIp":"0.0.0.0","HostPort":"{port}"}}]}}"#)
    );
    assert_eq!(
        inspect(&wharf, "web", "{{json .HostConfig.PortBindings}}"),
        format!(r#"{{"8000/tcp":[{{"HostIp":"","HostPort":"{port}"}}]}}"#)
    );

    // The same host port again: refused, naming the port and its holder.
    let conflict = wharf.run(&[
        "run", "-d", "--name", "late", "-p", &published, "busybox", "sleep", "60",
    ]);
    assert_eq!(code(&conflict), 125);
    assert!(
        stderr(&conflict).contains(&format!(
            "port 0.0.0.0:{port}/tcp is already allocated to container web"
        )) && stderr(&conflict).contains("hint:"),
        "{}",
        stderr(&conflict)
    );
    assert!(inspect(&wharf, "late", "{{.State.Error}}").contains(&format!("{port}")));
    // A host process holding the port is named too.
    let mut holder = wharf
        .host_command("python3")
        .args([
            "-c",
            "import socket, sys, time; s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let held = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(holder.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().to_string()
    };
    let busy = wharf.run(&[
        "run",
        "--rm",
        "-p",
        &format!("{held}:80"),
        "busybox",
        "true",
    ]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code(&busy), 125);
    assert!(
        stderr(&busy).contains(&format!(
            "port 0.0.0.0:{held}/tcp is already in use on the host by process {} (python",
            holder.id()
        )),
        "{}",
        stderr(&busy)
    );

    // -P: every exposed port on a free host port.
    let all = serve(&wharf, "all", &["-P"], "all-page");
    let mapped = wharf.ok(&["port", "all", "8000"]);
    let all_port = mapped.trim().rsplit(':').next().unwrap().to_string();
    assert_eq!(
        curl(&wharf, &format!("http://127.0.0.1:{all_port}/")),
        "all-page\n"
    );
    assert_eq!(
        inspect(&wharf, "all", "{{.HostConfig.PublishAllPorts}}"),
        "true"
    );

    wharf.ok(&["rm", "-f", "web", "late", "all"]);
    wharf.assert_no_network_leftovers();
    let refused = wharf
        .host_command("curl")
        .args(["-sS", "--max-time", "2", &url])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "the port still answers");
    wharf.assert_nothing_leaked(&[web, all]);
}

/// A client that connects to `127.0.0.1:port` over and over (1 s timeout each) until
/// `stop` exists (saying `ready` after the first), then prints how many attempts connected, were refused and timed out.
const CONNECT_LOOP: &str = r#"
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
counts = {"connected": 0, "refused": 0, "reset": 0, "timeout": 0, "other": 0}
last = None
while not os.path.exists(stop):
    s = socket.socket()
    s.settimeout(1)
    start = time.monotonic()
    try:
        s.connect(("127.0.0.1", port))
        outcome = "connected"
    except ConnectionRefusedError:
        outcome = "refused"
    except ConnectionResetError:
        # The old server's kernel completed the handshake and its end reset the connection
        # before connect() returned: an answer at once, like refused.
        outcome = "reset"
    except socket.timeout:
        outcome = "timeout"
    except OSError as error:
        outcome = "other"
        print(error, file=sys.stderr)
    finally:
        local = s.getsockname()[1]
        s.close()
    counts[outcome] += 1
    if outcome != last:
        print(f"{start:.3f} {outcome} from port {local}", file=sys.stderr)
        last = outcome
    if sum(counts.values()) == 1:
        print("ready", flush=True)
    time.sleep(0.002)
print(" ".join(f"{k}={v}" for k, v in counts.items()))
"#;

/// Waits until container `web` has said `listening` `times` times (once per start).
fn await_listening(wharf: &Wharf, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while wharf.ok(&["logs", "web"]).matches("listening").count() < times {
        assert!(Instant::now() < deadline, "web did not listen again");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_published_port_refuses_at_once_while_its_container_restarts() {
    let Some(wharf) = setup() else {
        return;
    };
    let port = free_port(&wharf);
    // Accepts and closes, with a long queue: a full one would drop SYNs too.
    let server = "import socket\n\
                  s = socket.socket()\n\
                  s.bind(('0.0.0.0', 8000))\n\
                  s.listen(4096)\n\
                  print('listening', flush=True)\n\
                  while True:\n    s.accept()[0].close()";
    let published = format!("{port}:8000");
    let web = wharf.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &published,
        "python:3.11-slim",
        "python3",
        "-c",
        server,
    ]);
    let web = web.trim().to_string();
    await_listening(&wharf, 1);
    let stop = wharf.root.path().join("stop-connecting");
    let mut client = wharf
        .host_command("python3")
        .args(["-c", CONNECT_LOOP, &port.to_string()])
        .arg(&stop)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(client.stdout.take().unwrap());
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut out, &mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    // Each restart: the old server ends, its container goes, a new one starts and its
    // server starts listening; in between the client must hear "refused", never nothing.
    for round in 1..=3 {
        wharf.ok(&["restart", "-t", "0", "web"]);
        await_listening(&wharf, round + 1);
    }
    // And a container that is not running: refused too.
    wharf.ok(&["stop", "-t", "0", "web"]);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&stop, "").unwrap();
    let mut counts = String::new();
    std::io::Read::read_to_string(&mut out, &mut counts).unwrap();
    let output = client.wait_with_output().unwrap();
    let count = |outcome: &str| -> u32 {
        counts
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(&format!("{outcome}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {outcome} in {counts:?}: {}", stderr(&output)))
    };
    assert_eq!(count("timeout"), 0, "{counts} {}", stderr(&output));
    assert_eq!(count("other"), 0, "{counts} {}", stderr(&output));
    assert!(count("connected") > 0 && count("refused") > 0, "{counts}");

    wharf.ok(&["rm", "-f", "web"]);
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[web]);
}

#[test]
fn network_commands_create_list_inspect_remove_prune() {
    let Some(wharf) = setup() else {
        return;
    };
    let id = wharf
        .ok(&[
            "network",
            "create",
            "--subnet",
            "10.123.0.0/24",
            "--gateway",
            "10.123.0.254",
            "--label",
            "team=web",
            "front",
        ])
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    wharf.ok(&["network", "create", "--driver", "bridge", "spare"]);
    let listed = wharf.ok(&["network", "ls"]);
    let mut lines = listed.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    );
    let names: Vec<&str> = lines
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(names, ["bridge", "front", "host", "none", "spare"]);
    assert_eq!(
        wharf
            .ok(&["network", "ls", "-q", "--filter", "name=fro"])
            .trim(),
        &id[..12]
    );
    assert_eq!(
        wharf.ok(&[
            "network",
            "ls",
            "--filter",
            "label=team=web",
            "--format",
            "{{.Name}} {{.Driver}}"
        ]),
        "front bridge\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["network", "inspect", "front"])).unwrap();
    let network = &json[0];
    assert_eq!(network["Name"], "front");
    assert_eq!(network["Id"], id.as_str());
    assert_eq!(network["Driver"], "bridge");
    assert_eq!(network["Scope"], "local");
    assert_eq!(network["Internal"], false);
    assert_eq!(network["IPAM"]["Config"][0]["Subnet"], "10.123.0.0/24");
    assert_eq!(network["IPAM"]["Config"][0]["Gateway"], "10.123.0.254");
    assert_eq!(network["Labels"]["team"], "web");

    // Errors name the object and say what to do.
    let exists = wharf.run(&["network", "create", "front"]);
    assert!(
        stderr(&exists).contains("error: network with name front already exists")
            && stderr(&exists).contains("hint:"),
        "{}",
        stderr(&exists)
    );
    let overlap = wharf.run(&["network", "create", "--subnet", "10.123.0.0/16", "dup"]);
    assert!(
        stderr(&overlap).contains("overlaps with network front"),
        "{}",
        stderr(&overlap)
    );
    let driver = wharf.run(&["network", "create", "--driver", "overlay", "x"]);
    assert!(stderr(&driver).contains("\"overlay\" is not supported"));
    let missing = wharf.run(&["network", "inspect", "nope"]);
    assert!(
        stderr(&missing).contains("error: network nope not found")
            && stderr(&missing).contains("hint: `wharf network ls`"),
        "{}",
        stderr(&missing)
    );

    // A network that a container names is kept, running or not.
    wharf.ok(&[
        "create",
        "--name",
        "user",
        "--network",
        "front",
        "--ip",
        "10.123.0.7",
        "busybox",
        "true",
    ]);
    let busy = wharf.run(&["network", "rm", "front"]);
    assert!(
        stderr(&busy).contains("error: network front is used by container: user")
            && stderr(&busy).contains("hint:"),
        "{}",
        stderr(&busy)
    );
    let builtin = wharf.run(&["network", "rm", "bridge"]);
    assert!(stderr(&builtin).contains("network bridge is pre-defined"));
    assert_eq!(code(&wharf.run(&["start", "-a", "user"])), 0);
    // The static address was used, and released when the container ended.
    assert_eq!(
        wharf
            .ok(&["network", "inspect", "-f", "{{json .Containers}}", "front"])
            .trim(),
        "{}"
    );
    wharf.ok(&["network", "prune", "-f"]);
    assert_eq!(
        wharf.ok(&[
            "network",
            "ls",
            "--filter",
            "type=custom",
            "--format",
            "{{.Name}}"
        ]),
        "front\n"
    );
    wharf.ok(&["rm", "user"]);
    wharf.ok(&["network", "rm", "front"]);
    wharf.ok(&["network", "rm", "-f", "front"]);
    assert_eq!(
        wharf.ok(&["network", "ls", "--filter", "type=custom", "-q"]),
        ""
    );
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn connect_and_disconnect_a_running_container() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "first"]);
    wharf.ok(&["network", "create", "second"]);
    let server = serve(&wharf, "srv2", &["--network", "second"], "second-page");
    let server_ip = inspect(
        &wharf,
        "srv2",
        "{{.NetworkSettings.Networks.second.IPAddress}}",
    );
    // Waits for its second interface, then fetches from the server on the other network.
    let script = format!(
        "while ! ip addr show eth1 >/dev/null 2>&1; do sleep 0.05; done; wget -qO- http://{server_ip}:8000/; sleep 60"
    );
    let client = wharf
        .ok(&[
            "run",
            "-d",
            "--name",
            "client",
            "--network",
            "first",
            "busybox",
            "sh",
            "-c",
            &script,
        ])
        .trim()
        .to_string();
    wharf.ok(&["network", "connect", "--alias", "cli", "second", "client"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !wharf.ok(&["logs", "client"]).contains("second-page") {
        assert!(Instant::now() < deadline, "client never reached srv2");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!inspect(
        &wharf,
        "client",
        "{{.NetworkSettings.Networks.second.IPAddress}}"
    )
    .is_empty());
    // Its name and alias resolve on the second network now.
    let ip = inspect(
        &wharf,
        "client",
        "{{.NetworkSettings.Networks.second.IPAddress}}",
    );
    let lookup = busybox(
        &wharf,
        &["--network", "second"],
        "nslookup cli; nslookup client",
    );
    assert_eq!(
        common::stdout(&lookup)
            .matches(&format!("Address: {ip}"))
            .count(),
        2,
        "{}",
        common::stdout(&lookup)
    );
    let again = wharf.run(&["network", "connect", "second", "client"]);
    assert!(
        stderr(&again).contains("container client is already connected to network second"),
        "{}",
        stderr(&again)
    );
    wharf.ok(&["network", "disconnect", "second", "client"]);
    assert!(!inspect(&wharf, "client", "{{json .NetworkSettings.Networks}}").contains("second"));
    let gone = wharf.run(&["network", "disconnect", "second", "client"]);
    assert!(stderr(&gone).contains("is not connected to network second"));
    let host = wharf.run(&[
        "run",
        "-d",
        "--name",
        "hosted",
        "--network",
        "host",
        "busybox",
        "sleep",
        "60",
    ]);
    common::assert_success(&host, &["run hosted"]);
    let refused = wharf.run(&["network", "connect", "second", "hosted"]);
    assert!(
        stderr(&refused).contains("cannot join or leave networks while on --network host"),
        "{}",
        stderr(&refused)
    );
    wharf.ok(&["rm", "-f", "client", "srv2", "hosted"]);
    wharf.ok(&["network", "rm", "first", "second"]);
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[client, server]);
}

#[test]
fn a_killed_monitor_leaves_no_network_behind() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "crash"]);
    let port = free_port(&wharf);
    let id = wharf
        .ok(&[
            "run",
            "-d",
            "--network",
            "crash",
            "-p",
            &format!("{port}:80"),
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    let netns = wharf.netns.as_ref().unwrap();
    assert_eq!(wharf_veths(&wharf).len(), 1);
    // `run -d` returns once the container is started; its init may still carry the
    // monitor's command line for a moment, until it has exec'd the container's command.
    let mut monitor = processes_of(&wharf, "__monitor");
    for _ in 0..50 {
        if monitor.len() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        monitor = processes_of(&wharf, "__monitor");
    }
    assert_eq!(monitor.len(), 1, "{monitor:?}");
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .find(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains(&wharf.path().display().to_string()) && c.contains("__monitor")
            })
        })
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    Command::new("kill").args(["-9", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // The next command sees it, and releases the address, the port and the veth.
    assert_eq!(
        wharf.ok(&["ps", "-a", "--format", "{{.State}}"]).trim(),
        "exited"
    );
    wharf.assert_no_network_leftovers();

    // A stray veth of this root (a crash between creating it and saving the state: it is in
    // the group of the root's interfaces, like the network's bridge) is repaired.
    let ip = |args: &[&str]| {
        let mut all = vec!["-n", netns.name.as_str()];
        all.extend_from_slice(args);
        let output = Command::new("ip").args(&all).output().unwrap();
        common::assert_success(&output, &all);
        common::stdout(&output)
    };
    let bridges = ip(&["-o", "link", "show", "dev", &bridge_of(&wharf, "crash")]);
    let group = bridges
        .split_whitespace()
        .skip_while(|word| *word != "group")
        .nth(1)
        .unwrap_or_else(|| panic!("no group in {bridges}"))
        .to_owned();
    assert_ne!(group, "default", "{bridges}");
    ip(&[
        "link",
        "add",
        "wv0123456789ab",
        "group",
        &group,
        "type",
        "veth",
        "peer",
        "name",
        "strayp",
    ]);
    // Another root's, or anybody's, is not this root's to remove.
    ip(&[
        "link",
        "add",
        "wvfedcba987654",
        "type",
        "veth",
        "peer",
        "name",
        "otherp",
    ]);
    let repaired = wharf.ok(&["system", "check", "--repair"]);
    assert!(
        repaired.contains("removed stray interface wv0123456789ab"),
        "{repaired}"
    );
    assert!(!repaired.contains("wvfedcba987654"), "{repaired}");
    let veths = wharf_veths(&wharf);
    assert!(veths.iter().any(|v| v == "wvfedcba987654"), "{veths:?}");
    ip(&["link", "del", "wvfedcba987654"]);
    assert_eq!(wharf_veths(&wharf), Vec::<String>::new());
    wharf.ok(&["rm", &id]);
    wharf.ok(&["network", "rm", "crash"]);
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[id]);
}

#[test]
fn network_flags_are_checked_and_errors_name_them() {
    let Some(wharf) = setup() else {
        return;
    };
    let cases: [(&[&str], &str); 7] = [
        (
            &["-p", "80/icmp"],
            "error: --publish 80/icmp: invalid proto: icmp",
        ),
        (
            &["-p", "x:80"],
            "error: --publish x:80: invalid hostPort: x",
        ),
        (&["--network", "nope"], "error: network nope not found"),
        (
            &["--network", "none", "-p", "80"],
            "ports cannot be published with --network none",
        ),
        (
            &["--ip", "172.17.0.9"],
            "user specified IP address is supported on user defined networks only",
        ),
        (
            &["--network-alias", "x"],
            "--network-alias x: network-scoped aliases need a user-defined network",
        ),
        (
            &["--add-host", "nohost"],
            "error: --add-host nohost: expected NAME:IP",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "true"]);
        let output = wharf.run(&args);
        assert_eq!(code(&output), 125, "{flags:?}");
        assert!(
            stderr(&output).contains(message),
            "{flags:?}: {}",
            stderr(&output)
        );
    }
    // --add-host and --dns reach the container's files.
    let files = busybox(
        &wharf,
        &[
            "--add-host",
            "db:10.9.8.7",
            "--add-host",
            "gw:host-gateway",
            "--dns",
            "10.1.1.1",
        ],
        "cat /etc/hosts /etc/resolv.conf",
    );
    let text = common::stdout(&files);
    let gateway = wharf.ok(&[
        "network",
        "inspect",
        "-f",
        "{{json .IPAM.Config}}",
        "bridge",
    ]);
    let gateway: serde_json::Value = serde_json::from_str(&gateway).unwrap();
    assert!(text.contains("10.9.8.7\tdb\n"), "{text}");
    assert!(
        text.contains(&format!(
            "{}\tgw\n",
            gateway[0]["Gateway"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(text.contains("nameserver 10.1.1.1\n"), "{text}");
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn a_container_joins_another_containers_network() {
    let Some(wharf) = setup() else {
        return;
    };
    // The owner serves on its loopback only: only its own network namespace reaches it.
    let script = "mkdir -p /srv && echo shared-lo > /srv/index.html && cd /srv && exec python3 -u -m http.server --bind 127.0.0.1 8000";
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "owner",
        "--hostname",
        "ownerhost",
        "python:3.11-slim",
        "sh",
        "-c",
        script,
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !wharf.ok(&["logs", "owner"]).contains("Serving HTTP") {
        assert!(
            Instant::now() < deadline,
            "the owner's server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        fetch(
            &wharf,
            &["--network", "container:owner"],
            "http://127.0.0.1:8000/"
        )
        .as_deref(),
        Ok("shared-lo\n"),
        "the joined container shares the owner's localhost"
    );
    assert!(
        fetch(&wharf, &[], "http://127.0.0.1:8000/").is_err(),
        "a container on the bridge has a localhost of its own"
    );
    // Same interfaces, hostname and name files as the owner.
    let owner_id = inspect(&wharf, "owner", "{{.Id}}");
    let joined = busybox(
        &wharf,
        &["--network", &format!("container:{}", &owner_id[..12])],
        "hostname; echo $HOSTNAME; ip -o -4 addr show eth0 | awk '{print $4}'; cat /sys/class/net/eth0/address /etc/resolv.conf",
    );
    common::assert_success(&joined, &["run --network container:ID"]);
    let owner_ip = inspect(&wharf, "owner", "{{.NetworkSettings.IPAddress}}");
    let lines: Vec<String> = common::stdout(&joined)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines[..2], ["ownerhost", "ownerhost"], "{lines:?}");
    assert!(lines[2].starts_with(&format!("{owner_ip}/")), "{lines:?}");
    // The MAC is Docker's 02:42 and the address's bytes, in inspect and on eth0.
    let octets: Vec<u8> = owner_ip.split('.').map(|o| o.parse().unwrap()).collect();
    let mac = format!(
        "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
        octets[0], octets[1], octets[2], octets[3]
    );
    assert_eq!(lines[3], mac);
    assert_eq!(
        inspect(&wharf, "owner", "{{.NetworkSettings.MacAddress}}"),
        mac
    );
    assert_eq!(
        inspect(
            &wharf,
            "owner",
            "{{.NetworkSettings.Networks.bridge.MacAddress}}"
        ),
        mac
    );
    let owner_resolv = wharf.ok(&["exec", "owner", "cat", "/etc/resolv.conf"]);
    assert_eq!(lines[4..].join("\n") + "\n", owner_resolv);

    // Docker's mode text and refusals.
    let id = wharf.ok(&["create", "--network", "container:owner", "busybox", "true"]);
    assert_eq!(
        inspect(&wharf, id.trim(), "{{.HostConfig.NetworkMode}}"),
        format!("container:{owner_id}")
    );
    for (flags, named) in [
        (&["-p", "8080:80"][..], "--publish"),
        (&["--hostname", "x"][..], "--hostname"),
        (&["--dns", "1.1.1.1"][..], "--dns"),
        (&["--add-host", "a:1.2.3.4"][..], "--add-host"),
    ] {
        let mut args = vec!["run", "--rm", "--network", "container:owner"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "true"]);
        let refused = wharf.fails(&args);
        assert!(
            refused.starts_with(&format!("error: {named}"))
                && refused.contains("conflicting options"),
            "{refused}"
        );
    }
    assert!(wharf
        .fails(&[
            "run",
            "--rm",
            "--network",
            "container:nobody",
            "busybox",
            "true"
        ])
        .contains("no such container: nobody"));
    wharf.ok(&["stop", "owner"]);
    let stopped = wharf.run(&[
        "run",
        "--rm",
        "--network",
        "container:owner",
        "busybox",
        "true",
    ]);
    assert_eq!(code(&stopped), 125);
    assert!(
        stderr(&stopped).contains("not running"),
        "{}",
        stderr(&stopped)
    );
    wharf.ok(&["rm", "owner", id.trim()]);
    wharf.assert_no_network_leftovers();
}

/// A container's networks are joined all or none: when its second network fails (the
/// static address is taken), the start fails naming the address and leaves nothing on the
/// first network (no lease, no veth); once the address is free it starts on both.
#[test]
fn a_start_whose_second_network_fails_leaves_nothing_on_the_first() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "first"]);
    wharf.ok(&["network", "create", "--subnet", "10.124.0.0/24", "second"]);
    let sleeper = |name: &str, network: &str, ip: Option<&str>| {
        let mut args = vec!["create", "--name", name, "--network", network];
        if let Some(ip) = ip {
            args.extend(["--ip", ip]);
        }
        args.extend(["busybox", "sleep", "100"]);
        wharf.ok(&args);
    };
    sleeper("holder", "second", Some("10.124.0.9"));
    wharf.ok(&["start", "holder"]);
    sleeper("late", "first", None);
    wharf.ok(&["network", "connect", "--ip", "10.124.0.9", "second", "late"]);
    let veths_before = wharf_veths(&wharf);

    let refused = wharf.run(&["start", "late"]);
    assert_ne!(code(&refused), 0);
    assert!(
        stderr(&refused).contains("10.124.0.9"),
        "{}",
        stderr(&refused)
    );
    for network in ["first", "second"] {
        let containers = wharf.ok(&["network", "inspect", "-f", "{{json .Containers}}", network]);
        assert!(!containers.contains("\"late\""), "{network}: {containers}");
    }
    assert_eq!(wharf_veths(&wharf), veths_before);

    wharf.ok(&["rm", "-f", "holder"]);
    wharf.ok(&["start", "late"]);
    let addresses = inspect(
        &wharf,
        "late",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
    );
    let addresses: Vec<&str> = addresses.split_whitespace().collect();
    assert_eq!(addresses.len(), 2, "{addresses:?}");
    assert!(addresses.contains(&"10.124.0.9"), "{addresses:?}");
    wharf.ok(&["rm", "-f", "late"]);
}

/// The names of the veths in the test's network namespace.
fn wharf_veths(wharf: &Wharf) -> Vec<String> {
    let netns = wharf.netns.as_ref().expect("an isolated wharf");
    let output = Command::new("ip")
        .args(["-n", &netns.name, "-o", "link", "show", "type", "veth"])
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn network_inspect_shows_each_containers_mac_address() {
    let Some(wharf) = setup() else {
        return;
    };
    wharf.ok(&["network", "create", "macs"]);
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "mac",
        "--network",
        "macs",
        "busybox",
        "sleep",
        "1000",
    ]);
    let inside = wharf.ok(&["exec", "mac", "cat", "/sys/class/net/eth0/address"]);
    let containers: serde_json::Value = serde_json::from_str(&wharf.ok(&[
        "network",
        "inspect",
        "-f",
        "{{json .Containers}}",
        "macs",
    ]))
    .unwrap();
    let endpoint = containers.as_object().unwrap().values().next().unwrap();
    assert_eq!(endpoint["Name"], "mac");
    assert_eq!(endpoint["MacAddress"], inside.trim());
    wharf.ok(&["rm", "-f", "mac"]);
    wharf.ok(&["network", "rm", "macs"]);
    wharf.assert_no_network_leftovers();
}

// ---- Beside a running dockerd: its FORWARD policy is DROP and br_netfilter is on.

/// The test's host address towards [`Upstream`], and the upstream host's (TEST-NET-1, only
/// ever in namespaces the test makes).
const HOST_ADDRESS: &str = "192.0.2.1";
const UPSTREAM_ADDRESS: &str = "192.0.2.2";

/// A second host joined to the test's host by a veth pair, with the test host's default
/// route through it: the outside world, as far as the containers are concerned. It serves
/// `upstream-page` on port 8080 over HTTP.
struct Upstream {
    netns: common::TestNetns,
    server: std::process::Child,
    /// The test host's namespace, where `up0` is.
    host: String,
}

impl Upstream {
    fn join(wharf: &Wharf) -> Upstream {
        let netns = common::TestNetns::new().expect("a second network namespace");
        let host = &wharf.netns.as_ref().unwrap().name;
        let ip = |args: &[&str]| {
            let output = Command::new("ip").args(args).output().unwrap();
            common::assert_success(&output, args);
        };
        ip(&[
            "-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "down0",
        ]);
        ip(&["-n", host, "link", "set", "down0", "netns", &netns.name]);
        ip(&[
            "-n",
            host,
            "addr",
            "add",
            &format!("{HOST_ADDRESS}/24"),
            "dev",
            "up0",
        ]);
        ip(&["-n", host, "link", "set", "up0", "up"]);
        ip(&[
            "-n",
            &netns.name,
            "addr",
            "add",
            &format!("{UPSTREAM_ADDRESS}/24"),
            "dev",
            "down0",
        ]);
        ip(&["-n", &netns.name, "link", "set", "down0", "up"]);
        ip(&[
            "-n",
            host,
            "route",
            "add",
            "default",
            "via",
            UPSTREAM_ADDRESS,
        ]);
        let site = wharf.path().join("upstream-site");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(site.join("index.html"), "upstream-page\n").unwrap();
        let server = Command::new("nsenter")
            .arg(format!("--net={}", netns.path().display()))
            .args([
                "python3",
                "-m",
                "http.server",
                "8080",
                "--bind",
                UPSTREAM_ADDRESS,
            ])
            .current_dir(&site)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let upstream = Upstream {
            netns,
            server,
            host: host.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while upstream
            .curl(&format!("http://{UPSTREAM_ADDRESS}:8080/"))
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the upstream server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        upstream
    }

    /// `curl url` from the upstream host.
    fn curl(&self, url: &str) -> Result<String, String> {
        let output = Command::new("nsenter")
            .arg(format!("--net={}", self.netns.path().display()))
            .args(["curl", "-sS", "--max-time", "5", url])
            .output()
            .unwrap();
        if output.status.success() {
            Ok(common::stdout(&output))
        } else {
            Err(stderr(&output))
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        // At once: a namespace's interfaces go with it only when the kernel gets to it.
        let _ = Command::new("ip")
            .args(["-n", &self.host, "link", "del", "up0"])
            .status();
    }
}

/// The test's wharf with a real dockerd (Docker's default networking) in its host
/// namespace: the one `WHARF_TEST_BESIDE_DOCKERD=1` started, or one started here.
fn beside_dockerd() -> Option<Wharf> {
    let mut wharf = setup()?;
    if wharf.dockerd.is_none() {
        match common::NetnsDockerd::start(wharf.netns.as_ref().unwrap()) {
            Ok(dockerd) => wharf.dockerd = Some(dockerd),
            Err(why) => {
                common::skip(&format!("dockerd could not start beside wharf: {why}"));
                return None;
            }
        }
    }
    assert_docker_drops_forwarded_traffic(&wharf);
    Some(wharf)
}

/// What makes these tests mean anything: dockerd has set the FORWARD policy to DROP and
/// bridged traffic passes iptables.
fn assert_docker_drops_forwarded_traffic(wharf: &Wharf) {
    let output = wharf
        .host_command("iptables")
        .args(["-w", "-S", "FORWARD"])
        .output()
        .unwrap();
    assert!(
        common::stdout(&output).contains("-P FORWARD DROP"),
        "dockerd did not set the FORWARD policy to DROP:\n{}",
        common::stdout(&output)
    );
    let bridged = wharf
        .host_command("cat")
        .arg("/proc/sys/net/bridge/bridge-nf-call-iptables")
        .output()
        .unwrap();
    assert_eq!(common::stdout(&bridged).trim(), "1");
}

/// `iptables -S DOCKER-USER` in the test's host namespace.
fn docker_user_chain(wharf: &Wharf) -> String {
    let output = wharf
        .host_command("iptables")
        .args(["-w", "-S", "DOCKER-USER"])
        .output()
        .unwrap();
    common::assert_success(&output, &["iptables", "-S", "DOCKER-USER"]);
    common::stdout(&output)
}

/// `curl url` from the test's host (to any of its addresses).
fn curl_from_host(wharf: &Wharf, url: &str) -> Result<String, String> {
    let output = wharf
        .host_command("curl")
        .args(["-sS", "--max-time", "5", url])
        .output()
        .unwrap();
    if output.status.success() {
        Ok(common::stdout(&output))
    } else {
        Err(stderr(&output))
    }
}

#[test]
fn networks_work_beside_a_running_dockerd() {
    let Some(wharf) = beside_dockerd() else {
        return;
    };
    let upstream = Upstream::join(&wharf);
    let upstream_url = format!("http://{UPSTREAM_ADDRESS}:8080/");
    wharf.ok(&["network", "create", "app"]);
    wharf.ok(&["network", "create", "--internal", "inside"]);
    let srv = serve(&wharf, "srv", &["--network", "app"], "srv-page");
    let port = free_port(&wharf);
    let web = serve(&wharf, "web", &["-p", &format!("{port}:8000")], "web-page");
    let published = format!("http://{HOST_ADDRESS}:{port}/");

    let check_everything = |when: &str| {
        // Names and TCP between containers of a user network.
        assert_eq!(
            fetch(&wharf, &["--network", "app"], "http://srv:8000/"),
            Ok("srv-page\n".to_owned()),
            "{when}: by name on a user network"
        );
        // Out through NAT from the default bridge and from a user network.
        for network in ["bridge", "app"] {
            assert_eq!(
                fetch(&wharf, &["--network", network], &upstream_url),
                Ok("upstream-page\n".to_owned()),
                "{when}: outbound from {network}"
            );
        }
        // A published port, from the host's own address and from another host.
        assert_eq!(
            curl_from_host(&wharf, &published),
            Ok("web-page\n".to_owned()),
            "{when}: published port from the host"
        );
        assert_eq!(
            upstream.curl(&published),
            Ok("web-page\n".to_owned()),
            "{when}: published port from another host"
        );
        // An internal network still reaches nothing outside.
        assert!(
            fetch(&wharf, &["--network", "inside"], &upstream_url).is_err(),
            "{when}: an internal network reached the outside"
        );
    };
    check_everything("beside dockerd");
    let rules = docker_user_chain(&wharf);
    assert!(rules.contains("wharf:wharf_"), "{rules}");

    // dockerd recreates its chains when it starts again; wharf's rules stay.
    wharf.dockerd.as_ref().unwrap().restart();
    assert_docker_drops_forwarded_traffic(&wharf);
    check_everything("after dockerd restarted");

    // A dockerd that made its chain anew after wharf's networks were up (it started later,
    // at boot): the next container start puts wharf's rules back.
    for args in [
        &["-F", "DOCKER-USER"][..],
        &["-A", "DOCKER-USER", "-j", "RETURN"],
    ] {
        let output = wharf.host_command("iptables").args(args).output().unwrap();
        common::assert_success(&output, args);
    }
    assert!(!docker_user_chain(&wharf).contains("wharf:"));
    wharf.ok(&["run", "--rm", "busybox", "true"]);
    check_everything("after DOCKER-USER was made anew");

    // A network's rules go with it.
    let app_bridge = bridge_of(&wharf, "app");
    wharf.ok(&["rm", "-f", "srv", "web"]);
    wharf.ok(&["network", "rm", "app", "inside"]);
    let rules = docker_user_chain(&wharf);
    assert!(!rules.contains(&app_bridge), "{rules}");
    assert!(!rules.contains(" -i wh-"), "{rules}");
    drop(upstream);
    wharf.assert_no_network_leftovers();
    wharf.assert_nothing_leaked(&[srv, web]);
}

#[test]
fn a_port_that_docker_or_another_root_forwards_is_refused_naming_who() {
    let Some(wharf) = beside_dockerd() else {
        return;
    };
    let dockerd = wharf.dockerd.as_ref().unwrap();
    let (tar, _) = common::fixture("busybox");
    let imported = dockerd.docker(&["import", &tar.display().to_string(), "wharf-test-busybox"]);
    common::assert_success(&imported, &["docker", "import"]);
    let docker_port = free_port(&wharf);
    let published = format!("{docker_port}:80");
    let started = dockerd.docker(&[
        "run",
        "-d",
        "-p",
        &published,
        "wharf-test-busybox",
        "httpd",
        "-f",
        "-p",
        "80",
    ]);
    common::assert_success(&started, &["docker", "run", "-p", &published]);
    let refused = wharf.run(&[
        "run",
        "--rm",
        "-p",
        &format!("{docker_port}:8000"),
        "busybox",
        "true",
    ]);
    assert_eq!(code(&refused), 125, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!(
            "port 0.0.0.0:{docker_port}/tcp is already in use on the host by Docker"
        )),
        "{}",
        stderr(&refused)
    );

    // Another state root on the same host: its ports are DNAT rules, not sockets.
    let other = tempfile::Builder::new()
        .prefix("wharf-test-other-")
        .tempdir()
        .unwrap();
    let in_other = |args: &[&str]| ok_in_root(&wharf, other.path(), args);
    let (tar, changes) = common::fixture("busybox");
    let mut import = vec!["import".to_owned()];
    for change in changes {
        import.extend(["--change".to_owned(), change]);
    }
    import.extend([tar.display().to_string(), "busybox".to_owned()]);
    in_other(&import.iter().map(String::as_str).collect::<Vec<_>>());
    let other_port = free_port(&wharf);
    in_other(&[
        "run",
        "-d",
        "--name",
        "holder",
        "-p",
        &format!("{other_port}:80"),
        "busybox",
        "sleep",
        "1000",
    ]);
    let refused = wharf.run(&[
        "run",
        "--rm",
        "-p",
        &format!("127.0.0.1:{other_port}:80"),
        "busybox",
        "true",
    ]);
    assert_eq!(code(&refused), 125, "{}", stderr(&refused));
    let canonical = other.path().canonicalize().unwrap();
    assert!(
        stderr(&refused).contains(&format!(
            "is already in use on the host by another wharf state root ({}",
            canonical.display()
        )),
        "{}",
        stderr(&refused)
    );
    let started_id = common::stdout(&started);
    let removed = dockerd.docker(&["rm", "-f", started_id.trim()]);
    common::assert_success(&removed, &["docker", "rm", "-f"]);
    in_other(&["rm", "-f", "holder"]);
    in_other(&["system", "reset", "--force"]);
    wharf.assert_no_network_leftovers();
}

// ---- system reset, and what roots whose folder is gone left on the host.

/// A temporary root in the test's host namespace, used and deleted as a script would:
/// its bridge and table stay. Returns its (canonical) path.
fn leave_a_gone_root(wharf: &Wharf) -> std::path::PathBuf {
    let gone = tempfile::Builder::new()
        .prefix("wharf-test-gone-")
        .tempdir()
        .unwrap();
    let gone_path = gone.path().canonicalize().unwrap();
    let in_gone = |args: &[&str]| ok_in_root(wharf, &gone_path, args);
    let (tar, _) = common::fixture("busybox");
    in_gone(&["import", &tar.display().to_string(), "busybox"]);
    in_gone(&["run", "--rm", "busybox", "/bin/true"]);
    drop(gone);
    assert!(
        ruleset_of(wharf).contains(&root_comment(&gone_path)),
        "{}",
        ruleset_of(wharf)
    );
    gone_path
}

fn ruleset_of(wharf: &Wharf) -> String {
    let output = wharf
        .host_command("nft")
        .args(["list", "ruleset"])
        .output()
        .unwrap();
    common::assert_success(&output, &["nft", "list", "ruleset"]);
    common::stdout(&output)
}

fn root_comment(root: &std::path::Path) -> String {
    format!("comment \"wharf root {}\"", root.display())
}

#[test]
fn a_roots_first_default_network_sweeps_up_after_gone_roots() {
    let Some(wharf) = setup() else {
        return;
    };
    let gone_path = leave_a_gone_root(&wharf);
    wharf.ok(&["run", "--rm", "busybox", "true"]);
    let ruleset = ruleset_of(&wharf);
    assert!(!ruleset.contains(&root_comment(&gone_path)), "{ruleset}");
    assert!(
        ruleset.contains(&root_comment(&wharf.path().canonicalize().unwrap())),
        "{ruleset}"
    );
    let bridges = wharf
        .host_command("ip")
        .args(["-o", "link", "show", "type", "bridge"])
        .output()
        .unwrap();
    // Only this root's default bridge (a dockerd beside it has its docker0 too).
    let listing = common::stdout(&bridges);
    let ours = listing.lines().filter(|l| l.contains(": wharf-")).count();
    assert_eq!(ours, 1, "{listing}");
}

#[test]
fn system_reset_removes_everything_of_the_root_and_what_gone_roots_left() {
    let Some(wharf) = setup() else {
        return;
    };
    let in_host = |program: &str, args: &[&str]| {
        let output = wharf.host_command(program).args(args).output().unwrap();
        common::assert_success(&output, args);
        common::stdout(&output)
    };
    let gone_path = leave_a_gone_root(&wharf);

    // This root, in use: a network, a container with a port and a volume, images.
    wharf.ok(&["network", "create", "app"]);
    let port = free_port(&wharf);
    let web = serve(
        &wharf,
        "web",
        &[
            "--network",
            "app",
            "-p",
            &format!("{port}:8000"),
            "-v",
            "data:/data",
        ],
        "page",
    );
    assert!(!in_host("ip", &["-o", "link", "show", "type", "bridge"]).is_empty());

    // A mount inside the root: nothing is deleted through it.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious"), "user data").unwrap();
    let mount_point = wharf.path().join("mounted-here");
    std::fs::create_dir(&mount_point).unwrap();
    let bind =
        |args: &[&str]| assert!(Command::new("mount").args(args).status().unwrap().success());
    bind(&[
        "--bind",
        &outside.path().display().to_string(),
        &mount_point.display().to_string(),
    ]);
    let refused = wharf.fails(&["system", "reset", "--force"]);
    let unmounted = Command::new("umount").arg(&mount_point).status().unwrap();
    assert!(unmounted.success());
    assert!(
        refused.contains(&format!(
            "error: cannot reset: {} is mounted inside the state root",
            mount_point.display()
        )),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("precious")).unwrap(),
        "user data"
    );
    assert!(wharf.path().join("images").exists(), "nothing deleted");

    let reset = wharf.run(&["system", "reset", "--force"]);
    common::assert_success(&reset, &["system", "reset", "--force"]);
    let output = common::stdout(&reset);
    assert!(output.contains("Deleted Containers:\nweb\n"), "{output}");
    assert!(output.contains("Deleted Networks:\n"), "{output}");
    assert!(
        stderr(&reset).contains(&format!(
            "removed what the gone state root {} left on the host: table ip wharf_",
            gone_path.display()
        )),
        "{}",
        stderr(&reset)
    );
    // Nothing of either root is left on the host: no table, bridge or veth.
    let ruleset = in_host("nft", &["list", "ruleset"]);
    assert!(!ruleset.contains("wharf"), "{ruleset}");
    // (A dockerd beside it keeps its docker0.)
    let bridges = in_host("ip", &["-o", "link", "show", "type", "bridge"]);
    assert!(
        !bridges.contains(": wharf-") && !bridges.contains(": wh-"),
        "{bridges}"
    );
    assert_eq!(in_host("ip", &["-o", "link", "show", "type", "veth"]), "");
    assert!(
        processes_of(&wharf, "").is_empty(),
        "{:?}",
        processes_of(&wharf, "")
    );
    let left: Vec<_> = std::fs::read_dir(wharf.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(wharf.ok(&["images", "-q"]), "");
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]), "");
    wharf.assert_nothing_leaked(&[web]);
}
