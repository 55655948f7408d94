//! Attached `compose up` with docker compose's flags: `--abort-on-container-exit` stops
//! the project when the first container exits and exits with its code, `--exit-code-from`
//! with the code of the service named, `--attach`/`--no-attach` choose whose logs are
//! shown; `--pull never` refuses a missing image before anything is made. The output is
//! docker compose 2.40.3's (checked by hand against it): `Attaching to a-1, b-1`, lines
//! prefixed `a-1  | `, only what the containers print once `up` began.

mod common;

use common::compose::ComposeProject;

const STACK: &str = r#"
name: ab
services:
  a:
    image: busybox:latest
    command: [sh, -c, "echo a-out; sleep 1; exit 3"]
  b:
    image: busybox:latest
    command: [sh, -c, "echo b-out; exec sleep 1000"]
"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn abort_on_container_exit_and_exit_code_from() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };
    let ids = || project.wharf.container_ids();

    let output = project.run(&["up", "--abort-on-container-exit", "-t", "1"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stdout.starts_with("Attaching to a-1, b-1\n"), "{stdout}");
    assert!(stdout.contains("\na-1  | a-out\n"), "{stdout}");
    assert!(stdout.contains("\nb-1  | b-out\n"), "{stdout}");
    // After docker compose's carriage return and erase-line.
    assert!(
        stdout.contains("\n\r\x1b[Ka-1 exited with code 3\n"),
        "{stdout}"
    );
    assert!(stderr.contains("Aborting on container exit..."), "{stderr}");
    assert_eq!(project.inspect("{{.State.Status}}", "ab-b-1"), "exited");

    // b is stopped (SIGKILL after the 1 s timeout: sleep as PID 1 ignores SIGTERM).
    let output = project.run(&["up", "--exit-code-from", "b", "-t", "1"]);
    assert_eq!(output.status.code(), Some(137), "{output:?}");

    // Only a's logs; the project still stops when a exits.
    let output = project.run(&[
        "up",
        "--attach",
        "a",
        "--abort-on-container-exit",
        "-t",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("a-out") && !stdout.contains("b-out"),
        "{stdout}"
    );
    let output = project.run(&[
        "up",
        "--no-attach",
        "b",
        "--abort-on-container-exit",
        "-t",
        "1",
    ]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("a-out") && !stdout.contains("b-out"),
        "{stdout}"
    );
    assert_eq!(project.inspect("{{.State.Status}}", "ab-b-1"), "exited");

    for (args, message) in [
        (
            vec!["up", "-d", "--abort-on-container-exit"],
            "--detach cannot be combined with --abort-on-container-exit",
        ),
        (
            vec!["up", "--exit-code-from", "nope"],
            "no such service: nope",
        ),
        (
            vec!["up", "--pull", "sometimes"],
            "--pull: invalid pull policy",
        ),
    ] {
        let error = project.fails(&args);
        assert!(error.contains(message), "{args:?}: {error}");
    }
    let all = ids();
    project.ok(&["down", "-t", "0"]);
    project.wharf.assert_nothing_leaked(&all);
}

#[test]
fn pull_never_refuses_a_missing_image_before_making_anything() {
    let yaml = "name: pn\nservices:\n  a: {image: 'busybox:latest', command: [sleep, '100']}\n  z: {image: 'nowhere.invalid/missing:1'}\n";
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], yaml) else {
        return;
    };
    let error = project.fails(&["up", "-d", "--pull", "never"]);
    assert!(
        error.contains(
            "service z: image nowhere.invalid/missing:1 is not present and --pull never was given"
        ),
        "{error}"
    );
    assert!(project.container_names().is_empty());
    let networks = project
        .wharf
        .ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("pn_"), "{networks}");
}

