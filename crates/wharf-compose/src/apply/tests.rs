use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::plan::tests::{existing, project};

/// An engine that records each call and keeps containers in memory.
#[derive(Default)]
struct Recorder {
    calls: RefCell<Vec<String>>,
    containers: RefCell<Vec<Observed>>,
    images: BTreeSet<String>,
    /// `check` fails for this service.
    refuse: Option<String>,
    /// `wait_for` answers this for this container.
    unhealthy: Option<(String, String)>,
    /// `build` fails for this image.
    broken_build: Option<String>,
}

impl Recorder {
    fn record(&self, call: String) {
        self.calls.borrow_mut().push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Backend for Recorder {
    fn observe(&self, _project: &str) -> Result<Vec<Observed>, BackendError> {
        Ok(self.containers.borrow().clone())
    }

    fn image_id(&self, image: &str) -> Result<Option<String>, BackendError> {
        Ok(self
            .images
            .contains(image)
            .then(|| "sha256:img".to_string()))
    }

    fn check(
        &self,
        _project: &Project,
        service: &Service,
        new_ports: bool,
    ) -> Result<(), BackendError> {
        if self.refuse.as_deref() == Some(service.name.as_str()) {
            return Err("services.web.security_opt: not supported".into());
        }
        self.record(format!("check {} ports={new_ports}", service.name));
        Ok(())
    }

    fn build(&self, _: &Project, _: &Service, image: &str) -> Result<(), BackendError> {
        if self.broken_build.as_deref() == Some(image) {
            return Err("RUN pip install: exit code: 1".into());
        }
        self.record(format!("build {image}"));
        Ok(())
    }

    fn pull(&self, image: &str) -> Result<(), BackendError> {
        self.record(format!("pull {image}"));
        Ok(())
    }

    fn ensure_network(&self, _: &Project, network: &Resource) -> Result<bool, BackendError> {
        self.record(format!("network {}", network.name));
        Ok(true)
    }

    fn ensure_volume(&self, _: &Project, volume: &Resource) -> Result<bool, BackendError> {
        self.record(format!("volume {}", volume.name));
        Ok(true)
    }

    fn create(
        &self,
        _: &Project,
        service: &Service,
        container: &ContainerRequest,
    ) -> Result<(), BackendError> {
        self.record(format!(
            "create {} from {}",
            container.name, container.image
        ));
        self.containers.borrow_mut().push(Observed {
            id: container.name.clone(),
            name: container.name.clone(),
            service: service.name.clone(),
            number: container.number,
            config_hash: container.labels[crate::labels::CONFIG_HASH].clone(),
            image_id: container.labels[crate::labels::IMAGE].clone(),
            running: false,
            oneoff: false,
        });
        Ok(())
    }

    fn start(&self, names: &[String]) -> Vec<Result<(), BackendError>> {
        self.record(format!("start {}", names.join(" ")));
        names.iter().map(|_| Ok(())).collect()
    }

    fn stop(&self, name: &str, _: Option<Duration>) -> Result<(), BackendError> {
        self.record(format!("stop {name}"));
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), BackendError> {
        self.record(format!("remove {name}"));
        self.containers.borrow_mut().retain(|c| c.name != name);
        Ok(())
    }

    fn wait_for(&self, name: &str, condition: &str) -> Result<Readiness, BackendError> {
        self.record(format!("wait {name} {condition}"));
        Ok(match &self.unhealthy {
            Some((container, output)) if container == name => Readiness::Failed(output.clone()),
            _ => Readiness::Ready,
        })
    }
}

const STACK: &str = "
services:
  web:
    build: .
    ports: ['8000:8000']
    networks: [front, back]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: postgres:15
    networks: [back]
    volumes: [data:/var/lib/postgresql/data]
networks: {front: {}, back: {}}
volumes: {data: {}}
";

fn run(recorder: &Recorder, yaml: &str, options: &UpOptions) -> Result<Vec<Event>, UpError> {
    let project = project(yaml);
    let mut events = Vec::new();
    up(recorder, &project, options, &mut |e| events.push(e))?;
    Ok(events)
}

#[test]
fn up_validates_then_makes_resources_images_and_containers_in_order() {
    let recorder = Recorder::default();
    run(&recorder, STACK, &UpOptions::default()).unwrap();
    assert_eq!(
        recorder.calls(),
        [
            "check db ports=true",
            "check web ports=true",
            "pull postgres:15",
            "build app-web",
            "network app_back",
            "network app_front",
            "volume app_data",
            "create app-db-1 from postgres:15",
            "start app-db-1",
            "wait app-db-1 service_healthy",
            "create app-web-1 from app-web",
            "start app-web-1",
        ]
    );
}

#[test]
fn containers_start_together_until_one_must_wait_for_another() {
    let recorder = Recorder::default();
    let stack = "services:
  db: {image: postgres:15}
  cache: {image: redis:7, scale: 2}
  web: {image: web, depends_on: {db: {condition: service_healthy}}}
  worker: {image: web, depends_on: [cache]}
";
    run(&recorder, stack, &UpOptions::default()).unwrap();
    let calls = recorder.calls();
    let starts: Vec<&String> = calls.iter().filter(|c| c.starts_with("start")).collect();
    assert_eq!(
        starts,
        // The plan's order is one topological order: worker's wait for cache comes after
        // web, so web starts before that wait, and worker after it.
        [
            "start app-cache-1 app-cache-2 app-db-1",
            "start app-web-1",
            "start app-worker-1",
        ],
        "{calls:#?}"
    );
}

#[test]
fn a_refused_key_creates_nothing() {
    let recorder = Recorder {
        refuse: Some("web".into()),
        ..Recorder::default()
    };
    let error = run(&recorder, STACK, &UpOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service web: services.web.security_opt: not supported"
    );
    assert_eq!(recorder.calls(), ["check db ports=true"]);
}

#[test]
fn only_health_and_completion_waits_are_reported() {
    let recorder = Recorder::default();
    let events = run(
        &recorder,
        "services:\n  db: {image: postgres:15}\n  web: {image: web, depends_on: [db]}\n",
        &UpOptions::default(),
    )
    .unwrap();
    assert!(recorder
        .calls()
        .contains(&"wait app-db-1 service_started".to_string()));
    assert!(
        !events.iter().any(|e| matches!(e, Event::Waited { .. })),
        "{events:?}"
    );
    let events = run(&Recorder::default(), STACK, &UpOptions::default()).unwrap();
    assert!(events.contains(&Event::Waited {
        container: "app-db-1".into(),
        condition: "service_healthy".into(),
    }));
}

#[test]
fn a_failing_build_leaves_no_network_or_volume() {
    // As docker compose: images first, then the project's networks and volumes.
    let recorder = Recorder {
        broken_build: Some("app-web".into()),
        ..Recorder::default()
    };
    let error = run(&recorder, STACK, &UpOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service web: RUN pip install: exit code: 1"
    );
    assert_eq!(
        recorder.calls(),
        [
            "check db ports=true",
            "check web ports=true",
            "pull postgres:15"
        ]
    );
}

#[test]
fn no_build_with_a_missing_image_creates_nothing() {
    let recorder = Recorder::default();
    let options = UpOptions {
        no_build: true,
        ..UpOptions::default()
    };
    let error = run(&recorder, STACK, &options).unwrap_err();
    assert!(matches!(error, UpError::NotBuilt { ref service, .. } if service == "web"));
    assert_eq!(recorder.calls(), Vec::<String>::new());
}

#[test]
fn an_unhealthy_dependency_stops_up_naming_it_and_its_output() {
    let recorder = Recorder {
        unhealthy: Some(("app-db-1".into(), "is unhealthy: no response".into())),
        ..Recorder::default()
    };
    let error = run(&recorder, STACK, &UpOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dependency failed to start: container app-db-1 is unhealthy: no response"
    );
    assert!(!recorder.calls().iter().any(|c| c.contains("app-web-1")));
}

#[test]
fn a_second_up_touches_nothing_and_a_change_recreates_only_its_service() {
    let images = ["postgres:15", "app-web"].map(String::from).into();
    let recorder = Recorder {
        images,
        ..Recorder::default()
    };
    run(&recorder, STACK, &UpOptions::default()).unwrap();
    for container in recorder.containers.borrow_mut().iter_mut() {
        container.running = true;
    }
    recorder.calls.borrow_mut().clear();
    let events = run(&recorder, STACK, &UpOptions::default()).unwrap();
    assert!(recorder
        .calls()
        .iter()
        .all(|c| c.starts_with("check ") || c.starts_with("network ") || c.starts_with("volume ")));
    assert_eq!(
        events,
        [
            Event::NetworkCreated("app_back".into()),
            Event::NetworkCreated("app_front".into()),
            Event::VolumeCreated("app_data".into()),
            Event::Running("app-db-1".into()),
            Event::Running("app-web-1".into()),
        ]
    );
    recorder.calls.borrow_mut().clear();
    let changed = STACK.replace("ports: ['8000:8000']", "ports: ['8001:8000']");
    run(&recorder, &changed, &UpOptions::default()).unwrap();
    let acted: Vec<String> = recorder
        .calls()
        .into_iter()
        .filter(|c| {
            !c.starts_with("check ") && !c.starts_with("network ") && !c.starts_with("volume ")
        })
        .collect();
    assert_eq!(
        acted,
        [
            "wait app-db-1 service_healthy",
            "stop app-web-1",
            "remove app-web-1",
            "create app-web-1 from app-web",
            "start app-web-1",
        ]
    );
}

#[test]
fn resources_use_compose_names_and_labels_and_skip_external_ones() {
    let project = project(
        "services:\n  a:\n    image: a\n    networks: [mine, shared]\n    volumes: [vol:/v, /host:/h]\nnetworks:\n  mine: {labels: {x: y}}\n  shared: {external: true}\nvolumes:\n  vol: {name: custom}\n",
    );
    let (networks, volumes) = project_resources(&project, &["a".into()]);
    assert_eq!(networks.len(), 1);
    assert_eq!(networks[0].name, "app_mine");
    assert_eq!(
        networks[0].labels,
        BTreeMap::from(
            [
                ("com.docker.compose.network", "mine"),
                ("com.docker.compose.project", "app"),
                ("com.docker.compose.version", crate::labels::COMPOSE_VERSION),
                ("x", "y"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        )
    );
    assert_eq!(volumes.len(), 1);
    assert_eq!(volumes[0].name, "custom");
    assert_eq!(volumes[0].labels["com.docker.compose.volume"], "vol");
}

#[test]
fn running_existing_containers_do_not_need_free_ports() {
    let project = project(STACK);
    let recorder = Recorder {
        images: ["postgres:15", "app-web"].map(String::from).into(),
        ..Recorder::default()
    };
    recorder
        .containers
        .borrow_mut()
        .extend(["db", "web"].map(|s| existing(&project, s, 1)));
    up(&recorder, &project, &UpOptions::default(), &mut |_| {}).unwrap();
    assert!(recorder
        .calls()
        .contains(&"check web ports=false".to_string()));
}

#[test]
fn pull_always_pulls_present_images_and_never_refuses_missing_ones() {
    let recorder = Recorder {
        images: ["postgres:15", "app-web"].map(String::from).into(),
        ..Recorder::default()
    };
    let always = UpOptions {
        pull: Pull::Always,
        ..UpOptions::default()
    };
    run(&recorder, STACK, &always).unwrap();
    assert!(recorder.calls().contains(&"pull postgres:15".to_string()));
    assert!(!recorder.calls().iter().any(|c| c.starts_with("build")));

    let recorder = Recorder::default();
    let never = UpOptions {
        pull: Pull::Never,
        ..UpOptions::default()
    };
    let error = run(&recorder, STACK, &never).unwrap_err();
    assert!(matches!(error, UpError::NotPulled { .. }), "{error}");
    assert!(
        recorder.calls().is_empty(),
        "nothing made: {:?}",
        recorder.calls()
    );
}
