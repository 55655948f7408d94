use super::*;
use crate::plan::tests::project;
use crate::syntax::{parse_ports, parse_volume};

const WEB: &str = "services:\n  web:\n    image: busybox\n    command: [serve]\n    restart: always\n    ports: ['8080:80']\n    environment: {A: one}\n";

#[test]
fn the_container_is_named_and_labelled_as_docker_compose_run_does() {
    let project = project(WEB);
    let slug = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let (service, request) = one_off(
        &project,
        &project.services["web"],
        &RunOptions::default(),
        slug,
        "sha256:img",
    );
    assert_eq!(request.name, "app-web-run-0123456789ab");
    assert_eq!(request.labels[ONEOFF], "True");
    assert_eq!(request.labels[SLUG], slug);
    assert!(!request.labels.contains_key(CONTAINER_NUMBER));
    assert_eq!(request.labels["com.docker.compose.service"], "web");
    // Never restarted, no ports without --service-ports, the service's command kept.
    assert_eq!(service.restart, "");
    assert!(service.ports.is_empty());
    assert_eq!(service.command, Some(vec!["serve".to_string()]));
}

#[test]
fn flags_override_the_service() {
    let mut project = project(WEB);
    project
        .environment
        .insert("FROM_SHELL".into(), "shell".into());
    let options = RunOptions {
        entrypoint: Some(vec!["sh".into(), "-c".into()]),
        env: vec!["A=two".into(), "FROM_SHELL".into(), "UNSET".into()],
        user: Some("nobody".into()),
        workdir: Some("/tmp".into()),
        name: Some("mine".into()),
        publish: parse_ports("9090:90").unwrap(),
        volumes: vec![parse_volume("data:/data").unwrap()],
        ..RunOptions::default()
    };
    let (service, request) = one_off(&project, &project.services["web"], &options, "ab", "");
    assert_eq!(request.name, "mine");
    assert_eq!(service.entrypoint, Some(vec!["sh".into(), "-c".into()]));
    assert_eq!(
        service.command,
        Some(vec![]),
        "--entrypoint clears the command"
    );
    assert_eq!(service.environment["A"], Some("two".into()));
    assert_eq!(service.environment["FROM_SHELL"], Some("shell".into()));
    assert!(!service.environment.contains_key("UNSET"));
    assert_eq!(
        (service.user.as_str(), service.working_dir.as_str()),
        ("nobody", "/tmp")
    );
    assert_eq!(service.ports[0].published, "9090");
    assert_eq!(service.volumes[0].target, "/data");

    let ports = RunOptions {
        service_ports: true,
        ..RunOptions::default()
    };
    let (service, _) = one_off(&project, &project.services["web"], &ports, "ab", "");
    assert_eq!(service.ports[0].published, "8080");
}
