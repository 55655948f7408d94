//! kube play's mapping: Kubernetes YAML in, the compose document out.

use super::*;

fn document(yaml: &str, publish: bool) -> Result<Value, KubeError> {
    let manifests = parse("play.yaml", yaml)?;
    let options = PlayOptions {
        project: "play".into(),
        publish,
        ..PlayOptions::default()
    };
    compose_document(&manifests, &options)
}

const STACK: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {GREETING: hello, app.conf: "debug = false\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {TOKEN: czNjcmV0}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 8000, targetPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: web-public}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - {name: wait, image: busybox, command: [sh, -c, "true"]}
      containers:
        - name: web
          image: app:1
          command: [gunicorn]
          args: [app:app]
          envFrom: [{configMapRef: {name: settings}}]
          env:
            - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: TOKEN}}}
            - {name: PRICE, value: "$5"}
          resources: {limits: {cpu: 500m, memory: 512Mi}, requests: {memory: 1G}}
          securityContext: {runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          readinessProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 2, failureThreshold: 5, initialDelaySeconds: 3}
          volumeMounts:
            - {name: data, mountPath: /data}
            - {name: conf, mountPath: /etc/app/app.conf, subPath: app.conf}
            - {name: scratch, mountPath: /tmp}
      volumes:
        - {name: data, persistentVolumeClaim: {claimName: data}}
        - {name: conf, configMap: {name: settings, items: [{key: app.conf, path: app.conf}]}}
        - {name: scratch, emptyDir: {medium: Memory}}
"#;

#[test]
fn a_deployment_with_its_objects() {
    let text = wharf_compose::yaml_text(&document(STACK, false).unwrap());
    let one = STACK.replace("replicas: 3", "replicas: 1");
    let published = document(&one, true).unwrap();
    assert_eq!(
        published["services"]["web-infra"]["ports"],
        json!(["80:8000/tcp"])
    );
    let refused = document(STACK, true).unwrap_err().to_string();
    assert!(
        refused.contains("Deployment web: spec.replicas: --publish binds each port"),
        "{refused}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn services_resolve_only_through_matching_pods() {
    let doc = document(STACK, false).unwrap();
    for pod in ["web-1", "web-2", "web-3"] {
        let infra = &doc["services"][format!("{pod}-infra")];
        assert_eq!(infra["networks"]["default"]["aliases"], json!(["web"]));
        assert_eq!(infra["hostname"], pod);
        assert!(infra.get("ports").is_none(), "published without --publish");
        let web = &doc["services"][format!("{pod}-web")];
        assert_eq!(web["container_name"], format!("play-{pod}-web"));
        assert!(web.get("scale").is_none());
        assert_eq!(
            web["depends_on"][format!("{pod}-init-wait")]["condition"],
            "service_completed_successfully"
        );
        let init = &doc["services"][format!("{pod}-init-wait")];
        assert_eq!(init["network_mode"], format!("service:{pod}-infra"));
    }
    assert!(doc["services"].get("web-4-infra").is_none());
}

#[test]
fn the_containers_of_each_pod_join_its_infra_holder() {
    let pod = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: p}}\n  template:\n    metadata: {labels: {app: p}}\n    spec:\n      containers:\n        - {name: a, image: x}\n        - {name: b, image: y}\n";
    let doc = document(pod, false).unwrap();
    for pod in ["p-1", "p-2"] {
        let infra = &doc["services"][format!("{pod}-infra")];
        assert_eq!(infra["image"], DEFAULT_INFRA_IMAGE);
        assert_eq!(infra["entrypoint"][0], "sleep");
        assert_eq!(infra["restart"], "always");
        assert!(infra["networks"].is_object());
        for container in ["a", "b"] {
            let service = &doc["services"][format!("{pod}-{container}")];
            assert_eq!(service["network_mode"], format!("service:{pod}-infra"));
            assert_eq!(
                service["depends_on"][format!("{pod}-infra")]["condition"],
                "service_started"
            );
            assert!(service.get("networks").is_none());
        }
    }
}

const STATEFUL: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: db
          image: postgres:15
          ports: [{name: pg, containerPort: 5432}]
          readinessProbe: {tcpSocket: {port: pg}}
          volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;

#[test]
fn statefulset_pods_have_their_own_claims_and_stable_names_and_start_in_order() {
    let doc = document(STATEFUL, false).unwrap();
    for n in 0..2 {
        let infra = &doc["services"][format!("db-{n}-infra")];
        assert_eq!(infra["hostname"], format!("db-{n}"));
        assert_eq!(
            infra["networks"]["default"]["aliases"],
            json!(["db", format!("db-{n}.db")])
        );
        let db = &doc["services"][format!("db-{n}-db")];
        assert_eq!(db["volumes"][0]["source"], format!("data-db-{n}"));
        assert!(doc["volumes"].get(format!("data-db-{n}")).is_some());
        let test = db["healthcheck"]["test"][1].as_str().unwrap();
        assert!(test.contains("nc -w 2 127.0.0.1 5432"), "{test}");
    }
    assert!(doc["services"]["db-0-infra"].get("depends_on").is_none());
    assert_eq!(
        doc["services"]["db-1-infra"]["depends_on"]["db-0-db"]["condition"],
        "service_healthy"
    );
    let parallel = STATEFUL.replace(
        "serviceName: db\n",
        "serviceName: db\n  podManagementPolicy: Parallel\n",
    );
    let doc = document(&parallel, false).unwrap();
    assert!(doc["services"]["db-1-infra"].get("depends_on").is_none());
}

