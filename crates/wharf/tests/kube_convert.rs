//! `wharf compose bridge convert`: the tutorial stacks in `examples/` and the compose corpus
//! in `tests/data/compose/` convert to manifests that pass strict schema validation for
//! Kubernetes 1.30 and the newest release kubernetes-validate knows (PyPI's
//! `kubernetes-validate`, installed by scripts/install-kube-validate.sh; skipped loudly when
//! PyPI cannot be reached), and the manifests keep the compose files' meaning.

mod common;

use std::path::{Path, PathBuf};

use common::kube::{manifest, validate, validator};
use common::Wharf;
use serde_json::Value;

/// The chart's templates rendered with `values`, as `helm template` would.
fn render(chart: &Path, values: &Value, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    for entry in std::fs::read_dir(chart.join("templates")).unwrap() {
        let path = entry.unwrap().path();
        let template = std::fs::read_to_string(&path).unwrap();
        let text = wharf_kube::helm::render(&template, values)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        std::fs::write(out.join(path.file_name().unwrap()), text).unwrap();
    }
}

fn container(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]["containers"][0]
}

/// A store holding the tutorials' images, so that their exposed ports are known.
fn store_with_images() -> Wharf {
    let wharf = Wharf::new();
    wharf.import_fixture("postgres-15", "postgres:15");
    wharf.import_fixture("redis-7", "redis:7");
    wharf.import_fixture("nginx-1.22", "nginx:1.22");
    wharf
}

