//! The tutorials' compose stacks (`examples/`, written after `../shared/seeds`) run for real
//! with `wharf compose`, checked as a user sees them: Flask + SQLAlchemy on Postgres keeps its
//! data through `down` + `up` and loses it with `down -v`; nginx serves the gunicorn Django
//! page while only the app reaches Postgres (two networks, env files, `restart:
//! unless-stopped`); a Flask API hands a task to a Celery worker through Redis and reads the
//! result back; the dev/prod override pair runs three limited replicas behind nginx after a
//! healthy chain and a migration job, then one debug container.
//!
//! The stacks' images are built where RUN steps reach PyPI (the host's network namespace, with
//! the host's CA certificates), then moved (`save`/`load`) into a store whose containers run
//! in a network namespace of the test's own (`Wharf::isolated`), where `compose up` finds them
//! present, as docker compose does, and runs the stack. Skipped loudly where PyPI cannot be
//! reached.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::Wharf;

/// One example stack, its images present, in a store of its own network namespace.
struct Stack {
    wharf: Wharf,
    dir: PathBuf,
    files: Vec<&'static str>,
}

/// The fixtures `compose up` uses from each tag.
const FIXTURES: [(&str, &str); 4] = [
    ("python-3.11-slim", "python:3.11-slim"),
    ("postgres-15", "postgres:15"),
    ("redis-7", "redis:7"),
    ("nginx-1.22", "nginx:1.22"),
];

/// `examples/EXAMPLE` with its `images` (name, context folder) built under the names
/// `compose up` looks for, in an isolated store with the fixtures `uses` (tags). `None`
/// after a loud SKIPPED.
fn stack(example: &str, images: &[(&str, &str)], uses: &[&str]) -> Option<Stack> {
    let fixtures: Vec<(&str, &str)> = FIXTURES
        .iter()
        .filter(|(_, tag)| uses.contains(tag))
        .copied()
        .collect();
    let wharf = common::examples::isolated_store_with_images(example, images, &fixtures)?;
    Some(Stack {
        wharf,
        dir: common::repo_root().join("examples").join(example),
        files: vec!["compose.yaml"],
    })
}