#[test]
fn named_ports_resolve_in_probes_services_and_publish() {
    let yaml = r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 8000, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-published}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
    - name: web
      image: app
      ports: [{name: http, containerPort: 8000}]
      livenessProbe: {httpGet: {path: /health, port: http}}
"#;
    let doc = document(yaml, true).unwrap();
    assert_eq!(
        doc["services"]["web-infra"]["ports"],
        json!(["80:8000/tcp"])
    );
    assert_eq!(
        doc["services"]["web-infra"]["networks"]["default"]["aliases"],
        json!(["web"])
    );
    let test = doc["services"]["web-web"]["healthcheck"]["test"][1]
        .as_str()
        .unwrap();
    assert!(
        test.contains("curl -fsS -o /dev/null http://127.0.0.1:8000/health"),
        "{test}"
    );
    assert!(test.contains("python3 -c"), "{test}");
    let unknown = yaml.replace(
        "targetPort: http}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web-published}",
        "targetPort: www}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web-published}",
    );
    let error = document(&unknown, false).unwrap_err().to_string();
    assert!(
        error.contains("Service web: spec.ports[0].targetPort: \"www\" is not a containerPort name of the pod web"),
        "{error}"
    );
}

#[test]
fn a_pod_waits_for_a_job_through_kubectl_wait() {
    let yaml = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: app, command: [python, migrate.py]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
    - {name: wait-for-migrate, image: kubectl, command: [kubectl, wait, --for=condition=complete, job/migrate, --timeout=-1s]}
  containers: [{name: web, image: app}]
"#;
    let doc = document(yaml, false).unwrap();
    assert_eq!(
        doc["services"]["web-web"]["depends_on"]["migrate-migrate"]["condition"],
        "service_completed_successfully"
    );
    assert!(doc["services"].get("web-init-wait-for-migrate").is_none());
    assert_eq!(doc["services"]["migrate-migrate"]["restart"], "no");
    let error = document(&yaml.replace("job/migrate", "job/other"), false)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("waits for the Job other, which is not among the manifests"),
        "{error}"
    );
    let error = document(
        &yaml.replace("wait, --for=condition=complete", "apply, -f"),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("kubectl needs a cluster's API"), "{error}");
}

#[test]
fn what_cannot_run_is_named() {
    let error = |yaml: &str| document(yaml, false).unwrap_err().to_string();
    assert_eq!(
        error("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: a, image: x, startupProbe: {}}\n"),
        "play.yaml: Pod p: spec.containers[0].startupProbe: is not supported by `wharf kube play`"
    );
    assert!(error("kind: Ingress\nmetadata: {name: i}\n")
        .contains("Ingress i: kind: Ingress is not a kind"));
    assert!(error("kind: Pod\nspec: {}\n").contains("document 1: Pod has no metadata.name"));
    let env = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: x\n      envFrom: [{configMapRef: {name: missing}}]\n";
    assert!(
        error(env).contains("spec.containers[0].envFrom[0]: missing is not among the manifests")
    );
    let clash = "kind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2, template: {spec: {containers: [{name: a, image: x}]}}}\n---\nkind: Pod\nmetadata: {name: web-1}\nspec: {containers: [{name: a, image: x}]}\n";
    assert_eq!(
        error(clash),
        "play.yaml: Pod web-1: metadata.name: its pod web-1 would run a container web-1-infra, as another pod of the play does: rename one of them"
    );
    let remap = "kind: Service\nmetadata: {name: s}\nspec: {selector: {app: p}, ports: [{port: 80, targetPort: 8080}]}\n---\nkind: Pod\nmetadata: {name: p, labels: {app: p}}\nspec: {containers: [{name: a, image: x}]}\n";
    assert!(
        error(remap).contains("Service s: spec.ports[0]: a ClusterIP Service whose port differs")
    );
}

#[test]
fn kubectl_as_the_images_entrypoint_and_rbac_objects() {
    let yaml = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: wait-for-jobs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: wait-for-jobs}
rules: [{apiGroups: [batch], resources: [jobs], verbs: [get]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: app}]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  serviceAccountName: wait-for-jobs
  initContainers:
    - {name: w, image: "registry.k8s.io/kubectl:v1.30.0", args: [wait, --for=condition=complete, job/migrate]}
  containers: [{name: web, image: app}]
"#;
    let doc = document(yaml, false).unwrap();
    assert_eq!(
        doc["services"]["web-web"]["depends_on"]["migrate-m"]["condition"],
        "service_completed_successfully"
    );
    let error = document(
        &yaml.replace(
            "serviceAccountName: wait-for-jobs",
            "serviceAccountName: other",
        ),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains(
            "spec.serviceAccountName: the ServiceAccount other is not among the manifests"
        ),
        "{error}"
    );
}

#[test]
fn an_init_container_that_waits_for_a_service_starts_after_its_pods() {
    let yaml = r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 5000}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - {name: self, image: busybox, command: [sh, -c, "nslookup web"]}
      containers: [{name: web, image: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: proxy}
spec:
  initContainers:
    - {name: wait, image: busybox, command: [sh, -c, "until nc -w 2 web 5000 </dev/null; do sleep 1; done"]}
  containers: [{name: proxy, image: nginx}]
"#;
    let doc = document(yaml, false).unwrap();
    let depends = &doc["services"]["proxy-init-wait"]["depends_on"];
    for web in ["web-1-web", "web-2-web"] {
        assert_eq!(depends[web]["condition"], "service_started");
    }
    // A pod's own Service is no dependency of its own init containers.
    let own = doc["services"]["web-1-init-self"]["depends_on"]
        .as_object()
        .unwrap();
    assert_eq!(own.keys().collect::<Vec<_>>(), ["web-1-infra"]);
}