fn convert(wharf: &Wharf, dir: &Path, global: &[&str], extra: &[&str], out: &Path) -> String {
    let mut args: Vec<&str> = vec!["compose"];
    args.extend(global);
    args.extend(["bridge", "convert", "-o", out.to_str().unwrap()]);
    args.extend(extra);
    let output = wharf.command(&args).current_dir(dir).output().unwrap();
    assert!(
        output.status.success(),
        "convert in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn tutorial_stacks_convert_to_valid_manifests_that_keep_their_meaning() {
    let Some(venv) = validator() else { return };
    let wharf = store_with_images();
    let out = tempfile::tempdir().unwrap();
    let examples = common::repo_root().join("examples");
    let registry = ["--registry", "registry.example/team"];
    let stacks: &[(&str, &[&str])] = &[
        ("flask-postgres", &[]),
        ("django-nginx", &[]),
        ("flask-celery", &[]),
        (
            "flask-deploy",
            &["-f", "compose.yaml", "-f", "compose.prod.yaml"],
        ),
    ];
    for (stack, global) in stacks {
        let dir = out.path().join(stack);
        convert(&wharf, &examples.join(stack), global, &registry, &dir);
        validate(&venv, &dir);
    }
    let dir = out.path().join("kustomize");
    let args = [registry[0], registry[1], "--format", "kustomize"];
    convert(&wharf, &examples.join("flask-postgres"), &[], &args, &dir);
    validate(&venv, &dir);
    assert!(out.path().join("kustomize/kustomization.yaml").is_file());

    // The chart's values hold each workload's image, replicas and resources; its templates
    // render (with its values, or changed ones) to valid manifests that use them.
    let chart = out.path().join("helm");
    let args = [registry[0], registry[1], "--format", "helm"];
    let prod = ["-f", "compose.yaml", "-f", "compose.prod.yaml"];
    convert(&wharf, &examples.join("flask-deploy"), &prod, &args, &chart);
    assert!(chart.join("Chart.yaml").is_file());
    let values = manifest(&chart, "values.yaml");
    assert_eq!(values["web"]["replicas"], 3);
    assert_eq!(
        values["web"]["image"],
        "registry.example/team/flask-deploy-web:latest"
    );
    assert_eq!(values["web"]["resources"]["limits"]["memory"], "512Mi");
    assert_eq!(values["proxy"]["image"], "nginx:1.22");
    let rendered = out.path().join("helm-rendered");
    render(&chart, &values, &rendered);
    validate(&venv, &rendered);
    assert_eq!(
        manifest(&rendered, "web-deployment.yaml"),
        manifest(&out.path().join("flask-deploy"), "web-deployment.yaml")
    );
    let mut changed = values.clone();
    changed["web"]["replicas"] = 5.into();
    changed["web"]["resources"]["limits"]["cpu"] = "2".into();
    changed["web"]["image"] = "registry.example/team/web:v2".into();
    let rendered = out.path().join("helm-changed");
    render(&chart, &changed, &rendered);
    validate(&venv, &rendered);
    let web = manifest(&rendered, "web-deployment.yaml");
    assert_eq!(web["spec"]["replicas"], 5);
    assert_eq!(container(&web)["resources"]["limits"]["cpu"], 2);
    assert_eq!(container(&web)["image"], "registry.example/team/web:v2");

    // flask-postgres: the database's claim, its port from the image, its healthcheck as
    // probes; the app waits for it and gets its URL (with a password) from a Secret.
    let dir = out.path().join("flask-postgres");
    let db = manifest(&dir, "db-deployment.yaml");
    assert_eq!(db["spec"]["strategy"]["type"], "Recreate");
    let probe = &container(&db)["readinessProbe"];
    assert_eq!(
        probe["exec"]["command"][2],
        "pg_isready -U myuser -d mydb -h 127.0.0.1"
    );
    assert_eq!(probe["periodSeconds"], 2);
    assert_eq!(probe["failureThreshold"], 30);
    assert_eq!(container(&db)["livenessProbe"]["initialDelaySeconds"], 30);
    assert_eq!(
        manifest(&dir, "dbdata-persistentvolumeclaim.yaml")["spec"]["resources"]["requests"]
            ["storage"],
        "1Gi"
    );
    assert_eq!(
        manifest(&dir, "db-service.yaml")["spec"]["ports"][0]["port"],
        5432
    );
    let web = manifest(&dir, "web-deployment.yaml");
    assert_eq!(
        container(&web)["image"],
        "registry.example/team/flask-postgres-web:latest"
    );
    let wait = &web["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(
        wait["command"][2],
        "until nc -w 2 db 5432 </dev/null; do sleep 1; done"
    );
    let secret = manifest(&dir, "web-env-secret.yaml");
    assert!(secret["data"]["DATABASE_URL"].is_string());
    let text = std::fs::read_to_string(dir.join("web-deployment.yaml")).unwrap();
    assert!(
        !text.contains("mypassword"),
        "a password is inline:\n{text}"
    );
    assert_eq!(
        manifest(&dir, "web-published-service.yaml")["spec"]["type"],
        "LoadBalancer"
    );
    assert_eq!(
        manifest(&dir, "web-published-service.yaml")["spec"]["ports"][0]["port"],
        5000
    );

    // flask-deploy (prod): three limited replicas, the migration as a Job, nginx's
    // configuration file as a ConfigMap.
    let dir = out.path().join("flask-deploy");
    let web = manifest(&dir, "web-deployment.yaml");
    assert_eq!(web["spec"]["replicas"], 3);
    let resources = &container(&web)["resources"];
    assert_eq!(resources["limits"]["cpu"], "500m");
    assert_eq!(resources["limits"]["memory"], "512Mi");
    assert_eq!(resources["requests"]["cpu"], "250m");
    assert_eq!(resources["requests"]["memory"], "256Mi");
    assert_eq!(
        manifest(&dir, "migrate-job.yaml")["spec"]["template"]["spec"]["restartPolicy"],
        "Never"
    );
    // The web pods wait for the migration Job with kubectl, as an account that may read Jobs.
    let pod = &web["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "wait-for-jobs");
    let wait = &pod["initContainers"][0];
    assert_eq!(wait["args"][0], "wait");
    assert_eq!(wait["args"][1], "--for=condition=complete");
    assert_eq!(wait["args"][2], "job/migrate");
    let role = manifest(&dir, "wait-for-jobs-role.yaml");
    assert_eq!(role["rules"][0]["resources"][0], "jobs");
    assert_eq!(role["rules"][0]["verbs"][0], "get");
    let binding = manifest(&dir, "wait-for-jobs-rolebinding.yaml");
    assert_eq!(binding["subjects"][0]["name"], "wait-for-jobs");
    assert_eq!(binding["roleRef"]["name"], "wait-for-jobs");

    let config = manifest(&dir, "proxy-etc-nginx-conf-d-default-conf-configmap.yaml");
    let nginx_conf = std::fs::read_to_string(examples.join("flask-deploy/nginx.conf")).unwrap();
    assert_eq!(config["data"]["default.conf"], nginx_conf.as_str());

    // django-nginx: env files as a ConfigMap and a Secret, one policy per network.
    let dir = out.path().join("django-nginx");
    let app = manifest(&dir, "djangoapp-deployment.yaml");
    let labels = &app["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["wharf.network/db-network"], "true");
    assert_eq!(labels["wharf.network/nginx-network"], "true");
    let policy = manifest(&dir, "network-db-network-networkpolicy.yaml");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
            ["wharf.network/db-network"],
        "true"
    );
    assert_eq!(
        manifest(&dir, "djangoapp-service.yaml")["spec"]["ports"][0]["port"],
        8000
    );
}

/// Lines of a corpus case's file (`args`, `env`, `cwd`), as compose_config.rs reads them.
fn lines(case: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(case.join(name))
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_corpus_converts_to_valid_manifests() {
    let Some(venv) = validator() else { return };
    let wharf = Wharf::new();
    let corpus = common::repo_root().join("crates/wharf/tests/data/compose");
    let out = tempfile::tempdir().unwrap();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.join("expect-error").exists())
        .collect();
    cases.sort();
    let mut failed = Vec::new();
    let mut converted = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let cwd = lines(case, "cwd")
            .first()
            .map_or(case.clone(), |c| case.join(c));
        let dir = out.path().join(name.replace(' ', "_"));
        let mut args: Vec<String> = vec!["compose".into()];
        args.extend(lines(case, "args"));
        args.extend(
            [
                "bridge",
                "convert",
                "--registry",
                "r.example/corpus",
                "--skip-unsupported",
                "--host-path",
                "-o",
            ]
            .map(String::from),
        );
        args.push(dir.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = wharf.command(&args);
        command.current_dir(&cwd);
        for line in lines(case, "env") {
            if let Some((key, value)) = line.split_once('=') {
                command.env(key, value);
            }
        }
        let output = command.output().unwrap();
        if !output.status.success() {
            failed.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            continue;
        }
        if std::fs::read_dir(&dir).unwrap().count() > 1 {
            validate(&venv, &dir);
            converted += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "cases that do not convert:\n{}",
        failed.join("\n")
    );
    assert!(
        converted >= 30,
        "only {converted} of {} cases made manifests",
        cases.len()
    );
}

#[test]
fn refusals_name_every_key_and_write_nothing() {
    let wharf = Wharf::new();
    let project = tempfile::tempdir().unwrap();
    let compose = "services:\n  app:\n    build: .\n    volumes: [\".:/src\"]\n    devices: [\"/dev/fuse\"]\n";
    std::fs::write(project.path().join("compose.yaml"), compose).unwrap();
    let out = project.path().join("k8s");
    let output = wharf
        .command(&["compose", "bridge", "convert", "-o", out.to_str().unwrap()])
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "services.app.devices",
        "services.app.build",
        "services.app.volumes[0]",
    ] {
        assert!(stderr.contains(key), "{key} is not named:\n{stderr}");
    }
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(
        !out.exists(),
        "a refused conversion wrote {}",
        out.display()
    );
    let leftovers: Vec<_> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("compose.yaml")]);

    // A folder the command did not write is not replaced; its own output is.
    std::fs::write(
        project.path().join("compose.yaml"),
        "services:\n  app:\n    image: a\n",
    )
    .unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let output = wharf
        .command(&["compose", "bridge", "convert", "-o", out.to_str().unwrap()])
        .current_dir(project.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("is not empty and was not written by `compose bridge convert`"));
    assert!(out.join("notes.txt").exists());
    std::fs::remove_dir_all(&out).unwrap();
    for _ in 0..2 {
        convert(&wharf, project.path(), &[], &[], &out);
    }
    assert!(out.join("app-deployment.yaml").is_file());
}

