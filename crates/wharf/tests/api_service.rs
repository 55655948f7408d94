//! `wharf system service`: real clients (Debian's docker CLI, docker-py) and raw, hostile HTTP
//! against a real service on a socket of the test's own root. Skipped loudly where a client
//! or root is missing.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Stdio;

use common::api::{
    api_clients, have_docker_cli, message, service_with_busybox, status_and_body, Service,
};
use common::Wharf;

#[test]
fn the_docker_cli_runs_lists_logs_execs_inspects_and_removes() {
    if !have_docker_cli() {
        return;
    }
    let Some((wharf, service)) = service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    assert_eq!(
        docker(&["run", "--rm", "busybox", "echo", "hello"]),
        "hello\n"
    );
    let failed = service.docker(&wharf, &["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(failed.status.code(), Some(3), "the container's exit code");
    let split = service.docker(
        &wharf,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&split.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&split.stderr), "err\n");

    let id = docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "app=t",
        "busybox",
        "sh",
        "-c",
        "echo started; exec sleep 60",
    ]);
    assert_eq!(id.trim().len(), 64, "run -d prints the id: {id}");
    assert_eq!(
        docker(&["ps", "--filter", "label=app=t", "--format", "{{.Names}}"]),
        "web\n"
    );
    assert_eq!(docker(&["ps", "--filter", "label=app=other", "-q"]), "");
    // The daemon's command text quotes a word with a space, as Docker's; sizes on request.
    assert_eq!(
        docker(&["ps", "--no-trunc", "--format", "{{.Command}}"]),
        "\"sh -c 'echo started; exec sleep 60'\"\n"
    );
    let size = docker(&["ps", "--format", "{{.Size}}"]);
    assert!(size.contains("(virtual "), "{size}");
    // The CLI sees what the API made: both work on the same state.
    assert!(wharf.ok(&["ps", "--format", "{{.Names}}"]).contains("web"));
    assert_eq!(
        docker(&["exec", "web", "sh", "-c", "echo $((6*7))"]),
        "42\n"
    );
    let exec_fails = service.docker(&wharf, &["exec", "web", "sh", "-c", "exit 7"]);
    assert_eq!(exec_fails.status.code(), Some(7), "exec's exit code");
    assert_eq!(docker(&["logs", "web"]), "started\n");
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}} {{.Name}}", "web"]),
        "true /web\n"
    );
    assert!(docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).contains("busybox:latest"));
    let top = docker(&["top", "web"]);
    assert!(top.contains("sleep 60"), "{top}");
    docker(&["pause", "web"]);
    assert_eq!(
        docker(&["ps", "--filter", "status=paused", "--format", "{{.Names}}"]),
        "web\n"
    );
    docker(&["unpause", "web"]);
    docker(&["stop", "-t", "1", "web"]);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", "web"]),
        "exited\n"
    );
    docker(&["rm", "web"]);

    let context = wharf.path().join("context");
    std::fs::create_dir(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM busybox\nRUN echo built > /f\nCMD [\"cat\", \"/f\"]\n",
    )
    .unwrap();
    let built = docker(&["build", "-t", "clibuilt:1", context.to_str().unwrap()]);
    assert!(built.contains("Successfully tagged clibuilt:1"), "{built}");
    // The classic builder's lines (the docker CLI's default here): every instruction as a
    // step, the base's id after FROM, the RUN's output, the image's id at the end.
    let lines: Vec<&str> = built.lines().collect();
    let steps: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("Step "))
        .collect();
    assert_eq!(
        steps,
        [
            "Step 1/3 : FROM busybox",
            "Step 2/3 : RUN echo built > /f",
            "Step 3/3 : CMD [\"cat\", \"/f\"]"
        ],
        "{built}"
    );
    let busybox = docker(&["images", "-q", "busybox"]);
    let after_from = lines
        .iter()
        .position(|l| l.starts_with("Step 1/3"))
        .unwrap()
        + 1;
    assert_eq!(
        lines[after_from],
        format!(" ---> {}", busybox.trim()),
        "{built}"
    );
    assert!(
        built.contains("Step 2/3 : RUN echo built > /f\n"),
        "{built}"
    );
    let image = docker(&["images", "-q", "clibuilt:1"]);
    assert!(
        built.contains(&format!(
            " ---> {0}\nSuccessfully built {0}\n",
            image.trim()
        )),
        "{built}"
    );
    assert_eq!(docker(&["run", "--rm", "clibuilt:1"]), "built\n");
    // Stdin is relayed (tests/api_commit_attach.rs): its end is the container's.
    let interactive = service.docker(&wharf, &["run", "-i", "--rm", "busybox", "cat"]);
    assert!(interactive.status.success(), "{interactive:?}");
    // A start that fails: Docker's exit code, and nothing of the run lingers in the service
    // (its attach and its wait end with the client).
    let not_found = service.docker(&wharf, &["run", "--rm", "busybox", "nope"]);
    assert_eq!(not_found.status.code(), Some(127), "{not_found:?}");
    service.assert_idle();
    let missing = service.docker(&wharf, &["inspect", "web"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("No such"),
        "{missing:?}"
    );
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn docker_py_runs_containers_and_reads_images() {
    let Some(cache) = api_clients() else {
        return;
    };
    let Some((wharf, service)) = service_with_busybox() else {
        return;
    };
    let script = common::repo_root().join("crates/wharf/tests/data/api/docker_py.py");
    let output = wharf
        .host_command("python3")
        .arg(script)
        .env("PYTHONPATH", cache.join("docker-py"))
        .env("DOCKER_HOST", service.host())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "docker-py script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.ends_with("docker-py: all checks passed\n"),
        "{stdout}"
    );
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn hostile_requests_get_docker_shaped_errors_and_create_nothing() {
    let Some((wharf, service)) = service_with_busybox() else {
        return;
    };
    let (status, body) = service.request(
        "POST",
        "/v1.44/containers/create",
        "{\"Image\": \"busybox\"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("invalid JSON"), "{body}");
    let (status, body) = service.request(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"Tty":"yes"}"#,
    );
    assert_eq!(status, 400);
    assert!(message(&body).contains("expected a boolean"), "{body}");
    let (status, body) = service.request("POST", "/containers/create", "");
    assert_eq!(status, 400, "{body}");
    let (status, body) = service.request(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"Binds":["relative/path:/data"]}}"#,
    );
    assert_eq!(status, 400);
    assert!(message(&body).contains("HostConfig.Binds[0]"), "{body}");
    let (status, body) = service.request(
        "POST",
        "/containers/create",
        r#"{"Image":"nosuch:1","Cmd":["true"]}"#,
    );
    assert_eq!(status, 404);
    assert_eq!(message(&body), "No such image: nosuch:1");
    let (status, body) = service.request("GET", "/v1.44/nonsense", "");
    assert_eq!((status, message(&body)), (404, "page not found".into()));
    let (status, body) = service.request("GET", "/v1.99/version", "");
    assert_eq!(status, 400);
    assert!(message(&body).contains("too new"), "{body}");
    let (status, body) = service.request("GET", "/containers/json?filters=%7Bnope", "");
    assert_eq!(status, 400);
    assert!(message(&body).contains("invalid filters"), "{body}");
    let (status, body) = service.request("POST", "/containers/nosuch/start", "");
    assert_eq!(
        (status, message(&body)),
        (404, "No such container: nosuch".into())
    );
    let (status, _) = service.request("GET", "/swarm", "");
    assert_eq!(status, 503);

    // A body larger than the limit is refused without being read.
    let reply = service.raw(
        b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 999999999999\r\n\r\n{",
    );
    let (status, body) = status_and_body(&reply);
    assert_eq!(status, 413, "{body}");
    // A broken chunked body, a broken request line.
    let reply = service.raw(
        b"POST /containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    assert_eq!(status_and_body(&reply).0, 400, "{reply}");
    let reply = service.raw(b"\x00\x01garbage\r\n\r\n");
    assert_eq!(status_and_body(&reply).0, 400, "{reply}");
    // A client that goes away mid-request, and one that follows logs and disconnects.
    drop(
        UnixStream::connect(&service.socket)
            .unwrap()
            .write_all(b"POST /containers/create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Im"),
    );
    let (status, body) = service.request(
        "POST",
        "/containers/create?name=talker",
        r#"{"Image":"busybox","Cmd":["sh","-c","while true; do echo x; sleep 0.05; done"]}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        service.request("POST", "/containers/talker/start", "").0,
        204
    );
    let mut follower = UnixStream::connect(&service.socket).unwrap();
    follower
        .write_all(b"GET /containers/talker/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 64];
    let read = follower.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));
    drop(follower);
    let (status, body) = service.request("GET", "/_ping", "");
    assert_eq!((status, body.as_str()), (200, "OK"));
    assert_eq!(
        service
            .request("DELETE", "/containers/talker?force=1", "")
            .0,
        204
    );

    // The follower that went away ended too: no thread of the service is left behind.
    service.assert_idle();
    // Nothing half-made: every refused create left no container.
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn the_service_exits_when_idle_and_removes_its_socket() {
    let wharf = Wharf::new();
    let socket = wharf.path().join("idle.sock");
    let uri = format!("unix://{}", socket.display());
    let mut child = wharf
        .command(&["system", "service", "--time", "1", &uri])
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts");
    let service = Service::at(socket.clone());
    service.await_listening();
    assert_eq!(service.request("GET", "/_ping", "").0, 200);
    let status = child.wait().expect("the service ends by itself");
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket is removed");
}

#[test]
fn socket_activation_serves_the_socket_systemd_passes() {
    let activate = "/usr/bin/systemd-socket-activate";
    if !Path::new(activate).exists() {
        common::skip(
            "socket activation: systemd-socket-activate is missing (apt-get install systemd)",
        );
        return;
    }
    let wharf = Wharf::new();
    let socket = wharf.path().join("activated.sock");
    let mut activator = wharf
        .host_command(activate)
        .arg("--listen")
        .arg(&socket)
        .arg(env!("CARGO_BIN_EXE_wharf"))
        .args([
            "system",
            "service",
            "--time",
            "1",
            "unix:///nonexistent/ignored.sock",
        ])
        .env("WHARF_ROOT", wharf.path())
        .env("WHARF_RUN", wharf.path().join("run"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("systemd-socket-activate starts");
    let service = Service::at(socket);
    service.await_listening();
    let (status, body) = service.request("GET", "/v1.41/version", "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ApiVersion\":\"1.44\""), "{body}");
    // The service exits when idle (systemd-socket-activate with it); it never bound the URI.
    let status = activator.wait().expect("the activator ends");
    assert!(!Path::new("/nonexistent/ignored.sock").exists());
    let mut stderr = String::new();
    activator
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("the socket systemd passed"),
        "{status}: {stderr}"
    );
}

/// testcontainers-python's tests that wharf does not pass, each with why; the others of the
/// files below run and must pass.
const TESTCONTAINERS_DESELECTED: &[(&str, &str)] = &[
    (
        "core/tests/test_image.py::test_docker_image[",
        "racy as the next one: it reads an `echo` container's logs right after start (the classic builder's step lines it checks first are Docker's; it passes alone)",
    ),
    (
        "core/tests/test_image.py::test_docker_image_with_custom_dockerfile_path",
        "racy: reads the logs of `echo` right after start, without a wait strategy (failed 1 run in 4 here under load; dockerd loses the same race about 1 time in 30 here)",
    ),
    (
        "core/tests/test_core.py::test_get_logs",
        "racy: reads hello-world's logs right after start, without a wait strategy; wharf's start returns before the program has printed (failed 1 run in 2 here, under load)",
    ),
    (
        "core/tests/test_docker_client.py::test_run_uses_found_network",
        "assumes DOCKER_HOST is not set",
    ),
    (
        "core/tests/test_wait_strategies_integration.py::TestRealDockerIntegration::test_log_message_wait_strategy_with_real_container",
        "racy in the strategy: it reads the logs, then sees the container exited; a container that prints and exits between the two fails it",
    ),
    (
        "core/tests/test_waiting_utils.py::test_wait_container_is_ready_decorator_with_container",
        "racy: it waits for hello-world to be running and only copes with a timeout; a container that has already exited raises StopIteration",
    ),
];

/// What testcontainers' tests run, under the names they use: our fixtures (busybox stands
/// for alpine and ubuntu, nginx 1.22 for the nginx tags (with busybox's ping and wget for
/// the alpine ones), postgres 15 for postgres:latest; hello-world is built from busybox to
/// print Docker's greeting).
fn testcontainers_images(wharf: &Wharf) {
    let busybox = wharf.import_busybox();
    for tag in ["alpine:latest", "ubuntu:latest"] {
        wharf.ok(&["tag", &busybox, tag]);
    }
    let hello = wharf.run_with_stdin(
        &["build", "-q", "-t", "hello-world", "-"],
        b"FROM busybox\nCMD [\"echo\", \"Hello from Docker!\"]\n",
    );
    common::assert_success(&hello, &["build", "hello-world"]);
    wharf.import_fixture("nginx-1.22", "nginx:latest");
    // The alpine images have busybox's ping and wget, which the network test uses.
    let slim = wharf.run_with_stdin(
        &["build", "-q", "-t", "nginx:alpine-slim", "-"],
        b"FROM nginx:latest\nCOPY --from=busybox /bin/busybox /bin/busybox\nRUN ln -s /bin/busybox /usr/local/bin/ping && ln -s /bin/busybox /usr/local/bin/wget\n",
    );
    common::assert_success(&slim, &["build", "nginx:alpine-slim"]);
    wharf.ok(&["tag", "nginx:alpine-slim", "nginx:1.25.4-alpine-slim"]);
    wharf.import_fixture("redis-7", "redis:latest");
    let postgres = wharf.import_fixture("postgres-15", "postgres:15");
    wharf.ok(&["tag", &postgres, "postgres:latest"]);
}

#[test]
fn testcontainers_python_tests_pass_on_the_socket() {
    let Some(cache) = api_clients() else {
        return;
    };
    if !common::is_root() {
        common::skip("containers need root");
        return;
    }
    let wharf = Wharf::isolated();
    testcontainers_images(&wharf);
    let service = Service::start(&wharf);
    let tests = cache.join("testcontainers-tests");
    let mut command = wharf.host_command("python3");
    command
        .current_dir(&tests)
        .args([
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "log_cli=false",
        ])
        .args([
            "core/tests/test_core.py",
            "core/tests/test_container.py",
            "core/tests/test_core_ports.py",
            "core/tests/test_network.py",
            "core/tests/test_image.py",
            "core/tests/test_docker_client.py",
            "core/tests/test_labels.py",
            "core/tests/test_waiting_utils.py",
            "core/tests/test_wait_strategies_integration.py",
            "modules/redis/tests/test_redis.py",
            "modules/postgres/tests/test_postgres.py::test_docker_run_postgres[15]",
            "modules/postgres/tests/test_postgres.py::test_docker_run_postgres[latest]",
            // The module's other tests want postgres 9.5, 12-14, 16-alpine or other drivers.
        ]);
    for (test, _why) in TESTCONTAINERS_DESELECTED {
        command.arg("--deselect").arg(test);
    }
    let output = command
        .env("PYTHONPATH", cache.join("testcontainers"))
        .env("DOCKER_HOST", service.host())
        // Ryuk is an image of its own, not among the fixtures.
        .env("TESTCONTAINERS_RYUK_DISABLED", "true")
        .output()
        .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default().to_string();
    // The count, for the run's log: which of testcontainers' tests ran and passed.
    #[allow(clippy::print_stderr)]
    {
        eprintln!("testcontainers-python 4.14.2 on wharf's socket: {summary}");
    }
    assert!(
        output.status.success() && summary.contains("passed") && !summary.contains("failed"),
        "testcontainers' tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}
