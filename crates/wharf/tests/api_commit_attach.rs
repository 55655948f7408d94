//! `commit` and `attach` through the service, with the docker CLI and docker-py, and
//! `wharf commit` / `wharf attach` beside them.

mod common;

use common::api::{api_clients, cli_service_with_busybox, Service};
use common::Wharf;

/// docker-py's script `tests/data/api/commit_attach.py`, running `steps`.
fn docker_py(wharf: &Wharf, service: &Service, steps: &[&str]) {
    let Some(cache) = api_clients() else {
        return;
    };
    let script = common::repo_root().join("crates/wharf/tests/data/api/commit_attach.py");
    let output = wharf
        .host_command("python3")
        .arg(script)
        .args(steps)
        .env("PYTHONPATH", cache.join("docker-py"))
        .env("DOCKER_HOST", service.host())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.ends_with("docker-py: all checks passed\n"),
        "docker-py script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn docker_commit_makes_an_image_of_a_running_containers_changes() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    // A folder in a lower layer (committed by wharf's CLI), so that emptying it and making
    // it again makes it opaque.
    docker(&["run", "-d", "--name", "first", "busybox", "sleep", "60"]);
    docker(&[
        "exec",
        "first",
        "sh",
        "-c",
        "mkdir -p /x/old; echo old > /x/old/f",
    ]);
    wharf.ok(&["commit", "first", "stage:1"]);
    docker(&["rm", "-f", "first"]);
    docker(&[
        "run", "-d", "--name", "box", "-e", "FOO=bar", "-w", "/tmp", "stage:1", "sleep", "60",
    ]);
    // A new file, a deleted one (a whiteout) and the opaque folder.
    docker(&[
        "exec",
        "box",
        "sh",
        "-c",
        "echo hi > /x/new; rm /etc/group; rm -rf /x/old; mkdir /x/old; echo new > /x/old/g",
    ]);
    let before = docker(&["images", "-q"]).lines().count();
    let bad = service.docker(&wharf, &["commit", "-c", "BOGUS x", "box", "never:1"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("BOGUS"),
        "{bad:?}"
    );
    assert_eq!(docker(&["images", "-q"]).lines().count(), before);

    let id = docker(&[
        "commit",
        "-c",
        r#"CMD ["sh", "-c", "cat /x/new /x/old/*; ls /etc/group"]"#,
        "-c",
        "ENV A=1",
        "-c",
        "EXPOSE 8080",
        "-m",
        "made by hand",
        "-a",
        "me <me@example.com>",
        "box",
        "mine:1",
    ]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", "box"]),
        "running\n"
    );
    let run = service.docker(&wharf, &["run", "--rm", "mine:1"]);
    assert_eq!(String::from_utf8_lossy(&run.stdout), "hi\nnew\n");
    assert!(String::from_utf8_lossy(&run.stderr).contains("/etc/group"));

    let inspect: serde_json::Value =
        serde_json::from_str(&docker(&["image", "inspect", "mine:1"])).unwrap();
    let image = &inspect[0];
    assert_eq!(image["Author"], "me <me@example.com>");
    assert_eq!(image["Comment"], "made by hand");
    let config = &image["Config"];
    assert_eq!(config["WorkingDir"], "/tmp");
    assert_eq!(config["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        env,
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "FOO=bar",
            "A=1"
        ]
    );
    // One layer more than the image it was run from, and history as Docker writes it.
    let base: serde_json::Value =
        serde_json::from_str(&docker(&["image", "inspect", "stage:1"])).unwrap();
    assert_eq!(
        image["RootFS"]["Layers"].as_array().unwrap().len(),
        base[0]["RootFS"]["Layers"].as_array().unwrap().len() + 1
    );
    let history = docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}|{{.Comment}}",
        "mine:1",
    ]);
    assert_eq!(history.lines().next(), Some("sleep 60|made by hand"));
    // Paused while its files were read, as Docker's.
    let events = wharf.ok(&[
        "events",
        "--since",
        "5m",
        "--until",
        "0s",
        "--filter",
        "container=box",
        "--format",
        "{{.Action}}",
    ]);
    let actions: Vec<&str> = events.lines().collect();
    assert!(
        actions.ends_with(&["pause", "commit", "unpause"]),
        "{actions:?}"
    );
    // Without changes since: an empty layer, marked so in the history.
    let empty = wharf.ok(&["commit", "--pause=false", "box"]);
    let layers = docker(&[
        "image",
        "inspect",
        "-f",
        "{{len .RootFS.Layers}}",
        empty.trim(),
    ]);
    assert_eq!(
        layers.trim(),
        (base[0]["RootFS"]["Layers"].as_array().unwrap().len() + 1).to_string()
    );

    docker_py(&wharf, &service, &["commit"]);
    docker(&["rm", "-f", "box"]);
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

/// An API attach with stdin on a hijacked connection: the reply's head, then the stream.
fn attach_stdin(service: &Service, container: &str) -> std::os::unix::net::UnixStream {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(&service.socket).unwrap();
    write!(
        stream,
        "POST /v1.44/containers/{container}/attach?stdin=1&stdout=1&stderr=1&stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "{head:?}");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Reads `stream` until `want` has come (or the stream ends: then fails).
fn read_until(stream: &mut std::os::unix::net::UnixStream, want: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "the stream ended after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn attach_relays_stdin_through_the_monitor_until_its_end_or_the_detach_keys() {
    use std::io::{Read, Write};
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);

    // `docker run -i` attached: stdin piped in, its end is the container's (StdinOnce).
    let mut child = std::process::Command::new(common::api::DOCKER)
        .args(["run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done"])
        .env("DOCKER_HOST", service.host())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hi\nthere\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hi\nthere\ndone\n");

    // A detached `-i` container: each client's input reaches it, its stdin stays open; the
    // detach keys end the stream and the container runs on.
    docker(&["run", "-d", "-i", "--name", "catter", "busybox", "cat"]);
    let mut stream = attach_stdin(&service, "catter");
    stream.write_all(b"first\n").unwrap();
    let got = read_until(&mut stream, b"first\n");
    assert_eq!(
        &got[..8],
        b"\x01\x00\x00\x00\x00\x00\x00\x06",
        "stdout's frame"
    );
    stream.write_all(b"\x10\x11").unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", "catter"]),
        "running\n"
    );
    // `wharf attach`: its input goes in, and its detach keys leave the container running.
    let attached = wharf.run_with_stdin(
        &["attach", "--detach-keys", "ctrl-x", "catter"],
        b"second\n\x18",
    );
    assert!(attached.status.success(), "{attached:?}");
    assert_eq!(
        docker(&["logs", "catter"]),
        "first\nsecond\n",
        "both clients' input reached cat"
    );
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", "catter"]),
        "running\n"
    );

    // With a tty: the input goes through the pty, raw on the stream.
    docker(&["run", "-d", "-i", "-t", "--name", "shell", "busybox", "sh"]);
    let mut stream = attach_stdin(&service, "shell");
    stream.write_all(b"echo $((6 * 7))\n").unwrap();
    read_until(&mut stream, b"42\r\n");
    stream.write_all(b"exit 3\n").unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(docker(&["wait", "shell"]), "3\n");

    docker_py(&wharf, &service, &["attach_socket"]);
    docker(&["rm", "-f", "catter", "shell"]);
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}
