//! The docker CLI through the service for what manages containers and the store rather than
//! runs them: `cp` both ways (HEAD and the path stat header), `rename`, the four prunes,
//! `system df` and `login` (`/auth`); and `wharf system prune` beside them.

mod common;

use common::api::{cli_service_with_busybox, have_docker_cli, message, Service};
use common::registry::Registry;

#[test]
fn docker_cp_copies_both_ways_as_docker_places_things() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    docker(&[
        "run",
        "-d",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "ln -s /etc /lnk; exec sleep 60",
    ]);
    let host = wharf.path().join("host");
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("f.txt"), "file\n").unwrap();
    std::fs::write(host.join("tree/sub/a"), "a\n").unwrap();
    let at = |name: &str| host.join(name).display().to_string();

    // Into a directory (the stat says it is one), to a new name, through a symlinked directory.
    docker(&["cp", &at("f.txt"), "box:/tmp"]);
    docker(&["cp", &at("f.txt"), "box:/tmp/renamed.txt"]);
    docker(&["cp", &at("f.txt"), "box:/lnk/"]);
    docker(&["cp", &at("tree"), "box:/newdir"]);
    assert_eq!(
        docker(&[
            "exec",
            "box",
            "cat",
            "/tmp/f.txt",
            "/tmp/renamed.txt",
            "/etc/f.txt",
            "/newdir/sub/a"
        ]),
        "file\nfile\nfile\na\n"
    );
    // Out: a file wharf mounts into the container, and a directory.
    docker(&["cp", "box:/etc/hostname", &at("hostname")]);
    let hostname = docker(&["exec", "box", "cat", "/etc/hostname"]);
    assert_eq!(
        std::fs::read_to_string(host.join("hostname")).unwrap(),
        hostname
    );
    docker(&["cp", "box:/newdir", &at("back")]);
    assert_eq!(
        std::fs::read_to_string(host.join("back/sub/a")).unwrap(),
        "a\n"
    );

    let missing = service.docker(&wharf, &["cp", "box:/nope", &at("x")]);
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("No such container:path: box:/nope"), "{said}");
    let reply = service.raw(
        b"HEAD /v1.44/containers/box/archive?path=/etc HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let header = reply
        .lines()
        .find_map(|l| l.strip_prefix("X-Docker-Container-Path-Stat: "))
        .unwrap_or_else(|| panic!("no stat header in {reply}"));
    let stat = base64_decode(header.trim());
    let stat: serde_json::Value = serde_json::from_slice(&stat).unwrap();
    assert_eq!(stat["name"], "etc");
    // Go's os.ModeDir.
    assert_ne!(stat["mode"].as_u64().unwrap() & (1 << 31), 0, "{stat}");
    docker(&["rm", "-f", "box"]);
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

/// Standard base64, as the header carries it (the tests share no base64 crate).
fn base64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = alphabet.iter().position(|a| *a == byte).expect("base64") as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[test]
fn rename_prunes_and_df_through_the_docker_cli() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    docker(&["create", "--name", "first", "busybox", "true"]);
    docker(&["run", "-d", "--name", "up", "busybox", "sleep", "60"]);
    docker(&["rename", "first", "second"]);
    assert_eq!(
        docker(&["inspect", "-f", "{{.Name}}", "second"]),
        "/second\n"
    );
    let taken = service.docker(&wharf, &["rename", "second", "up"]);
    assert!(!taken.status.success(), "a name in use is refused");
    let (status, body) = service.request("POST", "/containers/second/rename?name=", "");
    assert_eq!((status, message(&body)), (400, "name is required".into()));

    docker(&["network", "create", "unused"]);
    docker(&["volume", "create", "named"]);
    docker(&["run", "--name", "anon", "-v", "/data", "busybox", "true"]);
    let df = docker(&[
        "system",
        "df",
        "--format",
        "{{.Type}} {{.TotalCount}} {{.Active}}",
    ]);
    assert!(df.contains("Images 1 1\n"), "{df}");
    assert!(df.contains("Containers 3 1\n"), "{df}");
    assert!(df.contains("Local Volumes 2 "), "{df}");

    let pruned = docker(&["container", "prune", "-f"]);
    assert!(pruned.starts_with("Deleted Containers:\n"), "{pruned}");
    assert_eq!(
        pruned.lines().filter(|l| l.len() == 64).count(),
        2,
        "{pruned}"
    );
    assert_eq!(docker(&["ps", "-a", "--format", "{{.Names}}"]), "up\n");
    assert_eq!(
        docker(&["network", "prune", "-f"]),
        "Deleted Networks:\nunused\n\n"
    );
    // Anonymous volumes only, as Docker since API 1.42, unless the `all` filter says so;
    // every unused volume for Debian's docker CLI, which speaks 1.41.
    let prune = |version: &str, filters: &str| {
        let (status, body) =
            service.request("POST", &format!("/{version}volumes/prune{filters}"), "");
        assert_eq!(status, 200, "{body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        reply["VolumesDeleted"].as_array().unwrap().len()
    };
    assert_eq!(prune("v1.44/", ""), 1);
    assert_eq!(docker(&["volume", "ls", "-q"]), "named\n");
    assert_eq!(prune("", "?filters=%7B%22all%22%3A%5B%22false%22%5D%7D"), 0);
    let volumes = docker(&["volume", "prune", "-f"]);
    assert!(volumes.contains("named"), "{volumes}");
    assert_eq!(docker(&["volume", "ls", "-q"]), "");
    // busybox is in use: a prune of all unused images keeps it.
    docker(&["image", "prune", "-af"]);
    assert_eq!(
        docker(&["images", "--format", "{{.Repository}}"]),
        "busybox\n"
    );
    let (status, body) = service.request(
        "POST",
        "/containers/prune?filters=%7B%22label%22%3A%5B%22a%22%5D%7D",
        "",
    );
    assert_eq!(status, 501, "{body}");

    // The CLI's own `system prune`, on what the API made.
    docker(&["rm", "-f", "up"]);
    docker(&["create", "--name", "left", "busybox", "true"]);
    docker(&["network", "create", "left-net"]);
    let pruned = wharf.ok(&["system", "prune", "-f", "-a", "--volumes"]);
    assert!(pruned.contains("Deleted Containers:\n"), "{pruned}");
    assert!(pruned.contains("Deleted Networks:\nleft-net\n"), "{pruned}");
    assert!(pruned.contains("untagged: busybox:latest"), "{pruned}");
    assert!(pruned.contains("Total reclaimed space: "), "{pruned}");
    assert_eq!(docker(&["ps", "-aq"]), "");
    assert_eq!(docker(&["images", "-q"]), "");
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn docker_login_checks_credentials_through_auth() {
    if !have_docker_cli() {
        return;
    }
    let Some(registry) = Registry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    if !common::is_root() {
        common::skip("the service's socket is root's");
        return;
    }
    // On the host's loopback, with the registry: no container runs here.
    let wharf = common::Wharf::new();
    let service = Service::start(&wharf);
    let login = |password: &str| {
        service.docker(
            &wharf,
            &["login", "-u", "alice", "-p", password, &registry.address],
        )
    };
    let good = login("s3cret");
    assert!(good.status.success(), "{good:?}");
    assert!(String::from_utf8_lossy(&good.stdout).contains("Login Succeeded"));
    let bad = login("wrong");
    assert!(!bad.status.success());
    let body = format!(
        r#"{{"username":"alice","password":"wrong","serveraddress":"{}"}}"#,
        registry.address
    );
    let (status, reply) = service.request("POST", "/v1.44/auth", &body);
    assert_eq!(status, 401, "{reply}");
    let (status, _) = service.request("POST", "/auth", &body.replace("wrong", "s3cret"));
    assert_eq!(status, 200);
    drop(service);
}

#[test]
fn update_changes_the_limits_and_restart_policy_of_a_running_container() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    // It fails once its first life is over (after `update` has run: it waits for the file).
    docker(&[
        "run",
        "-d",
        "--name",
        "job",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "if [ -e /tmp/again ]; then exec sleep 60; fi; touch /tmp/again; \
         until [ -e /tmp/go ]; do sleep 0.05; done; exit 3",
    ]);
    docker(&[
        "update",
        "-m",
        "128m",
        "--memory-swap",
        "256m",
        "--pids-limit",
        "50",
        "--restart",
        "on-failure:2",
        "job",
    ]);
    assert_eq!(
        docker(&[
            "inspect", "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
            "job",
        ]),
        "134217728 50 on-failure:2\n"
    );
    // The running cgroup has the new limit.
    let usage = docker(&["stats", "--no-stream", "--format", "{{.MemUsage}}", "job"]);
    assert!(usage.trim_end().ends_with("/ 128MiB"), "{usage}");
    // The policy given after the start brings it back after its failure.
    docker(&["exec", "job", "touch", "/tmp/go"]);
    let mut restarted = String::new();
    for _ in 0..600 {
        restarted = docker(&[
            "inspect",
            "-f",
            "{{.RestartCount}} {{.State.Running}}",
            "job",
        ]);
        if restarted == "1 true\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(restarted, "1 true\n");

    // wharf's own `update`, and its refusals.
    wharf.ok(&["update", "--cpus", "0.5", "--restart", "no", "job"]);
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}",
            "job"
        ]),
        "500000000 no\n"
    );
    let low = wharf.run(&["update", "-m", "4k", "job"]);
    assert!(!low.status.success());
    assert!(String::from_utf8_lossy(&low.stderr).contains("error: --memory 4096 bytes"));
    let bad = wharf.run(&["update", "--restart", "sometimes", "job"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--restart sometimes"));
    docker(&[
        "run", "-d", "--rm", "--name", "gone", "busybox", "sleep", "60",
    ]);
    let auto_removed = service.docker(&wharf, &["update", "--restart", "always", "gone"]);
    assert!(!auto_removed.status.success());
    assert!(String::from_utf8_lossy(&auto_removed.stderr).contains("AutoRemove"));
    docker(&["rm", "-f", "job"]);
    // `gone` removes itself once it ends: its monitor does, then exits.
    let gone = docker(&["inspect", "-f", "{{.Id}}", "gone"]);
    docker(&["kill", "gone"]);
    let monitor_alive = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
            std::fs::read(p.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(gone.trim()))
        })
    };
    for _ in 0..600 {
        if !monitor_alive() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}

