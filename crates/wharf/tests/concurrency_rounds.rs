//! Many wharf processes at once, in rounds: builds sharing a cache (same base, overlapping
//! steps, a shared cache mount) with `image prune -a` and `builder prune -af` alongside,
//! pulls of images sharing layers, and two compose projects brought up and down together.
//! Each round has a generous deadline on the whole (a deadlock, never a slow step, fails
//! it); afterwards `system check` finds the store consistent, every image a command said it
//! made runs and saves, and no process, mount or cgroup of the store is left.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::registry::Registry;
use common::Wharf;

/// A deadlock, not a slow machine: every round here takes seconds.
const ROUND_DEADLINE: Duration = Duration::from_secs(600);

/// One command started in the background, its output going to files (a pipe nobody reads
/// would block it).
struct Started {
    what: String,
    child: Child,
    stderr: std::path::PathBuf,
}

fn start(wharf: &Wharf, logs: &Path, args: &[&str]) -> Started {
    let n = std::fs::read_dir(logs).unwrap().count();
    let stderr = logs.join(format!("{n}.err"));
    let child = wharf
        .command(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("wharf starts");
    Started {
        what: args.join(" "),
        child,
        stderr,
    }
}

/// Waits for every command, killing them all if the round outlives its deadline; returns
/// (command, success, stderr).
fn finish(round: usize, mut started: Vec<Started>) -> Vec<(String, bool, String)> {
    let deadline = Instant::now() + ROUND_DEADLINE;
    let mut done = Vec::new();
    while !started.is_empty() {
        if Instant::now() > deadline {
            let stuck: Vec<String> = started.iter().map(|s| s.what.clone()).collect();
            for s in &mut started {
                let _ = s.child.kill();
                let _ = s.child.wait();
            }
            panic!(
                "round {round}: still running after {ROUND_DEADLINE:?} (a deadlock): {stuck:#?}"
            );
        }
        let mut i = 0;
        while i < started.len() {
            match started[i].child.try_wait().unwrap() {
                Some(status) => {
                    let s = started.swap_remove(i);
                    let stderr = std::fs::read_to_string(&s.stderr).unwrap_or_default();
                    done.push((s.what, status.success(), stderr));
                }
                None => i += 1,
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done
}

/// The image runs (its files readable) and saves (every blob there).
fn assert_whole(wharf: &Wharf, image: &str, command: &[&str]) {
    let mut args = vec!["run", "--rm", "--network", "none", image];
    args.extend_from_slice(command);
    wharf.ok(&args);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("image.tar");
    wharf.ok(&["save", "-o", file.to_str().unwrap(), image]);
}

fn no_process_left(wharf: &Wharf) {
    wharf.assert_nothing_leaked(&[]);
}

#[test]
fn eight_builds_sharing_a_cache_beside_prunes_leave_whole_images() {
    if !common::is_root() {
        common::skip("builds need root (overlayfs, namespaces)");
        return;
    }
    let wharf = Wharf::new();
    wharf.import_busybox();
    // In use: `image prune -a` keeps the base every build starts from.
    wharf.ok(&["create", "--name", "keeps-base", "busybox", "true"]);
    let contexts = tempfile::tempdir().unwrap();
    let dirs: Vec<String> = (0..8)
        .map(|n| {
            let dir = contexts.path().join(format!("ctx{n}"));
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("shared.txt"), "same in every context").unwrap();
            // Steps 1-2 the same everywhere (one cache entry, raced for), step 3 in half of
            // them, step 4 each its own.
            let dockerfile = format!(
                "FROM busybox\n\
                 RUN --mount=type=cache,id=shared,target=/cache echo {n} >> /cache/log; echo common > /common\n\
                 COPY shared.txt /shared.txt\n\
                 RUN echo half-{} > /half\n\
                 RUN echo own-{n} > /own\n",
                n % 2
            );
            std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
            dir.display().to_string()
        })
        .collect();
    let logs = tempfile::tempdir().unwrap();
    let builds = |round: usize, phase: &str| -> Vec<Started> {
        dirs.iter()
            .enumerate()
            .map(|(n, dir)| {
                let tag = format!("built{n}:{phase}{round}");
                let args = ["build", "--progress", "plain", "-t", &tag, dir];
                start(&wharf, logs.path(), &args)
            })
            .collect()
    };
    for round in 0..3 {
        // The builds, and prunes one after another for as long as they run (a prune
        // waits for the builds' shared locks, and removes what they made that nothing uses).
        let mut started = builds(round, "pruned");
        let deadline = Instant::now() + ROUND_DEADLINE;
        let mut prunes = 0;
        while started
            .iter_mut()
            .any(|s| s.child.try_wait().unwrap().is_none())
            && Instant::now() < deadline
        {
            let prune: &[&str] = match prunes % 2 {
                0 => &["image", "prune", "-a", "-f"],
                _ => &["builder", "prune", "-af"],
            };
            wharf.ok(prune);
            prunes += 1;
        }
        for (what, success, stderr) in finish(round, started) {
            assert!(success, "round {round}: {what} failed:\n{stderr}");
        }
        wharf.assert_consistent();
        // The same builds again, on whatever cache the prunes left: each image is whole.
        for (what, success, stderr) in finish(round, builds(round, "kept")) {
            assert!(success, "round {round}: {what} failed:\n{stderr}");
        }
        wharf.assert_consistent();
        for n in 0..8 {
            let tag = format!("built{n}:kept{round}");
            let out = wharf.ok(&[
                "run",
                "--rm",
                "--network",
                "none",
                &tag,
                "cat",
                "/common",
                "/half",
                "/own",
                "/shared.txt",
            ]);
            let half = n % 2;
            assert_eq!(
                out,
                format!("common\nhalf-{half}\nown-{n}\nsame in every context"),
                "round {round}: {tag}"
            );
            assert_whole(&wharf, &tag, &["true"]);
        }
    }
    wharf.ok(&["rm", "keeps-base"]);
    wharf.assert_consistent();
    no_process_left(&wharf);
}

#[test]
fn eight_pulls_of_images_sharing_layers_at_once_leave_whole_images() {
    let Some(registry) = Registry::start(None) else {
        return;
    };
    // Four images on the same busybox base, each with a layer of its own, pushed.
    let source = Wharf::new();
    source.import_busybox();
    let layers = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..4)
        .map(|n| {
            let name = format!("{}/shared/img{n}:1", registry.address);
            let own = format!("own-{n}");
            let layer = common::tarball(&[common::Entry::File(&own, own.as_bytes(), 0o644)]);
            let path = layers.path().join(format!("{n}.tar"));
            std::fs::write(&path, layer).unwrap();
            // `import` makes a single-layer image; build one on busybox with ADD instead.
            let ctx = layers.path().join(format!("ctx{n}"));
            std::fs::create_dir(&ctx).unwrap();
            std::fs::copy(&path, ctx.join("own.tar")).unwrap();
            std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nADD own.tar /\n").unwrap();
            source.ok(&["build", "-q", "-t", &name, ctx.to_str().unwrap()]);
            source.ok(&["push", &name]);
            name
        })
        .collect();
    let wharf = Wharf::new();
    let logs = tempfile::tempdir().unwrap();
    for round in 0..3 {
        // Each image twice: eight pulls, two by two on the same layers.
        let mut started: Vec<Started> = names
            .iter()
            .chain(names.iter())
            .map(|name| start(&wharf, logs.path(), &["pull", "-q", name]))
            .collect();
        started.push(start(&wharf, logs.path(), &["image", "prune", "-f"]));
        for (what, success, stderr) in finish(round, started) {
            assert!(success, "round {round}: {what} failed:\n{stderr}");
        }
        wharf.assert_consistent();
        for (n, name) in names.iter().enumerate() {
            let out = wharf.ok(&[
                "run",
                "--rm",
                "--network",
                "none",
                name,
                "cat",
                &format!("/own-{n}"),
            ]);
            assert_eq!(out, format!("own-{n}"), "round {round}: {name}");
            assert_whole(&wharf, name, &["true"]);
        }
        // The next round pulls into a store that has nothing again.
        let mut rmi = vec!["rmi"];
        rmi.extend(names.iter().map(String::as_str));
        wharf.ok(&rmi);
        wharf.ok(&["image", "prune", "-a", "-f"]);
    }
    wharf.assert_consistent();
    no_process_left(&wharf);
}

#[test]
fn two_compose_projects_up_and_down_at_once() {
    let Some(wharf) = common::compose::isolated_wharf(&[("busybox", "busybox:latest")]) else {
        return;
    };
    let dirs: Vec<tempfile::TempDir> = (0..2)
        .map(|n| {
            let dir = tempfile::tempdir().unwrap();
            let yaml = format!(
                "services:\n  web:\n    image: busybox\n    command: sleep 600\n    volumes: [data:/data]\n  \
                 worker:\n    image: busybox\n    command: sleep 600\n    depends_on: [web]\nvolumes:\n  data: {{}}\n\
                 # project {n}\n"
            );
            std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
            dir
        })
        .collect();
    let file = |n: usize| dirs[n].path().join("compose.yaml").display().to_string();
    let logs = tempfile::tempdir().unwrap();
    for round in 0..3 {
        for verb in [&["up", "-d"][..], &["down", "-t", "0"][..]] {
            let started: Vec<Started> = (0..2)
                .map(|n| {
                    let project = format!("p{n}");
                    let file = file(n);
                    let mut args = vec!["compose", "-f", &file, "-p", &project];
                    args.extend_from_slice(verb);
                    start(&wharf, logs.path(), &args)
                })
                .collect();
            for (what, success, stderr) in finish(round, started) {
                assert!(success, "round {round}: {what} failed:\n{stderr}");
            }
            let running = wharf.ok(&["ps", "--format", "{{.Names}}"]);
            let mut running: Vec<&str> = running.lines().collect();
            running.sort_unstable();
            if verb[0] == "up" {
                assert_eq!(
                    running,
                    ["p0-web-1", "p0-worker-1", "p1-web-1", "p1-worker-1"]
                );
            } else {
                assert!(running.is_empty(), "round {round}: {running:?}");
            }
        }
        wharf.assert_consistent();
    }
    wharf.remove_all_containers_leaving_nothing();
    no_process_left(&wharf);
}
