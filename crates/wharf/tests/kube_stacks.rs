//! The tutorials' stacks (`examples/`) there and back through Kubernetes: `compose bridge
//! convert` → strict schema validation → `kube play --publish --wait` → the app answers as
//! it does under `compose up` (compose_stacks.rs) → `kube down` leaves nothing. The images
//! are built as compose_stacks.rs builds them, named as convert's `--registry` names them;
//! validation is skipped loudly where kubernetes-validate cannot be installed.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::examples::{assert_stack_gone, await_answer, curl, isolated_store_with_images};
use common::Wharf;

/// Where convert says built images live (`<registry>/<project>-<service>:latest`).
const REGISTRY: &str = "kube.example";

/// One stack played from its converted manifests.
struct Played {
    wharf: Wharf,
    manifests: PathBuf,
    _out: tempfile::TempDir,
}

/// Builds `built` (service, context) of `examples/EXAMPLE`, converts the project of
/// `files`, validates the manifests and plays them. `None` after a loud SKIPPED.
fn play(
    example: &str,
    files: &[&str],
    built: &[(&str, &str)],
    fixtures: &[(&str, &str)],
) -> Option<Played> {
    let images: Vec<(String, &str)> = built
        .iter()
        .map(|(service, context)| (format!("{REGISTRY}/{example}-{service}:latest"), *context))
        .collect();
    let images: Vec<(&str, &str)> = images.iter().map(|(i, c)| (i.as_str(), *c)).collect();
    // Each pod's infra container, and the init containers that wait for a dependency.
    let mut fixtures = fixtures.to_vec();
    fixtures.push(("busybox", "busybox:1.36"));
    let wharf = isolated_store_with_images(example, &images, &fixtures)?;
    let out = tempfile::tempdir().unwrap();
    let manifests = out.path().join("k8s");
    let mut args = vec!["compose"];
    for file in files {
        args.extend(["-f", file]);
    }
    let target = manifests.to_str().unwrap();
    args.extend(["bridge", "convert", "--registry", REGISTRY, "-o", target]);
    let output = wharf
        .command(&args)
        .current_dir(common::repo_root().join("examples").join(example))
        .output()
        .unwrap();
    common::assert_success(&output, &args);
    if let Some(venv) = common::kube::validator() {
        common::kube::validate(&venv, &manifests);
    }
    wharf.ok(&["kube", "play", "--publish", "--wait", target]);
    Some(Played {
        wharf,
        manifests,
        _out: out,
    })
}