#[test]
fn push_save_and_load_through_the_docker_cli() {
    if !have_docker_cli() {
        return;
    }
    let Some(registry) = Registry::start(None) else {
        return;
    };
    if !common::is_root() {
        common::skip("the service's socket is root's");
        return;
    }
    // On the host's loopback, with the registry: no container runs here.
    let wharf = common::Wharf::new();
    wharf.import_busybox();
    let service = Service::start(&wharf);
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    let remote = format!("{}/tools/bb:1", registry.address);
    docker(&["tag", "busybox", &remote]);
    let pushed = docker(&["push", &remote]);
    assert!(
        pushed.contains(&format!(
            "The push refers to repository [{}/tools/bb]",
            registry.address
        )) && pushed.contains(": Pushed")
            && pushed.contains("1: digest: sha256:"),
        "{pushed}"
    );
    assert!(docker(&["push", &remote]).contains(": Layer already exists"));

    let tar = wharf.path().join("saved.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), "busybox", &remote]);
    docker(&["rmi", "busybox", &remote]);
    assert_eq!(docker(&["images", "-q"]), "");
    let loaded = docker(&["load", "-i", tar.to_str().unwrap()]);
    assert!(loaded.contains("Loaded image: busybox:latest"), "{loaded}");
    assert!(
        loaded.contains(&format!("Loaded image: {remote}")),
        "{loaded}"
    );
    // What came back runs (with the service's CLI beside it: same store).
    assert_eq!(
        wharf
            .ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .lines()
            .count(),
        2
    );

    let out = wharf.path().join("missing.tar");
    let missing = service.docker(&wharf, &["save", "-o", out.to_str().unwrap(), "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No such image: nope"));
    let not_there = service.docker(
        &wharf,
        &["push", &format!("{}/no/such:1", registry.address)],
    );
    assert!(!not_there.status.success());
    let before = docker(&["images", "-q", "--no-trunc"]);
    let (status, body) = service.request("POST", "/images/load", "not a tar");
    assert!(status >= 400, "{status} {body}");
    assert_eq!(
        docker(&["images", "-q", "--no-trunc"]),
        before,
        "a bad load adds nothing"
    );
    drop(service);
}

#[test]
fn diff_and_export_show_what_a_container_changed() {
    let Some((wharf, service)) = cli_service_with_busybox() else {
        return;
    };
    let docker = |args: &[&str]| service.docker_ok(&wharf, args);
    let script = "echo x > /etc/new; rm /bin/vi; mkdir -p /tmp/d; echo y > /tmp/d/f";
    docker(&["run", "--name", "changed", "busybox", "sh", "-c", script]);
    let expected = "C /bin\nD /bin/vi\nC /etc\nA /etc/new\nC /tmp\nA /tmp/d\nA /tmp/d/f\n";
    assert_eq!(docker(&["diff", "changed"]), expected);
    assert_eq!(wharf.ok(&["diff", "changed"]), expected);
    assert_eq!(wharf.ok(&["container", "diff", "changed"]), expected);
    let (status, body) = service.request("GET", "/containers/changed/changes", "");
    assert_eq!(status, 200);
    let changes: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        changes[1],
        serde_json::json!({ "Path": "/bin/vi", "Kind": 2 })
    );
    docker(&["create", "--name", "fresh", "busybox"]);
    assert_eq!(docker(&["diff", "fresh"]), "");

    let listing = |tar: &std::path::Path| {
        let output = std::process::Command::new("tar")
            .arg("tf")
            .arg(tar)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let through_api = wharf.path().join("api.tar");
    docker(&["export", "-o", through_api.to_str().unwrap(), "changed"]);
    let own = wharf.path().join("own.tar");
    wharf.ok(&["export", "-o", own.to_str().unwrap(), "changed"]);
    for tar in [&through_api, &own] {
        let files = listing(tar);
        assert!(files.lines().any(|f| f == "etc/new"), "{files}");
        assert!(files.lines().any(|f| f == "bin/sh"), "{files}");
        assert!(!files.lines().any(|f| f == "bin/vi"), "{files}");
    }
    let nothing = wharf.path().join("nothing.tar");
    let missing = wharf.run(&["export", "-o", nothing.to_str().unwrap(), "nope"]);
    assert!(!missing.status.success());
    assert!(!nothing.exists(), "nothing half-written");
    let leftovers: Vec<_> = std::fs::read_dir(wharf.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".wharf-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(service);
    wharf.remove_all_containers_leaving_nothing();
}
