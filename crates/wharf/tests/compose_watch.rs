//! `compose watch` and `up --watch` on real containers: edits, deletions, new folders and
//! symlinks reach the container, ignored and editors' files do not, a burst is one batch,
//! `sync+restart` restarts, `sync+exec` runs its command, `rebuild` rebuilds and recreates only its service, a Python
//! server in the container sees the synced file through its own inotify watch, and bad
//! rules fail before anything starts; a Flask app under `flask run --reload` serves the synced
//! code. Each step waits for the watcher's line that says the
//! batch is applied, so no assertion depends on timing.

mod common;

use std::path::Path;

use common::compose::{ComposeProject, Watching};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn exec(project: &ComposeProject, container: &str, script: &str) -> String {
    project.wharf.ok(&["exec", container, "sh", "-c", script])
}

const SYNC: &str = r#"
name: ws
services:
  web:
    image: busybox:latest
    command: [sleep, "1000"]
    user: "1234:1234"
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app
          ignore: ["*.tmp", "cache/"]
          initial_sync: true
"#;

#[test]
fn sync_carries_edits_deletions_folders_and_bursts() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], SYNC) else {
        return;
    };
    let dir = project.path();
    write(dir, "src/a.txt", "v1");
    write(dir, "src/keep.txt", "kept");
    let mut watch = Watching::start(&project, &["watch"]);
    watch.wait_for("Watch enabled");
    watch.wait_for("Syncing service \"web\" after 2 changes");
    assert_eq!(
        exec(&project, "ws-web-1", "cat /app/a.txt /app/keep.txt"),
        "v1kept"
    );
    // Owned by the container's user, as docker compose's copies are.
    assert_eq!(
        exec(&project, "ws-web-1", "stat -c %u:%g /app /app/a.txt"),
        "1234:1234\n1234:1234\n"
    );

    // An edit, a file made by an editor's save (temporary file renamed over), a new folder
    // with content, a symlink out of the project, and files no rule takes.
    watch.at_once(|| {
        write(dir, "src/a.txt", "v2");
        write(dir, "src/.b.txt.swp", "vim");
        write(dir, "src/4913", "");
        write(dir, "src/b.txt~", "backup");
        write(dir, "src/save-tmp", "saved");
        std::fs::rename(dir.join("src/save-tmp"), dir.join("src/b.txt")).unwrap();
        write(dir, "src/pkg/deep/mod.py", "x = 1");
        std::os::unix::fs::symlink("/etc/shadow", dir.join("src/link")).unwrap();
        write(dir, "src/notes.tmp", "ignored");
        write(dir, "src/cache/blob", "ignored");
        write(dir, "src/.git/HEAD", "ref");
    });
    watch.wait_for("Syncing service \"web\"");
    let seen = exec(
        &project,
        "ws-web-1",
        "cd /app && find . | sort && cat a.txt b.txt pkg/deep/mod.py && readlink link",
    );
    assert_eq!(
        seen,
        ".\n./a.txt\n./b.txt\n./keep.txt\n./link\n./pkg\n./pkg/deep\n./pkg/deep/mod.py\nv2savedx = 1/etc/shadow\n",
        "{:#?}",
        watch.seen
    );

    // A deletion is made in the container only; the host keeps its other files.
    watch.at_once(|| {
        std::fs::remove_file(dir.join("src/a.txt")).unwrap();
        std::fs::remove_dir_all(dir.join("src/pkg")).unwrap();
    });
    watch.wait_for("Syncing service \"web\"");
    assert_eq!(
        exec(&project, "ws-web-1", "ls /app"),
        "b.txt\nkeep.txt\nlink\n"
    );
    assert!(dir.join("src/keep.txt").exists());

    // 500 files written at once are one batch.
    watch.at_once(|| {
        for i in 0..500 {
            write(dir, &format!("src/burst/f{i}.txt"), &i.to_string());
        }
    });
    let line = watch.wait_for("Syncing service \"web\"");
    assert_eq!(
        line,
        "Syncing service \"web\" after 501 changes were detected"
    );
    assert_eq!(
        exec(&project, "ws-web-1", "ls /app/burst | wc -l").trim(),
        "500"
    );

    assert!(watch.interrupt().success());
    project.ok(&["down", "-t", "0"]);
}

