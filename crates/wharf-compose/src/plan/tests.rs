use std::collections::BTreeMap;

use super::*;
use crate::labels::container_labels;
use crate::{load, LoadOptions};

/// Loads a project named `app` from compose YAML.
pub(crate) fn project(yaml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    let mut options = LoadOptions::new(dir.path().to_path_buf(), BTreeMap::new());
    options.project_name = Some("app".into());
    load(&options).unwrap().project
}

/// A running container of `service` as `up` made it from the project as it is.
pub(crate) fn existing(project: &Project, service: &str, number: u32) -> Observed {
    let labels = container_labels(project, &project.services[service], number, "sha256:img");
    Observed {
        id: format!("id-{service}-{number}"),
        name: format!("app-{service}-{number}"),
        service: service.into(),
        number,
        config_hash: labels[crate::labels::CONFIG_HASH].clone(),
        image_id: "sha256:img".into(),
        running: true,
        oneoff: false,
    }
}

fn images(project: &Project) -> BTreeMap<String, String> {
    project
        .services
        .keys()
        .map(|name| (name.clone(), "sha256:img".to_string()))
        .collect()
}

/// The actions as short lines, to compare whole plans at a glance.
fn lines(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|action| match action {
            Action::Wait {
                service,
                dependency,
                condition,
                ..
            } => format!("{service} waits {dependency} {condition}"),
            Action::Create { name, .. } => format!("create {name}"),
            Action::Recreate { name, .. } => format!("recreate {name}"),
            Action::Start { name, .. } => format!("start {name}"),
            Action::Restart { name, .. } => format!("restart {name}"),
            Action::Remove { name, .. } => format!("remove {name}"),
        })
        .collect()
}

const STACK: &str = "
services:
  web:
    image: web
    environment: {MODE: one}
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: web
    depends_on: [db]
  db:
    image: db
";

#[test]
fn a_new_project_is_created_in_dependency_order_with_waits() {
    let project = project(STACK);
    let plan = plan(&project, &[], &images(&project), &PlanOptions::default());
    assert_eq!(
        lines(&plan),
        [
            "create app-db-1",
            "start app-db-1",
            "migrate waits db service_started",
            "create app-migrate-1",
            "start app-migrate-1",
            "web waits db service_healthy",
            "web waits migrate service_completed_successfully",
            "create app-web-1",
            "start app-web-1",
        ]
    );
}

#[test]
fn nothing_changed_touches_nothing() {
    let project = project(STACK);
    let observed: Vec<Observed> = ["db", "migrate", "web"]
        .iter()
        .map(|s| existing(&project, s, 1))
        .collect();
    let plan = plan(
        &project,
        &observed,
        &images(&project),
        &PlanOptions::default(),
    );
    assert_eq!(lines(&plan), Vec::<String>::new());
    assert_eq!(plan.kept, ["app-db-1", "app-migrate-1", "app-web-1"]);
}

#[test]
fn a_changed_service_is_recreated_alone() {
    let before = project(STACK);
    let observed: Vec<Observed> = ["db", "migrate", "web"]
        .iter()
        .map(|s| existing(&before, s, 1))
        .collect();
    let after = project(&STACK.replace("MODE: one", "MODE: two"));
    let plan = plan(&after, &observed, &images(&after), &PlanOptions::default());
    assert_eq!(
        lines(&plan),
        [
            "web waits db service_healthy",
            "web waits migrate service_completed_successfully",
            "recreate app-web-1",
            "start app-web-1",
        ]
    );
}

#[test]
fn a_new_image_recreates_and_no_recreate_keeps() {
    let project = project(STACK);
    let observed = vec![existing(&project, "db", 1)];
    let mut ids = images(&project);
    ids.insert("db".into(), "sha256:newer".into());
    let options = PlanOptions {
        services: vec!["db".into()],
        ..PlanOptions::default()
    };
    assert_eq!(
        lines(&plan(&project, &observed, &ids, &options)),
        ["recreate app-db-1", "start app-db-1"]
    );
    let options = PlanOptions {
        no_recreate: true,
        ..options
    };
    assert_eq!(
        lines(&plan(&project, &observed, &ids, &options)),
        Vec::<String>::new()
    );
}

