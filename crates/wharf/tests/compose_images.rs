//! `compose build`, `pull` and `push` end to end: build honors `--build-arg`,
//! `--no-cache` and `-q`; pull skips what only builds and names the service and image
//! that failed; both go on past failures with `--ignore-*-failures`; an unknown service is
//! refused. `build --with-dependencies` and `pull --include-deps` take in what the services
//! named depend on, `pull --policy missing` skips present images, `build --push` pushes what
//! it built, `build --ssh` is refused.

mod common;

use common::compose::ComposeProject;

const STACK: &str = r#"
name: imgs
services:
  web:
    build: .
    image: 127.0.0.1:1/imgs/web:1
  other:
    image: 127.0.0.1:1/nothing:1
  local:
    build: .
"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn build_pull_and_push_the_services_images() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], STACK) else {
        return;
    };
    std::fs::write(
        project.path().join("Dockerfile"),
        "FROM busybox:latest\nARG X=none\nRUN echo \"x=$X\" > /x\n",
    )
    .unwrap();
    let image = "127.0.0.1:1/imgs/web:1";

    let output = project.run(&["build", "--build-arg", "X=1"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains(" ✔ Service web  Built"), "{stderr}");
    assert!(stderr.contains(" ✔ Service local  Built"), "{stderr}");
    assert_eq!(
        project
            .wharf
            .ok(&["run", "--rm", "imgs-local", "cat", "/x"]),
        "x=1\n"
    );
    assert_eq!(
        project.wharf.ok(&["run", "--rm", image, "cat", "/x"]),
        "x=1\n"
    );
    // The same build again comes from the cache, unless --no-cache; -q says nothing.
    let again = text(&project.run(&["build", "--build-arg", "X=1"]).stderr);
    assert!(again.contains("CACHED"), "{again}");
    let fresh = text(
        &project
            .run(&["build", "--build-arg", "X=1", "--no-cache"])
            .stderr,
    );
    assert!(!fresh.contains("CACHED"), "{fresh}");
    let quiet = project.run(&["build", "-q", "--build-arg", "X=2"]);
    assert!(quiet.status.success(), "{quiet:?}");
    assert_eq!(text(&quiet.stderr), "");
    assert_eq!(
        project.wharf.ok(&["run", "--rm", image, "cat", "/x"]),
        "x=2\n"
    );
    let error = project.fails(&["build", "nope"]);
    assert!(error.contains("no such service: nope"), "{error}");

    // Nothing listens on 127.0.0.1:1: each transfer fails, naming service and image.
    let error = project.fails(&["pull", "other"]);
    assert!(
        error.contains("service other: 127.0.0.1:1/nothing:1"),
        "{error}"
    );
    let output = project.run(&["pull", "--ignore-pull-failures"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(" - local Skipped - No image to be pulled"),
        "{stderr}"
    );
    assert!(
        stderr.contains("WARN[0000] other: 127.0.0.1:1/nothing:1"),
        "{stderr}"
    );
    let error = project.fails(&["push"]);
    assert!(
        error.contains("service web: 127.0.0.1:1/imgs/web:1"),
        "{error}"
    );
    let output = project.run(&["push", "--ignore-push-failures"]);
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stderr).contains("WARN[0000] web: "));
    // build --push: built, then pushed (which fails here, naming service and image).
    let output = project.run(&["build", "--push", "web"]);
    assert!(!output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains(" ✔ Service web  Built"), "{stderr}");
    assert!(
        stderr.contains("error: service web: 127.0.0.1:1/imgs/web:1"),
        "{stderr}"
    );
}

#[test]
fn pull_policy_and_include_deps_build_with_dependencies_and_ssh() {
    let yaml = r#"
name: deps
services:
  app:
    build: {context: ., dockerfile_inline: "FROM busybox:latest\nRUN echo app > /which\n"}
    depends_on: [base, tool]
  base:
    build: {context: ., dockerfile_inline: "FROM busybox:latest\nRUN echo base > /which\n"}
  tool:
    image: busybox:latest
"#;
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], yaml) else {
        return;
    };
    // The service named only; then with what it depends on.
    let stderr = text(&project.run(&["build", "app"]).stderr);
    assert!(stderr.contains(" ✔ Service app  Built"), "{stderr}");
    assert!(!stderr.contains("Service base"), "{stderr}");
    assert!(
        project
            .wharf
            .run(&["image", "inspect", "deps-base"])
            .status
            .code()
            != Some(0)
    );
    let stderr = text(&project.run(&["build", "--with-dependencies", "app"]).stderr);
    assert!(stderr.contains(" ✔ Service base  Built"), "{stderr}");
    assert_eq!(
        project
            .wharf
            .ok(&["run", "--rm", "deps-base", "cat", "/which"]),
        "base\n"
    );
    let error = project.fails(&["build", "--ssh", "default"]);
    assert!(
        error.contains("--ssh default: ssh forwarding into builds is not supported"),
        "{error}"
    );

    // --policy missing skips what is here (no registry is asked: there is none).
    let output = project.run(&["pull", "--policy", "missing", "tool"]);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(" - tool Skipped - Image is already present locally"),
        "{stderr}"
    );
    let stderr = text(
        &project
            .run(&["pull", "--policy", "missing", "--include-deps", "app"])
            .stderr,
    );
    for line in [
        " - app Skipped - No image to be pulled",
        " - base Skipped - No image to be pulled",
        " - tool Skipped - Image is already present locally",
    ] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }
    let error = project.fails(&["pull", "--policy", "sometimes"]);
    assert!(error.contains("--policy"), "{error}");
}