const RESTART_REBUILD: &str = r#"
name: wr
services:
  web:
    build: ./web
    command: [sleep, "1000"]
    develop:
      watch:
        - path: ./web/requirements.txt
          action: rebuild
        - path: ./conf
          action: sync+restart
          target: /etc/app
        - path: ./hooks
          action: sync+exec
          target: /hooks
          exec:
            command: sh -c 'cat /hooks/* > /tmp/hook-ran'
  worker:
    image: busybox:latest
    command: [sleep, "1000"]
"#;

#[test]
fn sync_restart_restarts_and_rebuild_recreates_only_its_service() {
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], RESTART_REBUILD)
    else {
        return;
    };
    let dir = project.path();
    write(
        dir,
        "web/Dockerfile",
        "FROM busybox:latest\nCOPY requirements.txt /requirements.txt\n",
    );
    write(dir, "web/requirements.txt", "flask==3.0\n");
    write(dir, "conf/app.ini", "debug=0");
    write(dir, "hooks/.keep", "");
    let mut watch = Watching::start(&project, &["watch"]);
    watch.wait_for("Watch enabled");
    let started = project.inspect("{{.State.StartedAt}}", "wr-web-1");
    let web_id = project.inspect("{{.Id}}", "wr-web-1");
    project.ok(&["up", "-d", "worker"]);
    let worker_id = project.inspect("{{.Id}}", "wr-worker-1");

    write(dir, "conf/app.ini", "debug=1");
    watch.wait_for("Syncing service \"web\" after 1 changes");
    watch.wait_for("service(s) [\"web\"] restarted");
    assert_eq!(
        exec(&project, "wr-web-1", "cat /etc/app/app.ini"),
        "debug=1"
    );
    assert_ne!(project.inspect("{{.State.StartedAt}}", "wr-web-1"), started);
    assert_eq!(project.inspect("{{.Id}}", "wr-web-1"), web_id);

    write(dir, "hooks/reload", "reloaded");
    watch.wait_for("Syncing service \"web\" after 1 changes");
    watch.wait_for("service(s) [\"web\"] ran `sh -c cat /hooks/* > /tmp/hook-ran`");
    assert_eq!(exec(&project, "wr-web-1", "cat /tmp/hook-ran"), "reloaded");

    write(dir, "web/requirements.txt", "flask==3.1\n");
    watch.wait_for("Rebuilding service(s) [\"web\"]");
    watch.wait_for("successfully built");
    assert_eq!(
        exec(&project, "wr-web-1", "cat /requirements.txt"),
        "flask==3.1\n"
    );
    assert_ne!(project.inspect("{{.Id}}", "wr-web-1"), web_id);
    assert_eq!(project.inspect("{{.Id}}", "wr-worker-1"), worker_id);
    assert_eq!(
        project.inspect("{{.State.Status}}", "wr-worker-1"),
        "running"
    );

    assert!(watch.interrupt().success());
    project.ok(&["down", "-t", "0"]);
}

