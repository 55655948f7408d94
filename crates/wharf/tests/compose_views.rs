//! `compose images`, `top`, `port`, `cp`, `ls` and `wait` end to end, with docker
//! compose's output: images per container (table, JSON array, -q), processes per service
//! replica, the host side of a published port (`--index`, `--protocol`), copies both ways
//! into the replica `--index`, projects listed from their containers' labels with their
//! combined status (`--filter name=`), and `wait`'s lines and exit code; `inspect -f` and
//! `ps --format` with Go templates' `range`, `index`, `len`, `join`, `upper`, `if`, `eq`.

mod common;

use common::compose::ComposeProject;

const STACK: &str = r#"
name: views
services:
  web:
    image: busybox:latest
    command: [sleep, "1000"]
    deploy: {replicas: 2}
    ports: ["18000-18001:80", "18002-18003:53/udp"]
  job:
    image: busybox:latest
    command: [sh, -c, "sleep 2; exit 4"]
"#;

#[test]
fn images_top_port_cp_ls_and_wait() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };
    project.ok(&["up", "-d"]);
    let ids = project.wharf.container_ids();

    let table = project.ok(&["images"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CONTAINER "), "{table}");
    assert!(
        lines[0].contains("REPOSITORY") && lines[0].contains("IMAGE ID"),
        "{table}"
    );
    // docker compose 2.40's last column: when the image was made.
    assert!(lines[0].trim_end().ends_with("CREATED"), "{table}");
    assert!(lines[1].trim_end().ends_with(" ago"), "{table}");
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[1].starts_with("views-job-1 ") && lines[1].contains("busybox"),
        "{table}"
    );
    let images: serde_json::Value =
        serde_json::from_str(&project.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(images.as_array().unwrap().len(), 3);
    assert_eq!(images[0]["Repository"], "busybox");
    assert_eq!(images[0]["Tag"], "latest");
    let id = project
        .wharf
        .ok(&["image", "inspect", "-f", "{{.Id}}", "busybox:latest"]);
    assert_eq!(project.ok(&["images", "-q", "web"]), id);

    // Go templates as Docker's: range, index, len, join, upper, if/else, json.
    for (template, expected) in [
        (
            r#"{{index .Config.Labels "com.docker.compose.service"}}"#,
            "web",
        ),
        (
            "{{range $k, $v := .Config.Labels}}{{if eq $k \"com.docker.compose.container-number\"}}{{$v}}{{end}}{{end}}",
            "1",
        ),
        ("{{len .Config.Cmd}} {{join .Config.Cmd \"+\"}}", "2 sleep+1000"),
        ("{{upper .State.Status}}", "RUNNING"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{json .Config.Cmd}}", r#"["sleep","1000"]"#),
    ] {
        assert_eq!(project.inspect(template, "views-web-1"), expected, "{template}");
    }
    let error = project
        .wharf
        .fails(&["inspect", "-f", "{{frob .Id}}", "views-web-1"]);
    assert!(error.contains("function \"frob\" not defined"), "{error}");
    let names = project.wharf.ok(&[
        "ps",
        "--format",
        "{{if eq .State \"running\"}}{{upper .Names}}{{end}}",
    ]);
    assert!(names.contains("VIEWS-WEB-1"), "{names}");

    let top = project.ok(&["top", "web"]);
    let lines: Vec<&str> = top.lines().collect();
    assert!(
        lines[0].starts_with("SERVICE") && lines[0].contains("PID"),
        "{top}"
    );
    assert_eq!(lines.len(), 3, "one sleep per replica: {top}");
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.starts_with("web ") && l.contains("sleep 1000")),
        "{top}"
    );

    // `ps --format json` has docker compose's fields, publishers by target port.
    let ps = project.ok(&["ps", "--format", "json", "web"]);
    let row: serde_json::Value = serde_json::from_str(ps.lines().next().unwrap()).unwrap();
    let publishers = row["Publishers"].as_array().unwrap();
    assert_eq!(publishers.len(), 2, "{ps}");
    assert_eq!(publishers[0]["TargetPort"], 53, "{ps}");
    assert_eq!(publishers[0]["Protocol"], "udp", "{ps}");
    assert_eq!(publishers[1]["TargetPort"], 80, "{ps}");
    assert_eq!(publishers[1]["URL"], "0.0.0.0", "{ps}");
    assert_eq!(row["Health"], "", "{ps}");
    assert_eq!(row["ExitCode"], 0, "{ps}");
    assert_eq!(row["LocalVolumes"], "0", "{ps}");
    let created = row["CreatedAt"].as_str().unwrap();
    assert!(
        created.ends_with(" +0000 UTC") && created.len() == 29,
        "{ps}"
    );

    // Each replica has one port of each range.
    let first = project.ok(&["port", "web", "80"]);
    let second = project.ok(&["port", "--index", "2", "web", "80"]);
    let mut ports = vec![first.trim().to_string(), second.trim().to_string()];
    ports.sort();
    assert_eq!(ports, ["0.0.0.0:18000", "0.0.0.0:18001"]);
    assert!(project
        .ok(&["port", "--protocol", "udp", "web", "53"])
        .starts_with("0.0.0.0:1800"));
    let error = project.fails(&["port", "web", "81"]);
    assert!(
        error.contains("no port 81/tcp for container views-web-1"),
        "{error}"
    );
    let error = project.fails(&["port", "--index", "3", "web", "80"]);
    assert!(error.contains("service \"web\" is not running"), "{error}");

    // cp both ways, into the second replica only.
    let file = project.path().join("hello.txt");
    std::fs::write(&file, "hello\n").unwrap();
    project.ok(&[
        "cp",
        "--index",
        "2",
        &file.display().to_string(),
        "web:/tmp/hello.txt",
    ]);
    assert_eq!(
        project.ok(&["exec", "--index", "2", "-T", "web", "cat", "/tmp/hello.txt"]),
        "hello\n"
    );
    let missing = project.run(&["exec", "-T", "web", "cat", "/tmp/hello.txt"]);
    assert!(!missing.status.success(), "the first replica has no copy");
    let back = project.path().join("back.txt");
    project.ok(&[
        "cp",
        "--index",
        "2",
        "web:/tmp/hello.txt",
        &back.display().to_string(),
    ]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "hello\n");

    // wait: job's line and exit code.
    let output = project.run(&["wait", "job"]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let job = project.inspect("{{.Id}}", "views-job-1");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("container \"{job}\" exited with status code 4\n")
    );

    // ls: running containers only, unless -a.
    let config = project.path().join("compose.yaml").display().to_string();
    let listed: serde_json::Value =
        serde_json::from_str(&project.wharf.ok(&["compose", "ls", "--format", "json"])).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([{"Name": "views", "Status": "running(2)", "ConfigFiles": config}])
    );
    let all = project.wharf.ok(&["compose", "ls", "-a"]);
    assert!(all.contains("exited(1), running(2)"), "{all}");
    assert_eq!(project.wharf.ok(&["compose", "ls", "-q"]), "views\n");
    for (filter, listed) in [
        ("name=iew", "views\n"),
        ("name=^vi", "views\n"),
        ("name=^views$", "views\n"),
        ("name=^iew", ""),
        ("name=other", ""),
    ] {
        let names = project
            .wharf
            .ok(&["compose", "ls", "-q", "--filter", filter]);
        assert_eq!(names, listed, "--filter {filter}");
    }
    let error = project
        .wharf
        .fails(&["compose", "ls", "--filter", "status=running"]);
    assert!(error.contains("invalid filter 'status'"), "{error}");
    project.ok(&["down", "-t", "0"]);
    assert_eq!(project.wharf.ok(&["compose", "ls", "-a", "-q"]), "");
    project.wharf.assert_nothing_leaked(&ids);
}