/// `build --push` to a real registry, then `pull` brings the image back (and `pull -q` says
/// nothing), and `up` pulls it too (`--quiet-pull` quietly). In the host's network
/// namespace, where the registry listens; the container that runs has no network.
#[test]
fn build_push_reaches_a_registry_and_pull_brings_it_back() {
    let Some(registry) = common::registry::Registry::start(None) else {
        return;
    };
    if !common::is_root() {
        common::skip("builds need root");
        return;
    }
    let wharf = common::Wharf::new();
    wharf.import_busybox();
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/imgs/web:1", registry.address);
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!("name: pushed\nservices:\n  web:\n    build: .\n    image: {image}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox:latest\nRUN echo pushed > /p\n",
    )
    .unwrap();
    let file = dir.path().join("compose.yaml");
    let compose = |args: &[&str]| {
        let mut all = vec!["compose", "-f", file.to_str().unwrap()];
        all.extend(args);
        wharf.run(&all)
    };
    let built = compose(&["build", "--push"]);
    assert!(built.status.success(), "{built:?}");
    let stderr = text(&built.stderr);
    assert!(stderr.contains(" ✔ Service web  Built"), "{stderr}");
    let tags = wharf
        .host_command("curl")
        .args([
            "-fsS",
            &format!("http://{}/v2/imgs/web/tags/list", registry.address),
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&tags.stdout),
        "{\"name\":\"imgs/web\",\"tags\":[\"1\"]}\n"
    );

    wharf.ok(&["rmi", &image]);
    let pulled = compose(&["pull"]);
    assert!(pulled.status.success(), "{pulled:?}");
    assert!(
        text(&pulled.stderr).contains(" ✔ web Pulled"),
        "{}",
        text(&pulled.stderr)
    );
    assert_eq!(
        wharf.ok(&["run", "--rm", "--network", "none", &image, "cat", "/p"]),
        "pushed\n"
    );
    let quiet = compose(&["pull", "-q"]);
    assert!(quiet.status.success(), "{quiet:?}");
    assert_eq!(text(&quiet.stderr), "");

    // `up` pulls a missing image, and says so unless `--quiet-pull`. The container has no
    // network (`network_mode: none`): no bridge or rule is made in the host's namespace.
    let runner = dir.path().join("runner.yaml");
    std::fs::write(
        &runner,
        format!(
            "name: pulledup\nservices:\n  app:\n    image: {image}\n    network_mode: none\n    command: [sleep, \"100\"]\n"
        ),
    )
    .unwrap();
    let up = |extra: &[&str]| {
        let mut all = vec!["compose", "-f", runner.to_str().unwrap(), "up", "-d"];
        all.extend(extra);
        wharf.run(&all)
    };
    let down = || wharf.ok(&["compose", "-f", runner.to_str().unwrap(), "down", "-t", "0"]);
    wharf.ok(&["rmi", &image]);
    let loud = up(&[]);
    assert!(loud.status.success(), "{loud:?}");
    assert!(
        text(&loud.stderr).contains("Pulled"),
        "{}",
        text(&loud.stderr)
    );
    down();
    wharf.ok(&["rmi", &image]);
    let silent = up(&["--quiet-pull"]);
    assert!(silent.status.success(), "{silent:?}");
    let stderr = text(&silent.stderr);
    assert!(!stderr.contains("Pulled"), "{stderr}");
    assert!(
        stderr.contains(" ✔ Container pulledup-app-1  Started"),
        "{stderr}"
    );
    assert_eq!(
        wharf.ok(&["exec", "pulledup-app-1", "cat", "/p"]),
        "pushed\n"
    );
    down();
}
