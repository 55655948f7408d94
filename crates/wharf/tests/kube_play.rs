//! `wharf kube play` and `kube down`: a compose stack converted by `compose bridge convert`
//! runs from its manifests (web replicas that reach redis by its Service name, env from a
//! ConfigMap and a Secret, a file from a ConfigMap, a claim as a named volume, an init
//! container that waits for redis), and `kube down` leaves nothing behind.

mod common;

use common::Wharf;

/// `python -c` in `container`, returning what it prints.
fn python(wharf: &Wharf, container: &str, code: &str) -> String {
    wharf.ok(&["exec", container, "python", "-c", code])
}

fn get(url: &str) -> String {
    format!("import urllib.request; print(urllib.request.urlopen('{url}').read().decode())")
}

#[test]
fn converted_stack_plays_answers_and_goes_down_without_leftovers() {
    if !common::is_root() {
        return common::skip("containers need root");
    }
    let wharf = Wharf::isolated();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    wharf.import_fixture("redis-7", "redis:7");
    // The image `compose bridge convert` puts in init containers by default.
    wharf.import_fixture("busybox", "busybox:1.36");
    let stack = common::repo_root().join("crates/wharf/tests/data/kube/web-redis");
    let work = tempfile::tempdir().unwrap();
    let manifests = work.path().join("k8s");
    let manifests_arg = manifests.to_str().unwrap();
    let output = wharf
        .command(&["compose", "bridge", "convert", "-o", manifests_arg])
        .current_dir(&stack)
        .output()
        .unwrap();
    common::assert_success(&output, &["compose", "bridge", "convert"]);

    wharf.ok(&["kube", "play", "--wait", manifests_arg]);
    let ids = wharf.container_ids();
    let names = wharf.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    for expected in [
        "k8s-web-1 Up",
        "k8s-web-2 Up",
        "k8s-redis-1 Up",
        "k8s-web-init-wait-for-redis-1 Exited (0)",
    ] {
        assert!(names.contains(expected), "no `{expected}` in:\n{names}");
    }

    // Each replica answers, with env from the ConfigMap and the Secret, after asking redis
    // (by its Service name) to count.
    let mut hosts = Vec::new();
    for replica in ["k8s-web-1", "k8s-web-2"] {
        let answer = python(&wharf, replica, &get("http://127.0.0.1:8000/"));
        assert!(
            answer.starts_with("hello s3cret "),
            "{replica} answered {answer:?}"
        );
        assert!(answer.contains("hits="), "{replica} answered {answer:?}");
        hosts.push(answer.split_whitespace().nth(2).unwrap().to_owned());
    }
    assert_ne!(hosts[0], hosts[1], "the replicas are separate pods");
    // The Service name resolves to both replicas, and answers.
    let addresses = python(
        &wharf,
        "k8s-web-1",
        "import socket; print(len({a[4][0] for a in socket.getaddrinfo('web', 8000)}))",
    );
    assert_eq!(addresses.trim(), "2");
    assert!(python(&wharf, "k8s-web-2", &get("http://web:8000/")).starts_with("hello s3cret "));
    // redis keeps its count in the claim's volume.
    assert!(wharf.ok(&["volume", "ls", "-q"]).contains("k8s_data"));

    wharf.ok(&["kube", "down", manifests_arg]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]).trim(), "");
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]).trim(), "");
    let networks = wharf.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("k8s_"), "networks left: {networks}");
    wharf.assert_nothing_leaked(&ids);
}

#[test]
fn unsupported_kinds_and_fields_are_named() {
    let wharf = Wharf::new();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("app.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec: {}\n",
    )
    .unwrap();
    let error = wharf.fails(&["kube", "play", file.to_str().unwrap()]);
    assert!(
        error.contains("DaemonSet agent: kind: DaemonSet is not a kind `wharf kube play` runs"),
        "{error}"
    );
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: busybox\n      lifecycle: {}\n";
    std::fs::write(&file, pod).unwrap();
    let error = wharf.fails(&["kube", "play", file.to_str().unwrap()]);
    assert!(
        error.contains("Pod p: spec.containers[0].lifecycle: is not supported"),
        "{error}"
    );
    assert!(error.contains("hint: "), "{error}");
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]).trim(), "");
}

#[test]
fn publish_maps_load_balancer_ports_to_the_host() {
    if !common::is_root() {
        return common::skip("containers need root");
    }
    let wharf = Wharf::isolated();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("site.yaml");
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: site, labels: {app: site}}
spec:
  containers:
    - name: site
      image: python:3.11-slim
      command: [python, -m, http.server, "8000"]
      readinessProbe: {exec: {command: [python, -c, "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"]}, periodSeconds: 1, failureThreshold: 30}
---
apiVersion: v1
kind: Service
metadata: {name: site-published}
spec:
  type: LoadBalancer
  selector: {app: site}
  ports: [{port: 18080, targetPort: 8000}]
"#;
    std::fs::write(&file, yaml).unwrap();
    let file = file.to_str().unwrap();
    wharf.ok(&["kube", "play", "--publish", "--wait", file]);
    let ids = wharf.container_ids();
    assert_eq!(
        wharf.ok(&["port", "site-site-1"]).trim(),
        "8000/tcp -> 0.0.0.0:18080"
    );
    let output = wharf
        .host_command("curl")
        .args(["-fsS", "--max-time", "10", "http://127.0.0.1:18080/"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Directory listing"));
    wharf.ok(&["kube", "play", "--down", file]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]).trim(), "");
    wharf.assert_nothing_leaked(&ids);
}
