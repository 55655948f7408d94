//! Python apps built with their dependencies from PyPI (RUN steps trust the host's CA
//! certificates, `--host-ca-certs`), then run and asked for a page: shared by the tests of
//! the tutorials' Flask example and of `wharf init`.

use std::time::{Duration, Instant};

use super::{is_root, skip, Wharf};

/// A store in the host's network namespace with python:3.11-slim, where RUN steps reach
/// PyPI; `None` (after a loud SKIPPED) when that cannot be.
pub fn builder() -> Option<Wharf> {
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
    let reachable = super::pypi_reachable();
    if !reachable {
        skip("PyPI cannot be reached from this host");
    }
    reachable
}

pub fn build(wharf: &Wharf, dir: &std::path::Path, tag: &str) {
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
pub fn page(wharf: &Wharf, port: u16) -> String {
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
            return super::stdout(&output);
        }
        assert!(
            Instant::now() < deadline,
            "the app never answered on port {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Moves `image` from `builder` (`save`) into a store whose containers run in a network
/// namespace of their own (`load`), runs it with `-p PORT:PORT`, and returns its page. The
/// container is removed and checked to leave nothing behind.
pub fn serve(builder: &Wharf, image: &str, port: u16) -> String {
    let archive = builder.path().join("image.tar");
    builder.ok(&["save", "-o", archive.to_str().unwrap(), image]);
    let host = Wharf::isolated();
    host.ok(&["load", "-i", archive.to_str().unwrap()]);
    let id = host
        .ok(&["run", "-d", "-p", &format!("{port}:{port}"), image])
        .trim()
        .to_owned();
    let answer = page(&host, port);
    host.ok(&["rm", "-f", &id]);
    host.assert_nothing_leaked(&[id]);
    answer
}
