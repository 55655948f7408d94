//! `/events` and `/containers/{id}/stats` through the service (the docker CLI and raw HTTP),
//! and `wharf events` beside them, on the same events file.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::Stdio;

use common::api::{cli_service_with_busybox, message, Service, DOCKER};

/// Unix seconds now, as the docker CLI sends times.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn the_docker_cli_and_wharf_read_past_and_live_events_with_filters() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let since = (unix_now() - 1).to_string();
    service.docker_ok(
        &wharf,
        &["run", "--rm", "--name", "once", "busybox", "true"],
    );
    wharf.ok(&["run", "--name", "other", "busybox", "true"]);
    let until = (unix_now() + 1).to_string();
    // The recorded past, filtered by container name: the API's and the CLI's own view.
    let actions = service.docker_ok(
        &wharf,
        &[
            "events",
            "--since",
            &since,
            "--until",
            &until,
            "--filter",
            "container=once",
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ],
    );
    assert_eq!(
        actions,
        "container create once\ncontainer start once\ncontainer die once\ncontainer destroy once\n"
    );
    let dies = wharf.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "event=die",
        "--filter",
        "image=busybox",
    ]);
    let lines: Vec<&str> = dies.lines().collect();
    assert_eq!(lines.len(), 2, "{dies}");
    assert!(
        lines[1].contains(" container die ")
            && lines[1].ends_with("(exitCode=0, image=busybox, name=other)"),
        "{dies}"
    );
    let json = wharf.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "container=other",
        "--filter",
        "event=create",
        "--format",
        "json",
    ]);
    let event: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(event["Actor"]["Attributes"]["name"], "other");
    assert_eq!(event["status"], "create");

    // From the past into the live stream: once the follower has shown `other`'s start, it
    // reads on and sees the next one.
    let from = unix_now().to_string();
    let mut follower = wharf
        .host_command(DOCKER)
        .env("DOCKER_HOST", service.host())
        .args(["events", "--since", &from, "--filter", "event=start"])
        .args(["--format", "{{.Actor.Attributes.name}}"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker events runs");
    let mut seen = BufReader::new(follower.stdout.take().unwrap()).lines();
    wharf.ok(&["start", "other"]);
    assert_eq!(seen.next().unwrap().unwrap(), "other");
    service.docker_ok(
        &wharf,
        &["run", "--rm", "--name", "live", "busybox", "true"],
    );
    assert_eq!(seen.next().unwrap().unwrap(), "live");
    let _ = follower.kill();
    let _ = follower.wait();

    let (status, body) = service.request(
        "GET",
        "/v1.44/events?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D",
        "",
    );
    assert_eq!(status, 400);
    assert!(message(&body).contains("invalid filter 'colour'"), "{body}");
    let bad = wharf.run(&["events", "--filter", "colour=red"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid filter 'colour'"));
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

/// The JSON messages of a chunked stream of JSON lines, as many as `count`.
fn stream_messages(service: &Service, path: &str, count: usize) -> Vec<serde_json::Value> {
    let stream = UnixStream::connect(&service.socket).unwrap();
    write!(&stream, "GET {path} HTTP/1.1\r\nHost: d\r\n\r\n").unwrap();
    BufReader::new(stream)
        .lines()
        .map(|line| line.unwrap())
        .filter(|line| line.starts_with('{'))
        .take(count)
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect()
}

#[test]
fn stats_are_dockers_json_one_shot_and_streamed() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    service.docker_ok(
        &wharf,
        &[
            "run",
            "-d",
            "--name",
            "busy",
            "-m",
            "64m",
            "busybox",
            "sh",
            "-c",
            "while :; do :; done",
        ],
    );
    let row = service.docker_ok(
        &wharf,
        &[
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}} {{.PIDs}} {{.MemUsage}}",
            "busy",
        ],
    );
    assert!(
        row.starts_with("busy 1 ") && row.trim_end().ends_with("/ 64MiB"),
        "{row}"
    );

    let (status, body) = service.request("GET", "/containers/busy/stats?stream=0&one-shot=1", "");
    assert_eq!(status, 200, "{body}");
    let one: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(one["name"], "/busy");
    assert_eq!(one["pids_stats"]["current"], 1);
    assert_eq!(one["memory_stats"]["limit"], 64 << 20);
    assert!(one["memory_stats"]["usage"].as_u64().unwrap() > 0, "{one}");
    assert!(
        one["cpu_stats"]["online_cpus"].as_u64().unwrap() > 0,
        "{one}"
    );
    assert_eq!(one["precpu_stats"]["cpu_usage"]["total_usage"], 0);

    // Streamed: each message carries the one before as its precpu_stats; a busy loop uses
    // CPU between the two.
    let two = stream_messages(&service, "/v1.41/containers/busy/stats", 2);
    assert_eq!(two[1]["precpu_stats"], two[0]["cpu_stats"]);
    let used = |m: &serde_json::Value| m["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap();
    assert!(used(&two[1]) > used(&two[0]), "{two:?}");
    assert!(
        two[1]["cpu_stats"]["system_cpu_usage"].as_u64()
            > two[0]["cpu_stats"]["system_cpu_usage"].as_u64()
    );

    let (status, body) = service.request("GET", "/containers/nope/stats?stream=false", "");
    assert_eq!(
        (status, message(&body)),
        (404, "No such container: nope".into())
    );
    wharf.ok(&["rm", "-f", "busy"]);
    service.assert_idle();
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn image_network_and_volume_events_as_dockerd_writes_them() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    let busybox = docker(&["image", "inspect", "-f", "{{.Id}}", "busybox"]);
    let busybox = busybox.trim();
    let since = (unix_now() - 1).to_string();
    docker(&["tag", "busybox", "evt:1"]);
    docker(&["rmi", "evt:1"]);
    docker(&["network", "create", "evnet"]);
    docker(&["create", "--name", "evc", "busybox", "true"]);
    docker(&["network", "connect", "evnet", "evc"]);
    docker(&["network", "disconnect", "evnet", "evc"]);
    docker(&["network", "rm", "evnet"]);
    docker(&["volume", "create", "evvol"]);
    docker(&["volume", "rm", "evvol"]);
    let saved = wharf.path().join("saved.tar");
    docker(&["save", "-o", saved.to_str().unwrap(), "busybox"]);
    let until = (unix_now() + 1).to_string();
    let events = docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "type=image",
        "--filter",
        "type=network",
        "--filter",
        "type=volume",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}",
    ]);
    let network = events
        .lines()
        .find_map(|l| l.strip_prefix("network create "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no network create in {events}"))
        .to_string();
    // After the fixture's own import and tag.
    let ours = &events[events.find("image tag ").unwrap()..];
    let ours = &ours[ours
        .find(" evt:1\n")
        .map_or(0, |at| ours[..at].rfind("image tag ").unwrap_or(0))..];
    assert_eq!(
        ours,
        format!(
            "image tag {busybox} evt:1\n\
             image untag {busybox} {busybox}\n\
             network create {network} evnet\n\
             network connect {network} evnet\n\
             network disconnect {network} evnet\n\
             network destroy {network} evnet\n\
             volume create evvol <no value>\n\
             volume destroy evvol <no value>\n\
             image save {busybox} {busybox}\n"
        )
    );
    // `container=` selects container events only.
    let for_evc = wharf.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "container=evc",
        "--format",
        "{{.Type}}",
    ]);
    assert_eq!(for_evc, "container\n");
    docker(&["rm", "evc"]);
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}