impl Stack {
    fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["compose".to_string()];
        for file in &self.files {
            all.push("-f".into());
            all.push(self.dir.join(file).display().to_string());
        }
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    fn run(&self, args: &[&str]) -> Output {
        let args = self.args(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.wharf.run(&args)
    }

    /// `wharf compose -f ... ARGS`, which must succeed: stdout and stderr.
    fn ok(&self, args: &[&str]) -> (String, String) {
        let output = self.run(args);
        common::assert_success(
            &output,
            &self
                .args(args)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        (
            common::stdout(&output),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `compose exec -T SERVICE COMMAND...`: whether it exited 0, and its stdout.
    fn exec(&self, service: &str, command: &[&str]) -> (bool, String) {
        let mut args = vec!["exec", "-T", service];
        args.extend(command);
        let output = self.run(&args);
        (output.status.success(), common::stdout(&output))
    }

    fn inspect(&self, template: &str, container: &str) -> String {
        self.wharf
            .ok(&["inspect", "-f", template, container])
            .trim()
            .to_string()
    }

    fn curl(&self, args: &[&str]) -> Option<String> {
        common::examples::curl(&self.wharf, args)
    }

    /// `curl ARGS` until it answers as `accept`s, or a panic with the stack's logs.
    fn await_answer(&self, args: &[&str], accept: impl Fn(&str) -> bool) -> String {
        let logs = || common::stdout(&self.run(&["logs", "--no-color"]));
        common::examples::await_answer(&self.wharf, args, accept, logs)
    }

    /// `down -v`, then nothing of the stack may remain: containers, volumes, networks,
    /// mounts, processes, cgroups.
    fn down_leaving_nothing(&self) {
        let ids = self.wharf.container_ids();
        self.ok(&["down", "-v"]);
        common::examples::assert_stack_gone(&self.wharf, &ids);
    }
}

#[test]
fn flask_and_postgres_keep_notes_through_down_and_up_and_lose_them_with_down_v() {
    let Some(stack) = stack(
        "flask-postgres",
        &[("flask-postgres-web", ".")],
        &["postgres:15"],
    ) else {
        return;
    };
    let page = ["http://127.0.0.1:5000/"];
    let notes = ["http://127.0.0.1:5000/notes"];
    let (_, progress) = stack.ok(&["up", "-d"]);
    assert!(
        progress.contains("Container flask-postgres-db-1  Healthy"),
        "web waits for a healthy db:\n{progress}"
    );
    assert_eq!(
        stack.await_answer(&page, |_| true),
        "Hello from Flask + Postgres! 0 notes\n"
    );
    let posted = stack.curl(&["-d", "text=written through the app", notes[0]]);
    assert_eq!(posted.as_deref(), Some("written through the app\n"));

    // `down` removes the containers and the network; the named volume keeps the data.
    stack.ok(&["down"]);
    assert_eq!(stack.wharf.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(
        stack.wharf.ok(&["volume", "ls", "-q"]),
        "flask-postgres_dbdata\n"
    );
    stack.ok(&["up", "-d"]);
    assert_eq!(
        stack.await_answer(&notes, |_| true),
        "written through the app\n"
    );

    // `down -v` takes the volume: the next `up` starts from an empty database.
    stack.ok(&["down", "-v"]);
    assert_eq!(stack.wharf.ok(&["volume", "ls", "-q"]), "");
    stack.ok(&["up", "-d"]);
    assert_eq!(
        stack.await_answer(&page, |_| true),
        "Hello from Flask + Postgres! 0 notes\n"
    );
    assert_eq!(stack.curl(&notes).as_deref(), Some(""));
    stack.down_leaving_nothing();
}

/// The address of `container` on the network `network` (`inspect`'s Networks, as JSON).
fn address(stack: &Stack, container: &str, network: &str) -> String {
    let networks: serde_json::Value =
        serde_json::from_str(&stack.inspect("{{json .NetworkSettings.Networks}}", container))
            .unwrap();
    networks[network]["IPAddress"]
        .as_str()
        .unwrap_or_else(|| panic!("{container} is not on {network}: {networks}"))
        .to_string()
}

#[test]
fn nginx_serves_django_and_only_the_app_reaches_postgres() {
    let Some(stack) = stack(
        "django-nginx",
        &[
            ("django-nginx-djangoapp", "."),
            ("django-nginx-nginx", "nginx"),
        ],
        &["postgres:15"],
    ) else {
        return;
    };
    stack.ok(&["up", "-d"]);
    // The page comes from gunicorn through nginx, and Django read it from Postgres.
    let page = stack.await_answer(&["http://127.0.0.1:8000/"], |b| b.starts_with("Hello"));
    assert!(
        page.starts_with("Hello from Django behind nginx! Postgres 15."),
        "{page}"
    );

    // The app is on both networks: it resolves and reaches Postgres.
    let db = address(&stack, "django-nginx-postgres-1", "django-nginx_db_network");
    let reach = format!("timeout 5 bash -c 'echo > /dev/tcp/{db}/5432'");
    assert!(stack.exec("djangoapp", &["getent", "hosts", "postgres"]).0);
    assert!(stack.exec("djangoapp", &["bash", "-c", &reach]).0);
    // nginx is on nginx_network only: neither the name nor the address of Postgres.
    assert!(!stack.exec("nginx", &["getent", "hosts", "postgres"]).0);
    assert!(!stack.exec("nginx", &["bash", "-c", &reach]).0);
    assert!(stack.exec("nginx", &["getent", "hosts", "djangoapp"]).0);

    // Settings come from the env files.
    assert_eq!(
        stack.exec("djangoapp", &["printenv", "DATABASE_HOST"]),
        (true, "postgres\n".to_string())
    );
    assert_eq!(
        stack.exec("postgres", &["printenv", "POSTGRES_DB"]),
        (true, "app\n".to_string())
    );

    // Every service restarts unless stopped: gunicorn ending comes back by itself.
    for service in ["djangoapp", "postgres", "nginx"] {
        let container = format!("django-nginx-{service}-1");
        assert_eq!(
            stack.inspect("{{.HostConfig.RestartPolicy.Name}}", &container),
            "unless-stopped"
        );
    }
    assert!(stack.exec("djangoapp", &["sh", "-c", "kill 1"]).0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack.inspect("{{.RestartCount}}", "django-nginx-djangoapp-1") != "1" {
        assert!(Instant::now() < deadline, "djangoapp never restarted");
        std::thread::sleep(Duration::from_millis(100));
    }
    let again = stack.await_answer(&["http://127.0.0.1:8000/"], |b| b.starts_with("Hello"));
    assert_eq!(again, page);
    stack.down_leaving_nothing();
}

#[test]
fn a_task_submitted_to_the_api_is_processed_by_the_celery_worker() {
    let Some(stack) = stack(
        "flask-celery",
        &[("flask-celery-web", "."), ("flask-celery-worker", ".")],
        &["redis:7"],
    ) else {
        return;
    };
    stack.ok(&["up", "-d"]);
    // One image, two commands.
    assert_eq!(
        stack.inspect("{{.Image}}", "flask-celery-web-1"),
        stack.inspect("{{.Image}}", "flask-celery-worker-1")
    );
    assert_eq!(
        stack.inspect("{{json .Config.Cmd}}", "flask-celery-worker-1"),
        r#"["celery","-A","tasks","worker","--loglevel=info"]"#
    );
    let task = add(&stack, 2, 3, "5");
    // Celery logs on stderr; `compose logs` keeps each line on its stream.
    let (_, logs) = stack.ok(&["logs", "--no-color", "worker"]);
    assert!(
        logs.contains(&format!("Task tasks.add[{task}] succeeded")),
        "{logs}"
    );

    // As docker compose, `down` without -v leaves redis' anonymous volume (its image's
    // `VOLUME /data`) behind, dangling; `volume prune` takes it.
    stack.ok(&["down"]);
    let dangling = ["volume", "ls", "-q", "--filter", "dangling=true"];
    assert_eq!(stack.wharf.ok(&dangling).lines().count(), 1);
    stack.wharf.ok(&["volume", "prune", "-f"]);
    assert_eq!(stack.wharf.ok(&["volume", "ls", "-q"]), "");

    // Attached, as the tutorial runs it: every service's log streams with its prefix, and
    // Ctrl-C stops them all, dependents first.
    let log = stack.wharf.path().join("attached.log");
    let file = std::fs::File::create(&log).unwrap();
    let args = stack.args(&["up", "-t", "2"]);
    let mut up = stack
        .wharf
        .command(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let task = add(&stack, 20, 22, "42");
    let processed = format!("Task tasks.add[{task}] succeeded");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .any(|l| l.starts_with("worker-1  | ") && l.contains(&processed))
    {
        assert!(
            Instant::now() < deadline,
            "the worker's line never reached the attached up:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // nsenter has exec'd wharf: its pid is wharf's.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    up.wait().unwrap();
    let attached = std::fs::read_to_string(&log).unwrap();
    assert!(
        attached.contains("Gracefully Stopping... press Ctrl+C again to force"),
        "{attached}"
    );
    let web = line_of(&attached, "flask-celery-web-1", "Stopped");
    let worker = line_of(&attached, "flask-celery-worker-1", "Stopped");
    let redis = line_of(&attached, "flask-celery-redis-1", "Stopped");
    assert!(web < worker && worker < redis, "{attached}");
    let (states, _) = stack.ok(&["ps", "-a", "--format", "{{.State}}"]);
    assert_eq!(states, "exited\nexited\nexited\n");
    stack.down_leaving_nothing();
}

/// Submits `x + y` through the API and waits for the worker's `sum`; the task's id.
fn add(stack: &Stack, x: u32, y: u32, sum: &str) -> String {
    let submit = format!("http://127.0.0.1:5001/add?x={x}&y={y}");
    let task = stack.await_answer(&["-X", "POST", &submit], |_| true);
    assert!(!task.is_empty());
    let result = format!("http://127.0.0.1:5001/result/{task}");
    // 202 (still pending) is a success for curl: wait for the worker's answer.
    assert_eq!(stack.await_answer(&[&result], |b| b != "PENDING"), sum);
    task
}

/// Index of the first progress line of `up` that ends with `what` for `container`.
fn line_of(progress: &str, container: &str, what: &str) -> usize {
    let wanted = format!("Container {container}  {what}");
    progress
        .lines()
        .position(|l| l.trim_end().ends_with(&wanted))
        .unwrap_or_else(|| panic!("no `{wanted}` in:\n{progress}"))
}

/// The container's cgroup file says `want` (its first word): cgroup v1's `controller/file`
/// or, on a cgroup v2 host, `v2_file`.
fn assert_cgroup(id: &str, (controller, v1_file): (&str, &str), v2_file: &str, want: &str) {
    let root = Path::new("/sys/fs/cgroup");
    for (parent, file) in [
        (root.join(controller).join("wharf"), v1_file),
        (root.join("wharf"), v2_file),
    ] {
        let Ok(cgroups) = std::fs::read_dir(&parent) else {
            continue;
        };
        for cgroup in cgroups.flatten() {
            if !cgroup.file_name().to_string_lossy().starts_with(id) {
                continue;
            }
            if let Ok(value) = std::fs::read_to_string(cgroup.path().join(file)) {
                assert_eq!(value.split_whitespace().next(), Some(want), "{file}");
                return;
            }
        }
    }
    panic!("no cgroup of container {id} with {v1_file} or {v2_file}");
}

#[test]
fn the_prod_override_runs_three_limited_replicas_after_a_healthy_chain_and_a_migration() {
    let Some(mut stack) = stack(
        "flask-deploy",
        &[("flask-deploy-web", "."), ("flask-deploy-migrate", ".")],
        &["postgres:15", "nginx:1.22"],
    ) else {
        return;
    };
    stack.files = vec!["compose.yaml", "compose.prod.yaml"];
    let (_, progress) = stack.ok(&["up", "-d"]);
    let webs = [
        "flask-deploy-web-1",
        "flask-deploy-web-2",
        "flask-deploy-web-3",
    ];

    // The chain: db healthy → migration run to completion → web replicas healthy → proxy.
    let db_healthy = line_of(&progress, "flask-deploy-db-1", "Healthy");
    let migrate_started = line_of(&progress, "flask-deploy-migrate-1", "Started");
    let migrate_exited = line_of(&progress, "flask-deploy-migrate-1", "Exited");
    let proxy_started = line_of(&progress, "flask-deploy-proxy-1", "Started");
    assert!(db_healthy < migrate_started && migrate_started < migrate_exited);
    for web in webs {
        let started = line_of(&progress, web, "Started");
        let healthy = line_of(&progress, web, "Healthy");
        assert!(migrate_exited < started && started < healthy && healthy < proxy_started);
        assert_eq!(stack.inspect("{{.State.Health.Status}}", web), "healthy");
    }
    // The same order in the containers' own times, and the job's success.
    assert_eq!(
        stack.inspect("{{.State.ExitCode}}", "flask-deploy-migrate-1"),
        "0"
    );
    let finished = stack.inspect("{{.State.FinishedAt}}", "flask-deploy-migrate-1");
    for web in webs {
        assert!(finished < stack.inspect("{{.State.StartedAt}}", web));
    }
    let (migrated, _) = stack.ok(&["logs", "--no-color", "--no-log-prefix", "migrate"]);
    assert_eq!(migrated, "migrated: table visits is ready\n");

    // Replicas numbered 1..3; the service name resolves to all of them.
    let (names, _) = stack.ok(&["ps", "--format", "{{.Name}}", "web"]);
    assert_eq!(names.lines().collect::<Vec<_>>(), webs);
    let addresses: BTreeSet<String> = webs
        .iter()
        .map(|web| address(&stack, web, "flask-deploy_default"))
        .collect();
    let (ok, resolved) = stack.exec("db", &["getent", "ahostsv4", "web"]);
    assert!(ok);
    let resolved: BTreeSet<String> = resolved
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert_eq!(resolved, addresses);
    // nginx spreads requests over the three.
    let hosts: BTreeSet<String> = (0..9)
        .map(|_| stack.await_answer(&["http://127.0.0.1:8080/"], |b| b.starts_with("Hello")))
        .map(|page| page.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(hosts.len(), 3, "{hosts:?}");

    // Limits and restart policy: in inspect, and in the kernel's cgroup.
    for web in webs {
        assert_eq!(stack.inspect("{{.HostConfig.Memory}}", web), "536870912");
        assert_eq!(
            stack.inspect("{{.HostConfig.MemoryReservation}}", web),
            "268435456"
        );
        assert_eq!(stack.inspect("{{.HostConfig.NanoCpus}}", web), "500000000");
        assert_eq!(
            stack.inspect("{{.HostConfig.RestartPolicy.Name}}", web),
            "on-failure"
        );
        let id = stack.inspect("{{.Id}}", web);
        assert_cgroup(
            &id,
            ("memory", "memory.limit_in_bytes"),
            "memory.max",
            "536870912",
        );
        assert_cgroup(&id, ("cpu", "cpu.cfs_quota_us"), "cpu.max", "50000");
        // The reservation is the soft limit.
        assert_cgroup(
            &id,
            ("memory", "memory.soft_limit_in_bytes"),
            "memory.low",
            "268435456",
        );
    }

    // `up --wait` on the running stack, as docker compose: the job has run to completion
    // (Exited), the rest are running or healthy (Healthy).
    let (_, waited) = stack.ok(&["up", "-d", "--wait"]);
    line_of(&waited, "flask-deploy-migrate-1", "Exited");
    line_of(&waited, "flask-deploy-web-3", "Healthy");
    line_of(&waited, "flask-deploy-proxy-1", "Healthy");

    // The dev override: one debug container on the mounted source, the others removed.
    stack.files = vec!["compose.yaml", "compose.dev.yaml"];
    let (_, progress) = stack.ok(&["up", "-d"]);
    assert!(
        progress.contains("Container flask-deploy-web-2  Removed"),
        "{progress}"
    );
    let page = stack.await_answer(&["http://127.0.0.1:5000/"], |b| b.contains("debug=1"));
    assert!(page.starts_with("Hello from "), "{page}");
    assert_eq!(
        stack.exec("web", &["cat", "/app/compose.dev.yaml"]).1,
        std::fs::read_to_string(stack.dir.join("compose.dev.yaml")).unwrap()
    );
    let (names, _) = stack.ok(&["ps", "--format", "{{.Name}}", "web"]);
    assert_eq!(names, "flask-deploy-web-1\n");
    stack.down_leaving_nothing();
}

#[test]
fn compose_builds_reach_pypi_through_the_hosts_ca_certificates_with_the_setting() {
    if !common::is_root() {
        common::skip("builds need root");
        return;
    }
    if !common::pypi_reachable() {
        common::skip("compose build: PyPI cannot be reached from this host");
        return;
    }
    // In the host's network namespace, where RUN steps reach PyPI; `network_mode: none`
    // makes no network there.
    let wharf = Wharf::new();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    let context = common::repo_root().join("examples/flask-celery");
    std::fs::write(
        &file,
        format!(
            "name: cabuild\nservices:\n  app:\n    build: {}\n    network_mode: none\n",
            context.display()
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let output = wharf
        .command(&["compose", "-f", file, "create", "--build"])
        .env("WHARF_BUILD_HOST_CA_CERTS", "1")
        .output()
        .unwrap();
    common::assert_success(&output, &["compose", "create", "--build"]);
    let imported = wharf.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "cabuild-app",
        "python",
        "-c",
        "import celery, flask; print('imported')",
    ]);
    assert_eq!(imported, "imported\n");
    wharf.ok(&["compose", "-f", file, "down", "--rmi", "local"]);
    assert_eq!(wharf.ok(&["images", "-q", "cabuild-app"]), "");
}
