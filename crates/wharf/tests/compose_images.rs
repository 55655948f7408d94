//! `compose build`, `pull` and `push` end to end: build honors `--build-arg`,
//! `--no-cache` and `-q`; pull skips what only builds and names the service and image
//! that failed; both go on past failures with `--ignore-*-failures`; an unknown service is
//! refused.

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
}