#[test]
fn dependents_with_restart_true_restart_when_their_dependency_is_recreated() {
    let yaml = "
services:
  api:
    image: api
    depends_on:
      cache: {condition: service_started, restart: true}
  worker:
    image: api
    depends_on: [cache]
  cache:
    image: cache
";
    let project = project(yaml);
    let observed: Vec<Observed> = ["api", "cache", "worker"]
        .iter()
        .map(|s| existing(&project, s, 1))
        .collect();
    let options = PlanOptions {
        force_recreate: true,
        services: vec!["cache".into()],
        no_deps: true,
        ..PlanOptions::default()
    };
    // Only cache is selected: nothing else is touched.
    assert_eq!(
        lines(&plan(&project, &observed, &images(&project), &options)),
        ["recreate app-cache-1", "start app-cache-1"]
    );
    let mut ids = images(&project);
    ids.insert("cache".into(), "sha256:newer".into());
    assert_eq!(
        lines(&plan(&project, &observed, &ids, &PlanOptions::default())),
        [
            "recreate app-cache-1",
            "start app-cache-1",
            "api waits cache service_started",
            "restart app-api-1",
        ]
    );
}

#[test]
fn scale_adds_and_removes_replicas_and_stopped_ones_start() {
    let yaml = "
services:
  worker:
    image: w
    deploy: {replicas: 3}
";
    let project = project(yaml);
    let mut stopped = existing(&project, "worker", 2);
    stopped.running = false;
    let plan_for = |observed: &[Observed], scale: Option<u32>| {
        let options = PlanOptions {
            scale: scale
                .map(|n| BTreeMap::from([("worker".to_string(), n)]))
                .unwrap_or_default(),
            ..PlanOptions::default()
        };
        lines(&plan(&project, observed, &images(&project), &options))
    };
    assert_eq!(
        plan_for(&[stopped.clone()], None),
        [
            "start app-worker-2",
            "create app-worker-1",
            "start app-worker-1",
            "create app-worker-3",
            "start app-worker-3",
        ]
    );
    let all: Vec<Observed> = (1..=3).map(|n| existing(&project, "worker", n)).collect();
    assert_eq!(
        plan_for(&all, Some(1)),
        ["remove app-worker-2", "remove app-worker-3"]
    );
}

#[test]
fn orphans_are_listed_or_removed_and_oneoffs_ignored() {
    let project = project("services: {web: {image: web}}");
    let mut gone = existing(&project, "web", 1);
    gone.service = "old".into();
    gone.name = "app-old-1".into();
    let mut oneoff = existing(&project, "web", 7);
    oneoff.oneoff = true;
    oneoff.name = "app-web-run-1".into();
    let observed = vec![existing(&project, "web", 1), gone, oneoff];
    let plan_default = plan(
        &project,
        &observed,
        &images(&project),
        &PlanOptions::default(),
    );
    assert_eq!(lines(&plan_default), Vec::<String>::new());
    assert_eq!(plan_default.orphans, ["app-old-1"]);
    let options = PlanOptions {
        remove_orphans: true,
        ..PlanOptions::default()
    };
    let removing = plan(&project, &observed, &images(&project), &options);
    assert_eq!(lines(&removing), ["remove app-old-1"]);
}

#[test]
fn no_start_creates_only_and_named_services_bring_their_dependencies() {
    let project = project(STACK);
    let options = PlanOptions {
        services: vec!["migrate".into()],
        no_start: true,
        ..PlanOptions::default()
    };
    assert_eq!(
        lines(&plan(&project, &[], &images(&project), &options)),
        ["create app-db-1", "create app-migrate-1"]
    );
}

#[test]
fn container_name_and_labels_are_docker_composes() {
    let project = project(
        "services:\n  db:\n    image: db\n    container_name: the-db\n    labels: {team: a}\n  web:\n    image: web\n    depends_on:\n      db: {condition: service_healthy, restart: true}\n",
    );
    assert_eq!(
        crate::labels::container_name("app", &project.services["db"], 1),
        "the-db"
    );
    let labels = container_labels(&project, &project.services["web"], 2, "sha256:abc");
    assert_eq!(labels["com.docker.compose.project"], "app");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(labels["com.docker.compose.container-number"], "2");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(
        labels["com.docker.compose.depends_on"],
        "db:service_healthy:true"
    );
    assert_eq!(labels["com.docker.compose.image"], "sha256:abc");
    assert_eq!(
        labels["com.docker.compose.config-hash"],
        crate::service_hash(&project.services["web"])
    );
    assert_eq!(
        container_labels(&project, &project.services["db"], 1, "")["team"],
        "a"
    );
}

#[test]
fn up_wait_waits_for_one_shot_jobs_to_complete_and_the_rest_to_run() {
    let project = project(
        "services:\n  db: {image: db}\n  migrate:\n    image: m\n    depends_on: {db: {condition: service_healthy}}\n  web:\n    image: web\n    depends_on:\n      migrate: {condition: service_completed_successfully}\n      db: {condition: service_started}\n",
    );
    assert_eq!(
        project.wait_condition("migrate"),
        "service_completed_successfully"
    );
    assert_eq!(project.wait_condition("db"), "running_or_healthy");
    assert_eq!(project.wait_condition("web"), "running_or_healthy");
}