#[test]
fn ctrl_c_stops_the_project_side_by_side() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };
    let file = project.path().join("compose.yaml").display().to_string();
    let mut child = project
        .wharf
        .command(&["compose", "-f", &file, "up", "-t", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("b-out") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(read > 0, "up ended before b printed: {seen}");
        seen.push_str(&line);
    }
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    std::io::Read::read_to_string(&mut stdout, &mut seen).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        seen.contains("Gracefully Stopping... press Ctrl+C again to force"),
        "{seen}"
    );
    assert!(stderr.contains(" ✔ Container ab-b-1  Stopped"), "{stderr}");
    assert_eq!(project.inspect("{{.State.Status}}", "ab-b-1"), "exited");
    let all = project.wharf.container_ids();
    project.ok(&["down", "-t", "0"]);
    project.wharf.assert_nothing_leaked(&all);
}

#[test]
fn abort_on_container_failure_waits_for_a_failure() {
    // ok exits 0 first: the project keeps running until bad fails.
    let yaml = r#"
name: fails
services:
  ok:
    image: busybox:latest
    command: [sh, -c, "exit 0"]
  bad:
    image: busybox:latest
    command: [sh, -c, "sleep 2; exit 5"]
  long:
    image: busybox:latest
    command: [sleep, "1000"]
"#;
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], yaml) else {
        return;
    };
    let output = project.run(&["up", "--abort-on-container-failure", "-t", "1"]);
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("ok-1 exited with code 0"), "{stdout}");
    assert!(stdout.contains("bad-1 exited with code 5"), "{stdout}");
    assert_eq!(
        project.inspect("{{.State.Status}}", "fails-long-1"),
        "exited"
    );
    let error = project.fails(&[
        "up",
        "--abort-on-container-failure",
        "--abort-on-container-exit",
    ]);
    assert!(error.contains("cannot be combined"), "{error}");

    // wait --down-project: once bad has stopped, the project is gone.
    project.ok(&["up", "-d"]);
    let output = project.run(&["wait", "--down-project", "bad"]);
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    assert!(project.container_names().is_empty());
}

#[test]
fn attached_up_shows_what_was_printed_since_it_began_and_attach_dependencies() {
    let yaml = r#"
name: deps
services:
  web:
    image: busybox:latest
    command: [sh, -c, "echo web-start; sleep 6; echo web-end"]
    depends_on: [db]
  db:
    image: busybox:latest
    container_name: the-db
    command: [sh, -c, "echo db-start; sleep 7; echo db-end"]
"#;
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], yaml) else {
        return;
    };
    // Running containers: only their lines from now on; none of their earlier ones.
    // Listed by container name, as docker compose does. (They sleep long enough to be
    // still running when the attached `up` comes, on a loaded machine too.)
    project.ok(&["up", "-d"]);
    let output = project.run(&["up"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("Attaching to web-1, the-db\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("start"), "{stdout}");
    assert!(stdout.contains("web-1   | web-end\n"), "{stdout}");
    assert!(stdout.contains("the-db  | db-end\n"), "{stdout}");
    assert!(stdout.contains("the-db exited with code 0\n"), "{stdout}");

    // Started again: each run's lines once (the earlier runs' are not replayed).
    let stdout = text(&project.run(&["up"]).stdout);
    assert_eq!(stdout.matches("web-start").count(), 1, "{stdout}");
    assert_eq!(stdout.matches("db-end").count(), 1, "{stdout}");

    // A service named: its logs only, unless --attach-dependencies.
    let stdout = text(&project.run(&["up", "web"]).stdout);
    assert!(stdout.starts_with("Attaching to web-1\n"), "{stdout}");
    assert!(!stdout.contains("db-"), "{stdout}");
    let stdout = text(&project.run(&["up", "--attach-dependencies", "web"]).stdout);
    assert!(
        stdout.starts_with("Attaching to web-1, the-db\n"),
        "{stdout}"
    );
    assert!(stdout.contains("the-db  | db-end"), "{stdout}");

    // `compose logs` prefixes alike; no color off a terminal.
    let logs = project.ok(&["logs", "web"]);
    assert!(logs.starts_with("web-1  | web-start\n"), "{logs}");
    let all = project.wharf.container_ids();
    project.ok(&["down", "-t", "0"]);
    project.wharf.assert_nothing_leaked(&all);
}
