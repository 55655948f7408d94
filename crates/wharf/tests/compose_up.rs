//! `wharf compose up` and `down` end to end, with the real binary and fixture images: a
//! python http.server + redis + postgres stack (with a migration job and two worker
//! replicas) comes up with docker compose's names, labels and networks, in dependency order
//! (`service_healthy`, `service_completed_successfully`); the service name resolves to its
//! containers from another service; `up` again touches nothing; a changed environment
//! recreates only that service; a failing validation creates nothing; `down` removes
//! containers and networks and keeps volumes, `down -v` removes them.
//!
//! Each test's wharf runs in a network namespace of its own (`Wharf::isolated`).

mod common;

use std::path::Path;

use common::Wharf;

/// A wharf in its own network namespace with the fixtures imported, or `None` after
/// printing SKIPPED.
fn setup(fixtures: &[(&str, &str)]) -> Option<Wharf> {
    common::compose::isolated_wharf(fixtures)
}

/// `wharf compose -f DIR/compose.yaml ARGS`.
fn compose<'a>(dir: &'a Path, args: &[&'a str]) -> Vec<String> {
    let file = dir.join("compose.yaml").display().to_string();
    let mut all = vec!["compose".to_string(), "-f".to_string(), file];
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

fn ok(wharf: &Wharf, dir: &Path, args: &[&str]) -> String {
    let args = compose(dir, args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wharf.ok(&args)
}

fn fails(wharf: &Wharf, dir: &Path, args: &[&str]) -> String {
    let args = compose(dir, args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wharf.fails(&args)
}

/// `inspect -f TEMPLATE NAME`, trimmed.
fn inspect(wharf: &Wharf, template: &str, name: &str) -> String {
    wharf
        .ok(&["inspect", "-f", template, name])
        .trim()
        .to_string()
}

/// Id and start time of each container, to see what a command touched.
fn identities(wharf: &Wharf, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            (
                inspect(wharf, "{{.Id}}", name),
                inspect(wharf, "{{.State.StartedAt}}", name),
            )
        })
        .collect()
}

const STACK: &str = r#"
name: stack
services:
  db:
    image: postgres:15
    environment: {POSTGRES_PASSWORD: secret}
    networks: [back]
    volumes: [dbdata:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres -h 127.0.0.1"]
      interval: 1s
      retries: 120
  cache:
    image: redis:7
    networks: [back]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 60
  migrate:
    image: postgres:15
    entrypoint: ["sh", "-c", "PGPASSWORD=secret psql -h db -U postgres -c 'select 1' && echo done > /shared/migrated"]
    networks: [back]
    volumes: [shared:/shared]
    depends_on:
      db: {condition: service_healthy}
  web:
    image: python:3.11-slim
    command: ["sh", "-c", "test -f /shared/migrated && exec python3 -m http.server 8000"]
    environment: {MODE: one}
    ports: ["8080:8000"]
    networks: [front, back]
    volumes: [shared:/shared:ro]
    depends_on:
      cache: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  worker:
    image: busybox:latest
    command: ["sleep", "1000"]
    init: false
    networks: [back]
    deploy: {replicas: 2}
networks: {front: {}, back: {}}
volumes: {dbdata: {}, shared: {}}
"#;

const LONG_RUNNING: [&str; 5] = [
    "stack-db-1",
    "stack-cache-1",
    "stack-web-1",
    "stack-worker-1",
    "stack-worker-2",
];

#[test]
fn a_stack_comes_up_in_order_converges_and_goes_down() {
    let Some(wharf) = setup(&[
        ("postgres-15", "postgres:15"),
        ("redis-7", "redis:7"),
        ("python-3.11-slim", "python:3.11-slim"),
        ("busybox", "busybox:latest"),
    ]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), STACK).unwrap();
    let dir = dir.path();

    ok(&wharf, dir, &["up", "-d"]);
    // web runs only if migrate wrote its file first, and migrate only if db answered.
    for name in LONG_RUNNING {
        assert_eq!(
            inspect(&wharf, "{{.State.Status}}", name),
            "running",
            "{name}"
        );
    }
    assert_eq!(
        inspect(&wharf, "{{.State.ExitCode}}", "stack-migrate-1"),
        "0"
    );
    assert_eq!(
        inspect(&wharf, "{{.State.Health.Status}}", "stack-db-1"),
        "healthy"
    );

    // docker compose's labels; the hash is `config --hash`'s.
    let hash = ok(&wharf, dir, &["config", "--hash", "web"]);
    let inspected: serde_json::Value =
        serde_json::from_str(&wharf.ok(&["inspect", "stack-web-1"])).unwrap();
    let label = |key: &str| {
        inspected[0]["Config"]["Labels"][key]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        format!("web {}", label("com.docker.compose.config-hash")),
        hash.trim()
    );
    assert_eq!(label("com.docker.compose.project"), "stack");
    assert_eq!(label("com.docker.compose.service"), "web");
    assert_eq!(label("com.docker.compose.container-number"), "1");
    assert_eq!(label("com.docker.compose.oneoff"), "False");
    assert_eq!(
        label("com.docker.compose.depends_on"),
        "cache:service_healthy:false,migrate:service_completed_successfully:false"
    );
    assert_eq!(
        label("com.docker.compose.image"),
        inspect(&wharf, "{{.Id}}", "python:3.11-slim")
    );
    let networks = wharf.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        networks.contains("stack_front") && networks.contains("stack_back"),
        "{networks}"
    );
    let volumes = wharf.ok(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(
        volumes.contains("stack_dbdata") && volumes.contains("stack_shared"),
        "{volumes}"
    );

    // The service name resolves to every replica; compose's ps lists the services.
    let resolve = "import socket,sys; print(len(set(socket.gethostbyname_ex(sys.argv[1])[2])))";
    let count = ok(
        &wharf,
        dir,
        &["exec", "-T", "web", "python3", "-c", resolve, "worker"],
    );
    assert_eq!(count.trim(), "2");
    let count = ok(
        &wharf,
        dir,
        &["exec", "-T", "web", "python3", "-c", resolve, "db"],
    );
    assert_eq!(count.trim(), "1");
    let services = ok(&wharf, dir, &["ps", "--services"]);
    assert_eq!(services, "cache\ndb\nweb\nworker\n");
    let page = wharf
        .host_command("python3")
        .args([
            "-c",
            "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/').status)",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&page.stdout).trim(),
        "200",
        "{page:?}"
    );

    // Nothing changed: nothing touched.
    let before = identities(&wharf, &LONG_RUNNING);
    ok(&wharf, dir, &["up", "-d"]);
    assert_eq!(identities(&wharf, &LONG_RUNNING), before);

    // A changed environment recreates only its service.
    std::fs::write(
        dir.join("compose.yaml"),
        STACK.replace("MODE: one", "MODE: two"),
    )
    .unwrap();
    ok(&wharf, dir, &["up", "-d"]);
    let after = identities(&wharf, &LONG_RUNNING);
    for (index, name) in LONG_RUNNING.iter().enumerate() {
        if *name == "stack-web-1" {
            assert_ne!(after[index].0, before[index].0, "web is recreated");
        } else {
            assert_eq!(after[index], before[index], "{name} is untouched");
        }
    }
    assert_eq!(
        ok(
            &wharf,
            dir,
            &["exec", "-T", "web", "sh", "-c", "echo $MODE"]
        )
        .trim(),
        "two"
    );

    let ids = wharf.container_ids();
    ok(&wharf, dir, &["down"]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    let networks = wharf.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("stack_"), "{networks}");
    let volumes = wharf.ok(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(
        volumes.contains("stack_dbdata"),
        "down keeps volumes: {volumes}"
    );
    ok(&wharf, dir, &["down", "-v"]);
    let volumes = wharf.ok(&["volume", "ls", "--format", "{{.Name}}"]);
    assert!(
        !volumes.contains("stack_"),
        "down -v removes them: {volumes}"
    );
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn up_validates_everything_first_and_a_sick_dependency_fails_it() {
    let Some(wharf) = setup(&[("busybox", "busybox:latest")]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let write = |yaml: &str| std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
    let nothing_created = || {
        assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
        let networks = wharf.ok(&["network", "ls", "--format", "{{.Name}}"]);
        assert!(!networks.contains("bad_"), "{networks}");
        let volumes = wharf.ok(&["volume", "ls", "-q"]);
        assert_eq!(volumes, "");
    };

    // A key wharf cannot honor, in the last service: nothing at all is created.
    write(
        "name: bad\nservices:\n  a: {image: 'busybox:latest', command: [sleep, '100'], volumes: [v:/v]}\n  z: {image: 'busybox:latest', userns_mode: host}\nvolumes: {v: {}}\n",
    );
    let error = fails(&wharf, dir, &["up", "-d"]);
    assert!(error.contains("services.z.userns_mode"), "{error}");
    nothing_created();

    // A missing image that cannot be pulled from anywhere here.
    write("name: bad\nservices:\n  a: {image: 'busybox:latest', command: [sleep, '100']}\n  b: {build: ./nowhere}\n");
    let error = fails(&wharf, dir, &["up", "-d", "--no-build"]);
    assert!(error.contains("service b"), "{error}");
    nothing_created();

    // A dependency that never gets healthy: up fails naming it and its health output,
    // and its dependent is never created.
    write(
        "name: bad\nservices:\n  sick:\n    image: busybox:latest\n    command: [sleep, '100']\n    healthcheck: {test: [CMD-SHELL, 'echo not ready; exit 1'], interval: 1s, retries: 2}\n  app:\n    image: busybox:latest\n    command: [sleep, '100']\n    depends_on: {sick: {condition: service_healthy}}\n",
    );
    let error = fails(&wharf, dir, &["up", "-d"]);
    assert!(
        error.contains("bad-sick-1 is unhealthy") && error.contains("not ready"),
        "{error}"
    );
    let names = wharf.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(names.trim(), "bad-sick-1");
    let ids = wharf.container_ids();
    ok(&wharf, dir, &["down"]);
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn secrets_configs_kernel_parameters_and_a_shared_network_reach_the_containers() {
    let Some(wharf) = setup(&[("busybox", "busybox:latest")]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("token.txt"), "t0ken").unwrap();
    std::fs::write(dir.join(".env"), "DB_PASSWORD=s3cret\n").unwrap();
    std::fs::write(
        dir.join("compose.yaml"),
        r#"
name: keys
services:
  app:
    image: busybox:latest
    command: [sleep, "1000"]
    sysctls: {net.core.somaxconn: "1234"}
    shm_size: 8m
    secrets: [token, {source: password, target: db_password, uid: "1000", mode: 0400}]
    configs: [{source: settings, target: /etc/app/settings.ini}]
    # An hour between probes: only the start interval lets --wait end.
    healthcheck: {test: [CMD, "true"], interval: 1h, start_period: 1h, start_interval: 100ms}
  sidecar:
    image: busybox:latest
    command: [sleep, "1000"]
    network_mode: service:app
secrets:
  token: {file: ./token.txt}
  password: {environment: DB_PASSWORD}
configs:
  settings: {content: "debug = false"}
"#,
    )
    .unwrap();
    ok(&wharf, dir, &["up", "-d", "--wait", "--wait-timeout", "60"]);
    let exec =
        |service: &str, script: &str| ok(&wharf, dir, &["exec", "-T", service, "sh", "-c", script]);
    assert_eq!(
        exec(
            "app",
            "cat /run/secrets/token; echo; cat /run/secrets/db_password; echo; cat /etc/app/settings.ini; echo; \
             stat -c '%a %u' /run/secrets/db_password; cat /proc/sys/net/core/somaxconn; \
             grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9]*k'"
        ),
        "t0ken\ns3cret\ndebug = false\n400 1000\n1234\nsize=8192k\n"
    );
    // The sidecar is in app's network namespace: the same interface.
    let address = "cat /sys/class/net/eth0/address";
    assert_eq!(exec("sidecar", address), exec("app", address));
    // A secret's file source is a read-only bind.
    let write = compose(
        dir,
        &[
            "exec",
            "-T",
            "app",
            "sh",
            "-c",
            "echo x > /run/secrets/token",
        ],
    );
    let write: Vec<&str> = write.iter().map(String::as_str).collect();
    wharf.fails(&write);
    ok(&wharf, dir, &["down"]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
}
