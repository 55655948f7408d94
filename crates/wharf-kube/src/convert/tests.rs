//! The mapping rules, each on a small compose file loaded by wharf-compose's loader, with
//! the YAML snapshotted.

use std::collections::BTreeMap;

use super::*;
use crate::output::stream;

/// Loads `files` (name, text) as `compose config` would, with the sources the CLI reads.
fn load(files: &[(&str, &str)]) -> (Project, Sources) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut options = wharf_compose::LoadOptions::new(dir.path().to_owned(), BTreeMap::new());
    options.project_name = Some("demo".into());
    let resolved = wharf_compose::load(&options).unwrap().project;
    options.resolve_env_files = false;
    let unresolved = wharf_compose::load(&options).unwrap().project;
    let files = files_to_read(&resolved)
        .into_iter()
        .filter_map(|path| Some((path.clone(), std::fs::read(&path).ok()?)))
        .collect();
    let sources = Sources {
        files,
        from_env_files: env_file_variables(&unresolved, &resolved),
        image_ports: BTreeMap::new(),
    };
    (resolved, sources)
}

fn yaml(files: &[(&str, &str)], options: &ConvertOptions) -> String {
    let (project, sources) = load(files);
    let converted = convert(&project, &sources, options).unwrap();
    let mut text = stream(&converted.objects);
    for note in converted.notes {
        text.push_str(&format!("# note: {note}\n"));
    }
    text
}

fn refusals(text: &str) -> Vec<String> {
    let (project, sources) = load(&[("compose.yaml", text)]);
    match convert(&project, &sources, &ConvertOptions::default()) {
        Err(KubeError::Unconvertible(refusals)) => {
            refusals.iter().map(ToString::to_string).collect()
        }
        other => panic!("expected refusals, got {other:?}"),
    }
}

const WEB_REDIS: &str = r#"
services:
  web:
    build: .
    ports: ["8000:5000"]
    env_file: [web.env]
    environment:
      REDIS_HOST: redis
      API_TOKEN: t0ken
    deploy:
      replicas: 3
      resources:
        limits: {cpus: "0.5", memory: 512M}
        reservations: {cpus: "0.25", memory: 256M}
    healthcheck:
      test: ["CMD-SHELL", "curl -fsS http://localhost:5000/health || exit 1"]
      interval: 5s
      timeout: 2s
      retries: 4
      start_period: 20s
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    cap_add: [CAP_NET_BIND_SERVICE]
    tmpfs: [/tmp]
    stop_grace_period: 30s
    working_dir: /app
    command: ["gunicorn", "app:app"]
    depends_on:
      redis: {condition: service_healthy}
    networks: [front, back]
  redis:
    image: redis:7
    expose: ["6379"]
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
    networks: [back]
networks:
  front: {}
  back: {internal: true}
volumes:
  data:
    labels: {wharf.kube.size: 5Gi}
"#;

#[test]
fn web_and_redis() {
    let options = ConvertOptions {
        registry: Some("registry.example.com/team".into()),
        ..Default::default()
    };
    let files = [
        ("compose.yaml", WEB_REDIS),
        (
            "web.env",
            "FLASK_ENV=production\nSECRET_KEY=s3cret\nREDIS_HOST=ignored\n",
        ),
    ];
    insta::assert_snapshot!(yaml(&files, &options));
}

#[test]
fn output_is_the_same_each_time() {
    let files = [("compose.yaml", WEB_REDIS), ("web.env", "A=1\n")];
    let options = ConvertOptions {
        registry: Some("r.example".into()),
        ..Default::default()
    };
    assert_eq!(yaml(&files, &options), yaml(&files, &options));
}

#[test]
fn one_shot_services_are_jobs() {
    let compose = r#"
services:
  migrate:
    image: app:1
    command: python migrate.py
    restart: on-failure:2
  web:
    image: app:1
    depends_on:
      migrate: {condition: service_completed_successfully}
"#;
    insta::assert_snapshot!(yaml(
        &[("compose.yaml", compose)],
        &ConvertOptions::default()
    ));
}