impl Played {
    /// `curl ARGS` until it answers as `accept`s, or a panic with every container's logs.
    fn await_answer(&self, args: &[&str], accept: impl Fn(&str) -> bool) -> String {
        let logs = || {
            let names = self
                .wharf
                .ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
            let mut all = names.clone();
            for line in names.lines() {
                let name = line.split(' ').next().unwrap_or_default();
                let output = self.wharf.run(&["logs", name]);
                all.push_str(&format!(
                    "--- {name}\n{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            all
        };
        await_answer(&self.wharf, args, accept, logs)
    }

    fn inspect(&self, template: &str, container: &str) -> String {
        self.wharf
            .ok(&["inspect", "-f", template, container])
            .trim()
            .to_owned()
    }

    /// `kube down`, then nothing of the play may remain.
    fn down_leaving_nothing(&self) {
        let ids = self.wharf.container_ids();
        self.wharf
            .ok(&["kube", "down", self.manifests.to_str().unwrap()]);
        assert_stack_gone(&self.wharf, &ids);
    }
}

#[test]
fn flask_postgres_plays_from_its_manifests() {
    let Some(played) = play(
        "flask-postgres",
        &["compose.yaml"],
        &[("web", ".")],
        &[("postgres-15", "postgres:15")],
    ) else {
        return;
    };
    // web waited for a ready db (its init container), so the first page already counts.
    assert_eq!(
        played.await_answer(&["http://127.0.0.1:5000/"], |_| true),
        "Hello from Flask + Postgres! 0 notes\n"
    );
    let notes = "http://127.0.0.1:5000/notes";
    let posted = curl(
        &played.wharf,
        &["-d", "text=written through the app", notes],
    );
    assert_eq!(posted.as_deref(), Some("written through the app\n"));
    assert_eq!(
        curl(&played.wharf, &[notes]).as_deref(),
        Some("written through the app\n")
    );
    // The database's claim is a volume of the play.
    assert_eq!(played.wharf.ok(&["volume", "ls", "-q"]), "k8s_dbdata\n");
    played.down_leaving_nothing();
}

#[test]
fn django_nginx_plays_from_its_manifests() {
    let Some(played) = play(
        "django-nginx",
        &["compose.yaml"],
        &[("djangoapp", "."), ("nginx", "nginx")],
        &[("postgres-15", "postgres:15")],
    ) else {
        return;
    };
    // The page comes from gunicorn through nginx, and Django read it from Postgres (the
    // env files became a ConfigMap and a Secret).
    let page = played.await_answer(&["http://127.0.0.1:8000/"], |b| b.starts_with("Hello"));
    assert!(
        page.starts_with("Hello from Django behind nginx! Postgres 15."),
        "{page}"
    );
    // The networks' policies became networks: nginx resolves the app, not the database.
    let resolves = |container: &str, name: &str| {
        played
            .wharf
            .run(&["exec", container, "getent", "hosts", name])
            .status
            .success()
    };
    assert!(resolves("k8s-nginx-nginx", "djangoapp"));
    assert!(!resolves("k8s-nginx-nginx", "postgres"));
    assert!(resolves("k8s-djangoapp-djangoapp", "postgres"));
    played.down_leaving_nothing();
}

#[test]
fn flask_celery_plays_from_its_manifests() {
    let Some(played) = play(
        "flask-celery",
        &["compose.yaml"],
        &[("web", "."), ("worker", ".")],
        &[("redis-7", "redis:7")],
    ) else {
        return;
    };
    let submit = "http://127.0.0.1:5001/add?x=2&y=3";
    let task = played.await_answer(&["-X", "POST", submit], |_| true);
    assert!(!task.is_empty());
    let result = format!("http://127.0.0.1:5001/result/{task}");
    // 202 (still pending) is a success for curl: wait for the worker's answer.
    assert_eq!(played.await_answer(&[&result], |b| b != "PENDING"), "5");
    assert_eq!(
        played.inspect("{{json .Config.Cmd}}", "k8s-worker-worker"),
        r#"["celery","-A","tasks","worker","--loglevel=info"]"#
    );
    played.down_leaving_nothing();
}

#[test]
fn flask_deploy_prod_plays_from_its_manifests() {
    let Some(played) = play(
        "flask-deploy",
        &["compose.yaml", "compose.prod.yaml"],
        &[("web", "."), ("migrate", ".")],
        &[("postgres-15", "postgres:15"), ("nginx-1.22", "nginx:1.22")],
    ) else {
        return;
    };
    let webs = ["k8s-web-1-web", "k8s-web-2-web", "k8s-web-3-web"];
    // The migration Job ran to completion before any web pod started (the pods' kubectl
    // wait), and the web replicas are healthy (their probes).
    assert_eq!(
        played.inspect("{{.State.ExitCode}}", "k8s-migrate-migrate"),
        "0"
    );
    let finished = played.inspect("{{.State.FinishedAt}}", "k8s-migrate-migrate");
    for web in webs {
        assert!(finished < played.inspect("{{.State.StartedAt}}", web));
        assert_eq!(played.inspect("{{.State.Health.Status}}", web), "healthy");
        assert_eq!(played.inspect("{{.HostConfig.Memory}}", web), "536870912");
        assert_eq!(played.inspect("{{.HostConfig.NanoCpus}}", web), "500000000");
    }
    // nginx (its configuration from a ConfigMap) spreads requests over the three pods,
    // each its own host.
    let hosts: BTreeSet<String> = (0..9)
        .map(|_| played.await_answer(&["http://127.0.0.1:8080/"], |b| b.starts_with("Hello")))
        .map(|page| page.split(':').next().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = ["web-1", "web-2", "web-3"]
        .iter()
        .map(|pod| format!("Hello from {pod}"))
        .collect();
    assert_eq!(hosts, expected);
    played.down_leaving_nothing();
}