#[test]
fn push_builds_and_pushes_what_the_manifests_pull() {
    let Some(registry) = common::registry::Registry::start(None) else {
        return;
    };
    let wharf = Wharf::new();
    wharf.import_busybox();
    let project = tempfile::Builder::new().prefix("pushed").tempdir().unwrap();
    std::fs::write(
        project.path().join("Dockerfile"),
        "FROM busybox\nEXPOSE 8080\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\"]\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("compose.yaml"),
        "services:\n  app:\n    build: .\n",
    )
    .unwrap();
    let out = project.path().join("k8s");
    let prefix = format!("{}/team", registry.address);
    let log = convert(
        &wharf,
        project.path(),
        &[],
        &["--registry", &prefix, "--push"],
        &out,
    );
    let deployment = manifest(&out, "app-deployment.yaml");
    let image = container(&deployment)["image"].as_str().unwrap().to_owned();
    assert!(
        image.starts_with(&format!("{prefix}/pushed")) && image.ends_with("-app:latest"),
        "{image}"
    );
    assert!(log.contains(&format!("Image {image}  Pushed")), "{log}");
    // The Dockerfile's EXPOSE gives the Service its port.
    assert_eq!(
        manifest(&out, "app-service.yaml")["spec"]["ports"][0]["port"],
        8080
    );
    // Another store pulls what the manifests name.
    Wharf::new().ok(&["pull", &image]);
}