#[test]
fn probes_become_tcp_http_or_exec() {
    let compose = r#"
services:
  tcp:
    image: a
    healthcheck: {test: "nc -z localhost 6379"}
  http:
    image: a
    healthcheck: {test: ["CMD", "wget", "-q", "--spider", "http://127.0.0.1/ready"]}
  nofail:
    image: a
    healthcheck: {test: "curl http://localhost:8000/"}
  remote:
    image: a
    healthcheck: {test: "curl -f http://example.com/"}
  disabled:
    image: a
    healthcheck: {disable: true}
"#;
    let text = yaml(&[("compose.yaml", compose)], &ConvertOptions::default());
    let (project, sources) = load(&[("compose.yaml", compose)]);
    let converted = convert(&project, &sources, &ConvertOptions::default()).unwrap();
    let probe = |name: &str| {
        converted
            .objects
            .iter()
            .find(|o| o.name == name && o.kind == "Deployment")
            .unwrap()
            .body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
            .clone()
    };
    assert_eq!(probe("tcp")["tcpSocket"]["port"], 6379);
    assert_eq!(probe("http")["httpGet"]["path"], "/ready");
    assert_eq!(probe("http")["httpGet"]["port"], 80);
    // curl without -f passes on a 500: only exec keeps that meaning.
    assert_eq!(probe("nofail")["exec"]["command"][0], "/bin/sh");
    assert_eq!(
        probe("remote")["exec"]["command"][2],
        "curl -f http://example.com/"
    );
    assert!(probe("disabled").is_null());
    insta::assert_snapshot!(text);
}

#[test]
fn secrets_configs_and_file_binds() {
    let compose = r#"
services:
  proxy:
    image: nginx:1.22
    volumes:
      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro
    secrets: [db_password]
    configs:
      - source: site
        target: /etc/site.json
secrets:
  db_password: {file: ./password.txt}
configs:
  site: {content: '{"a": 1}'}
"#;
    let files = [
        ("compose.yaml", compose),
        ("nginx.conf", "server {}\n"),
        ("password.txt", "hunter2\n"),
    ];
    insta::assert_snapshot!(yaml(&files, &ConvertOptions::default()));
}

#[test]
fn what_does_not_map_is_refused_all_at_once() {
    let compose = r#"
services:
  app:
    build: .
    volumes: [".:/src"]
    user: app
    network_mode: host
    devices: ["/dev/fuse"]
    deploy:
      mode: global
"#;
    insta::assert_debug_snapshot!(refusals(compose));
}

#[test]
fn skip_unsupported_reports_what_it_left_out() {
    let compose =
        "services:\n  app:\n    image: a\n    volumes: [\".:/src\"]\n    stop_signal: SIGINT\n";
    let options = ConvertOptions {
        skip_unsupported: true,
        ..Default::default()
    };
    let text = yaml(&[("compose.yaml", compose)], &options);
    assert!(
        text.contains("# note: services.app.volumes[0]: binds a host folder"),
        "{text}"
    );
    assert!(
        text.contains("# note: services.app.stop_signal: has no Kubernetes equivalent"),
        "{text}"
    );
    assert!(!text.contains("/src"), "{text}");
}

#[test]
fn host_path_and_node_port_flags() {
    let compose =
        "services:\n  app:\n    image: a\n    ports: [\"8080:80\"]\n    volumes: [\".:/src\"]\n";
    let options = ConvertOptions {
        host_path: true,
        publish: PublishType::NodePort,
        ..Default::default()
    };
    let text = yaml(&[("compose.yaml", compose)], &options);
    assert!(text.contains("type: NodePort"), "{text}");
    assert!(text.contains("hostPath:"), "{text}");
}

#[test]
fn a_service_without_ports_gets_a_headless_service() {
    let compose = "services:\n  worker:\n    image: a\n  web:\n    image: a\n    depends_on: {worker: {condition: service_healthy}}\n";
    let (project, sources) = load(&[("compose.yaml", compose)]);
    let converted = convert(&project, &sources, &ConvertOptions::default()).unwrap();
    let worker = converted
        .objects
        .iter()
        .find(|o| o.kind == "Service" && o.name == "worker")
        .unwrap();
    assert_eq!(worker.body["spec"]["clusterIP"], "None");
    assert!(worker.body["spec"].get("ports").is_none());
    let web = converted
        .objects
        .iter()
        .find(|o| o.kind == "Deployment" && o.name == "web")
        .unwrap();
    let wait = &web.body["spec"]["template"]["spec"]["initContainers"][0]["command"][2];
    assert_eq!(
        wait,
        "until nslookup worker >/dev/null 2>&1; do sleep 1; done"
    );
    assert!(converted.notes.is_empty(), "{:?}", converted.notes);
}
