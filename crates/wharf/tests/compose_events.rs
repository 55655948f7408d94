//! `compose events --json` streams the project's container events while they happen, as
//! docker compose prints them (`run`'s containers and other projects left out): a service
//! brought up and stopped shows `create`, `start`, `kill` (twice: SIGTERM, then SIGKILL
//! after the timeout), `die` (with its exit code), `stop`, in that order. `--since` shows
//! the recorded ones first (durations, RFC 3339, Unix seconds), `--until` ends the stream.

mod common;

use std::io::BufRead;

use common::compose::ComposeProject;

const STACK: &str = r#"
name: evs
services:
  web:
    image: busybox:latest
    command: [sleep, "1000"]
    labels: {tier: front}
"#;

#[test]
fn events_stream_the_projects_container_events() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };
    let file = project.path().join("compose.yaml").display().to_string();
    let mut events = project
        .wharf
        .command(&["compose", "-f", &file, "events", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(events.stdout.take().unwrap()).lines();

    project.ok(&["up", "-d"]);
    // Not the project's: a plain container, and run's.
    project.wharf.ok(&[
        "run",
        "--rm",
        "--label",
        "com.docker.compose.project=other",
        "busybox:latest",
        "true",
    ]);
    project.ok(&["run", "--rm", "web", "true"]);
    project.ok(&["stop", "-t", "1"]);

    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|(action, _): &(String, serde_json::Value)| action == "stop")
    {
        let line = lines.next().expect("events go on").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        seen.push((event["action"].as_str().unwrap().to_string(), event));
    }
    let _ = events.kill();
    let _ = events.wait();
    let actions: Vec<&str> = seen.iter().map(|(a, _)| a.as_str()).collect();
    // sleep as PID 1 ignores SIGTERM: SIGKILL follows after the 1 s timeout, as in Docker.
    assert_eq!(
        actions,
        ["create", "start", "kill", "kill", "die", "stop"],
        "{seen:#?}"
    );
    let id = project.inspect("{{.Id}}", "evs-web-1");
    for (_, event) in &seen {
        assert_eq!(event["id"], id.as_str());
        assert_eq!(event["service"], "web");
        assert_eq!(event["type"], "container");
        assert_eq!(event["attributes"]["name"], "evs-web-1");
        assert_eq!(event["attributes"]["tier"], "front");
        assert!(event["attributes"]
            .get("com.docker.compose.project")
            .is_none());
        let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["action", "attributes", "id", "service", "time", "type"]
        );
    }
    assert_eq!(seen[2].1["attributes"]["signal"], "15");
    assert_eq!(seen[3].1["attributes"]["signal"], "9");
    assert_eq!(seen[4].1["attributes"]["exitCode"], "137");

    // --since replays what was recorded; --until ends the stream (here: at once).
    let past = project.ok(&["events", "--json", "--since", "10m", "--until", "0s"]);
    let past: Vec<String> = past
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["action"].to_string())
        .collect();
    assert_eq!(
        past,
        [
            "\"create\"",
            "\"start\"",
            "\"kill\"",
            "\"kill\"",
            "\"die\"",
            "\"stop\""
        ]
    );
    let unix = seen[4].1["time"].as_str().unwrap().to_string();
    let after_die = project.ok(&["events", "--json", "--since", &unix, "--until", "0s"]);
    assert!(!after_die.contains("\"start\""), "{after_die}");
    assert!(
        after_die.contains("\"die\"") && after_die.contains("\"stop\""),
        "{after_die}"
    );
    let epoch = project.ok(&["events", "--since", "0", "--until", "1"]);
    assert_eq!(epoch, "", "nothing before 1970-01-01T00:00:01Z");
    let error = project.fails(&["events", "--since", "yesterday"]);
    assert!(error.contains("--since yesterday: not a time"), "{error}");
    let ids = project.wharf.container_ids();
    project.ok(&["down"]);
    project.wharf.assert_nothing_leaked(&ids);
}
