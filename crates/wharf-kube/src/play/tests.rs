//! kube play's mapping: Kubernetes YAML in, the compose document out.

use super::*;

fn document(yaml: &str, publish: bool) -> Result<Value, KubeError> {
    let manifests = parse("play.yaml", yaml)?;
    compose_document(&manifests, &PlayOptions { publish })
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
        published["services"]["web"]["ports"],
        json!(["80:8000/tcp"])
    );
    let refused = document(STACK, true).unwrap_err().to_string();
    assert!(
        refused.contains("Deployment web: spec.replicas: --publish maps"),
        "{refused}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn services_resolve_only_through_matching_pods() {
    let doc = document(STACK, false).unwrap();
    let web = &doc["services"]["web"];
    assert_eq!(web["networks"]["default"]["aliases"], json!(["web"]));
    assert_eq!(web["scale"], 3);
    assert!(web.get("ports").is_none(), "published without --publish");
    assert_eq!(
        doc["services"]["web"]["depends_on"]["web-init-wait"]["condition"],
        "service_completed_successfully"
    );
}

#[test]
fn pods_of_several_containers_share_the_first_ones_network() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: p}}\nspec:\n  containers:\n    - {name: a, image: x}\n    - {name: b, image: y}\n";
    let doc = document(pod, false).unwrap();
    assert_eq!(doc["services"]["p-b"]["network_mode"], "service:p-a");
    assert_eq!(
        doc["services"]["p-b"]["depends_on"]["p-a"]["condition"],
        "service_started"
    );
    assert!(doc["services"]["p-a"]["networks"].is_object());
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
    let remap = "kind: Service\nmetadata: {name: s}\nspec: {selector: {app: p}, ports: [{port: 80, targetPort: 8080}]}\n---\nkind: Pod\nmetadata: {name: p, labels: {app: p}}\nspec: {containers: [{name: a, image: x}]}\n";
    assert!(error(remap).contains("Service s: spec.ports: a ClusterIP Service whose port differs"));
}
