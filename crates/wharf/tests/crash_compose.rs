//! `kill -9` of `compose up -d` and `compose down -v` at several moments: a network, a named
//! volume, a published port and three services. Afterwards `system check` finds the store
//! consistent, `--repair` leaves nothing, the same command run again converges (three
//! services up, the page served through the published port; or everything gone), a volume
//! written before the kill keeps its content, and once the project is down no mount,
//! cgroup, veth, firewall rule or process of it is left.

mod common;

use std::process::Stdio;

use common::compose::ComposeProject;
use common::crash::{check_and_repair, kill, mounts_under};

const STACK: &str = r#"
name: crash
services:
  cache:
    image: redis:7
    command: [redis-server, --save, ""]
    networks: [back]
  web:
    image: busybox:latest
    command: [sh, -c, 'mkdir -p /www; cat /shared/mark > /www/index.html; exec httpd -f -p 8080 -h /www']
    ports: ["18080:8080"]
    volumes: [shared:/shared]
    networks: [back]
    depends_on: [cache]
  worker:
    image: busybox:latest
    command: [sleep, "3600"]
    volumes: [shared:/shared]
    networks: [back]
    depends_on: [cache]
networks: {back: {}}
volumes: {shared: {}}
"#;

const SERVICES: &str = "crash-cache-1 running\ncrash-web-1 running\ncrash-worker-1 running\n";

fn stack() -> Option<ComposeProject> {
    ComposeProject::new(
        &[("busybox", "busybox:latest"), ("redis-7", "redis:7")],
        STACK,
    )
}

fn states(project: &ComposeProject) -> String {
    let mut lines: Vec<String> = project
        .wharf
        .ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Containers with a record in the store.
fn containers_recorded(project: &ComposeProject) -> usize {
    std::fs::read_dir(project.wharf.path().join("containers"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("container.json").exists())
                .count()
        })
        .unwrap_or(0)
}

/// Starts `compose ARGS` and kills it once `moment` holds (or it ended).
fn killed_when(project: &ComposeProject, args: &[&str], moment: &dyn Fn() -> bool) {
    let file = project.path().join("compose.yaml");
    let mut all = vec!["compose", "-f", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut child = project
        .wharf
        .command(&all)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::crash::wait_until("the moment to kill", || {
        moment() || child.try_wait().unwrap().is_some()
    });
    kill(&mut child);
}

/// The moments of `up` to kill it at: at once, once a container is recorded, once one runs.
fn up_moments(project: &ComposeProject) -> Vec<Box<dyn Fn() -> bool + '_>> {
    vec![
        Box::new(|| true),
        Box::new(|| containers_recorded(project) >= 1),
        Box::new(|| states(project).contains("running")),
    ]
}

fn assert_down_leaves_nothing(project: &ComposeProject, ids: &[String]) {
    project.ok(&["down", "-v"]);
    assert_eq!(project.wharf.ok(&["ps", "-a", "-q"]), "");
    // As docker compose, `down` leaves the anonymous volumes of the containers it removes
    // (redis' /data here) and `down -v` only removes those of the containers it removes.
    assert!(
        !project
            .wharf
            .ok(&["volume", "ls", "-q"])
            .contains("crash_shared"),
        "the project's volume is left"
    );
    project.wharf.assert_nothing_leaked(ids);
    project.wharf.assert_no_network_leftovers();
    assert!(
        !project.wharf.ok(&["network", "ls"]).contains("crash_back"),
        "the project's network is left"
    );
}

#[test]
fn compose_up_killed_at_any_moment_converges_when_run_again() {
    let Some(project) = stack() else {
        return;
    };
    // A first whole run writes the volume; `down` keeps it.
    project.ok(&["up", "-d"]);
    project.ok(&[
        "exec",
        "-T",
        "worker",
        "sh",
        "-c",
        "echo kept > /shared/mark",
    ]);
    project.ok(&["down"]);
    let mut ids = Vec::new();
    for moment in up_moments(&project) {
        killed_when(&project, &["up", "-d"], &*moment);
        check_and_repair(&project.wharf);
        project.ok(&["up", "-d"]);
        assert_eq!(states(&project), SERVICES);
        assert_eq!(
            project.wharf.fetch_page("http://127.0.0.1:18080/"),
            "kept\n",
            "the volume written before the kill, served through the published port"
        );
        ids.extend(project.wharf.container_ids());
        project.ok(&["down"]);
        assert_eq!(mounts_under(&project.wharf), Vec::<String>::new());
    }
    project.wharf.assert_consistent();
    assert_down_leaves_nothing(&project, &ids);
}

#[test]
fn compose_down_killed_at_any_moment_finishes_when_run_again() {
    let Some(project) = stack() else {
        return;
    };
    let moments: [&dyn Fn(&ComposeProject) -> bool; 3] =
        [&|_| true, &|p| states(p).contains("exited"), &|p| {
            containers_recorded(p) < 3
        }];
    for moment in moments {
        project.ok(&["up", "-d"]);
        assert_eq!(states(&project), SERVICES);
        let ids = project.wharf.container_ids();
        killed_when(&project, &["down", "-v"], &|| moment(&project));
        check_and_repair(&project.wharf);
        // What the kill left running is stopped by the next `down`.
        assert_down_leaves_nothing(&project, &ids);
    }
}