/// A development server: `http.server` serving /app, and a reloader that watches /app with
/// inotify (through ctypes, as watchfiles or inotify-based reloaders do) and prints what
/// changed.
const SERVER: &str = r#"
import ctypes, functools, http.server, os, struct, sys, threading
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="/app")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8000), handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x8, 0x80, 0x100
libc.inotify_add_watch(fd, b"/app", IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
print("reloader watching /app", flush=True)
while True:
    data = os.read(fd, 4096)
    while data:
        wd, mask, cookie, size = struct.unpack("iIII", data[:16])
        name = data[16:16 + size].rstrip(b"\0").decode()
        if not name.startswith("."):
            print(f"reloader saw {name}", flush=True)
        data = data[16 + size:]
"#;

const PYTHON: &str = r#"
name: wp
services:
  app:
    image: python:3.11-slim
    command: [python, -u, /srv/server.py]
    volumes:
      - ./server.py:/srv/server.py:ro
    develop:
      watch:
        - path: ./site
          action: sync
          target: /app
          initial_sync: true
"#;

#[test]
fn a_python_dev_server_sees_the_synced_file() {
    let Some(project) = ComposeProject::new(&[("python-3.11-slim", "python:3.11-slim")], PYTHON)
    else {
        return;
    };
    let dir = project.path();
    write(dir, "server.py", SERVER);
    write(dir, "site/index.html", "<h1>v1</h1>");
    let mut watch = Watching::start(&project, &["watch"]);
    watch.wait_for("Watch enabled");
    watch.wait_for("Syncing service \"app\"");
    common::await_output(
        &project.wharf,
        &["logs", "wp-app-1"],
        "reloader watching /app",
    );
    let fetch = "python -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/index.html').read().decode())\"";

    write(dir, "site/index.html", "<h1>v2</h1>");
    watch.wait_for("Syncing service \"app\"");
    assert_eq!(exec(&project, "wp-app-1", fetch), "<h1>v2</h1>\n");
    common::await_output(
        &project.wharf,
        &["logs", "wp-app-1"],
        "reloader watching /app\nreloader saw index.html",
    );

    assert!(watch.interrupt().success());
    project.ok(&["down", "-t", "0"]);
}

#[test]
fn up_watch_shows_logs_and_events_and_ctrl_c_stops_both() {
    let yaml = SYNC.replace("name: ws", "name: wu").replace(
        "command: [sleep, \"1000\"]",
        "command: [sh, -c, \"echo hello from web; exec sleep 1000\"]",
    );
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], &yaml) else {
        return;
    };
    let dir = project.path();
    write(dir, "src/a.txt", "v1");
    let mut up = Watching::start(&project, &["up", "--watch", "-t", "0"]);
    up.wait_for("Watch enabled");
    up.wait_for("Syncing service \"web\"");
    write(dir, "src/a.txt", "v2");
    up.wait_for("Syncing service \"web\" after 1 changes");
    assert_eq!(exec(&project, "wu-web-1", "cat /app/a.txt"), "v2");
    // The container's log is on the same output (before or after the watcher's lines).
    if !up.seen.iter().any(|line| line.contains("hello from web")) {
        up.wait_for("hello from web");
    }
    let status = up.interrupt();
    assert!(status.success(), "{status:?}");
    assert_eq!(project.inspect("{{.State.Status}}", "wu-web-1"), "exited");
    // The watcher ended with it: a change now reaches nothing.
    let watchers = project
        .wharf
        .host_command("pgrep")
        .args(["-f", &format!("{} compose", env!("CARGO_BIN_EXE_wharf"))])
        .output()
        .unwrap();
    let root = project.wharf.root.path().display().to_string();
    let ours = String::from_utf8_lossy(&watchers.stdout)
        .lines()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| String::from_utf8_lossy(&env).contains(&root))
        })
        .count();
    assert_eq!(ours, 0, "the watcher outlived up");
    project.ok(&["down", "-t", "0"]);
}

