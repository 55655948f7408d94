//! The tutorials' Flask example (`examples/flask`, `../shared/seeds`): built with wharf, its
//! `pip install` reaching PyPI through the host's CA certificates (`--host-ca-certs`), then
//! run with a published port and asked for its page. A multi-stage variant (`pip install
//! --user` in a builder, copied into a slim stage) and a non-root `USER` with `COPY --chown`
//! run too. Skipped loudly where PyPI cannot be reached.

mod common;

use std::fs;

use common::pypi::{build, builder, serve};

#[test]
fn the_tutorial_flask_app_builds_runs_and_answers() {
    // Built where RUN steps reach PyPI (the host's network)...
    let Some(builder) = builder() else { return };
    let example = common::repo_root().join("examples/flask");
    build(&builder, &example, "flask-demo");
    // ...run where published ports stay inside the test's own network namespace.
    assert_eq!(
        serve(&builder, "flask-demo", 5000),
        "Hello from Dockerized Flask!"
    );
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
        serve(&builder, "flask-multi", 5000),
        "Hello from Dockerized Flask!"
    );
}
