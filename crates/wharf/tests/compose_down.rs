//! `compose stop` and `compose down` stop a project's containers side by side, dependents
//! first, as docker compose does: two services that each finish their SIGTERM handler only
//! once the other got its signal both exit 0 (one at a time, the first would wait for the
//! other until the timeout and be killed), and the service they depend on gets its signal
//! only after both are stopped. `down -v` then leaves nothing behind.

mod common;

use common::compose::ComposeProject;

/// `a` and `b` each mark their SIGTERM in the shared volume and exit once the other's mark
/// is there; `db` exits 0 on SIGTERM only if both marks are there already.
const PAIR: &str = r#"
name: pair
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'trap "test -f /shared/a && test -f /shared/b && exit 0; exit 7" TERM; sleep 1000 & wait']
    volumes: [shared:/shared]
  a:
    image: busybox:latest
    environment: {ME: a, OTHER: b}
    command: [sh, -c, 'trap "touch /shared/$$ME; while [ ! -f /shared/$$OTHER ]; do sleep 0.05; done; exit 0" TERM; sleep 1000 & wait']
    volumes: [shared:/shared]
    depends_on: [db]
  b:
    image: busybox:latest
    environment: {ME: b, OTHER: a}
    command: [sh, -c, 'trap "touch /shared/$$ME; while [ ! -f /shared/$$OTHER ]; do sleep 0.05; done; exit 0" TERM; sleep 1000 & wait']
    volumes: [shared:/shared]
    depends_on: [db]
volumes: {shared: {}}
"#;

const CONTAINERS: [&str; 3] = ["pair-a-1", "pair-b-1", "pair-db-1"];

#[test]
fn stop_and_down_stop_side_by_side_dependents_first() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], PAIR) else {
        return;
    };
    project.ok(&["up", "-d"]);
    let ids = project.wharf.container_ids();

    let output = project.run(&["stop", "-t", "5"]);
    assert!(output.status.success(), "{output:?}");
    for name in CONTAINERS {
        assert_eq!(project.inspect("{{.State.Status}}", name), "exited");
        assert_eq!(
            project.inspect("{{.State.ExitCode}}", name),
            "0",
            "{name} exits 0 only if stopped beside its peer and before db"
        );
    }
    // docker compose's lines, db's last.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert_eq!(lines[2], " ✔ Container pair-db-1  Stopped", "{stderr}");

    // Again from running: down stops them the same way, then removes everything.
    project.ok(&["up", "-d"]);
    project.wharf.ok(&[
        "run",
        "--rm",
        "-v",
        "pair_shared:/shared",
        "busybox:latest",
        "sh",
        "-c",
        "rm -f /shared/a /shared/b",
    ]);
    let output = project.run(&["down", "-v", "-t", "5"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [
        " ✔ Container pair-a-1  Removed",
        " ✔ Container pair-b-1  Removed",
        " ✔ Container pair-db-1  Removed",
        " ✔ Network pair_default  Removed",
        " ✔ Volume pair_shared  Removed",
    ] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    assert!(project.container_names().is_empty());
    let networks = project
        .wharf
        .ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("pair_"), "{networks}");
    assert_eq!(project.wharf.ok(&["volume", "ls", "-q"]), "");
    project.wharf.assert_nothing_leaked(&ids);
}