#[test]
fn bad_rules_fail_before_anything_starts() {
    let cases = [
        (
            "        - path: ./src\n          action: rebuild\n",
            "services.web.develop.watch[0] (rebuild ",
            "no `build` section",
        ),
        (
            "        - path: ./src\n          action: sync\n          target: app\n",
            "services.web.develop.watch[0] (sync ",
            "not an absolute path",
        ),
        (
            "        - path: ./nothere\n          action: sync\n          target: /app\n",
            "services.web.develop.watch[0] (sync ",
            "does not exist",
        ),
        (
            "        - path: ./src\n          action: sync+exec\n          target: /app\n",
            "services.web.develop.watch[0] (sync+exec ",
            "exec.command",
        ),
    ];
    let head =
        "name: wb\nservices:\n  web:\n    image: busybox:latest\n    develop:\n      watch:\n";
    let Some(project) = ComposeProject::new(&[("busybox", "busybox:latest")], head) else {
        return;
    };
    std::fs::create_dir_all(project.path().join("src")).unwrap();
    for (rule, service_and_rule, why) in cases {
        project.write(&format!("{head}{rule}"));
        for args in [&["watch"][..], &["up", "--watch"][..]] {
            let stderr = project.fails(args);
            assert!(
                stderr.contains(service_and_rule) && stderr.contains(why),
                "{args:?}: {stderr}"
            );
            assert!(project.container_names().is_empty(), "{args:?}: {stderr}");
        }
    }
    project.write("name: wb\nservices:\n  web:\n    image: busybox:latest\n");
    let stderr = project.fails(&["watch"]);
    assert!(stderr.contains("none of the selected services is configured for watch"));
}

const FLASK_APP: &str = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'VERSION'\n";

const FLASK: &str = r#"
name: wf
services:
  web:
    image: flask-dev
    command: [flask, --app, app, run, --reload, --host, 0.0.0.0, --port, "5000"]
    develop:
      watch:
        - path: ./app.py
          action: sync
          target: /app/app.py
"#;

/// The issue's own check: Flask's development server (`flask run --reload`, Werkzeug's stat
/// reloader, which polls the modules' modification times) restarts on the synced `app.py`
/// and serves the new code. Flask comes from PyPI, so the image is built where RUN steps
/// reach it and moved into the project's isolated store.
#[test]
fn a_flask_app_under_flask_run_reload_shows_the_new_code() {
    let Some(builder) = common::pypi::builder() else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    let dir = context.path();
    write(dir, "app.py", &FLASK_APP.replace("VERSION", "v1"));
    write(
        dir,
        "Dockerfile",
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir 'flask>=3,<4'\nWORKDIR /app\nCOPY app.py .\n",
    );
    common::pypi::build(&builder, dir, "flask-dev");
    let archive = builder.path().join("flask-dev.tar");
    builder.ok(&["save", "-o", archive.to_str().unwrap(), "flask-dev"]);

    let Some(project) = ComposeProject::new(&[], FLASK) else {
        return;
    };
    project.wharf.ok(&["load", "-i", archive.to_str().unwrap()]);
    let dir = project.path();
    write(dir, "app.py", &FLASK_APP.replace("VERSION", "v1"));
    let mut watch = Watching::start(&project, &["watch"]);
    watch.wait_for("Watch enabled");
    let fetch = "python -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:5000/').read().decode())\" 2>/dev/null";
    let page = |expected: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let output = project.wharf.run(&["exec", "wf-web-1", "sh", "-c", fetch]);
            let seen = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if seen == expected {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the app served {seen:?}, not {expected:?}; its log:\n{}",
                String::from_utf8_lossy(&project.wharf.run(&["logs", "wf-web-1"]).stderr)
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    page("v1");

    write(dir, "app.py", &FLASK_APP.replace("VERSION", "v2"));
    watch.wait_for("Syncing service \"web\"");
    page("v2");
    // Werkzeug's reloader restarted the server for the change (the container did not); it
    // logs on stderr, which `logs` gives on its own stderr as Docker does.
    let log = project.wharf.run(&["logs", "wf-web-1"]);
    let log = String::from_utf8_lossy(&log.stderr);
    assert!(
        log.contains("Detected change in '/app/app.py', reloading"),
        "{log}"
    );
    assert_eq!(project.inspect("{{.RestartCount}}", "wf-web-1"), "0");

    assert!(watch.interrupt().success());
    project.ok(&["down", "-t", "0"]);
}
