//! The tutorials' stacks in `examples/` (written after `../shared/seeds`): their images
//! built where RUN steps reach PyPI (the host's network namespace, with the host's CA
//! certificates), then moved (`save`/`load`) into a store whose containers run in a network
//! namespace of the test's own (`Wharf::isolated`).

use std::time::{Duration, Instant};

use super::{is_root, pypi_reachable, skip, Wharf};

/// Builds `images` (tag, context folder under `examples/EXAMPLE`) and moves them into an
/// isolated store holding the `fixtures` (fixture name, tag) too. `None` after a loud
/// SKIPPED when that cannot be done here.
pub fn isolated_store_with_images(
    example: &str,
    images: &[(&str, &str)],
    fixtures: &[(&str, &str)],
) -> Option<Wharf> {
    if !is_root() {
        skip("the tutorials' stacks need root");
        return None;
    }
    if !pypi_reachable() {
        skip(&format!(
            "{example}: PyPI cannot be reached from this host, its images cannot be built"
        ));
        return None;
    }
    let dir = super::repo_root().join("examples").join(example);
    let builder = Wharf::new();
    builder.import_fixture("python-3.11-slim", "python:3.11-slim");
    builder.import_fixture("nginx-1.22", "nginx:1.22");
    for (image, context) in images {
        let context = dir.join(context).display().to_string();
        let output = builder.run(&[
            "build",
            "--progress",
            "plain",
            "--host-ca-certs",
            "-t",
            image,
            &context,
        ]);
        assert!(
            output.status.success(),
            "building {image} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let archive = builder.path().join("images.tar");
    let mut save = vec!["save", "-o", archive.to_str().unwrap()];
    save.extend(images.iter().map(|(image, _)| *image));
    builder.ok(&save);

    let wharf = Wharf::isolated();
    if wharf.netns.is_none() {
        skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    for (fixture, tag) in fixtures {
        wharf.import_fixture(fixture, tag);
    }
    wharf.ok(&["load", "-i", archive.to_str().unwrap()]);
    Some(wharf)
}

/// `curl ARGS` in the namespace that plays the host: the body when it answers 2xx.
pub fn curl(wharf: &Wharf, args: &[&str]) -> Option<String> {
    let output = wharf
        .host_command("curl")
        .args(["-fsS", "--max-time", "5"])
        .args(args)
        .output()
        .unwrap();
    output.status.success().then(|| super::stdout(&output))
}

/// `curl ARGS` until it answers 2xx with a body `accept`s (services take a while to start:
/// Postgres makes its cluster, gunicorn boots); panics after two minutes, with `logs()`.
pub fn await_answer(
    wharf: &Wharf,
    args: &[&str],
    accept: impl Fn(&str) -> bool,
    logs: impl Fn() -> String,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(body) = curl(wharf, args).filter(|b| accept(b)) {
            return body;
        }
        if Instant::now() > deadline {
            panic!(
                "curl {args:?} never answered as expected; the stack's logs:\n{}",
                logs()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Nothing of a stack taken down may remain: containers, volumes, networks, mounts,
/// processes, cgroups (of the containers `ids`).
pub fn assert_stack_gone(wharf: &Wharf, ids: &[String]) {
    assert_eq!(wharf.ok(&["ps", "-a", "-q"]), "");
    assert_eq!(wharf.ok(&["volume", "ls", "-q"]), "");
    let networks = wharf.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        networks
            .lines()
            .all(|n| ["bridge", "host", "none"].contains(&n)),
        "networks left behind:\n{networks}"
    );
    wharf.assert_nothing_leaked(ids);
}
