//! `compose run` end to end: the dependencies come up first (a `service_healthy` one is
//! waited for), the one-off container is named `<project>-<service>-run-<slug>` and
//! labelled as docker compose labels it, attached it exits with the command's code, and
//! `-e`, `-u`, `-w`, `--entrypoint`, `-v`, `-p`, `--service-ports`, `--name`, `-d`, `--rm`,
//! `--use-aliases`, `--cap-drop`, `--no-deps`, `--env-from-file`, `-i`/`--interactive=false`
//! and `--remove-orphans` change what runs as in docker compose. `down` leaves run's containers
//! (and so their network) unless `--remove-orphans`.

mod common;

use common::compose::ComposeProject;

const STACK: &str = r#"
name: runs
services:
  db:
    image: busybox:latest
    command: [sh, -c, 'echo ready > /shared/db; exec sleep 1000']
    volumes: [shared:/shared]
    healthcheck: {test: [CMD, test, -f, /shared/db], interval: 1s, retries: 30}
  app:
    image: busybox:latest
    command: [echo, from-the-service]
    restart: always
    environment: {A: one}
    ports: ["8080:80"]
    volumes: [shared:/shared]
    depends_on: {db: {condition: service_healthy}}
volumes: {shared: {}}
"#;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn run_starts_the_dependencies_then_a_one_off_container() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };

    // Attached: the dependency is up and healthy first, the exit code is the command's.
    let output = project.run(&[
        "run",
        "--rm",
        "-e",
        "B=two",
        "app",
        "sh",
        "-c",
        "cat /shared/db; echo $A $B; exit 3",
    ]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(stdout(&output), "ready\none two\n");
    assert_eq!(project.container_names(), ["runs-db-1"], "--rm removed it");
    assert_eq!(
        project.inspect("{{.State.Health.Status}}", "runs-db-1"),
        "healthy"
    );

    // The service's command, without its ports; --entrypoint clears the command.
    assert_eq!(project.ok(&["run", "--rm", "app"]), "from-the-service\n");
    assert_eq!(
        project.ok(&["run", "--rm", "--entrypoint", "echo entry", "app"]),
        "entry\n"
    );
    let folder = project.path().join("data");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("f"), "bound\n").unwrap();
    let bind = format!("{}:/data", folder.display());
    assert_eq!(
        project.ok(&[
            "run",
            "--rm",
            "-u",
            "nobody",
            "-w",
            "/data",
            "-v",
            &bind,
            "app",
            "sh",
            "-c",
            "id -un; pwd; cat f"
        ]),
        "nobody\n/data\nbound\n"
    );

    // Detached: the id on stdout, docker compose's name and labels, never restarted.
    let id = project.ok(&["run", "-d", "app", "sleep", "1000"]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    let name = project.inspect("{{.Name}}", id);
    let name = name.trim_start_matches('/');
    let labels: serde_json::Value =
        serde_json::from_str(&project.inspect("{{json .Config.Labels}}", id)).unwrap();
    let label = |key: &str| labels[key].as_str().unwrap_or_default().to_string();
    let slug = label("com.docker.compose.slug");
    assert_eq!(name, format!("runs-app-run-{}", &slug[..12]));
    assert_eq!(slug.len(), 64);
    assert_eq!(label("com.docker.compose.container-number"), "");
    assert_eq!(label("com.docker.compose.oneoff"), "True");
    assert_eq!(label("com.docker.compose.service"), "app");
    assert_eq!(label("com.docker.compose.project"), "runs");
    assert_eq!(
        project.inspect("{{.HostConfig.RestartPolicy.Name}}", id),
        "no"
    );
    assert_eq!(
        project.inspect("{{json .HostConfig.PortBindings}}", id),
        "{}"
    );

    // --service-ports publishes the service's ports, -p others; --name names it.
    project.ok(&[
        "run",
        "-d",
        "--name",
        "ported",
        "--service-ports",
        "app",
        "sleep",
        "1000",
    ]);
    assert!(project
        .inspect("{{json .HostConfig.PortBindings}}", "ported")
        .contains("8080"),);
    project.ok(&[
        "run",
        "-d",
        "--name",
        "published",
        "-p",
        "9090:90",
        "app",
        "sleep",
        "1000",
    ]);
    assert!(project
        .inspect("{{json .HostConfig.PortBindings}}", "published")
        .contains("9090"),);
    let error = project.fails(&["run", "--service-ports", "-p", "1:1", "app", "true"]);
    assert!(
        error.contains("--publish") && error.contains("--service-ports"),
        "{error}"
    );
    let error = project.fails(&["run", "nope"]);
    assert!(error.contains("no such service: nope"), "{error}");

    // run's containers answer to the service's name only with --use-aliases.
    let lookup = ["exec", "-T", "db", "nslookup", "app"];
    assert!(!project.run(&lookup).status.success());
    project.ok(&[
        "run",
        "-d",
        "--use-aliases",
        "--name",
        "aliased",
        "app",
        "sleep",
        "1000",
    ]);
    let aliased = project.inspect(
        "{{.NetworkSettings.Networks.runs_default.IPAddress}}",
        "aliased",
    );
    assert!(aliased.starts_with("172."), "{aliased}");
    assert!(
        project.ok(&lookup).contains(&aliased),
        "app resolves to {aliased}"
    );
    // --cap-drop takes a capability the service has.
    let chown = [
        "run",
        "--rm",
        "--no-deps",
        "app",
        "chown",
        "nobody",
        "/shared",
    ];
    project.ok(&chown);
    let dropped = project.run(&[
        "run",
        "--rm",
        "--no-deps",
        "--cap-drop",
        "CHOWN",
        "app",
        "chown",
        "nobody",
        "/shared",
    ]);
    assert!(!dropped.status.success(), "{dropped:?}");

    // ps shows the service's containers only; down leaves run's (and their network)...
    assert_eq!(project.ok(&["ps", "--services"]), "db\n");
    let ids = project.wharf.container_ids();
    let output = project.run(&["down", "-t", "0"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Network runs_default  Resource is still in use"),
        "{stderr}"
    );
    let mut left = vec![
        name.to_string(),
        "aliased".into(),
        "ported".into(),
        "published".into(),
    ];
    left.sort();
    assert_eq!(project.container_names(), left);
    // ...until --remove-orphans.
    project.ok(&["down", "-t", "0", "--remove-orphans"]);
    assert!(project.container_names().is_empty());
    let networks = project
        .wharf
        .ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("runs_"), "{networks}");

    // --no-deps: only the one-off container.
    assert_eq!(
        project.ok(&["run", "--rm", "--no-deps", "app", "echo", "alone"]),
        "alone\n"
    );
    assert!(project.container_names().is_empty());
    project.ok(&["down", "-v"]);
    project.wharf.assert_nothing_leaked(&ids);
}

