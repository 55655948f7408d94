//! `compose stop` and `compose down` stop a project's containers side by side, dependents
//! first, as docker compose does: two services that each finish their SIGTERM handler only
//! once the other got its signal both exit 0 (one at a time, the first would wait for the
//! other until the timeout and be killed), and the service they depend on gets its signal
//! only after both are stopped. `down -v` then leaves nothing behind.
//!
//! Anonymous volumes as docker compose 2.40 keeps them (checked by hand against dockerd):
//! a recreated container gets its predecessor's, data and all; `down` leaves them
//! dangling; `down -v` removes those of the containers it removes, and only those;
//! `up -V` recreates with new ones.

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

/// `web` has one anonymous volume from `volumes:` and one from its image's `VOLUME`.
const ANONYMOUS: &str = r#"
name: anon
services:
  web:
    build:
      context: .
      dockerfile_inline: "FROM busybox:latest\nVOLUME /cache\n"
    command: [sleep, '1000']
    environment: {ROUND: '1'}
    volumes: [/data]
"#;

fn volume_names(project: &ComposeProject) -> Vec<String> {
    let mut names: Vec<String> = project
        .wharf
        .ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

#[test]
fn anonymous_volumes_survive_recreate_and_down_and_go_with_down_v() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], ANONYMOUS) else {
        return;
    };
    let write = "echo kept > /data/f && echo kept > /cache/g";
    let read = "cat /data/f /cache/g 2>&1";
    project.ok(&["up", "-d"]);
    project.ok(&["exec", "-T", "web", "sh", "-c", write]);
    let first = volume_names(&project);
    assert_eq!(first.len(), 2, "{first:?}");

    // A changed service is recreated with the volumes of the container it replaces.
    project.write(&ANONYMOUS.replace("ROUND: '1'", "ROUND: '2'"));
    let output = project.run(&["up", "-d", "-t", "0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Container anon-web-1  Recreated"),
        "{stderr}"
    );
    assert_eq!(
        project.ok(&["exec", "-T", "web", "sh", "-c", read]),
        "kept\nkept\n"
    );
    assert_eq!(volume_names(&project), first);

    // `down` keeps them (dangling); the next `up` starts with new, empty ones.
    project.ok(&["down", "-t", "0"]);
    assert!(project.container_names().is_empty());
    assert_eq!(volume_names(&project), first);
    project.ok(&["up", "-d"]);
    let read_again = project.run(&["exec", "-T", "web", "sh", "-c", read]);
    assert!(
        String::from_utf8_lossy(&read_again.stdout).contains("No such file"),
        "{read_again:?}"
    );
    assert_eq!(volume_names(&project).len(), 4);

    // `down -v` removes the volumes of its containers; the dangling ones stay, as with
    // docker compose.
    project.ok(&["down", "-v", "-t", "0"]);
    assert_eq!(volume_names(&project), first);

    // --renew-anon-volumes: recreated (nothing changed) with new volumes; the old ones
    // dangle.
    project.ok(&["up", "-d"]);
    project.ok(&["exec", "-T", "web", "sh", "-c", write]);
    let output = project.run(&["up", "-d", "-V", "-t", "0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Container anon-web-1  Recreated"),
        "{stderr}"
    );
    let renewed = project.run(&["exec", "-T", "web", "sh", "-c", read]);
    assert!(
        String::from_utf8_lossy(&renewed.stdout).contains("No such file"),
        "{renewed:?}"
    );
    assert_eq!(volume_names(&project).len(), 6);
}
