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
        "k8s-web-1-infra Up",
        "k8s-web-1-web Up",
        "k8s-web-2-infra Up",
        "k8s-web-2-web Up",
        "k8s-redis-infra Up",
        "k8s-redis-redis Up",
        "k8s-web-1-init-wait-for-redis Exited (0)",
        "k8s-web-2-init-wait-for-redis Exited (0)",
    ] {
        assert!(names.contains(expected), "no `{expected}` in:\n{names}");
    }

    // Each replica answers, with env from the ConfigMap and the Secret, after asking redis
    // (by its Service name) to count.
    let mut hosts = Vec::new();
    for replica in ["k8s-web-1-web", "k8s-web-2-web"] {
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
        "k8s-web-1-web",
        "import socket; print(len({a[4][0] for a in socket.getaddrinfo('web', 8000)}))",
    );
    assert_eq!(addresses.trim(), "2");
    assert!(python(&wharf, "k8s-web-2-web", &get("http://web:8000/")).starts_with("hello s3cret "));
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
    // The pod's infra holder.
    wharf.import_fixture("busybox", "busybox:1.36");
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
        wharf.ok(&["port", "site-site-infra"]).trim(),
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

/// A Python server on :8000 that serves what `$FILE` held when it started (writing its
/// hostname there first when the file is missing), and exits with 3 on `/exit`.
const SERVER: &str = r#"
import http.server, os, socket
path = os.environ['FILE']
if not os.path.exists(path):
    open(path, 'w').write(socket.gethostname())
body = open(path).read().encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/exit':
            os._exit(3)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(('', 8000), Handler).serve_forever()
"#;

const PODS: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: kv}
spec: {clusterIP: None, selector: {app: kv}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv}
spec:
  serviceName: kv
  replicas: 2
  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      containers:
        - name: kv
          image: python:3.11-slim
          command: [python, -c, SERVER]
          env: [{name: FILE, value: /data/id}]
          ports: [{name: http, containerPort: 8000}]
          readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1, failureThreshold: 60}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: setup}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: setup
          image: python:3.11-slim
          command: [python, -c, "import time; time.sleep(2); open('/shared/ready', 'w').write('set up')"]
          volumeMounts: [{name: shared, mountPath: /shared}]
      volumes: [{name: shared, persistentVolumeClaim: {claimName: shared}}]
---
apiVersion: v1
kind: Service
metadata: {name: reader}
spec: {selector: {app: reader}, ports: [{port: 8000, targetPort: http}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reader}
spec:
  replicas: 2
  selector: {matchLabels: {app: reader}}
  template:
    metadata: {labels: {app: reader}}
    spec:
      initContainers:
        - {name: wait-for-setup, image: bitnami/kubectl, command: [kubectl, wait, --for=condition=complete, job/setup]}
      containers:
        - name: web
          image: python:3.11-slim
          command: [python, -c, SERVER]
          env: [{name: FILE, value: /shared/ready}]
          ports: [{name: http, containerPort: 8000}]
          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 1, failureThreshold: 60}
          volumeMounts: [{name: shared, mountPath: /shared}]
        - name: sidecar
          image: busybox:1.36
          command: [sleep, "100000"]
      volumes: [{name: shared, persistentVolumeClaim: {claimName: shared}}]
"#;

/// The address a container's traffic leaves from.
fn address(wharf: &Wharf, container: &str) -> String {
    python(
        wharf,
        container,
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('10.255.255.255', 1)); print(s.getsockname()[0])",
    )
    .trim()
    .to_owned()
}

#[test]
fn pods_keep_their_address_through_restarts_statefulsets_keep_claims_and_jobs_are_waited_for() {
    if !common::is_root() {
        return common::skip("containers need root");
    }
    let wharf = Wharf::isolated();
    wharf.import_fixture("python-3.11-slim", "python:3.11-slim");
    wharf.import_fixture("busybox", "busybox:1.36");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("pods.yaml");
    let server = serde_json::to_string(SERVER).unwrap();
    std::fs::write(&file, PODS.replace("SERVER", &server)).unwrap();
    let file = file.to_str().unwrap();
    wharf.ok(&["kube", "play", "--wait", file]);
    let ids = wharf.container_ids();

    // The readers started after the Job completed (their server read its file at start).
    for pod in ["reader-1", "reader-2"] {
        let web = format!("pods-{pod}-web");
        assert_eq!(
            python(&wharf, &web, &get("http://127.0.0.1:8000/")).trim(),
            "set up"
        );
        // The pod's containers share its network namespace: the sidecar reaches the web
        // container on localhost.
        let sidecar = format!("pods-{pod}-sidecar");
        let seen = wharf.ok(&[
            "exec",
            &sidecar,
            "wget",
            "-q",
            "-O",
            "-",
            "http://127.0.0.1:8000/",
        ]);
        assert_eq!(seen.trim(), "set up");
        assert_eq!(wharf.ok(&["exec", &sidecar, "hostname"]).trim(), pod);
    }
    // The Service's target port was named; its name resolves to both replicas.
    let readers = python(
        &wharf,
        "pods-reader-1-web",
        "import socket; print(len({a[4][0] for a in socket.getaddrinfo('reader', 8000)}))",
    );
    assert_eq!(readers.trim(), "2");

    // Each StatefulSet pod has its own claim, named as Kubernetes names it, and a stable
    // name under its governing Service.
    for n in 0..2 {
        let answer = python(
            &wharf,
            "pods-reader-1-web",
            &get(&format!("http://kv-{n}.kv:8000/")),
        );
        assert_eq!(answer.trim(), format!("kv-{n}"));
    }
    let volumes = wharf.ok(&["volume", "ls", "-q"]);
    for volume in ["pods_data-kv-0", "pods_data-kv-1", "pods_shared"] {
        assert!(
            volumes.lines().any(|v| v == volume),
            "no {volume} in:\n{volumes}"
        );
    }

    // A container of a pod restarts on its own; the pod keeps its address.
    let before = address(&wharf, "pods-reader-2-web");
    let _ = wharf.run(&[
        "exec",
        "pods-reader-2-web",
        "python",
        "-c",
        &get("http://127.0.0.1:8000/exit"),
    ]);
    common::await_output(
        &wharf,
        &[
            "inspect",
            "--format",
            "{{.RestartCount}} {{.State.Status}}",
            "pods-reader-2-web",
        ],
        "1 running",
    );
    assert_eq!(address(&wharf, "pods-reader-2-web"), before);
    let infra = wharf.ok(&[
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        "pods-reader-2-infra",
    ]);
    assert_eq!(infra.trim(), before);

    wharf.ok(&["kube", "down", file]);
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]).trim(), "");
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]).trim(), "");
    wharf.assert_nothing_leaked(&ids);
}
