//! The tutorials' Flask example (`examples/flask`, `../shared/seeds`): built with wharf, its
//! `pip install` reaching PyPI through the host's CA certificates (`--host-ca-certs`), then
//! run with a published port and asked for its page. A multi-stage variant (`pip install
//! --user` in a builder, copied into a slim stage) and a non-root `USER` with `COPY --chown`
//! run too. Skipped loudly where PyPI cannot be reached.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{is_root, skip, Wharf};

/// A store in the host's network namespace with python:3.11-slim, where RUN steps reach
/// PyPI; `None` (after a loud SKIPPED) when that cannot be.
fn builder() -> Option<Wharf> {
    if !is_root() {
        skip("builds need root");
        return None;
    }
    if !pypi_reachable() {
        return None;
    }
    let builder = Wharf::new();
    builder.import_fixture("python-3.11-slim", "python:3.11-slim");
    Some(builder)
}

fn pypi_reachable() -> bool {
    let reachable = common::pypi_reachable();
    if !reachable {
        skip("flask example: PyPI cannot be reached from this host");
    }
    reachable
}

fn build(wharf: &Wharf, dir: &std::path::Path, tag: &str) {
    let output = wharf.run(&[
        "build",
        "--progress",
        "plain",
        "--host-ca-certs",
        "-t",
        tag,
        dir.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "build {tag} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits for the app to answer on the test host's loopback.
fn page(wharf: &Wharf, port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = wharf
            .host_command("curl")
            .args([
                "-fsS",
                "--max-time",
                "2",
                &format!("http://127.0.0.1:{port}/"),
            ])
            .output()
            .unwrap();
        if output.status.success() {
            return common::stdout(&output);
        }
        assert!(
            Instant::now() < deadline,
            "the app never answered on port {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_tutorial_flask_app_builds_runs_and_answers() {
    // Built where RUN steps reach PyPI (the host's network)...
    let Some(builder) = builder() else { return };
    let example = common::repo_root().join("examples/flask");
    build(&builder, &example, "flask-demo");
    // ...run where published ports stay inside the test's own network namespace.
    assert_eq!(
        serve(&builder, "flask-demo"),
        "Hello from Dockerized Flask!"
    );
}

/// Moves `image` from `builder` (`save`) into a store whose containers run in a network
/// namespace of their own (`load`), runs it with `-p 5000:5000`, and returns its page. The
/// container is removed and checked to leave nothing behind.
fn serve(builder: &Wharf, image: &str) -> String {
    let archive = builder.path().join("image.tar");
    builder.ok(&["save", "-o", archive.to_str().unwrap(), image]);
    let host = Wharf::isolated();
    host.ok(&["load", "-i", archive.to_str().unwrap()]);
    let id = host
        .ok(&["run", "-d", "-p", "5000:5000", image])
        .trim()
        .to_owned();
    let answer = page(&host, 5000);
    host.ok(&["rm", "-f", &id]);
    host.assert_nothing_leaked(&[id]);
    answer
}

#[test]
fn a_multi_stage_flask_build_with_a_non_root_user_runs() {
    let Some(builder) = builder() else { return };
    let context = tempfile::tempdir().unwrap();
    let example = common::repo_root().join("examples/flask");
    for file in ["app.py", "requirements.txt"] {
        fs::copy(example.join(file), context.path().join(file)).unwrap();
    }
    // The tutorial's multi-stage Dockerfile, with a non-root user as its best practice says.
    fs::write(
        context.path().join("Dockerfile"),
        "FROM python:3.11-slim AS builder\nWORKDIR /build\nCOPY requirements.txt .\nRUN pip install --user -r requirements.txt\n\nFROM python:3.11-slim\nRUN useradd --create-home app\nWORKDIR /home/app\nCOPY --from=builder --chown=app:app /root/.local /home/app/.local\nCOPY --chown=app:app . .\nUSER app\nENV PATH=/home/app/.local/bin:$PATH\nEXPOSE 5000\nCMD [\"python\", \"app.py\"]\n",
    )
    .unwrap();
    build(&builder, context.path(), "flask-multi");
    let out = builder.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "flask-multi",
        "sh",
        "-c",
        "id -un; stat -c %U app.py .local; python -c 'import flask; print(flask.__name__)'",
    ]);
    assert_eq!(out, "app\napp\napp\nflask\n");

    assert_eq!(
        serve(&builder, "flask-multi"),
        "Hello from Dockerized Flask!"
    );
}