#[test]
fn run_env_from_file_interactive_and_remove_orphans() {
    let yaml = "name: flags\nservices:\n  a: {image: 'busybox:latest', command: [sleep, '1000']}\n  b: {image: 'busybox:latest', command: [sleep, '1000']}\n";
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], yaml) else {
        return;
    };
    // Env files read as compose reads them; -e wins.
    let env = project.path().join("run.env");
    std::fs::write(&env, "A=from-file\nB=\"quoted $A\"\n").unwrap();
    let env = env.display().to_string();
    let echo = ["sh", "-c", "echo $A/$B/$C"];
    let mut args = vec!["run", "--rm", "--no-deps", "-T", "--env-from-file", &env];
    args.extend(["-e", "C=3", "a"]);
    args.extend(echo);
    assert_eq!(project.ok(&args), "from-file/quoted from-file/3\n");
    let mut args = vec!["run", "--rm", "--no-deps", "--env-from-file", &env];
    args.extend(["-e", "A=flag", "a", "sh", "-c", "echo $A"]);
    assert_eq!(project.ok(&args), "flag\n");
    let error = project.fails(&["run", "--env-from-file", "/nowhere.env", "a"]);
    assert!(error.contains("--env-from-file /nowhere.env"), "{error}");

    // stdin open by default (as docker compose), closed with --interactive=false.
    let open = stdout(&project.run(&["run", "-d", "--no-deps", "--name", "open", "a"]));
    assert!(!open.trim().is_empty());
    assert_eq!(project.inspect("{{.Config.OpenStdin}}", "open"), "true");
    project.ok(&[
        "run",
        "-d",
        "--no-deps",
        "--name",
        "closed",
        "--interactive=false",
        "a",
    ]);
    assert_eq!(project.inspect("{{.Config.OpenStdin}}", "closed"), "false");
    project.ok(&["run", "-d", "--no-deps", "--name", "short", "-i", "a"]);
    assert_eq!(project.inspect("{{.Config.OpenStdin}}", "short"), "true");

    // --remove-orphans: b, gone from the file, is removed before run's container.
    project.ok(&["up", "-d", "b"]);
    project.write(
        "name: flags\nservices:\n  a: {image: 'busybox:latest', command: [sleep, '1000']}\n",
    );
    let output = project.run(&["run", "--rm", "--no-deps", "--remove-orphans", "a", "true"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(" ✔ Container flags-b-1  Removed"),
        "{stderr}"
    );
    assert_eq!(project.container_names(), ["closed", "open", "short"]);
    let ids = project.wharf.container_ids();
    project.ok(&["down", "-t", "0", "--remove-orphans"]);
    project.wharf.assert_nothing_leaked(&ids);
}
